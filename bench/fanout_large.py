"""Large fan-outs: CPU per post and memory from 1,000 to 10,000 channels (more with --channels).

One reminder to N channels, as in ``fanout``, at sizes where the bot's own cost per channel
shows: the CPU time per post from due to the last post, the process's peak RSS, and the
largest size's CPU per post over the smallest's ("flat" is 1.0). The wall time is shown
against the same bound, (N-1)/50 s, and a fan-out too long to finish by the due time must
start early enough that the bot marks no post late.
"""

from bench.config import Counts
from bench.fanout import COLUMNS, FanOut, fan_out, rate_bound, record, row
from bench.results import BenchResult, Table, Target
from bench.stats import ratio

NAME = "fanout-large"
TITLE = "Large reminder fan-out"
CPU_LIMIT = 3.0  # ms of CPU per post at the largest size


async def run(counts: Counts) -> BenchResult:
    """Measure each of ``large_channels``; the largest is the headline."""
    runs: list[FanOut] = [await fan_out(n) for n in counts.large_channels]
    result = BenchResult(NAME, TITLE)
    table = Table(f"{TITLE}: one reminder to N channels (s, ms, MiB)", COLUMNS)
    for found in runs:
        table.add(*row(found))
        record(result, str(found.channels), found)
    result.tables.append(table)
    first, head = runs[0], runs[-1]
    n, bound = head.channels, rate_bound(head.channels)
    growth = ratio(head.cpu_ms_per_post, first.cpu_ms_per_post)
    result.ratios[f"cpu_per_post.{n}_vs_{first.channels}"] = growth
    result.targets += [
        Target(f"{n} channels: CPU per post", head.cpu_ms_per_post, CPU_LIMIT, "ms"),
        Target(f"CPU per post at {n} over {first.channels} channels (flat: 1.0)", growth, None),
        Target(
            f"{n} channels: first→last over the bound (N-1)/50 = {bound:.2f} s", head.pace, None
        ),
        Target(f"{n} channels: no post the bot marks late", head.late_posts, 0, "posts"),
        Target(f"{n} channels: no duplicates", head.duplicates, 0, "posts"),
        Target(f"{n} channels: no losses", head.losses, 0, "channels"),
        Target(f"{n} channels: at most one 429", head.rate_limited, 1, "429s"),
    ]
    if head.peak_rss_mib is not None:
        result.targets.append(
            Target(f"{n} channels: peak RSS of the bot", head.peak_rss_mib, None, "MiB")
        )
    return result
