"""Start-up: process start to commands synced and gateway identified, ours against the baseline.

"Ready" is the same for both bots and seen from the stand-in: the later of the guild command
sync (``PUT .../guilds/{id}/commands`` answered) and IDENTIFY (answered at once with READY and
GUILD_CREATE). discord.py's own 2 s wait for guilds before ``on_ready`` is left out: it is the
same fixed delay for every bot. Start-ups alternate between the bots on one stand-in, each in a
fresh data directory (so ours syncs every time, as on a first start), after one unmeasured
start of each so that both run from cached bytecode and warm file caches.
"""

from bench.bots import Kind, running
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.standin import BenchStandIn
from bench.stats import median, ratio

NAME = "startup"
TITLE = "Start-up"
LIMIT = 1.5  # ours/baseline, medians


async def measure(counts: Counts) -> dict[Kind, list[tuple[float, float, float]]]:
    """Per bot: (ready, synced, identified) seconds after process start, per start-up."""
    found: dict[Kind, list[tuple[float, float, float]]] = {Kind.OURS: [], Kind.BASELINE: []}
    async with BenchStandIn() as standin:
        for kind in (Kind.OURS, Kind.BASELINE):  # unmeasured: fills the bytecode and file caches
            async with running(kind, standin) as bot:
                await bot.wait_ready(standin)
        for round_number in range(counts.startups):
            order = (
                (Kind.OURS, Kind.BASELINE) if round_number % 2 == 0 else (Kind.BASELINE, Kind.OURS)
            )
            for kind in order:
                standin.forget()
                async with running(kind, standin) as bot:
                    ready = await bot.wait_ready(standin)
                    synced = standin.synced_since(bot.started_at)
                    identified = standin.identified_since(bot.started_at)
                    assert synced is not None
                    assert identified is not None
                    start = bot.started_at
                    found[kind].append((ready - start, synced - start, identified - start))
    return found


async def run(counts: Counts) -> BenchResult:
    """Measure and report."""
    found = await measure(counts)
    result = BenchResult(NAME, TITLE)
    table = Table(
        f"{TITLE} (s from process start; median of {counts.startups}, min–max)",
        ["bot", "ready", "min", "max", "commands synced", "identified"],
    )
    medians: dict[Kind, float] = {}
    for kind in (Kind.BASELINE, Kind.OURS):
        ready = [r for r, _, _ in found[kind]]
        medians[kind] = median(ready)
        synced = median([s for _, s, _ in found[kind]])
        identified = median([i for _, _, i in found[kind]])
        table.add(str(kind), medians[kind], min(ready), max(ready), synced, identified)
        result.results[f"{kind}.ready_s"] = medians[kind]
        result.results[f"{kind}.synced_s"] = synced
        result.results[f"{kind}.identified_s"] = identified
    overall = ratio(medians[Kind.OURS], medians[Kind.BASELINE])
    table.add("ours/baseline", overall, None, None, None, None)
    result.tables.append(table)
    result.ratios["ready"] = overall
    result.targets.append(Target("start-up within 1.5× of the baseline", overall, LIMIT))
    return result
