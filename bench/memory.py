"""Memory: RSS of each bot idle, then along ``memory_interactions`` interactions.

Both bots run side by side; interactions (the three commands in turn, 20 at a time) are sent
in steps that alternate between the bots, and each bot's RSS (psutil) is sampled after every
step. "Flat" means the RSS after the last step is within noise of the RSS after the first.
"""

import asyncio
import math

from bench.bots import Kind
from bench.common import COMMANDS, Contender, alternate, concurrent, measuring, side_by_side
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.stats import median, ratio

NAME = "memory"
TITLE = "Memory"
LIMIT = 1.25  # ours/baseline RSS
CHUNK = 20  # interactions in flight at once
NOISE = 0.02  # growth within 2 % of the RSS is noise (allocator arenas, caches warming)
MIB = 1024 * 1024


async def sample_rss(contender: Contender) -> float:
    """The bot's RSS in MiB once it has gone quiet: the median of three samples."""
    await asyncio.sleep(0.15)
    samples = []
    for _ in range(3):
        samples.append(contender.bot.rss() / MIB)
        await asyncio.sleep(0.02)
    return median(samples)


async def measure(counts: Counts) -> dict[Kind, list[tuple[int, float]]]:
    """Per bot: (interactions so far, RSS MiB), starting with the idle bot at 0."""
    curves: dict[Kind, list[tuple[int, float]]] = {Kind.OURS: [], Kind.BASELINE: []}
    async with side_by_side() as pair:
        for contender in pair:
            curves[contender.kind].append((0, await sample_rss(contender)))
        steps = math.ceil(counts.memory_interactions / counts.memory_step)
        for step in range(steps):
            done = step * counts.memory_step
            size = min(counts.memory_step, counts.memory_interactions - done)
            for contender in alternate(pair, step):
                with measuring(contender.standin):
                    for start in range(0, size, CHUNK):
                        await concurrent(contender, COMMANDS, min(CHUNK, size - start))
                curves[contender.kind].append((done + size, await sample_rss(contender)))
    return curves


async def run(counts: Counts) -> BenchResult:
    """Measure and report."""
    curves = await measure(counts)
    result = BenchResult(NAME, TITLE)
    first_step = curves[Kind.OURS][1][0]
    summary = Table(
        f"{TITLE}: RSS in MiB",
        [
            "bot",
            "idle",
            f"after {first_step:,}",
            f"after {counts.memory_interactions:,}",
            f"growth after {first_step:,}",
        ],
    )
    for kind in (Kind.BASELINE, Kind.OURS):
        idle, first, last = curves[kind][0][1], curves[kind][1][1], curves[kind][-1][1]
        summary.add(str(kind), idle, first, last, last - first)
        result.results[f"{kind}.idle_mib"] = idle
        result.results[f"{kind}.after_first_step_mib"] = first
        result.results[f"{kind}.after_all_mib"] = last
        result.results[f"{kind}.growth_mib"] = last - first
    idle_ratio = ratio(curves[Kind.OURS][0][1], curves[Kind.BASELINE][0][1])
    end_ratio = ratio(curves[Kind.OURS][-1][1], curves[Kind.BASELINE][-1][1])
    summary.add("ours/baseline", idle_ratio, None, end_ratio, None)
    result.ratios["idle"] = idle_ratio
    result.ratios["after_all"] = end_ratio
    curve = Table(f"{TITLE}: RSS in MiB along the run", ["interactions", "baseline", "ours"])
    for (count, base), (_, ours) in zip(curves[Kind.BASELINE], curves[Kind.OURS], strict=True):
        curve.add(count, base, ours)
    result.tables += [summary, curve]
    ours_first = curves[Kind.OURS][1][1]
    growth = curves[Kind.OURS][-1][1] - ours_first
    result.targets += [
        Target("idle RSS within 1.25× of the baseline", idle_ratio, LIMIT),
        Target(
            f"RSS after {counts.memory_interactions:,} interactions within 1.25× of the baseline",
            end_ratio,
            LIMIT,
        ),
        Target(
            f"no growth after the first {first_step:,} interactions (noise: 2 % of RSS)",
            growth,
            round(ours_first * NOISE, 2),
            "MiB",
        ),
    ]
    return result
