"""A reminder on Slack is found again after a lost reply, and never posted twice by the client.

The poster runs against the loopback Slack stand-in with the bot's own Web API client
(:func:`web_client`): the post carries its nonce as hidden metadata, a lost reply (a 500
after Slack stored the post, or a connection reset) surfaces as ``PostFailed`` with a
single post made, and ``find_post`` finds the post however much chatter came after it.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import Reply, Section, line
from bot.delivery.posting import ChannelUnavailable, PostFailed, SearchBlind
from bot.platforms.slack.poster import EVENT_TYPE, SlackPoster, web_client
from standins.slack_faults import DEFAULT_SCOPES
from standins.slack_standin import SlackStandIn
from tests.platforms.slack_harness import BOT_TOKEN

pytestmark = pytest.mark.timeout(30)

NONCE = "g20-7d-slack-C0001-x1y2z3"
REMINDER = Reply(
    command="reminder",
    title="Reminder: G20 leaders’ summit in 7 days",
    summary=(line("Hamburg, 7–8 July 2017"),),
    sections=(Section("Why it matters", (line("@here <!channel> from the brief"),)),),
    footer="/next-meeting for the details",
)


@pytest.fixture
def poster(slack: SlackStandIn) -> SlackPoster:
    """The bot's poster, with the bot's own client configuration."""
    return SlackPoster(web_client(BOT_TOKEN, slack.api_base))


def a_moment_ago() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=5)


def post_calls(slack: SlackStandIn) -> int:
    return sum(request.method == "chat.postMessage" for request in slack.requests)


async def test_the_nonce_travels_as_metadata_and_is_not_shown(
    slack: SlackStandIn, poster: SlackPoster
) -> None:
    ts = await poster.post("C0001", REMINDER, nonce=NONCE)
    (post,) = slack.posts
    assert ts == post.ts
    assert post.metadata == {"event_type": EVENT_TYPE, "event_payload": {"nonce": NONCE}}
    assert NONCE not in post.text
    assert NONCE not in str(post.blocks)


async def test_find_post_searches_every_page_since_the_claim(
    slack: SlackStandIn, poster: SlackPoster
) -> None:
    since = a_moment_ago()
    ts = await poster.post("C0001", REMINDER, nonce=NONCE)
    slack.add_chatter("C0001", 300)
    assert await poster.find_post("C0001", NONCE, since=since) == ts
    pages = [r for r in slack.requests if r.method == "conversations.history"]
    assert len(pages) == 2, "300 newer messages and the post: two pages of 200"
    assert all(r.params["limit"] == "200" for r in pages)
    assert all(r.params["include_all_metadata"] in ("1", "true") for r in pages)
    assert await poster.find_post("C0001", "another-nonce", since=since) is None
    skewed = datetime.now(UTC) + timedelta(minutes=1)  # this host's clock ahead
    assert await poster.find_post("C0001", NONCE, since=skewed) == ts
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert await poster.find_post("C0001", NONCE, since=later) is None


async def test_find_post_ignores_the_same_metadata_from_someone_else(
    slack: SlackStandIn, poster: SlackPoster
) -> None:
    since = a_moment_ago()
    metadata = {"event_type": EVENT_TYPE, "event_payload": {"nonce": NONCE}}
    slack.seed_message("C0001", "copied", user_id="W0000GRID", metadata=metadata)
    assert await poster.find_post("C0001", NONCE, since=since) is None


@pytest.mark.parametrize(
    "slack",
    [
        {
            "scopes": [scope for scope in DEFAULT_SCOPES if not scope.endswith(":history")],
            "channels": ["C0001", "G0001"],
        }
    ],
    indirect=True,
    ids=["no-history-scope"],
)
@pytest.mark.parametrize("channel", ["C0001", "G0001"])
async def test_find_post_without_the_history_scope_is_search_blind(
    slack: SlackStandIn, poster: SlackPoster, channel: str
) -> None:
    with pytest.raises(SearchBlind) as blind:
        await poster.find_post(channel, NONCE, since=a_moment_ago())
    assert "channels:history" in str(blind.value)
    assert "groups:history" in str(blind.value)
    (request,) = [r for r in slack.requests if r.method == "conversations.history"]
    assert request.response is not None
    needed = "groups:history" if channel.startswith("G") else "channels:history"
    assert request.response["needed"] == needed


async def test_find_post_in_a_deleted_channel_is_channel_unavailable(
    slack: SlackStandIn, poster: SlackPoster
) -> None:
    slack.delete_channel("C0003")
    with pytest.raises(ChannelUnavailable, match="channel_not_found"):
        await poster.find_post("C0003", NONCE, since=a_moment_ago())
    slack.fail_next("conversations.history", status=503)
    with pytest.raises(PostFailed, match="service_unavailable"):
        await poster.find_post("C0001", NONCE, since=a_moment_ago())


@pytest.mark.parametrize("reset", [False, True], ids=["500-after-storing", "reset"])
async def test_a_lost_reply_is_post_failed_and_the_post_is_found(
    slack: SlackStandIn, poster: SlackPoster, reset: bool
) -> None:
    since = a_moment_ago()
    slack.lose_next_reply("chat.postMessage", reset=reset)
    with pytest.raises(PostFailed):
        await poster.post("C0001", REMINDER, nonce=NONCE)
    assert len(slack.posts) == 1, "Slack stored the post"
    assert post_calls(slack) == 1, "the client did not send it again by itself"
    assert await poster.find_post("C0001", NONCE, since=since) == slack.posts[0].ts


async def test_slack_sdks_default_retries_would_post_twice(slack: SlackStandIn) -> None:
    """Why the bot's client retries rate limits only: the default resends after a reset."""
    default = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_base)
    slack.lose_next_reply("chat.postMessage", reset=True)
    answer: Any = await default.chat_postMessage(channel="C0001", text="hello")
    assert answer["ok"]
    assert len(slack.posts) == 2


async def test_find_post_stops_after_its_page_bound_and_says_so(
    slack: SlackStandIn,
    poster: SlackPoster,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("bot.platforms.slack.poster.HISTORY_PAGES", 2)
    with caplog.at_level("WARNING", logger="bot.platforms.slack.poster"):
        since = a_moment_ago()
        await poster.post("C0001", REMINDER, nonce=NONCE)
        slack.add_chatter("C0001", 450)
        assert await poster.find_post("C0001", NONCE, since=since) is None
        assert sum(r.method == "conversations.history" for r in slack.requests) == 2
    (warning,) = caplog.records
    assert "after 2 pages" in warning.getMessage()
