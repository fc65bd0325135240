"""How long a reminder takes to reach every channel, and how early it starts for that.

A platform posts at most so many messages a second for the whole bot (Discord: 50 per
token, of which briefbot uses 48). A reminder for many channels therefore takes
minutes: at 48 posts a second, 50,000 channels take 17.4 minutes. So that the last
channel still has it by its due time ("1 hour before"), a fan-out that would take
longer than ``EARLY_START_MIN`` starts that much earlier.
"""

import math
from collections.abc import Mapping
from datetime import timedelta

DISCORD_POSTS_PER_SECOND = 48
"""Evenly spaced, under Discord's 50 requests per second for every bot."""
SLACK_POSTS_PER_SECOND = 20
"""Across channels; Slack allows about one per second in each channel."""
POST_RATES: Mapping[str, float] = {
    "discord": DISCORD_POSTS_PER_SECOND,
    "slack": SLACK_POSTS_PER_SECOND,
}
"""Each platform's pace, for ``briefbot schedule`` (the posters pace themselves the same)."""

EARLY_START_MIN = timedelta(seconds=30)
"""A fan-out shorter than this starts at the due time: a little late is within "late"."""


def fan_out_time(channels: int, posts_per_second: float) -> timedelta:
    """How long posting to ``channels`` takes at the platform's pace (the first post at 0)."""
    if channels <= 1 or math.isinf(posts_per_second) or posts_per_second <= 0:
        return timedelta(0)
    return timedelta(seconds=(channels - 1) / posts_per_second)


def early_start(counts: Mapping[str, int], rates: Mapping[str, float]) -> timedelta:
    """How long before its due time a reminder starts posting, in real time: the longest
    fan-out of its platforms, if that is longer than ``EARLY_START_MIN``; else zero."""
    longest = max(
        (fan_out_time(count, rates.get(platform, math.inf)) for platform, count in counts.items()),
        default=timedelta(0),
    )
    return longest if longest > EARLY_START_MIN else timedelta(0)
