"""``python -m bench [--quick] [--only NAME[,NAME]] [--channels N[,N]] [--json FILE]
[--markdown FILE] [--allow-load]``."""

import argparse
import asyncio
import dataclasses
import json
import os
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    ask,
    briefs,
    fanout,
    fanout_channel,
    fanout_large,
    latency,
    machine,
    memory,
    report,
    scale_start,
    slack,
    startup,
)
from bench.bots import bytecode_cache
from bench.config import FULL, QUICK, Counts
from bench.load import LIMIT, LoadWatch
from bench.results import FAILED, BenchResult

Runner = Callable[[Counts], Awaitable[BenchResult]]
MAX_CHANNELS = 100_000  # --channels at most (a run of 100k takes over half an hour)

# In the order they run; every name is accepted by --only.
BENCHMARKS: dict[str, tuple[str, Runner]] = {
    latency.NAME: (latency.TITLE, latency.run),
    startup.NAME: (startup.TITLE, startup.run),
    memory.NAME: (memory.TITLE, memory.run),
    fanout.NAME: (fanout.TITLE, fanout.run),
    fanout_channel.NAME: (fanout_channel.TITLE, fanout_channel.run),
    fanout_large.NAME: (fanout_large.TITLE, fanout_large.run),
    scale_start.NAME: (scale_start.TITLE, scale_start.run),
    briefs.NAME: (briefs.TITLE, briefs.run),
    ask.NAME: (ask.TITLE, ask.run),
    slack.NAME: (slack.TITLE, slack.run),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="briefbot against minimal discord.py and slack_bolt bots, side by side on "
        "loopback Discord and Slack stand-ins. Run from the project root.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller counts: the whole suite in under a minute"
    )
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help=f"run only these: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--channels",
        metavar="N[,N]",
        type=_sizes,
        help=f"the sizes of {fanout_large.NAME} (default 1000,10000; 50000 takes about 20 min)",
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="write every result as JSON")
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="write the results section as Markdown (refused for a run taken under load "
        "unless --allow-load)",
    )
    parser.add_argument(
        "--allow-load",
        action="store_true",
        help=f"write --markdown even if other processes used over {LIMIT:.0%} of each core "
        "during a benchmark; such benchmarks are marked",
    )
    return parser


def _sizes(text: str) -> tuple[int, ...]:
    """``N[,N]``: channel counts, each at least 2, in increasing order."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
    if not sizes or min(sizes) < 2 or max(sizes) > MAX_CHANNELS or list(sizes) != sorted(sizes):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give increasing channel counts from 2 to {MAX_CHANNELS:,}"
        )
    return sizes


def _selected(only: str | None, parser: argparse.ArgumentParser) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        parser.error(
            f"--only: unknown {', '.join(unknown) or 'nothing'}; one of {', '.join(BENCHMARKS)}"
        )
    return [name for name in BENCHMARKS if name in names]


async def run_all(names: Sequence[str], counts: Counts) -> list[BenchResult]:
    """Run ``names`` in order, printing each result; a failure does not stop the others."""
    results = []
    for name in names:
        title, runner = BENCHMARKS[name]
        print(f"running {name}…", file=sys.stderr, flush=True)
        start = time.perf_counter()
        watch = LoadWatch()
        try:
            result = await runner(counts)
        except Exception as error:  # noqa: BLE001 - reported, and the exit status says so
            result = BenchResult(
                name, title, status=FAILED, notes=[f"{type(error).__name__}: {error}"]
            )
        result.seconds = time.perf_counter() - start
        result.load = watch.stop()
        print(report.text(result), end="\n\n", flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; exit status 1 if a benchmark failed to run (a missed target is not)."""
    parser = _parser()
    args = parser.parse_args(argv)
    names = _selected(args.only, parser)
    counts = QUICK if args.quick else FULL
    if args.channels:
        counts = dataclasses.replace(counts, large_channels=args.channels)
    # The command that reproduces the figures (where they are written does not change them).
    shown = ["python", "-m", "bench", *(["--quick"] if args.quick else [])]
    if args.channels:
        shown += ["--channels", ",".join(str(n) for n in args.channels)]
    command = shlex.join([*shown, *(["--only", ",".join(names)] if args.only else [])])
    host = machine.describe()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    host["load average at start"] = f"{load} (1, 5, 15 min)"
    print(f"{command}: " + ", ".join(f"{k} {v}" for k, v in host.items()), flush=True)
    print(flush=True)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    with bytecode_cache():
        results = asyncio.run(run_all(names, counts))
    seconds = time.perf_counter() - clock
    print(f"{len(results)} benchmark(s) in {seconds:.1f} s", flush=True)
    if args.json:
        document = {
            "command": command,
            "suite": "quick" if args.quick else "full",
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "machine": host,
            "benchmarks": {r.name: r.to_json() for r in results},
        }
        args.json.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    loaded = [r.name for r in results if r.under_load]
    if loaded:
        print(f"{report.UNDER_LOAD}: {', '.join(loaded)}", flush=True)
    if args.markdown:
        if loaded and not args.allow_load:
            print(
                f"not writing {args.markdown}: {', '.join(loaded)} ran while other processes "
                f"used over {LIMIT:.0%} of each core; run again on an idle machine, or pass "
                "--allow-load to write it with those benchmarks marked",
                file=sys.stderr,
                flush=True,
            )
            return 1
        args.markdown.write_text(report.markdown(results, host, command, seconds), encoding="utf-8")
    return 1 if any(r.status == FAILED for r in results) else 0
