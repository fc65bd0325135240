"""Reminder posts on Discord: the hidden nonce, finding a post again, and blind searches.

Through the real discord.py client, the bot's own poster and the loopback stand-in.
"""

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import Reminder, parse_offsets, plan, reminder_reply
from bot.core.reply import Reply
from bot.delivery.ledger import DeliveryKey
from bot.delivery.limiter import RateLimiter
from bot.delivery.posting import PostFailed, SearchBlind
from bot.platforms.discord.poster import DiscordPoster
from bot.platforms.discord.reminders import reminder_name
from bot.runtime import Runtime
from standins.discord_permissions import READ_MESSAGE_HISTORY, VIEW_CHANNEL
from standins.discord_standin import DiscordStandIn
from tests.platforms.discord_harness import CHANNEL, TOKEN, connected_bot, run, settings_for

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


def g20_reminder(library: Library) -> tuple[Reminder, Reply]:
    """The G20's 7-day reminder and what it says."""
    reminder = next(
        r for r in plan(library, parse_offsets("7d"), time(9, 0)) if r.event.id.startswith("g20")
    )
    reply = reminder_reply(reminder, library.brief(reminder.brief_id), reminder.due_at, late=False)
    return reminder, reply


def standin() -> DiscordStandIn:
    return DiscordStandIn(token=TOKEN, channels=[(CHANNEL, "general"), (OTHER, "news")])


def runtime_for(fake: DiscordStandIn, tmp_path: Path, library: Library) -> Runtime:
    at = datetime(2017, 6, 1, tzinfo=UTC)
    return Runtime(settings_for(fake, tmp_path / "data"), library, Clock(at, 0.0))


def custom_ids(message: dict[str, object]) -> list[str]:
    rows = message.get("components") or []
    assert isinstance(rows, list)
    return [c["custom_id"] for row in rows for c in row["components"]]


def test_reminder_post_hides_its_nonce_in_a_working_sources_button(
    tmp_path: Path, library: Library
) -> None:
    reminder, reply = g20_reminder(library)
    nonce = DeliveryKey(reminder.id, "discord", str(CHANNEL)).nonce()

    async def main() -> None:
        async with standin() as fake:
            runtime = runtime_for(fake, tmp_path, library)
            async with connected_bot(fake, runtime) as bot:
                message_id = await DiscordPoster(bot).post(str(CHANNEL), reply, nonce=nonce)
            post = fake.posts[0]
            assert message_id == post.message["id"]
            assert post.nonce == nonce
            assert post.json["enforce_nonce"] is True
            (button,) = custom_ids(post.message)
            assert nonce in button
            assert reminder.event.id in button
            assert len(button) <= 100
            visible = json.dumps([post.json.get("content"), post.json["embeds"]])
            for hidden in (nonce, reminder.id, reminder.event.id, "rem:"):
                assert hidden not in visible, f"{hidden!r} is shown to readers"
            labels = [c["label"] for row in post.message["components"] for c in row["components"]]
            assert labels == ["Sources"]

            # A click after a restart: a new bot process rebuilds the sources by event id.
            async with connected_bot(fake, runtime):
                click = await fake.click_button(button)
                answer = await click.wait_response()
            assert answer.data is not None
            assert answer.data["flags"] & 64, "only the clicker sees the sources"
            embed = answer.data["embeds"][0]
            assert reminder.event.name in embed["title"]
            assert reminder.event.quotes[0][:40] in json.dumps(embed, ensure_ascii=False)
            fake.assert_clean()

    run(main)


def test_find_post_finds_a_lost_reply_among_450_messages_within_the_limiter(
    tmp_path: Path, library: Library
) -> None:
    reminder, reply = g20_reminder(library)
    nonce = DeliveryKey(reminder.id, "discord", str(CHANNEL)).nonce()

    async def main() -> None:
        async with standin() as fake:
            async with connected_bot(fake, runtime_for(fake, tmp_path, library)) as bot:
                since = datetime.now(UTC) - timedelta(minutes=1)
                limiter = CountingLimiter()
                poster = DiscordPoster(bot, limiter)
                fake.add_chatter(CHANNEL, 150)  # more than one page before the post
                fake.reset_next("POST", POST)  # stored, but the reply is lost
                with pytest.raises(PostFailed):
                    await poster.post(str(CHANNEL), reply, nonce=nonce)
                fake.add_chatter(CHANNEL, 300)  # and a busy channel after it
                fake.expire_nonces()  # minutes later: the nonce no longer protects a retry
                limiter.acquired = 0
                found = await poster.find_post(str(CHANNEL), nonce, since=since)
                assert found == fake.posts[0].message["id"]
                assert poster.pages_read == 2, "the post is the 151st message since the claim"
                other = DeliveryKey(reminder.id, "discord", str(OTHER)).nonce()
                assert await poster.find_post(str(CHANNEL), other, since=since) is None
                assert poster.pages_read == 2 + 5, "451 messages: every page was read"
                assert limiter.acquired == poster.pages_read, "one slot per page request"
                later = datetime.now(UTC) + timedelta(minutes=1)
                assert await poster.find_post(str(CHANNEL), nonce, since=later) is None
            fake.assert_clean()

    run(main)


def test_nonce_window_passing_lets_the_stand_in_post_twice(
    tmp_path: Path, library: Library
) -> None:
    reminder, reply = g20_reminder(library)
    nonce = DeliveryKey(reminder.id, "discord", str(CHANNEL)).nonce()

    async def main() -> None:
        async with standin() as fake:
            async with connected_bot(fake, runtime_for(fake, tmp_path, library)) as bot:
                poster = DiscordPoster(bot)
                first = await poster.post(str(CHANNEL), reply, nonce=nonce)
                assert await poster.post(str(CHANNEL), reply, nonce=nonce) == first
                fake.expire_nonces()
                second = await poster.post(str(CHANNEL), reply, nonce=nonce)
            assert second != first, "past the window the nonce alone cannot prevent a double"
            assert len(fake.posts) == 2
            fake.assert_clean()

    run(main)


def test_search_is_blind_without_read_message_history(tmp_path: Path, library: Library) -> None:
    reminder, reply = g20_reminder(library)
    nonce = DeliveryKey(reminder.id, "discord", str(CHANNEL)).nonce()

    async def main() -> None:
        async with standin() as fake:
            fake.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
            fake.set_bot_permissions(OTHER, deny=VIEW_CHANNEL)
            async with connected_bot(fake, runtime_for(fake, tmp_path, library)) as bot:
                poster = DiscordPoster(bot)
                since = datetime.now(UTC) - timedelta(minutes=1)
                await poster.post(str(CHANNEL), reply, nonce=nonce)
                raw = await bot.http.logs_from(CHANNEL, 100)
                assert raw == [], "Discord answers an empty list, not an error"
                with pytest.raises(SearchBlind, match="Read Message History") as blind:
                    await poster.find_post(str(CHANNEL), nonce, since=since)
                assert "#general" in str(blind.value)
                with pytest.raises(SearchBlind, match="View Channel"):
                    await poster.find_post(str(OTHER), nonce, since=since)
                assert poster.pages_read == 0, "no blind request was made"
            fake.assert_clean()

    run(main)


def test_reminders_list_names_deliveries_by_event_not_by_internal_id(library: Library) -> None:
    reminder, _ = g20_reminder(library)
    assert reminder_name(library, reminder.id) == f"{reminder.event.name}, 7d before"
    assert reminder_name(library, "gone-event:1d") == "a removed event"
