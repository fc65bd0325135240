"""Reminder fan-out: reminders to N channels through a stand-in enforcing Discord's limits.

Our bot only: a baseline bot has no reminders. The stand-in enforces 50 requests per second
globally and 5 messages per 5 s per channel, answering 429 with ``retry_after`` beyond. The bot
starts a lead time (on its pinned clock) before the G20's 7-day reminder (2017-06-30 07:00 UTC)
with every channel in ``REMINDER_CHANNEL_IDS_FILE``; the lead grows with the channels, so that
the bot is up before the reminder is due.

Bound: at Discord's global rate of 50 requests per second, N posts need ``(N-1)/50`` s from
the first to the last. That is the bound the target is judged against. A sender that bursts a
whole window at once can beat it by up to a second: with at most 50 requests in any 1 s
window, post ``k`` (0-based) cannot go out before ``first + floor(k/50)`` s, so the strict
floor is ``floor((N-1)/50)`` s. It is reported beside, but it is quantized to whole seconds
(100 posts: 1 s, yet any pace under 50/s needs 2 s) and it rewards exactly the bursts that
real Discord does not promise to accept.

Posts are timed by the stand-in. "Due" is when the bot logs that the reminder is due, read
live from its output, shown only when that line comes before the first post (a bot that
starts a long fan-out early, so that its last post lands by the due time, may log it later);
whether the posts came in time is the bot's own verdict: the posts it logs as late. CPU per
post is the bot's CPU time from the first post to the last, over the posts; the peak RSS is
the process's own high-water mark.

This module holds the runner the fan-out cases share and the ``fanout`` case: 10, 100 and
1,000 channels, the largest run ``fanout_runs`` times.
"""

import asyncio
import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bots import ROOT, Kind, running
from bench.briefs import generate
from bench.config import Counts
from bench.results import BenchResult, Cell, Table, Target
from bench.standin import BenchStandIn
from bot.delivery.fanout import POST_RATES, early_start

NAME = "fanout"
TITLE = "Reminder fan-out"
DUE = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)  # the G20's 7-day reminder
LEAD = 2.5  # seconds of the bot's clock between its start and the due time, at most 1k channels
LEAD_PER_CHANNEL = 0.002  # more lead per channel beyond that: the bot subscribes them at start
DUE_LINE = "is due at "
LATE_POST = "(late)"  # how the bot logs a post it made past its due time and grace
GLOBAL_RATE = 50  # Discord's global limit: requests per second
CHANNEL_RATE = (5, 5.0)  # Discord's limit per channel: 5 messages per 5 s
FIRST_CHANNEL = 1_300_000_000_000_100_000
DUPLICATE_WAIT = 2.0  # seconds to wait after the last expected post, for a stray one
LIMIT = 1.03  # due→last / bound, the worst of the runs
MIB = 1024 * 1024


def rate_bound(posts: int) -> float:
    """Seconds from first (or due) to last post at Discord's rate of 50 per second."""
    return (posts - 1) / GLOBAL_RATE


def channel_bound(per_channel: int) -> float:
    """The least seconds from a channel's first post to its last, at 5 per 5 s."""
    limit, period = CHANNEL_RATE
    return (per_channel - 1) // limit * period


def burst_floor(posts: int) -> float:
    """The least seconds from first to last post when whole windows are burst at once."""
    return float(math.floor((posts - 1) / GLOBAL_RATE))


@dataclass(frozen=True)
class FanOut:
    """One fan-out: ``reminders`` reminders due at once in each of ``channels`` channels.

    The due-relative times are ``None`` when the bot logged "is due" only after its first
    post (a fan-out that starts early, so that its last post lands by the due time).
    """

    channels: int
    reminders: int
    due_to_first_s: float | None
    first_to_last_s: float
    due_to_last_s: float | None
    duplicates: int
    losses: int
    late_posts: int
    global_429: int
    route_429: int
    nonce_deduplicated: int
    cpu_ms_per_post: float
    peak_rss_mib: float | None

    @property
    def posts(self) -> int:
        """The posts expected: one per reminder and channel."""
        return self.channels * self.reminders

    @property
    def bound_s(self) -> float:
        """The least first→last time Discord's limits allow, global and per channel."""
        return max(rate_bound(self.posts), channel_bound(self.reminders))

    @property
    def pace(self) -> float | None:
        """first→last over the bound: 1.0 is Discord's full rate."""
        return self.first_to_last_s / self.bound_s if self.bound_s else None

    @property
    def rate_limited(self) -> int:
        """Every 429, global or per channel."""
        return self.global_429 + self.route_429

    def results(self) -> dict[str, float]:
        """Flat numbers for ``--json``."""
        found = {k: v for k, v in vars(self).items() if isinstance(v, int | float)}
        return {**found, "bound_s": self.bound_s, "rate_limited_429": self.rate_limited}


def lead(channels: int) -> float:
    """Seconds of the bot's clock between its start and the due time: time to start, plus how
    early the bot starts a fan-out this large so that its last post lands by the due time."""
    early = early_start({"discord": channels}, POST_RATES).total_seconds()
    return LEAD + max(channels - 1000, 0) * LEAD_PER_CHANNEL + early


async def fan_out(channels: int, reminders: int = 1) -> FanOut:
    """Run one fan-out: ``reminders`` briefs' G20 reminders due at once in ``channels`` channels.

    With more than one reminder, the shipped brief is copied ``reminders`` times with unique
    ids, so every copy's G20 reminder falls due at the same instant in every channel.
    """
    specs = [(FIRST_CHANNEL + n, f"c{n}") for n in range(channels)]
    expected = channels * reminders
    per_channel: Counter[int] = Counter()
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        listed = Path(tmp) / "channels.txt"
        listed.write_text("\n".join(str(c) for c, _ in specs) + "\n", encoding="ascii")
        briefs = generate(Path(tmp), reminders) if reminders > 1 else ROOT / "briefs"
        env = {
            "BRIEFS_DIR": str(briefs),
            "BRIEFBOT_AS_OF": (DUE - timedelta(seconds=lead(channels))).isoformat(),
            "BRIEFBOT_SPEED": "1",
            "REMINDER_CHANNEL_IDS_FILE": str(listed),
            "LOG_LEVEL": "INFO",  # for the "is due" and "(late)" lines
        }
        async with (
            BenchStandIn(channels=specs, enforce_limits=True) as standin,
            running(Kind.OURS, standin, extra_env=env, watch=(DUE_LINE, LATE_POST)) as bot,
        ):
            read = done = 0
            cpu_at_first: float | None = None

            def covered() -> bool:
                nonlocal read, done, cpu_at_first
                if cpu_at_first is None and standin.posts:
                    cpu_at_first = bot.cpu()
                for post in standin.posts[read:]:
                    per_channel[post.channel_id] += 1
                    done += per_channel[post.channel_id] <= reminders
                read = len(standin.posts)
                return done >= expected

            within = 60 + lead(channels) + expected / 20
            await bot.until(standin, covered, within, f"{expected} posts in {channels} channels")
            cpu_at_last = bot.cpu()
            peak = bot.peak_rss()
            await asyncio.sleep(DUPLICATE_WAIT)
            covered()
            due = bot.marks.get(DUE_LINE)
            late = bot.seen[LATE_POST]
    assert cpu_at_first is not None
    times = sorted(post.time for post in standin.posts)
    if due is not None and due > times[0]:
        due = None  # logged after the fan-out began: not the moment it was due
    wanted = {c for c, _ in specs}
    return FanOut(
        channels=channels,
        reminders=reminders,
        due_to_first_s=times[0] - due if due is not None else None,
        first_to_last_s=times[-1] - times[0],
        due_to_last_s=times[-1] - due if due is not None else None,
        duplicates=sum(max(count - reminders, 0) for count in per_channel.values()),
        losses=sum(max(reminders - per_channel[c], 0) for c in wanted),
        late_posts=late,
        global_429=standin.global_429,
        route_429=standin.route_429,
        nonce_deduplicated=standin.deduplicated_posts,
        cpu_ms_per_post=(cpu_at_last - cpu_at_first) * 1e3 / max(expected - 1, 1),
        peak_rss_mib=peak / MIB if peak is not None else None,
    )


COLUMNS = [
    "channels",
    "due→first",
    "first→last",
    "bound",
    "first→last ×",
    "burst floor",
    "× floor",
    "due→last",
    "posts/s",
    "CPU ms/post",
    "peak RSS MiB",
    "late",
    "dupl.",
    "lost",
    "429s",
]


def row(found: FanOut) -> list[Cell]:
    """One fan-out as a row of ``COLUMNS``."""
    floor, spread = burst_floor(found.posts), found.first_to_last_s
    return [
        found.channels,
        found.due_to_first_s,
        spread,
        found.bound_s,
        found.pace,
        floor,
        spread / floor if floor else None,
        found.due_to_last_s,
        (found.posts - 1) / spread if spread > 0 else None,
        found.cpu_ms_per_post,
        found.peak_rss_mib,
        found.late_posts,
        found.duplicates,
        found.losses,
        found.rate_limited,
    ]


def record(result: BenchResult, key: str, found: FanOut) -> None:
    """``found``'s numbers and ratio to the bound in ``result``, under ``key``."""
    for name, value in found.results().items():
        if name not in ("channels", "reminders") and value is not None:
            result.results[f"{key}.{name}"] = value
    result.ratios[f"{key}.first_to_last"] = found.pace


async def run(counts: Counts) -> BenchResult:
    """Measure each size, the largest ``fanout_runs`` times; the largest is the headline."""
    sizes = [*counts.channels, *[counts.channels[-1]] * (counts.fanout_runs - 1)]
    runs = [await fan_out(n) for n in sizes]
    result = BenchResult(NAME, TITLE)
    table = Table(f"{TITLE} under 50 req/s global and 5 msgs/5 s per channel (s)", COLUMNS)
    seen: Counter[int] = Counter()
    for found in runs:
        table.add(*row(found))
        seen[found.channels] += 1
        suffix = f".run{seen[found.channels]}" if seen[found.channels] > 1 else ""
        record(result, f"{found.channels}{suffix}", found)
    result.tables.append(table)
    n = counts.channels[-1]
    heads = [found for found in runs if found.channels == n]
    bound = rate_bound(n)
    worst = max(found.pace or math.inf for found in heads)
    several = f" (worst of {len(heads)} runs)" if len(heads) > 1 else ""
    result.targets += [
        Target(
            f"{n} channels: first→last within 1.03× of the bound (N-1)/50 = {bound:.2f} s"
            + several,
            worst,
            LIMIT,
        ),
        Target(
            f"{n} channels: no post the bot marks late",
            sum(f.late_posts for f in heads),
            0,
            "posts",
        ),
        Target(f"{n} channels: no duplicates", sum(f.duplicates for f in heads), 0, "posts"),
        Target(f"{n} channels: no losses", sum(f.losses for f in heads), 0, "channels"),
        Target(
            f"{n} channels: at most one 429 in {len(heads)} run(s)",
            sum(f.rate_limited for f in heads),
            1,
            "429s",
        ),
    ]
    result.notes.append(
        "bound: (N-1)/50 s, N posts at Discord's 50 requests per second; burst floor: "
        "floor((N-1)/50) s, the least possible when whole 1 s windows are sent at once; "
        "due: the bot's 'is due' line, shown only when logged before the first post; "
        "late: posts the bot itself logged as late; "
        "CPU ms/post: the bot's CPU time from the first post to the last, over the posts"
    )
    return result
