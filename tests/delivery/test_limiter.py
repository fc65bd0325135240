"""The fan-out limiter spaces requests evenly: no window ever holds more than the rate."""

import asyncio
import time

from bot.delivery.limiter import RateLimiter


def test_requests_are_evenly_spaced_and_never_exceed_the_rate() -> None:
    stamps: list[float] = []

    async def main() -> None:
        limiter = RateLimiter(50, 0.25)  # 200 per second, so the test is quick

        async def one() -> None:
            await limiter.acquire()
            stamps.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(120)))

    asyncio.run(main())
    stamps.sort()
    for index in range(len(stamps) - 50):
        assert stamps[index + 50] - stamps[index] >= 0.25 * 0.98, "51 slots inside one window"
    assert stamps[-1] - stamps[0] < 0.25 * 119 / 50 * 1.1, "and no slower than the rate"
    for index in range(len(stamps) - 10):
        assert stamps[index + 10] - stamps[index] >= 0.05 * 0.8, "evenly spaced, not in bursts"
