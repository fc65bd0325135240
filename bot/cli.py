"""The ``briefbot`` command line: argument parsing only; the work is done in ``bot.app``."""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bot import __version__, app, log
from bot.core.answers import answer
from bot.core.calendar import calendar_feed
from bot.core.commands import UsageError, parse
from bot.core.library import UnknownChoice
from bot.core.loading import check_briefs
from bot.core.plaintext import render, render_sources
from bot.core.problems import BriefsInvalid, display_path
from bot.core.serialize import reply_to_json
from bot.delivery.fanout import POST_RATES
from bot.platforms.console.render import reply_panel, sources_panel
from bot.runtime import PlatformStartError, Runtime, timing_from
from bot.settings import Settings, SettingsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _common(*, after_command: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name.

    After the command's name they default to "not given" (``SUPPRESS``), so that
    ``briefbot --env-file F run`` keeps the value given before ``run``.
    """
    unset: object = argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--briefs",
        metavar="DIR",
        default=unset if after_command else None,
        help="read briefs from DIR (BRIEFS_DIR)",
    )
    common.add_argument(
        "--as-of",
        metavar="ISO8601",
        default=unset if after_command else None,
        help="pin 'now' to this instant, e.g. 2017-04-28T09:00+03:00 (BRIEFBOT_AS_OF)",
    )
    common.add_argument(
        "--speed",
        metavar="N",
        default=unset if after_command else None,
        help="let pinned time run N times faster than real time (BRIEFBOT_SPEED)",
    )
    common.add_argument(
        "--env-file",
        metavar="FILE",
        default=unset if after_command else ".env",
        help="read settings from FILE (default: .env)",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    top = _common(after_command=False)
    common = _common(after_command=True)

    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="A briefing bot: answers /summit, /mous and /next-meeting from checked briefs.",
        epilog="With no command, briefbot runs the bot (the local console when no token is set).",
        parents=[top],
    )
    parser.add_argument("--version", action="version", version=f"briefbot {__version__}")
    commands = parser.add_subparsers(dest="action", metavar="COMMAND")
    commands.add_parser(
        "run", parents=[common], help="run the bot on every configured platform (default)"
    )
    commands.add_parser("console", parents=[common], help="chat with the bot in this terminal")
    ask = commands.add_parser("ask", parents=[common], help="answer one command and exit")
    ask.add_argument("command", help='a command as typed in chat, e.g. "/mous area:energy"')
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--sources", action="store_true", help="also print the evidence")
    commands.add_parser(
        "check", parents=[common], help="check every brief against its schema and its article"
    )
    commands.add_parser(
        "sync", parents=[common], help="sync the Discord slash commands now, even if unchanged"
    )
    schedule = commands.add_parser(
        "schedule", parents=[common], help="show upcoming reminders and recent deliveries"
    )
    schedule.add_argument("--json", action="store_true", help="print one JSON object")
    calendar = commands.add_parser(
        "calendar",
        parents=[common],
        help="write the events ahead (or all) as an iCalendar (.ics) file",
    )
    calendar.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    calendar.add_argument(
        "--all", action="store_true", dest="all_events", help="every event, past ones too"
    )
    demo = commands.add_parser(
        "demo", parents=[common], help="replay the newest brief at high speed in the console"
    )
    demo.add_argument(
        "--seconds",
        type=_seconds,
        default=60.0,
        metavar="N",
        help="how long the replay takes in real seconds (default: 60)",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "BRIEFS_DIR": args.briefs,
        "BRIEFBOT_AS_OF": args.as_of,
        "BRIEFBOT_SPEED": args.speed,
    }
    env_file = Path(args.env_file)
    if args.env_file != ".env" and not env_file.is_file():
        raise _Fail(EXIT_USAGE, f"--env-file: {args.env_file} does not exist")
    return Settings.load(env_file=env_file, overrides=overrides)


class _Fail(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where a reader that went away can be told apart
    except BrokenPipeError:  # the reader went away (``briefbot ask … | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    return status


def _main(argv: Sequence[str] | None) -> int:  # noqa: PLR0911 (an exit per outcome)
    args = _parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        settings = _settings(args)
        action = args.action or "run"
        if action == "check":
            return _check(settings)
        log.setup(settings.log_level, secrets=settings.secrets())
        return _act(action, args, app.start(settings))
    except SettingsError as error:
        err.print(f"briefbot: {error}", markup=False)
        return EXIT_USAGE
    except _Fail as error:
        err.print(f"briefbot: {error}", markup=False)
        return error.status
    except BriefsInvalid as error:
        count = len(error.problems)
        err.print(
            f"briefbot: cannot start: {count} problem{'s' if count != 1 else ''} in the briefs "
            "(fix them, then run `briefbot check`):",
            markup=False,
        )
        for problem in error.problems:
            err.print(f"  {problem}", markup=False)
        return EXIT_FAILED
    except PlatformStartError as error:
        err.print(f"briefbot: {error}", markup=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _act(action: str, args: argparse.Namespace, runtime: Runtime) -> int:
    """Run one command on a started runtime."""
    if action == "ask":
        return _ask(runtime, args.command, as_json=args.json, with_sources=args.sources)
    if action == "sync":
        return _sync(runtime)
    if action == "schedule":
        return _schedule(runtime, as_json=args.json)
    if action == "calendar":
        return _calendar(runtime, out=args.out, all_events=args.all_events)
    console = Console(highlight=False)
    if action == "demo":
        from bot.demo import run_demo

        asyncio.run(run_demo(runtime.library, runtime.settings, console, args.seconds))
    elif action == "console":
        asyncio.run(app.run_console_alone(runtime, console))
    else:
        asyncio.run(app.run(runtime, console))
    return EXIT_OK


def _sync(runtime: Runtime) -> int:
    if runtime.settings.discord_token is None:
        raise _Fail(EXIT_USAGE, "sync needs DISCORD_TOKEN (in the environment or .env)")
    from bot.platforms.discord.runner import sync_once

    ledger = app.open_ledger(runtime.settings)
    try:
        asyncio.run(sync_once(runtime, ledger))
    finally:
        ledger.close()
    print("slash commands synced", file=sys.stderr)
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError("give between 1 and 3600 seconds")
    return value


def _schedule(runtime: Runtime, *, as_json: bool) -> int:
    from bot.delivery.report import schedule_report
    from bot.platforms.console.render import schedule_tables

    settings = runtime.settings
    named = {
        "discord": settings.discord_channels,
        "slack": settings.slack_channels,
    }
    ledger = app.open_ledger(settings)
    try:
        report = schedule_report(
            runtime.library,
            ledger,
            runtime.clock.now(),
            timing=timing_from(settings),
            named=named,
            rates=POST_RATES,
        )
    finally:
        ledger.close()
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        Console(highlight=False).print(*schedule_tables(report))
    return EXIT_OK


def _calendar(runtime: Runtime, *, out: str | None, all_events: bool) -> int:
    now = runtime.clock.now()
    feed = calendar_feed(runtime.library, now, all_events=all_events)
    if out is None:
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)  # None: replaced by a text-only stream
        if binary is None:
            sys.stdout.write(feed.body.decode("utf-8"))
        else:
            binary.write(feed.body)
        return EXIT_OK
    target = Path(out)
    if target.is_dir():
        raise _Fail(EXIT_USAGE, f"--out: {out} is a directory; name a file, e.g. briefbot.ics")
    try:
        target.write_bytes(feed.body)
    except OSError as error:
        raise _Fail(EXIT_FAILED, f"--out: cannot write {out}: {error.strerror or error}") from None
    which = "" if all_events else f" ahead of {now:%Y-%m-%d %H:%M} UTC"
    noun = "event" if feed.events == 1 else "events"
    print(f"wrote {feed.events} {noun}{which} to {out}", file=sys.stderr)
    return EXIT_OK


def _check(settings: Settings) -> int:
    count, problems = check_briefs(settings.briefs_dir, settings.seeds_dir)
    for problem in problems:
        print(problem)
    where = display_path(settings.briefs_dir)
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        print(
            f"{len(problems)} {noun} in {where} ({count} brief{'s' if count != 1 else ''})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"{count} brief{'s' if count != 1 else ''} in {where}: all good", file=sys.stderr)
    return EXIT_OK


def _ask(runtime: Runtime, typed: str, *, as_json: bool, with_sources: bool) -> int:
    now = runtime.clock.now()
    try:
        reply = answer(runtime.library, parse(typed), now)
    except (UsageError, UnknownChoice) as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_FAILED
    if as_json:
        print(json.dumps(reply_to_json(reply, now), ensure_ascii=False, indent=2))
        return EXIT_OK
    out = Console(highlight=False)
    if out.is_terminal:
        out.print(reply_panel(reply))
        if with_sources:
            out.print(sources_panel(reply))
    else:
        print(render(reply))
        if with_sources:
            print("\nSources:\n" + render_sources(reply))
    return EXIT_OK
