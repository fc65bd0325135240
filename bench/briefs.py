"""Brief loading: ``load_library`` and ``check_briefs`` on 1 to 1,000 briefs.

The briefs are copies of the shipped one with their ``id`` and event ids made unique, next to a
copy of the seeds so that ``check_briefs`` verifies every quote as it does for the real brief.
Times are the median of ``brief_repeats`` runs (fewer for the largest sets); memory is the
``tracemalloc`` peak during a separate run, and what the loaded library keeps, per brief.
"""

import gc
import shutil
import tempfile
import time
import tomllib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from bench.bots import ROOT, BenchError
from bench.config import Counts
from bench.results import BenchResult, Table
from bench.stats import median
from bot.core.loading import check_briefs, load_library

NAME = "briefs"
TITLE = "Brief loading"
SHIPPED = ROOT / "briefs" / "russia-japan-summit-2017.toml"
SEEDS = ROOT / "seeds"
WORK_PER_SIZE = 1000  # brief loads per size at most, across repeats
KIB = 1024


def generate(directory: Path, count: int) -> Path:
    """Write ``count`` copies of the shipped brief with unique ids; return their directory."""
    briefs = directory / "briefs"
    briefs.mkdir()
    shutil.copytree(SEEDS, directory / "seeds")
    text = SHIPPED.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    ids = [data["id"], *(event["id"] for event in data["events"])]
    for n in range(count):
        copy = text
        for old in ids:
            line = f'id = "{old}"'
            if copy.count(line) != 1:
                raise BenchError(f"{SHIPPED.name}: expected one line {line!r}")
            copy = copy.replace(line, f'id = "{old}-{n:04d}"')
        (briefs / f"{data['id']}-{n:04d}.toml").write_text(copy, encoding="utf-8")
    return briefs


def timed(action: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``action``, in seconds."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return median(times)


def traced(action: Callable[[], object]) -> tuple[int, int]:
    """(peak bytes allocated while ``action`` ran, bytes still held by what it returned)."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        kept = action()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return peak - before, current - before


def measure(count: int, repeats: int) -> dict[str, float]:
    """Time and memory of loading and checking ``count`` briefs."""
    with tempfile.TemporaryDirectory(prefix="bench-briefs-") as tmp:
        directory = generate(Path(tmp), count)
        read, problems = check_briefs(directory)
        if read != count or problems:
            raise BenchError(f"{count} generated briefs do not check: {problems[:3]}")
        runs = max(1, min(repeats, WORK_PER_SIZE // count))
        load_s = timed(lambda: load_library(directory), runs)
        check_s = timed(lambda: check_briefs(directory), runs)
        load_peak, load_kept = traced(lambda: load_library(directory))
        check_peak, _ = traced(lambda: check_briefs(directory))
    return {
        "load_s": load_s,
        "check_s": check_s,
        "load_ms_per_brief": load_s * 1e3 / count,
        "check_ms_per_brief": check_s * 1e3 / count,
        "load_peak_kib_per_brief": load_peak / KIB / count,
        "load_kept_kib_per_brief": load_kept / KIB / count,
        "check_peak_kib_per_brief": check_peak / KIB / count,
    }


async def run(counts: Counts) -> BenchResult:
    """Measure each size and report; per-brief cost at N against 1 brief is the growth ratio."""
    result = BenchResult(NAME, TITLE)
    table = Table(
        f"{TITLE} (median of up to {counts.brief_repeats} runs)",
        [
            "briefs",
            "load s",
            "load ms/brief",
            "load peak KiB/brief",
            "kept KiB/brief",
            "check s",
            "check ms/brief",
            "check peak KiB/brief",
        ],
    )
    found = {n: measure(n, counts.brief_repeats) for n in counts.briefs}
    first = found[counts.briefs[0]]
    for n, values in found.items():
        table.add(
            n,
            values["load_s"],
            values["load_ms_per_brief"],
            values["load_peak_kib_per_brief"],
            values["load_kept_kib_per_brief"],
            values["check_s"],
            values["check_ms_per_brief"],
            values["check_peak_kib_per_brief"],
        )
        for key, value in values.items():
            result.results[f"{n}.{key}"] = value
        for key in ("load_ms_per_brief", "check_ms_per_brief", "load_peak_kib_per_brief"):
            result.ratios[f"{n}.{key}_vs_{counts.briefs[0]}"] = values[key] / first[key]
    result.tables.append(table)
    result.notes.append(
        "ratios here are the cost per brief at N briefs over the cost per brief at 1: "
        "1.0 means cost grows linearly with the number of briefs"
    )
    return result
