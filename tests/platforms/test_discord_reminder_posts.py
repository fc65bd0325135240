"""Reminder posts on Discord: the hidden nonce, finding a post again, and blind searches.

Through the real discord.py client, the bot's own poster and the loopback stand-in.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.core.library import Library
from bot.core.reminders import Reminder, parse_offsets, plan, reminder_name, reminder_reply
from bot.core.reply import Reply
from bot.delivery.ledger import DeliveryKey
from bot.delivery.limiter import RateLimiter
from bot.delivery.posting import PostFailed, SearchBlind
from bot.platforms.discord.client import BriefBot
from bot.platforms.discord.poster import DiscordPoster
from bot.runtime import Runtime
from standins.discord_permissions import READ_MESSAGE_HISTORY, VIEW_CHANNEL
from standins.discord_standin import DiscordStandIn
from tests.platforms.discord_harness import CHANNEL, connected_bot

pytestmark = pytest.mark.timeout(30)

OTHER = CHANNEL + 1
POST = rf"^/channels/{CHANNEL}/messages$"


class CountingLimiter(RateLimiter):
    """A limiter that counts how often it was asked for a slot."""

    def __init__(self) -> None:
        super().__init__(1000, 1.0)
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await super().acquire()


@dataclass
class Due:
    """The G20's 7-day reminder, what it says, and its delivery's nonce in ``CHANNEL``."""

    reminder: Reminder
    reply: Reply
    nonce: str


def g20_reminder(library: Library) -> tuple[Reminder, Reply]:
    """The G20's 7-day reminder and what it says."""
    reminder = next(
        r for r in plan(library, parse_offsets("7d"), time(9, 0)) if r.event.id.startswith("g20")
    )
    reply = reminder_reply(reminder, library.brief(reminder.brief_id), reminder.due_at, late=False)
    return reminder, reply


@pytest.fixture
def due(library: Library) -> Due:
    reminder, reply = g20_reminder(library)
    return Due(reminder, reply, DeliveryKey(reminder.id, "discord", str(CHANNEL)).nonce())


@pytest.fixture
def discord_options() -> dict[str, Any]:
    return {"channels": [(CHANNEL, "general"), (OTHER, "news")]}


@pytest.fixture
def as_of() -> datetime:
    return datetime(2017, 6, 1, tzinfo=UTC)


@pytest.fixture
async def bot(discord: DiscordStandIn, discord_runtime: Runtime) -> AsyncIterator[BriefBot]:
    """A logged-in bot, ready, without the scheduler."""
    async with connected_bot(discord, discord_runtime) as connected:
        yield connected


def custom_ids(message: dict[str, object]) -> list[str]:
    rows = message.get("components") or []
    assert isinstance(rows, list)
    return [c["custom_id"] for row in rows for c in row["components"]]


async def test_reminder_post_hides_its_nonce_in_a_working_sources_button(
    discord: DiscordStandIn, discord_runtime: Runtime, due: Due
) -> None:
    reminder, nonce = due.reminder, due.nonce
    async with connected_bot(discord, discord_runtime) as bot:
        message_id = await DiscordPoster(bot).post(str(CHANNEL), due.reply, nonce=nonce)
    post = discord.posts[0]
    assert message_id == post.message["id"]
    assert post.nonce == nonce
    assert post.json["enforce_nonce"] is True
    button, calendar = custom_ids(post.message)
    assert calendar == f"cal:{reminder.event.id}:{reminder.brief_id}"
    assert nonce in button
    assert reminder.event.id in button
    assert len(button) <= 100
    visible = json.dumps([post.json.get("content"), post.json["embeds"]])
    for hidden in (nonce, reminder.id, reminder.event.id, "rem:"):
        assert hidden not in visible, f"{hidden!r} is shown to readers"
    labels = [c["label"] for row in post.message["components"] for c in row["components"]]
    assert labels == ["Sources", "Add to calendar"]

    # A click after a restart: a new bot process rebuilds the sources by event id.
    async with connected_bot(discord, discord_runtime):
        click = await discord.click_button(button)
        answer = await click.wait_response()
    assert answer.data is not None
    assert answer.data["flags"] & 64, "only the clicker sees the sources"
    embed = answer.data["embeds"][0]
    assert reminder.event.name in embed["title"]
    assert reminder.event.quotes[0][:40] in json.dumps(embed, ensure_ascii=False)


async def test_find_post_finds_a_lost_reply_among_450_messages_within_the_limiter(
    discord: DiscordStandIn, bot: BriefBot, due: Due
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    limiter = CountingLimiter()
    poster = DiscordPoster(bot, limiter)
    discord.add_chatter(CHANNEL, 150)  # more than one page before the post
    discord.reset_next("POST", POST)  # stored, but the reply is lost
    with pytest.raises(PostFailed):
        await poster.post(str(CHANNEL), due.reply, nonce=due.nonce)
    discord.add_chatter(CHANNEL, 300)  # and a busy channel after it
    discord.expire_nonces()  # minutes later: the nonce no longer protects a retry
    limiter.acquired = 0
    found = await poster.find_post(str(CHANNEL), due.nonce, since=since)
    assert found == discord.posts[0].message["id"]
    assert poster.pages_read == 2, "the post is the 151st message since the claim"
    other = DeliveryKey(due.reminder.id, "discord", str(OTHER)).nonce()
    assert await poster.find_post(str(CHANNEL), other, since=since) is None
    assert poster.pages_read == 2 + 5, "451 messages: every page was read"
    assert limiter.acquired == poster.pages_read, "one slot per page request"
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await poster.find_post(str(CHANNEL), due.nonce, since=later) is None


async def test_nonce_window_passing_lets_the_stand_in_post_twice(
    discord: DiscordStandIn, bot: BriefBot, due: Due
) -> None:
    poster = DiscordPoster(bot)
    first = await poster.post(str(CHANNEL), due.reply, nonce=due.nonce)
    assert await poster.post(str(CHANNEL), due.reply, nonce=due.nonce) == first
    discord.expire_nonces()
    second = await poster.post(str(CHANNEL), due.reply, nonce=due.nonce)
    assert second != first, "past the window the nonce alone cannot prevent a double"
    assert len(discord.posts) == 2


async def test_search_is_blind_without_read_message_history(
    discord: DiscordStandIn, discord_runtime: Runtime, due: Due
) -> None:
    discord.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
    discord.set_bot_permissions(OTHER, deny=VIEW_CHANNEL)
    async with connected_bot(discord, discord_runtime) as bot:
        poster = DiscordPoster(bot)
        since = datetime.now(UTC) - timedelta(minutes=1)
        await poster.post(str(CHANNEL), due.reply, nonce=due.nonce)
        raw = await bot.http.logs_from(CHANNEL, 100)
        assert raw == [], "Discord answers an empty list, not an error"
        with pytest.raises(SearchBlind, match="Read Message History") as blind:
            await poster.find_post(str(CHANNEL), due.nonce, since=since)
        assert "#general" in str(blind.value)
        with pytest.raises(SearchBlind, match="View Channel"):
            await poster.find_post(str(OTHER), due.nonce, since=since)
        assert poster.pages_read == 0, "no blind request was made"


def test_reminders_list_names_deliveries_by_event_not_by_internal_id(library: Library) -> None:
    reminder, _ = g20_reminder(library)
    assert reminder_name(library, reminder.id) == f"{reminder.event.name}, 7d before"
    assert reminder_name(library, "gone-event:1d") == "a removed event"
