"""The profiles behind docs/benchmarks.md, reproducible: where a bot's time and memory go.

    python -m bench.profiling answers [--bot briefbot|baseline] [--interactions N] [--out FILE]
    python -m bench.profiling startup [--bot briefbot|baseline] [--out FILE]
    python -m bench.profiling imports [MODULE ...]

``answers`` and ``startup`` run the bot as the suite does, but under pyinstrument
(``pip install pyinstrument``: only this helper needs it, never the suite), against the
stand-in: ``answers`` sends it N interactions (the three commands in turn, 20 at a time),
``startup`` stops it as soon as it is ready. Each prints pyinstrument's call tree. ``imports``
imports the modules one after the other in a fresh interpreter (default: the baseline's, then
ours in the order ``bot.cli`` pulls them in) and prints what each adds to RSS and to import
time; a module shared by two is charged to the first.
"""

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.bots import SETTLE, Kind, bytecode_cache, running
from bench.common import COMMANDS, Contender, concurrent
from bench.report import text_table
from bench.results import Table
from bench.standin import BenchStandIn

BASELINE_MODULES = ("discord", "discord.app_commands")
OUR_MODULES = (
    "rich.console",
    "pydantic",
    "bot.core.schema",
    "bot.core.loading",
    "sqlalchemy",
    "bot.delivery.ledger",
    "apscheduler.schedulers.asyncio",
    "bot.delivery.scheduler",
    "bot.app",
    "bot.cli",
    "bot.platforms.discord.client",
)
CHUNK = 20

_IMPORTER = """
import importlib, json, os, sys, time
def rss():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
rows = [("(interpreter)", rss(), 0.0)]
for name in sys.argv[1:]:
    start = time.perf_counter()
    importlib.import_module(name)
    rows.append((name, rss(), time.perf_counter() - start))
print(json.dumps(rows))
"""


async def profile_bot(kind: Kind, interactions: int, out: Path) -> None:
    """Run ``kind`` under pyinstrument, send it ``interactions``, stop it; tree in ``out``."""
    wrapper = ["-m", "pyinstrument", "--renderer", "text", "--outfile", str(out)]
    async with BenchStandIn() as standin, running(kind, standin, wrapper=wrapper) as bot:
        await bot.wait_ready(standin)
        if interactions:
            await asyncio.sleep(SETTLE)
            contender = Contender(kind, standin, bot)
            for start in range(0, interactions, CHUNK):
                await concurrent(contender, COMMANDS, min(CHUNK, interactions - start))
                standin.forget()


def import_costs(modules: Sequence[str]) -> Table:
    """RSS and import time each of ``modules`` adds, imported in order in a fresh interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORTER, *modules],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = json.loads(completed.stdout)
    table = Table("Imports, in order", ["module", "RSS MiB", "+ MiB", "+ ms"])
    previous = rows[0][1]
    for name, rss, seconds in rows:
        table.add(name, rss / 2**20, (rss - previous) / 2**20, seconds * 1e3)
        previous = rss
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("what", choices=("answers", "startup", "imports"))
    parser.add_argument("modules", nargs="*", help="imports: the modules, in order")
    parser.add_argument("--bot", choices=[k.value for k in Kind], default=Kind.OURS.value)
    parser.add_argument("--interactions", type=int, default=6000)
    parser.add_argument("--out", type=Path, help="where to keep the call tree")
    args = parser.parse_args(argv)
    if args.what == "imports":
        modules = args.modules or [*BASELINE_MODULES, *OUR_MODULES]
        print(text_table(import_costs(modules)))
        return 0
    if importlib.util.find_spec("pyinstrument") is None:
        parser.error("pyinstrument is not installed: pip install pyinstrument")
    interactions = args.interactions if args.what == "answers" else 0
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        out = (args.out or Path(tmp) / "profile.txt").resolve()
        with bytecode_cache():
            asyncio.run(profile_bot(Kind(args.bot), interactions, out))
        print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
