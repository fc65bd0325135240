"""Waiting on a condition in a test, never for a fixed time."""

import asyncio
import time
from collections.abc import Callable

WITHIN = 5.0


async def eventually(predicate: Callable[[], bool], what: str, within: float = WITHIN) -> None:
    """Wait until ``predicate()`` holds, checking often; fail naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
