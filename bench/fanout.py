"""Reminder fan-out: one reminder to N channels through a stand-in enforcing Discord's limits.

Our bot only: a baseline bot has no reminders. The stand-in enforces 50 requests per second
globally and 5 messages per 5 s per channel, answering 429 with ``retry_after`` beyond. The bot
starts ``LEAD`` seconds (on its pinned clock) before the G20's 7-day reminder
(2017-06-30 07:00 UTC) with every channel in ``REMINDER_CHANNEL_IDS``.

Bound: at Discord's global rate of 50 requests per second, N posts need ``(N-1)/50`` s from the
first to the last; the first can go at the due time, so the same bound holds from due to last.
That is the bound the target is judged against. A sender that bursts a whole window at once can
beat it by up to a second: with at most 50 requests in any 1 s window, post ``k`` (0-based)
cannot go out before ``first + floor(k/50)`` s, so the strict floor is ``floor((N-1)/50)`` s. It
is reported beside, but it is quantized to whole seconds (100 posts: 1 s, yet any pace under
50/s needs 2 s) and it rewards exactly the bursts that real Discord does not promise to accept.
"Due" is when the bot logs that the reminder is due (APScheduler fired it), read live from its
output; posts are timed by the stand-in.
"""

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.bots import Kind, running
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.standin import BenchStandIn

NAME = "fanout"
TITLE = "Reminder fan-out"
DUE = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)  # the G20's 7-day reminder
LEAD = 2.5  # seconds of the bot's clock between its start and the due time
DUE_LINE = "is due: posting to"
GLOBAL_RATE = 50  # Discord's global limit: requests per second
FIRST_CHANNEL = 1_300_000_000_000_100_000
DUPLICATE_WAIT = 2.0  # seconds to wait after the last channel got its post, for a stray second
LIMIT = 1.1  # wall time / lower bound


def rate_bound(channels: int) -> float:
    """Seconds from first (or due) to last post at Discord's rate of 50 per second."""
    return (channels - 1) / GLOBAL_RATE


def burst_floor(channels: int) -> float:
    """The least seconds from first to last post when whole windows are burst at once."""
    return float(math.floor((channels - 1) / GLOBAL_RATE))


async def fan_out(channels: int) -> dict[str, float]:
    """Run one fan-out to ``channels`` channels; its timings and counts."""
    specs = [(FIRST_CHANNEL + n, f"c{n}") for n in range(channels)]
    seen: set[int] = set()
    async with BenchStandIn(channels=specs, enforce_limits=True) as standin:
        read = 0

        def covered() -> bool:
            nonlocal read
            seen.update(post.channel_id for post in standin.posts[read:])
            read = len(standin.posts)
            return len(seen) >= channels

        env = {
            "BRIEFBOT_AS_OF": (DUE - timedelta(seconds=LEAD)).isoformat(),
            "BRIEFBOT_SPEED": "1",
            "REMINDER_CHANNEL_IDS": ",".join(str(c) for c, _ in specs),
            "LOG_LEVEL": "INFO",  # for the "is due" line
        }
        async with running(Kind.OURS, standin, extra_env=env, watch=(DUE_LINE,)) as bot:
            within = 60 + LEAD + channels / 20
            await bot.until(standin, covered, within, f"a post in each of {channels} channels")
            await asyncio.sleep(DUPLICATE_WAIT)
            due = bot.marks.get(DUE_LINE)
            if due is None:
                raise bot.failure("posted without logging that the reminder is due")
        per_channel = Counter(post.channel_id for post in standin.posts)
        times = sorted(post.time for post in standin.posts)
        wanted = {c for c, _ in specs}
        return {
            "channels": channels,
            "due_to_first_s": times[0] - due,
            "first_to_last_s": times[-1] - times[0],
            "due_to_last_s": times[-1] - due,
            "duplicates": sum(count - 1 for count in per_channel.values()),
            "losses": len(wanted - set(per_channel)),
            "rate_limited_429": standin.rate_limited_count,
            "nonce_deduplicated": standin.deduplicated_posts,
        }


async def run(counts: Counts) -> BenchResult:
    """Measure each size and report; the largest is the headline."""
    runs = [await fan_out(n) for n in counts.channels]
    result = BenchResult(NAME, TITLE)
    table = Table(
        f"{TITLE} under 50 req/s global and 5 msgs/5 s per channel (s)",
        [
            "channels",
            "due→first",
            "first→last",
            "due→last",
            "bound",
            "due→last ×",
            "burst floor",
            "× floor",
            "posts/s",
            "dupl.",
            "lost",
            "429s",
        ],
    )
    for found in runs:
        n = int(found["channels"])
        bound, floor = rate_bound(n), burst_floor(n)
        spread, total = found["first_to_last_s"], found["due_to_last_s"]
        table.add(
            n,
            found["due_to_first_s"],
            spread,
            total,
            bound,
            total / bound,
            floor,
            total / floor if floor else None,
            (n - 1) / spread if spread > 0 else None,
            int(found["duplicates"]),
            int(found["losses"]),
            int(found["rate_limited_429"]),
        )
        for key, value in found.items():
            if key != "channels":
                result.results[f"{n}.{key}"] = value
        result.results[f"{n}.bound_s"] = bound
        result.results[f"{n}.burst_floor_s"] = floor
        result.ratios[f"{n}.due_to_last"] = total / bound
        result.ratios[f"{n}.first_to_last"] = spread / bound
        result.ratios[f"{n}.due_to_last_vs_burst_floor"] = total / floor if floor else None
    result.tables.append(table)
    head = runs[-1]
    n = int(head["channels"])
    bound = rate_bound(n)
    result.targets += [
        Target(
            f"{n} channels: due→last within 1.1× of the bound (N-1)/50 = {bound:.2f} s",
            head["due_to_last_s"] / bound,
            LIMIT,
        ),
        Target(f"{n} channels: no duplicates", head["duplicates"], 0, "posts"),
        Target(f"{n} channels: no losses", head["losses"], 0, "channels"),
        Target(f"{n} channels: no 429 beyond the first", head["rate_limited_429"], 1, "429s"),
    ]
    result.notes.append(
        "bound: (N-1)/50 s, N posts at Discord's 50 requests per second; burst floor: "
        "floor((N-1)/50) s, the least possible when whole 1 s windows are sent at once"
    )
    return result
