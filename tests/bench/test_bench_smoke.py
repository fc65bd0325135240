"""The benchmark suite runs in quick mode and reports every benchmark. No timing is asserted:
only that each benchmark ran, produced its report, and delivered every post exactly once.

Marked ``bench``: the default test command leaves it out, and ``.ci/run`` runs it on
its own afterwards, with a budget that holds on a loaded machine.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEASURED = {
    "latency": "Command latency",
    "startup": "Start-up",
    "memory": "Memory",
    "fanout": "Reminder fan-out",
    "fanout-channel": "Reminders due at once in one channel",
    "fanout-large": "Large reminder fan-out",
    "scale-start": "Starting with many channels",
    "briefs": "Brief loading",
    "ask": "/ask: the question set, and the cost of an answer",
    "slack": "Slack",
}


def is_number(value: object) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


BUDGET = 900  # seconds: the quick suite takes under a minute on an idle machine

pytestmark = pytest.mark.bench


@pytest.mark.timeout(BUDGET + 60)
def test_quick_suite_runs_and_reports_every_benchmark(tmp_path: Path) -> None:
    results, section = tmp_path / "bench.json", tmp_path / "bench.md"
    command = [
        *("-m", "bench", "--quick", "--allow-load"),
        *("--json", str(results), "--markdown", str(section)),
    ]
    completed = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUDGET,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]

    report = json.loads(results.read_text(encoding="utf-8"))
    assert report["suite"] == "quick"
    assert set(report["machine"]) >= {"cpu", "cores", "ram", "python", "os"}
    benchmarks = report["benchmarks"]
    assert set(benchmarks) == set(MEASURED)
    for name, title in MEASURED.items():
        found = benchmarks[name]
        assert found["status"] == "ok", (name, found["notes"])
        assert found["results"], name
        assert all(is_number(v) for v in found["results"].values()), (name, found["results"])
        ratios = found["ratios"]
        assert any(is_number(v) for v in ratios.values()), (name, ratios)
        assert all(v is None or is_number(v) for v in ratios.values()), (name, ratios)
        assert all(is_number(t["measured"]) for t in found["targets"]), (name, found["targets"])
        assert title in completed.stdout
        assert f"### {title}" in section.read_text(encoding="utf-8")
    # The issue sets no numeric target for Slack: its figures are reported for information.
    slack_targets = benchmarks["slack"]["targets"]
    assert slack_targets, benchmarks["slack"]
    assert all(t["informational"] and t["met"] is None for t in slack_targets), slack_targets
    # Elsewhere a figure without a limit (a ratio to the bound, CPU beside latency) is reported
    # for information, and every target with a limit is judged.
    for name in MEASURED:
        targets = benchmarks[name]["targets"]
        assert all((t["limit"] is None) == t["informational"] for t in targets), (name, targets)
        assert all(t["informational"] or t["met"] in (True, False) for t in targets), targets

    # Every benchmark records the machine's load around it.
    for name in MEASURED:
        load = benchmarks[name]["load"]
        assert len(load["loadavg_before"]) == len(load["loadavg_after"]) == 3, (name, load)
        assert isinstance(load["under_load"], bool), (name, load)
    # The headline compares ours with the equal-work baseline; CPU per interaction is beside.
    latency = benchmarks["latency"]["results"]
    for bot in ("ours", "equal", "baseline"):
        assert is_number(latency[f"summit.sequential.{bot}.p50_ms"]), latency
        assert is_number(latency[f"cpu.sequential.{bot}.ms_per_interaction"]), latency
    # Every fan-out posted once to every channel, each reminder in the per-channel case.
    for name in ("fanout", "fanout-channel", "fanout-large"):
        found = benchmarks[name]["results"]
        sizes = {key.rsplit(".", 1)[0] for key in found if key.endswith(".duplicates")}
        assert sizes, (name, found)
        for size in sizes:
            assert found[f"{size}.duplicates"] == 0, (name, size, found)
            assert found[f"{size}.losses"] == 0, (name, size, found)
    # Starting with many channels: both phases measured, on SQLite at least.
    scale = benchmarks["scale-start"]["results"]
    assert is_number(scale["sqlite.2000.first_start_s"]), scale
    assert is_number(scale["sqlite.2000.restart_past_grace_s"]), scale
    per_channel = benchmarks["fanout-channel"]["results"]
    assert any(key.split(".")[0].endswith("x7") for key in per_channel), per_channel
