"""The loopback Slack the Slack benchmark measures against, with the bench's few additions.

It is the test suite's Slack stand-in (``standins``), unchanged, with the bench's bot
token and signing secret, no 3 s ack deadline, and :meth:`BenchSlackStandIn.problems`. Between
blocks of slash commands the benchmark calls the stand-in's own ``forget()``, so that the
measuring process does not grow (and pause to collect garbage) while it measures.
"""

from collections.abc import Sequence
from typing import Any

from standins.slack_payloads import ChannelSpec
from standins.slack_standin import SlackStandIn

# Shaped like Slack's (the stand-in checks the token, and the bot checks the prefix).
BOT_TOKEN = "xoxb-1300-2600-benchstandintoken"  # noqa: S105 - a fake token
SIGNING_SECRET = "bench-signing-secret-5f1c2a9e"  # noqa: S105 - a fake secret
CHANNEL = "C0BENCH0001"  # where slash commands are typed


class BenchSlackStandIn(SlackStandIn):
    """The Slack stand-in with the bench's credentials; see the module docstring.

    Slack's 3 s deadline for an ack is not enforced here: a late answer is measured and
    counted, not recorded as a protocol error.
    """

    def __init__(
        self,
        *,
        channels: Sequence[ChannelSpec] = ((CHANNEL, "general"),),
        enforce_limits: bool = False,
        **options: Any,
    ) -> None:
        options.setdefault("ack_deadline", None)
        super().__init__(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            channels=channels,
            enforce_limits=enforce_limits,
            **options,
        )

    def problems(self) -> list[str]:
        """What real Slack would have refused, and calls the stand-in does not know."""
        return [*(f"unhandled: {u}" for u in self.unhandled), *self.protocol_errors]
