"""The fan-out limiter spaces requests evenly: no window ever holds more than the rate.

Time is the test's: the limiter reads a monotonic source the test owns, and its
waits move that source forward instead of taking real time.
"""

import asyncio
import itertools

from bot.delivery.limiter import ChannelWindows, RateLimiter


class FakeTime:
    """A monotonic source that moves only when the limiter waits (or the test says)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let the other waiters queue up, as a real wait would


def stamped(limiter: RateLimiter, time: FakeTime, count: int) -> list[float]:
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(time())

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(count)))

    asyncio.run(main())
    return sorted(stamps)


def test_requests_are_evenly_spaced_and_never_exceed_the_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(50, 1.0, monotonic=time, sleep=time.wait)
    stamps = stamped(limiter, time, 120)
    for index in range(len(stamps) - 50):
        assert stamps[index + 50] - stamps[index] >= 1.0 - 1e-9, "51 slots inside one window"
    assert stamps[-1] - stamps[0] <= 119 / 50 + 1e-9, "and no slower than the rate"
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(abs(gap - 0.02) < 1e-9 for gap in gaps), "evenly spaced, not in bursts"


def test_a_late_wake_up_does_not_push_later_slots_back() -> None:
    time = FakeTime()
    late = 0.015  # each wait overruns by most of a slot, as on a busy machine

    async def overrunning(seconds: float) -> None:
        await time.wait(seconds + late)

    limiter = RateLimiter(50, 1.0, monotonic=time, sleep=overrunning)
    start = time()
    stamps = stamped(limiter, time, 10)
    # The grid is fixed: slot n is never earlier than start + n * interval.
    for n, stamp in enumerate(stamps):
        assert stamp >= start + n * 0.02 - 1e-9, "never early: no window over the rate"
        assert stamp <= start + n * 0.02 + late + 1e-9, "never later than one overrun"


def test_a_stall_is_caught_up_without_crowding_any_window() -> None:
    """The loop stalls for half a second once: the slots it missed go out as soon as the
    window allows, never more than the rate within any second."""
    time = FakeTime()
    stalls = [0.5]

    async def stalling(seconds: float) -> None:
        await time.wait(seconds + (stalls.pop() if stalls and time.now > 1000.3 else 0.0))

    limiter = RateLimiter(50, 1.0, monotonic=time, sleep=stalling)
    stamps = stamped(limiter, time, 200)
    for index in range(len(stamps) - 50):
        assert stamps[index + 50] - stamps[index] >= 1.0 - 1e-9, "51 requests in one second"
    assert stamps[-1] - stamps[0] <= 199 / 50 + 0.5 + 1e-9, "the stall costs at most itself"


def test_after_an_idle_spell_the_grid_restarts() -> None:
    time = FakeTime()
    limiter = RateLimiter(2, 1.0, monotonic=time, sleep=time.wait)
    stamped(limiter, time, 3)
    time.now += 60  # idle for a minute
    time.waits.clear()
    stamped(limiter, time, 1)
    assert time.waits == [], "the first request after a pause goes at once"


def test_one_channel_takes_five_at_once_then_waits_for_its_window() -> None:
    """Eight reminders due at once in one channel: five go, three wait a window; another
    channel is not held up by it."""
    time = FakeTime()
    windows = ChannelWindows(5, 5.0, monotonic=time, sleep=time.wait)
    stamps: dict[str, list[float]] = {"busy": [], "quiet": []}

    async def one(channel: str) -> None:
        await windows.acquire(channel)
        stamps[channel].append(time())

    async def main() -> None:
        await asyncio.gather(*(one("busy") for _ in range(8)), one("quiet"))

    asyncio.run(main())
    busy = sorted(stamps["busy"])
    for index in range(len(busy) - 5):
        assert busy[index + 5] - busy[index] >= 5.0, "six posts inside one 5 s window"
    assert busy[:5] == [1000.0] * 5, "a burst of five is not slowed"
    assert busy[-1] - busy[0] <= 5.0 * 1.05 + 1e-9, "and the rest follow one window later"
    assert stamps["quiet"][0] <= 1000.0 + 5.0 * 1.05, "the quiet channel waits for no one"


def test_idle_channels_are_forgotten() -> None:
    time = FakeTime()
    windows = ChannelWindows(5, 5.0, monotonic=time, sleep=time.wait)

    async def main() -> None:
        for n in range(2000):
            await windows.acquire(f"c{n}")
        time.now += 10
        await windows.acquire("late")

    asyncio.run(main())
    assert len(windows._sent) < 1100
