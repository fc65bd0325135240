"""Several reminders due at once in the same channels, against Discord's 5 messages per 5 s.

``burst_reminders`` copies of the shipped brief (unique ids) each have a G20 7-day reminder due
at the same instant, in each of ``burst_channels`` channels: every channel is owed more posts
at once than its route allows in one window (5 messages per 5 s), so the bot must pace each
channel, not only the whole bot. Bound: the later of the global bound, (P-1)/50 s for P posts,
and the channel's own, floor((k-1)/5) × 5 s for k posts to one channel.
"""

from bench.config import Counts
from bench.fanout import COLUMNS, channel_bound, fan_out, rate_bound, record, row
from bench.results import BenchResult, Table, Target

NAME = "fanout-channel"
TITLE = "Reminders due at once in one channel"
ROUTE_429_LIMIT = 1


async def run(counts: Counts) -> BenchResult:
    """One run: ``burst_reminders`` reminders in each of ``burst_channels`` channels."""
    channels, reminders = counts.burst_channels, counts.burst_reminders
    found = await fan_out(channels, reminders)
    result = BenchResult(NAME, TITLE)
    table = Table(
        f"{TITLE}: {reminders} reminders due at the same instant in each of {channels} "
        "channel(s), 5 msgs/5 s per channel and 50 req/s global (s)",
        ["reminders", *COLUMNS],
    )
    table.add(reminders, *row(found))
    result.tables.append(table)
    record(result, f"{channels}x{reminders}", found)
    result.results["route_429"] = found.route_429
    result.results["global_429"] = found.global_429
    bound = found.bound_s
    result.targets += [
        Target(
            f"{channels}×{reminders} posts: first→last over the bound "
            f"max((P-1)/50, floor((k-1)/5)×5) = {bound:.2f} s",
            found.pace,
            None,
        ),
        Target(f"{channels}×{reminders} posts: no duplicates", found.duplicates, 0, "posts"),
        Target(f"{channels}×{reminders} posts: no losses", found.losses, 0, "posts"),
        Target(f"{channels}×{reminders} posts: at most one 429", found.rate_limited, 1, "429s"),
    ]
    result.notes.append(
        f"bound: global (P-1)/50 = {rate_bound(found.posts):.2f} s for P = {found.posts} posts, "
        f"per channel floor((k-1)/5)×5 = {channel_bound(reminders):.2f} s for k = {reminders}; "
        f"429s: {found.route_429} for a channel's route, {found.global_429} global"
    )
    return result
