"""discord.py's scan for idle rate-limit buckets runs at most once a minute under briefbot.

discord.py keeps a bucket per channel and, each time it makes a new one past 256, scans them
all; in a fan-out to N channels that is N scans of up to N buckets. The poster throttles the
scan; the buckets themselves, and discord.py's use of them, are unchanged.
"""

import discord

from bot.platforms.discord.poster import DiscordPoster


async def test_a_fan_out_scans_discord_py_buckets_once_not_per_channel() -> None:
    client = discord.Client(intents=discord.Intents.none())
    http = client.http
    DiscordPoster(client)
    DiscordPoster(client)  # a second poster on the same client throttles nothing twice
    scans = 0
    original_is_inactive = discord.http.Ratelimit.is_inactive

    def counted(self: discord.http.Ratelimit) -> bool:
        nonlocal scans
        scans += 1
        return bool(original_is_inactive(self))

    discord.http.Ratelimit.is_inactive = counted  # type: ignore[method-assign]
    try:
        for channel in range(2_000):  # what 2,000 first posts to channels do
            http.get_ratelimit(f"POST:/channels/{channel}/messages")
    finally:
        discord.http.Ratelimit.is_inactive = original_is_inactive  # type: ignore[method-assign]
    assert len(http._buckets) == 2_000
    assert scans <= 257, f"{scans} bucket checks: one scan, not one per new channel"
