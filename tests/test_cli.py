"""The command line as a user runs it: in-process through ``bot.cli.main`` for most tests,
and a few end to end in a subprocess (``python -m bot``)."""

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot import cli, log
from tests.conftest import ROOT
from tests.test_demo import MARKS

SETTINGS_PREFIXES = ("BRIEFBOT_", "DISCORD_", "SLACK_", "BRIEFS_DIR", "DATA_DIR", "LOG_LEVEL")


@dataclass
class Done:
    """What a finished ``briefbot`` command left: its status and its output."""

    returncode: int
    stdout: str
    stderr: str


Briefbot = Callable[..., Done]


def secret_free_env() -> dict[str, str]:
    """This process's environment without any briefbot setting or platform secret."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}


def briefbot_process(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> Done:
    """Run ``python -m bot`` in a subprocess with a clean environment."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**secret_free_env(), "COLUMNS": "100", **(env or {})},
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )
    return Done(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path / "data")}


@contextlib.contextmanager
def restored_process_state() -> Iterator[None]:
    """Undo what ``main()`` changes process-wide: the logging set-up and the environment."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in log.QUIET_LIBRARIES}
    environ = dict(os.environ)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture
def briefbot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_env: dict[str, str]
) -> Briefbot:
    """Run ``bot.cli.main`` in this process with a clean environment and a private data
    directory (``env`` on top), from ``cwd`` (default: the project), reading ``stdin``;
    the logging and the environment are as before once it returns."""

    def run(
        *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Done:
        with restored_process_state(), monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith(SETTINGS_PREFIXES):
                    patch.delenv(key)
            for key, value in {"COLUMNS": "100", **data_env, **(env or {})}.items():
                patch.setenv(key, value)
            patch.chdir(cwd or ROOT)
            patch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            try:
                status = cli.main(list(args))
            except SystemExit as leaving:  # argparse: --help, --version, a usage error
                status = leaving.code if isinstance(leaving.code, int) else 1
            out, err = capsys.readouterr()
        return Done(status, out, err)

    return run


def test_ask_prints_one_answer(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/mous", "--as-of", "2017-04-28T09:00+03:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("29 memorandums of understanding")
    assert "as early as May 2017" in done.stdout
    assert "Ecotourism" in done.stdout


def test_ask_json(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/next-meeting", "--as-of", "2017-04-28", "--json")
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["command"] == "/next-meeting"
    assert reply["title"] == "Next meeting: G20 leaders’ summit · 7–8 July 2017"
    assert reply["now"] == "2017-04-28T00:00:00+00:00"
    assert "3rd Eastern Economic Forum" in reply["text"]
    assert reply["text"].index("G20") < reply["text"].index("Eastern Economic Forum")
    quotes = [quote for source in reply["sources"] for quote in source["quotes"]]
    assert any("July G20 summit in Hamburg" in quote for quote in quotes)
    assert any(ref["url"] for source in reply["sources"] for ref in source["external"])


def test_ask_with_sources(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/mous area:energy", "--sources", "--as-of", "2017-04-28")
    assert done.returncode == 0, done.stderr
    assert "Sources:" in done.stdout
    assert "“cooperation over energy”" in done.stdout


def test_as_of_from_the_environment(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/next-meeting", env={"BRIEFBOT_AS_OF": "2019-01-01"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Nothing upcoming")


def test_ask_unknown_option_is_a_clear_error(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/mous colour:red")
    assert done.returncode == 1
    assert done.stderr.strip() == "briefbot: /mous has no option 'colour'; it takes: brief, area"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"BRIEFBOT_SPEED": "fast"},
            "setting BRIEFBOT_SPEED (from the environment): must be a number",
        ),
        (
            {"BRIEFBOT_AS_OF": "2017-04-28T09:00"},
            "setting BRIEFBOT_AS_OF (from the environment): '2017-04-28T09:00' has no UTC offset",
        ),
        (
            {"BRIEFBOT_AS_OF": "yesterday"},
            "setting BRIEFBOT_AS_OF (from the environment): "
            "'yesterday' is not an ISO 8601 date or time",
        ),
        ({"LOG_LEVEL": "loud"}, "setting LOG_LEVEL (from the environment): must be one of DEBUG"),
        (
            {"BRIEFS_DIR": "/no/such/dir"},
            "setting BRIEFS_DIR (from the environment): '/no/such/dir' is not a directory",
        ),
    ],
)
def test_malformed_setting_exits_2(briefbot: Briefbot, env: dict[str, str], message: str) -> None:
    done = briefbot("ask", "/summit", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"briefbot: {message}")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_setting_from_env_file(briefbot: Briefbot, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_SPEED=-3\n", encoding="utf-8")
    done = briefbot("ask", "/summit", cwd=tmp_path)
    assert done.returncode == 2
    assert "setting BRIEFBOT_SPEED (from .env): must be a finite number of 0 or more" in done.stderr


def test_command_line_flag_is_named(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/summit", "--as-of", "soon")
    assert done.returncode == 2
    assert "setting BRIEFBOT_AS_OF (from the command line)" in done.stderr


def test_check_passes_on_the_shipped_briefs(briefbot: Briefbot) -> None:
    done = briefbot("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 brief in briefs: all good" in done.stderr


def test_check_lists_each_problem(
    briefbot: Briefbot, brief_copy: Callable[..., Path], tmp_path: Path
) -> None:
    briefs = brief_copy(
        ('"cooperation over energy",', '"cooperation over nuclear energy",'),
        ('time_zone = "Europe/Berlin"', 'time_zone = "Europe/Hamberg"'),
    )
    done = briefbot("check", "--briefs", "briefs", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, "a schema error stops the quote check for that brief"
    assert lines[0].startswith("briefs/russia-japan-summit-2017.toml:")
    assert "events[0].time_zone: unknown time zone 'Europe/Hamberg'" in lines[0]
    assert "1 problem in briefs" in done.stderr

    briefs = brief_copy(('"cooperation over energy",', '"cooperation over nuclear energy",'))
    done = briefbot("check", "--briefs", str(briefs), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip().endswith(
        "mous.areas[1].quotes[0]: quote not found in seeds/russia-japan-summit-2017.txt"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_run_refuses_a_broken_brief(
    briefbot: Briefbot, brief_copy: Callable[..., Path], tmp_path: Path
) -> None:
    briefs = brief_copy(("end = 2017-07-08", "end = 2017-07-01"))
    done = briefbot("run", "--briefs", str(briefs), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("briefbot: cannot start: 1 problem in the briefs")
    assert "events[0]: end (2017-07-01) is before start (2017-07-07)" in done.stderr
    assert "Traceback" not in done.stderr


def test_console_through_standard_input(data_env: dict[str, str]) -> None:
    typed = (
        "/help\n/summit\n/sources\n/mous area:nuclear\n/weather\n/next-meeting\n/quit\n/summit\n"
    )
    done = briefbot_process("console", "--as-of", "2017-04-28", stdin=typed, env=data_env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "local console" in out
    assert "/next-meeting" in out
    assert "Commands" in out
    assert "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017" in out
    assert "Sources · Putin–Abe summit" in out
    assert "no area called 'nuclear'; choose one of: fisheries" in out
    assert "unknown command /weather" in out
    assert "Next meeting: G20 leaders’ summit" in out
    assert out.count("Putin–Abe summit · The Kremlin") == 2, "nothing is answered after /quit"


def test_run_without_tokens_is_the_console(data_env: dict[str, str]) -> None:
    done = briefbot_process(stdin="/mous\n", env=data_env)
    assert done.returncode == 0, done.stderr
    assert "no platform token is configured" in done.stderr
    assert "running the local console" in done.stderr
    words = " ".join(done.stdout.split())
    assert "Every meeting in the briefs is past" in words
    assert "run with --as-of 2017-04-28; to watch the reminders, run briefbot demo" in words
    assert "29 memorandums of understanding" in done.stdout
    assert (Path(data_env["DATA_DIR"])).is_dir()


def test_readme_sample_answer_in_a_subprocess(data_env: dict[str, str]) -> None:
    """``briefbot ask`` as the README shows it, output and all, through ``python -m bot``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    typed = "$ briefbot ask /mous --as-of 2017-04-28\n"
    sample = readme[readme.index(typed) + len(typed) :].split("```", 1)[0]
    done = briefbot_process("ask", "/mous", "--as-of", "2017-04-28", env=data_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == sample
    assert done.stderr == ""


def test_version_in_a_subprocess() -> None:
    done = briefbot_process("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("briefbot ")


def test_version_and_help(briefbot: Briefbot) -> None:
    version = briefbot("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("briefbot ")
    helped = briefbot("--help")
    assert helped.returncode == 0
    for name in ("run", "console", "ask", "check"):
        assert name in helped.stdout


def test_unknown_cli_option_exits_2(briefbot: Briefbot) -> None:
    done = briefbot("ask", "/summit", "--colour")
    assert done.returncode == 2
    assert "unrecognized arguments: --colour" in done.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DISCORD_TOKEN": "Bot abcdefghijklmnopqrstuvwxyz0123"},
            "setting DISCORD_TOKEN (from the environment): give the token alone, without",
        ),
        (
            {"DISCORD_TOKEN": "short secret"},
            "setting DISCORD_TOKEN (from the environment): does not look like a bot token",
        ),
        (
            {"DISCORD_GUILD_ID": "my-server"},
            "setting DISCORD_GUILD_ID (from the environment): must be a numeric Discord id",
        ),
        (
            {"DISCORD_GATEWAY_URL": "http://127.0.0.1:1"},
            "setting DISCORD_GATEWAY_URL (from the environment): must be a URL starting with ws://",
        ),
    ],
)
def test_malformed_discord_setting(briefbot: Briefbot, env: dict[str, str], message: str) -> None:
    done = briefbot("run", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"briefbot: {message}")
    token = env.get("DISCORD_TOKEN")
    if token:
        assert token.split()[-1] not in done.stderr, "the secret is never echoed"


def test_sync_without_a_token(briefbot: Briefbot) -> None:
    done = briefbot("sync")
    assert done.returncode == 2
    assert "sync needs DISCORD_TOKEN" in done.stderr


def test_demo_replays_answers_then_reminders_in_order(data_env: dict[str, str]) -> None:
    done = briefbot_process("demo", "--seconds", "4", env=data_env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    marks = MARKS
    positions = [out.find(mark) for mark in marks]
    assert -1 not in positions, [m for m, p in zip(marks, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "in this order"
    assert out.count("Reminder: ") == 6, "each reminder once"
    assert "Late reminder" not in out
    assert "INFO" not in done.stderr, "the chat is not drowned in log lines"
    assert not (Path(data_env["DATA_DIR"]) / "briefbot.sqlite3").exists(), "leaves nothing behind"


def test_schedule_lists_upcoming_reminders(briefbot: Briefbot) -> None:
    env = {"REMINDER_CHANNEL_IDS": "123456789012345678"}
    done = briefbot("schedule", "--as-of", "2017-07-01", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [r["reminder"] for r in report["upcoming"]] == [
        "g20-hamburg-2017:1d",
        "g20-hamburg-2017:1h",
        "eastern-economic-forum-2017:7d",
        "eastern-economic-forum-2017:1d",
        "eastern-economic-forum-2017:1h",
    ]
    first = report["upcoming"][0]
    assert first["due_at"] == "2017-07-06T07:00:00+00:00"
    assert first["due_local"] == "2017-07-06T09:00:00+02:00"
    assert first["channels"] == ["discord:123456789012345678"]
    assert report["deliveries"] == []
    table = briefbot("schedule", "--as-of", "2017-07-01", env={**env, "COLUMNS": "140"})
    assert table.returncode == 0, table.stderr
    assert "Upcoming reminders" in table.stdout
    assert "2017-07-06 09:00 CEST" in table.stdout


def test_schedule_says_when_a_large_fan_out_starts(briefbot: Briefbot, tmp_path: Path) -> None:
    """5,000 Discord channels at 48 posts a second take 104 s: posting starts that much early,
    and the table counts the channels instead of listing them."""
    listed = tmp_path / "channels.txt"
    listed.write_text("\n".join(str(10**17 + n) for n in range(5_000)), encoding="ascii")
    env = {"REMINDER_CHANNEL_IDS_FILE": str(listed)}
    done = briefbot("schedule", "--as-of", "2017-07-01", "--json", env=env)
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)["upcoming"][0]
    starts = datetime.fromisoformat(first["starts_posting_at"])
    assert datetime.fromisoformat(first["due_at"]) - starts == timedelta(seconds=4_999 / 48)
    table = briefbot("schedule", "--as-of", "2017-07-01", env={**env, "COLUMNS": "160"})
    assert table.returncode == 0, table.stderr
    assert "Starts posting" in table.stdout
    assert "2017-07-06 06:58:15" in table.stdout
    assert "5,000 discord" in table.stdout
    small = briefbot("schedule", "--as-of", "2017-07-01", env={"COLUMNS": "160"})
    assert "Starts posting" not in small.stdout, "a small fan-out starts at its due time"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"REMINDER_OFFSETS": "7d,soon"},
            "setting REMINDER_OFFSETS (from the environment): 'soon'",
        ),
        ({"REMINDER_GRACE": "6"}, "setting REMINDER_GRACE (from the environment): '6' is not"),
        ({"REMINDER_ALL_DAY_AT": "25:00"}, "setting REMINDER_ALL_DAY_AT (from the environment)"),
        (
            {"REMINDER_CHANNEL_IDS": "general"},
            "setting REMINDER_CHANNEL_IDS (from the environment)",
        ),
        ({"DATABASE_URL": "ledger.db"}, "setting DATABASE_URL (from the environment): must be a"),
    ],
)
def test_malformed_reminder_setting(briefbot: Briefbot, env: dict[str, str], message: str) -> None:
    done = briefbot("schedule", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"briefbot: {message}")


def test_unreachable_database_is_one_clear_error(briefbot: Briefbot) -> None:
    url = "postgresql+psycopg://briefbot:s3cret@127.0.0.1:1/briefbot"
    done = briefbot("schedule", env={"DATABASE_URL": url})
    assert done.returncode == 1
    assert done.stderr.startswith("briefbot: ")
    assert "127.0.0.1:1" in done.stderr
    assert "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token"},
            "setting SLACK_BOT_TOKEN (from the environment): must be a Slack token starting",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1-2-3"},
            "setting SLACK_SIGNING_SECRET: is needed to verify Slack's requests in HTTP mode",
        ),
        (
            {"SLACK_APP_TOKEN": "xapp-1-2-3"},
            "setting SLACK_BOT_TOKEN: is missing, but SLACK_APP_TOKEN is set",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1-2-3",
                "SLACK_APP_TOKEN": "xapp-1",
                "SLACK_HTTP_PORT": "http",
            },
            "setting SLACK_HTTP_PORT (from the environment): must be a TCP port",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1-2-3",
                "SLACK_APP_TOKEN": "xapp-1",
                "SLACK_REMINDER_CHANNEL_IDS": "#general",
            },
            "setting SLACK_REMINDER_CHANNEL_IDS (from the environment): '#general' is not a Slack",
        ),
    ],
)
def test_malformed_slack_setting(briefbot: Briefbot, env: dict[str, str], message: str) -> None:
    done = briefbot("run", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"briefbot: {message}")
    assert "xoxp-user-token" not in done.stderr


def test_expected_reconnects_log_one_line() -> None:
    import logging

    from bot.log import OneLine

    try:
        raise ConnectionResetError("peer went away")
    except ConnectionResetError:
        import sys

        record = logging.LogRecord(
            "discord.client",
            logging.ERROR,
            __file__,
            1,
            "Attempting a reconnect in %.2fs",
            (1.5,),
            sys.exc_info(),
        )
    assert OneLine().filter(record)
    text = logging.Formatter().format(record)
    assert text == "Attempting a reconnect in 1.50s (after ConnectionResetError: peer went away)"
