"""Channels named in the settings, kept in step with the ledger's subscriptions."""

import logging
from collections.abc import Collection
from datetime import datetime

from bot.delivery.ledger import Ledger, SubscriptionSource
from bot.delivery.ledger.subscriptions import DEFAULT_INSTANCE

log = logging.getLogger(__name__)

SETTINGS = SubscriptionSource.SETTINGS
COMMAND = SubscriptionSource.COMMAND
LISTED = 20  # more channels than this are logged as a count


def sync_settings_channels(
    ledger: Ledger,
    platform: str,
    channel_ids: Collection[str],
    now: datetime,
    instance: str = DEFAULT_INSTANCE,
) -> None:
    """Subscribe every channel the settings name; drop settings channels no longer named.

    A channel also subscribed by command stays: the command is the stronger word.
    A channel marked broken stays broken across restarts until someone subscribes
    it again by command, so a channel that refuses posts is not knocked on at
    every start. The channels are ``instance``'s own: another deployment's start
    never unsubscribes them.
    """
    added, dropped = ledger.sync_named(platform, channel_ids, now=now, instance=instance)
    _report(platform, added, "subscribed to reminders (from the settings)")
    _report(platform, dropped, f"unsubscribed: no longer in the settings of {instance!r}")


def _report(platform: str, channels: list[str], what: str) -> None:
    """One line per channel, or one line in all when there are many."""
    if len(channels) > LISTED:
        log.info("%d %s channels %s", len(channels), platform, what)
        return
    for channel in channels:
        log.info("%s channel %s %s", platform, channel, what)
