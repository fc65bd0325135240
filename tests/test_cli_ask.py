"""``briefbot ask "/ask …"``: one answer on standard output, and a refusal that is no error."""

import json
from pathlib import Path

from tests.test_cli import briefbot_process


def test_ask_as_json_answers_as_of_the_pinned_time(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "data")}
    done = briefbot_process(
        "ask", "/ask when is the next G20?", "--json", "--as-of", "2026-01-01", env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    answer = json.loads(done.stdout)
    assert answer["command"] == "/ask"
    assert answer["summary"].startswith("G20 leaders’ summit (past), Hamburg, Germany")
    assert "ended" in answer["summary"]
    assert answer["sources"][0]["quotes"]
    refused = briefbot_process("ask", "/ask what about Crimea?", env=env)
    assert refused.returncode == 0
    assert "The brief and its article don’t cover that." in refused.stdout
    too_long = briefbot_process("ask", "/ask " + "why " * 100, env=env)
    assert too_long.returncode == 1
    assert too_long.stderr.strip().splitlines() == [
        "briefbot: a question may be at most 300 characters long; this one has 399"
    ]
