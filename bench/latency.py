"""Command latency: INTERACTION_CREATE sent to callback received, ours against the baseline.

For each of /summit, /mous and /next-meeting: ``interactions`` sent one after the other, then
bursts of ``interactions`` sent at once (each measured from its own dispatch; two bursts per
bot, in the order ABBA, after an unmeasured burst that grows each bot's connection pool).
Sequential blocks alternate between the bots; latencies are the
stand-in's own ``perf_counter`` stamps, from just before INTERACTION_CREATE goes out to the
arrival of the callback.
"""

import math
from collections import defaultdict

from bench.bots import Kind
from bench.common import (
    COMMANDS,
    DISCORD_DEADLINE,
    alternate,
    concurrent,
    measuring,
    sequential,
    side_by_side,
)
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.stats import ratio, summarize

NAME = "latency"
TITLE = "Command latency"
MODES = ("sequential", "concurrent")
LIMIT = 1.15  # ours/baseline, p50 and p99

Samples = dict[tuple[Kind, str, str], list[float]]


async def measure(counts: Counts) -> Samples:
    """Latencies in seconds by (bot, command, mode)."""
    samples: Samples = defaultdict(list)
    async with side_by_side() as pair:
        for contender in pair:
            for name in COMMANDS:
                await sequential(contender, name, counts.warmup)
        blocks = math.ceil(counts.interactions / counts.block)
        for block in range(blocks):
            size = min(counts.block, counts.interactions - block * counts.block)
            for index, name in enumerate(COMMANDS):
                for contender in alternate(pair, block + index):
                    with measuring(contender.standin):
                        found = await sequential(contender, name, size)
                    samples[(contender.kind, name, "sequential")] += found
        # The first burst after start-up grows the bot's HTTP connection pool from one
        # connection to hundreds (for either bot); the measured bursts find it grown.
        for contender in pair:
            with measuring(contender.standin):
                await concurrent(contender, COMMANDS, counts.interactions)
        for index, name in enumerate(COMMANDS):
            # Two bursts per bot, in the order ABBA, so neither always goes first or last.
            order = [*alternate(pair, index), *reversed(alternate(pair, index))]
            for contender in order:
                with measuring(contender.standin):
                    found = await concurrent(contender, [name], counts.interactions)
                samples[(contender.kind, name, "concurrent")] += found
    return samples


async def run(counts: Counts) -> BenchResult:
    """Measure and report."""
    samples = await measure(counts)
    result = BenchResult(NAME, TITLE)
    table = Table(
        f"{TITLE} (ms; per command and bot: {counts.interactions:,} sequential, "
        f"2 bursts of {counts.interactions:,} concurrent)",
        [
            "command",
            "mode",
            "base p50",
            "base p99",
            "base max",
            "ours p50",
            "ours p99",
            "ours max",
            "p50 ×",
            "p99 ×",
            "over 3 s",
        ],
    )
    worst_p50 = worst_p99 = worst_max = 0.0
    for mode in MODES:
        for name in COMMANDS:
            ours = summarize(samples[(Kind.OURS, name, mode)])
            base = summarize(samples[(Kind.BASELINE, name, mode)])
            p50, p99 = ratio(ours.p50, base.p50), ratio(ours.p99, base.p99)
            late = sum(1 for s in samples[(Kind.OURS, name, mode)] if s > DISCORD_DEADLINE)
            table.add(
                f"/{name}",
                mode,
                base.p50 * 1e3,
                base.p99 * 1e3,
                base.max * 1e3,
                ours.p50 * 1e3,
                ours.p99 * 1e3,
                ours.max * 1e3,
                p50,
                p99,
                late,
            )
            key = f"{name}.{mode}"
            for label, value in (
                ("p50_ms", ours.p50),
                ("p99_ms", ours.p99),
                ("max_ms", ours.max),
            ):
                result.results[f"{key}.ours.{label}"] = value * 1e3
            for label, value in (
                ("p50_ms", base.p50),
                ("p99_ms", base.p99),
                ("max_ms", base.max),
            ):
                result.results[f"{key}.baseline.{label}"] = value * 1e3
            result.results[f"{key}.ours.over_3s"] = late
            result.ratios[f"{key}.p50"] = p50
            result.ratios[f"{key}.p99"] = p99
            worst_p50 = max(worst_p50, p50 or math.inf)
            worst_p99 = max(worst_p99, p99 or math.inf)
            worst_max = max(worst_max, ours.max)
    result.tables.append(table)
    result.targets += [
        Target("p50 within 1.15× of the baseline (worst command and mode)", worst_p50, LIMIT),
        Target("p99 within 1.15× of the baseline (worst command and mode)", worst_p99, LIMIT),
        Target("no answer later than Discord's 3 s", worst_max, DISCORD_DEADLINE, "s"),
    ]
    return result
