"""Command latency and CPU per interaction: ours, the equal-work baseline and the plain one.

Three bots, each on its own stand-in: ours, the equal-work baseline (``baseline_equal.py``:
a minimal discord.py bot sending our exact answers, prebuilt) and the plain baseline
(``baseline_discord.py``, answering "ok"). The headline is ours/equal-work: both send the same
embeds and Sources button, so the ratio is our own cost per answer. Ours/plain, the cost of
rich answers and our own together, is reported beside it.

For each of /summit, /mous and /next-meeting: ``interactions`` sent one after the other, then
bursts of ``interactions`` sent at once (each measured from its own dispatch; two bursts per
bot, in the order ABC CBA, after an unmeasured burst that grows each bot's connection pool).
Sequential blocks rotate between the bots; latencies are the stand-in's own ``perf_counter``
stamps, from just before INTERACTION_CREATE goes out to the arrival of the callback. CPU per
interaction is the bot process's CPU time (user and system) over each mode's measured blocks,
divided by the interactions it answered in them.
"""

import math
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

from bench.bots import BenchError, Kind
from bench.common import (
    ANSWER_TIMEOUT,
    COMMANDS,
    DISCORD_DEADLINE,
    Contender,
    alternate,
    concurrent,
    measuring,
    sequential,
    side_by_side,
)
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.stats import Summary, ratio, summarize

NAME = "latency"
TITLE = "Command latency"
MODES = ("sequential", "concurrent")
KINDS = (Kind.OURS, Kind.EQUAL, Kind.BASELINE)
P50_LIMIT = 1.05  # ours/equal-work
P99_LIMIT = 1.15

Samples = dict[tuple[Kind, str, str], list[float]]
Cpu = dict[tuple[Kind, str], float]  # CPU seconds by (bot, mode), over the measured blocks


async def _timed(
    contender: Contender, mode: str, cpu: Cpu, block: Coroutine[Any, Any, list[float]]
) -> list[float]:
    """Run one measured block, adding the bot's CPU time to ``cpu``."""
    before = contender.bot.cpu()
    with measuring(contender.standin):
        found = await block
    cpu[(contender.kind, mode)] += contender.bot.cpu() - before
    return found


async def measure(counts: Counts) -> tuple[Samples, Cpu]:
    """Latencies in seconds by (bot, command, mode), and CPU seconds by (bot, mode)."""
    samples: Samples = defaultdict(list)
    cpu: Cpu = defaultdict(float)
    async with side_by_side(KINDS) as bots:
        for contender in bots:
            for name in COMMANDS:
                await sequential(contender, name, counts.warmup)
        await same_answers(bots[0], bots[1])
        blocks = math.ceil(counts.interactions / counts.block)
        for block in range(blocks):
            size = min(counts.block, counts.interactions - block * counts.block)
            for index, name in enumerate(COMMANDS):
                for contender in alternate(bots, block + index):
                    found = await _timed(
                        contender,
                        "sequential",
                        cpu,
                        sequential(contender, name, size),
                    )
                    samples[(contender.kind, name, "sequential")] += found
        # The first burst after start-up grows the bot's HTTP connection pool from one
        # connection to hundreds (for any bot); the measured bursts find it grown.
        for contender in bots:
            with measuring(contender.standin):
                await concurrent(contender, COMMANDS, counts.interactions)
        for index, name in enumerate(COMMANDS):
            # Two bursts per bot, in the order ABC CBA, so none always goes first or last.
            order = [*alternate(bots, index), *reversed(alternate(bots, index))]
            for contender in order:
                found = await _timed(
                    contender,
                    "concurrent",
                    cpu,
                    concurrent(contender, [name], counts.interactions),
                )
                samples[(contender.kind, name, "concurrent")] += found
    return samples, cpu


async def same_answers(ours: Contender, equal: Contender) -> None:
    """Check that the equal-work baseline sends exactly our answers, command by command."""
    for name in COMMANDS:
        answers = []
        for contender in (ours, equal):
            record = await contender.standin.send_command(name)
            answers.append((await record.wait_response(ANSWER_TIMEOUT)).data)
        if answers[0] != answers[1]:
            raise BenchError(
                f"/{name}: the equal-work baseline's answer differs from ours: "
                f"{str(answers[1])[:400]} against {str(answers[0])[:400]}"
            )


def _ms(summary: Summary) -> tuple[float, float, float]:
    return summary.p50 * 1e3, summary.p99 * 1e3, summary.max * 1e3


async def run(counts: Counts) -> BenchResult:
    """Measure and report."""
    samples, cpu = await measure(counts)
    result = BenchResult(NAME, TITLE)
    sizes = f"{counts.interactions:,} sequential, 2 bursts of {counts.interactions:,} concurrent"
    headline = Table(
        f"{TITLE} against the equal-work baseline (ms; per command and bot: {sizes})",
        [
            "command",
            "mode",
            "equal p50",
            "equal p99",
            "equal max",
            "ours p50",
            "ours p99",
            "ours max",
            "p50 ×",
            "p99 ×",
            "over 3 s",
        ],
    )
    plain = Table(
        f"{TITLE} against the plain baseline answering 'ok' (ms)",
        ["command", "mode", "plain p50", "plain p99", "plain max", "p50 ×", "p99 ×"],
    )
    worst: dict[str, float] = defaultdict(float)
    for mode in MODES:
        for name in COMMANDS:
            found = {kind: summarize(samples[(kind, name, mode)]) for kind in KINDS}
            ours, equal, base = found[Kind.OURS], found[Kind.EQUAL], found[Kind.BASELINE]
            p50, p99 = ratio(ours.p50, equal.p50), ratio(ours.p99, equal.p99)
            plain_p50, plain_p99 = ratio(ours.p50, base.p50), ratio(ours.p99, base.p99)
            late = sum(1 for s in samples[(Kind.OURS, name, mode)] if s > DISCORD_DEADLINE)
            headline.add(f"/{name}", mode, *_ms(equal), *_ms(ours), p50, p99, late)
            plain.add(f"/{name}", mode, *_ms(base), plain_p50, plain_p99)
            key = f"{name}.{mode}"
            for kind, label in (
                (Kind.OURS, "ours"),
                (Kind.EQUAL, "equal"),
                (Kind.BASELINE, "baseline"),
            ):
                for stat, value in zip(
                    ("p50_ms", "p99_ms", "max_ms"), _ms(found[kind]), strict=True
                ):
                    result.results[f"{key}.{label}.{stat}"] = value
            result.results[f"{key}.ours.over_3s"] = late
            result.ratios[f"{key}.p50"] = p50
            result.ratios[f"{key}.p99"] = p99
            result.ratios[f"{key}.p50_vs_plain"] = plain_p50
            result.ratios[f"{key}.p99_vs_plain"] = plain_p99
            for label, measured in (
                ("p50", p50),
                ("p99", p99),
                ("plain_p50", plain_p50),
                ("plain_p99", plain_p99),
            ):
                worst[label] = max(worst[label], measured or math.inf)
            worst["max"] = max(worst["max"], ours.max)
    cpu_table = Table(
        f"{TITLE}: CPU per interaction (ms of the bot process's CPU time)",
        ["mode", "plain", "equal-work", "ours", "ours/equal-work ×", "ours/plain ×"],
    )
    answered = {
        mode: counts.interactions * len(COMMANDS) * (1 if mode == MODES[0] else 2) for mode in MODES
    }
    for mode in MODES:
        per = {kind: cpu[(kind, mode)] * 1e3 / answered[mode] for kind in KINDS}
        vs_equal = ratio(per[Kind.OURS], per[Kind.EQUAL])
        vs_plain = ratio(per[Kind.OURS], per[Kind.BASELINE])
        cpu_table.add(mode, per[Kind.BASELINE], per[Kind.EQUAL], per[Kind.OURS], vs_equal, vs_plain)
        for kind, label in (
            (Kind.OURS, "ours"),
            (Kind.EQUAL, "equal"),
            (Kind.BASELINE, "baseline"),
        ):
            result.results[f"cpu.{mode}.{label}.ms_per_interaction"] = per[kind]
        result.ratios[f"cpu.{mode}"] = vs_equal
        result.ratios[f"cpu.{mode}_vs_plain"] = vs_plain
        worst["cpu"] = max(worst["cpu"], vs_equal or math.inf)
    result.tables += [headline, cpu_table, plain]
    result.targets += [
        Target(
            "p50 ours/equal-work within 1.05× (worst command and mode)", worst["p50"], P50_LIMIT
        ),
        Target(
            "p99 ours/equal-work within 1.15× (worst command and mode)", worst["p99"], P99_LIMIT
        ),
        Target("no answer later than Discord's 3 s", worst["max"], DISCORD_DEADLINE, "s"),
        Target("CPU per interaction ours/equal-work (worst mode)", worst["cpu"], None),
        Target("p50 ours/plain 'ok' baseline (worst command and mode)", worst["plain_p50"], None),
        Target("p99 ours/plain 'ok' baseline (worst command and mode)", worst["plain_p99"], None),
    ]
    result.notes.append(
        "equal-work: a minimal discord.py bot sending our exact embeds and Sources button, "
        "rendered once at start (bench/baseline_equal.py); plain: the same bot answering 'ok' "
        "(bench/baseline_discord.py), reported for information"
    )
    return result
