"""Channels named in the settings, kept in step with the ledger's subscriptions."""

import logging
from collections.abc import Collection
from datetime import datetime

from bot.delivery.ledger import Ledger, SubscriptionSource

log = logging.getLogger(__name__)

SETTINGS = SubscriptionSource.SETTINGS
COMMAND = SubscriptionSource.COMMAND


def sync_settings_channels(
    ledger: Ledger, platform: str, channel_ids: Collection[str], now: datetime
) -> None:
    """Subscribe every channel the settings name; drop settings channels no longer named.

    A channel also subscribed by command stays: the command is the stronger word.
    A channel marked broken stays broken across restarts until someone subscribes
    it again by command, so a channel that refuses posts is not knocked on at
    every start.
    """
    known = {s.channel_id for s in ledger.subscriptions(platform=platform)}
    for channel in channel_ids:
        if channel in known:
            continue
        if ledger.subscribe(platform, channel, guild_id=None, source=SETTINGS, now=now):
            log.info("%s channel %s subscribed to reminders (from the settings)", platform, channel)
    for subscription in ledger.subscriptions(platform=platform):
        if subscription.source == SETTINGS and subscription.channel_id not in channel_ids:
            ledger.unsubscribe(platform, subscription.channel_id)
            log.info(
                "%s channel %s unsubscribed: no longer in the settings",
                platform,
                subscription.channel_id,
            )
