"""The loopback Discord the bots are measured against, with the bench's few additions.

It is the test suite's stand-in (``standins``), unchanged, with the bench's token and guild,
no 3 s interaction deadline, and the timestamps the start-up benchmark reads. Between blocks of
interactions the benchmark calls the stand-in's own ``forget()``, so that the measuring process
does not grow (and pause to collect garbage) while it measures.
"""

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from standins.discord_payloads import ChannelSpec
from standins.discord_standin import DiscordStandIn

# A token shaped like Discord's (the stand-in accepts any), the ids of the one guild.
TOKEN = "MTMwMDAwMDAwMDAwMDAwMDkwMA.stand-in.bench-token-value"  # noqa: S105 - a fake token
GUILD = 1_300_000_000_000_000_001
CHANNEL = 1_300_000_000_000_000_101


class BenchStandIn(DiscordStandIn):
    """The stand-in with Discord's answers as in the tests; see the module docstring."""

    def __init__(
        self,
        *,
        channels: Sequence[ChannelSpec] = ((CHANNEL, "general"),),
        enforce_limits: bool = False,
        **options: Any,
    ) -> None:
        # No 3 s deadline here: a late answer is measured and counted, not refused.
        options.setdefault("interaction_deadline", None)
        super().__init__(
            token=TOKEN,
            guild_id=GUILD,
            channels=channels,
            enforce_limits=enforce_limits,
            **options,
        )
        self.global_429 = 0  # 429s for the global limit (50 requests per second)
        self.route_429 = 0  # 429s for a route's own limit (5 messages per 5 s per channel)

    def _rate_limited(
        self, retry_after: float, *, global_: bool, bucket: str, limit: int = 5
    ) -> web.Response:
        """Count each 429 by its scope, then answer it as the stand-in does."""
        if global_:
            self.global_429 += 1
        else:
            self.route_429 += 1
        return super()._rate_limited(retry_after, global_=global_, bucket=bucket, limit=limit)

    def synced_since(self, moment: float) -> float | None:
        """When the guild's commands were last synced (a ``PUT`` answered 200) after ``moment``."""
        path = f"/applications/{self.application_id}/guilds/{GUILD}/commands"
        times = [
            r.time
            for r in self.requests
            if r.method == "PUT" and r.path == path and r.status == 200 and r.time >= moment
        ]
        return max(times, default=None)

    def identified_since(self, moment: float) -> float | None:
        """When a client last sent IDENTIFY (answered at once with READY) after ``moment``."""
        times = [op.time for op in self.gateway_ops if op.op == 2 and op.time >= moment]
        return max(times, default=None)

    def ready_since(self, moment: float) -> float | None:
        """When a bot started after ``moment`` had both synced its commands and identified."""
        synced, identified = self.synced_since(moment), self.identified_since(moment)
        if synced is None or identified is None or not self.gateway.is_ready:
            return None
        return max(synced, identified)
