"""The Slack stand-in, checked against the real, unpatched slack_bolt ``AsyncApp``.

Each test starts a stand-in, points slack_bolt at it only through
``AsyncWebClient(token=..., base_url=slack.api_base)``, runs a small app with a ``/ping``
command, a button and a command that posts, over HTTP or Socket Mode, and checks what
crossed the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from standins.slack_standin import SlackStandIn, sign

BOT = "xoxb-1111-2222-stand-in-bot"
APP = "xapp-1-A0000BRIEF-3333-stand-in-app"
SECRET = "stand-in-signing-secret"
CHANNELS = [("C0001", "general"), ("C0002", "news"), ("C0003", "ops"), ("C0004", "old")]
TIMEOUT = 5.0
TS = re.compile(r"^\d{10}\.\d{6}$")


def run(main: Callable[[], Coroutine[Any, Any, None]], timeout: float = 20.0) -> None:
    """Run one test body on a fresh event loop, bounded by ``timeout``."""
    asyncio.run(asyncio.wait_for(main(), timeout))


def standin(**kwargs: Any) -> SlackStandIn:
    """A stand-in with the test's tokens, secret and channels."""
    options: dict[str, Any] = {
        "bot_token": BOT,
        "app_token": APP,
        "signing_secret": SECRET,
        "channels": CHANNELS,
    }
    return SlackStandIn(**{**options, **kwargs})


def ping_blocks(text: str) -> list[dict[str, Any]]:
    """A section and an "Again" button."""
    button = {
        "type": "button",
        "action_id": "ping_again",
        "text": {"type": "plain_text", "text": "Again"},
        "value": f"again:{text}",
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*pong* {text}"}},
        {"type": "actions", "block_id": "ping_actions", "elements": [button]},
    ]


def build_app(slack: SlackStandIn) -> AsyncApp:
    """The minimal app: ``/ping`` answers in its ack, the button responds, ``/announce`` posts."""
    client = AsyncWebClient(token=BOT, base_url=slack.api_base)
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

    async def ping(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(text=f"pong {command['text']}", blocks=ping_blocks(command["text"]))

    async def again(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        value = body["actions"][0]["value"]
        await respond(text=f"{value} by {body['user']['id']}", response_type="ephemeral")

    async def announce(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(
            channel=command["channel_id"],
            text=f"announcement: {command['text']}",
            blocks=ping_blocks(command["text"]),
            metadata={"event_type": "announced", "event_payload": {"text": command["text"]}},
        )

    app.command("/ping")(ping)
    app.action("ping_again")(again)
    app.command("/announce")(announce)
    return app


@contextlib.asynccontextmanager
async def serving_http(app: AsyncApp) -> AsyncIterator[str]:
    """Serve the app's own aiohttp application (``app.web_app()``) on an ephemeral port."""
    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def socket_mode(app: AsyncApp, slack: SlackStandIn) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect the app over Socket Mode; close the handler on exit."""
    handler = AsyncSocketModeHandler(app, APP)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await slack.wait_for_connections(1, TIMEOUT)
        yield handler
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


def api_client(slack: SlackStandIn, token: str = BOT, **kwargs: Any) -> AsyncWebClient:
    """A Web API client pointed at the stand-in."""
    return AsyncWebClient(token=token, base_url=slack.api_base, **kwargs)


async def api_error(call: Coroutine[Any, Any, Any]) -> SlackApiError:
    """Await ``call``, which must raise :class:`SlackApiError`; return the error."""
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# ------------------------------------------------------------------------- HTTP mode


def test_http_mode_command_and_signature() -> None:
    async def main() -> None:
        async with standin() as slack, serving_http(build_app(slack)) as url:
            status, body, rec = await slack.http_command(url, "/ping", "hello")
            assert status == 200
            assert body["text"] == "pong hello"
            assert body["blocks"][1]["elements"][0]["action_id"] == "ping_again"
            ack = await rec.wait_ack(TIMEOUT)
            assert ack.mode == "http"
            assert ack.text == "pong hello"
            assert rec.ack_latency is not None
            assert 0 < rec.ack_latency < 3
            assert rec.payload["response_url"].startswith(slack.base_url + "/response/")
            auth = [r for r in slack.requests if r.method == "auth.test"]
            assert [(r.token_kind, r.ok) for r in auth] == [("bot", True)]

            bad, _, refused = await slack.http_command(url, "/ping", "x", secret="not-it")
            assert bad == 401
            assert refused.ack is not None
            assert refused.ack.status == 401
            stale, _, _ = await slack.http_command(url, "/ping", "x", timestamp=time.time() - 360)
            assert stale == 401
            forged = sign(SECRET, str(int(time.time())), "command=%2Fother")
            assert (await slack.http_command(url, "/ping", signature=forged)).status == 401
            assert len(slack.requests) == 1  # only the one auth.test
            slack.assert_clean()

    run(main)


# ----------------------------------------------------------------------- Socket Mode


def test_socket_mode_command_action_and_reconnect() -> None:
    async def main() -> None:
        async with standin() as slack, socket_mode(build_app(slack), slack):
            opened = [r for r in slack.requests if r.method == "apps.connections.open"]
            assert [(r.token_kind, r.ok) for r in opened] == [("app", True)]

            rec = await slack.socket_command("/ping", "hi", channel_id="C0002")
            ack = await rec.wait_ack(TIMEOUT)
            assert ack.mode == "socket"
            assert ack.payload is not None
            assert ack.payload["text"] == "pong hi"
            assert ack.blocks[0]["text"]["text"] == "*pong* hi"
            assert slack.envelopes[0].envelope["accepts_response_payload"] is True
            assert slack.envelopes[0].envelope["payload"]["command"] == "/ping"

            click = await slack.socket_action("ping_again")
            assert click.payload["channel"] == {"id": "C0002", "name": "news"}
            action = click.payload["actions"][0]
            assert action == {
                "action_id": "ping_again",
                "block_id": "ping_actions",
                "type": "button",
                "action_ts": action["action_ts"],
                "text": {"type": "plain_text", "text": "Again"},
                "value": "again:hi",
            }
            assert click.payload["container"]["is_ephemeral"] is True
            click_ack = await click.wait_ack(TIMEOUT)
            assert click_ack.payload is None
            (response,) = await click.wait_responses(1, TIMEOUT)
            assert response.response_type == "ephemeral"
            assert response.text == "again:hi by U0000USER"
            assert click.response_latency is not None
            assert slack.envelopes[1].envelope["accepts_response_payload"] is False

            assert await slack.drop_socket() == 1
            await slack.wait_for_connections(2, TIMEOUT)
            assert slack.connection_urls_issued == 2
            later = await slack.socket_command("/ping", "again")
            assert (await later.wait_ack(TIMEOUT)).text == "pong again"
            assert slack.envelopes[-1].connection == 2
            await slack.wait_until(
                lambda: not slack.socket.connections[0].active, TIMEOUT, "the old socket closed"
            )

            assert await slack.drop_socket("close") == 2
            await slack.wait_for_connections(3, TIMEOUT)
            last = await slack.socket_command("/ping", "third")
            assert (await last.wait_ack(TIMEOUT)).text == "pong third"
            assert slack.envelopes[-1].connection == 3
            assert len(slack.acks) == 4
            slack.assert_clean()

    run(main)


def test_socket_protocol_errors_are_caught() -> None:
    async def main() -> None:
        async with standin(ack_deadline=0.2) as slack, aiohttp.ClientSession() as session:
            opened = await api_client(slack, APP).apps_connections_open(app_token=APP)
            async with session.ws_connect(opened["url"]) as ws:
                hello = await ws.receive_json(timeout=TIMEOUT)
                assert hello["type"] == "hello"
                assert hello["connection_info"] == {"app_id": slack.identity.app_id}
                rec = await slack.socket_command("/ping", "raw")
                envelope = await ws.receive_json(timeout=TIMEOUT)
                assert envelope["type"] == "slash_commands"
                assert envelope["payload"]["text"] == "raw"
                ack = {"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}
                await ws.send_json(ack)
                assert (await rec.wait_ack(TIMEOUT)).text == "ok"
                await ws.send_json(ack)
                await ws.send_json({"envelope_id": "nope"})
                late = await slack.socket_command("/ping", "late")
                await asyncio.sleep(0.3)
                await ws.send_json({"envelope_id": late.id})
                await late.wait_ack(TIMEOUT)
                await slack.wait_until(lambda: len(slack.protocol_errors) >= 3, TIMEOUT)
        with pytest.raises(AssertionError) as info:
            slack.assert_clean()
        problems = str(info.value)
        assert "acknowledged twice" in problems
        assert "unknown envelope nope" in problems
        assert "acknowledged after" in problems

    run(main)


# --------------------------------------------------------------------------- Web API


def test_posts_are_recorded_and_channel_errors_surface() -> None:
    async def main() -> None:
        async with standin() as slack, serving_http(build_app(slack)) as url:
            status, _, _ = await slack.http_command(url, "/announce", "summit", channel_id="C0001")
            assert status == 200
            (post,) = await slack.wait_for_posts(1, TIMEOUT)
            assert post.channel == "C0001"
            assert TS.match(post.ts)
            assert post.text == "announcement: summit"
            assert post.metadata == {"event_type": "announced", "event_payload": {"text": "summit"}}
            assert post.message["bot_id"] == slack.identity.bot_id
            assert slack.requests[-1].token_kind == "bot"

            client = api_client(slack)
            slack.delete_channel("C0002")
            slack.remove_bot("C0003")
            slack.archive_channel("C0004")
            cases = [("C0002", "channel_not_found"), ("C0003", "not_in_channel")]
            cases += [("C9999", "channel_not_found"), ("C0004", "is_archived")]
            for channel, error in cases:
                failed = await api_error(client.chat_postMessage(channel=channel, text="x"))
                assert failed.response["error"] == error
                assert failed.response.status_code == 200
            assert len(slack.posts) == 1
            slack.assert_clean()

    run(main)


def test_ratelimited_post_is_retried_by_the_retry_handler() -> None:
    async def main() -> None:
        async with standin() as slack:
            retrying = api_client(
                slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
            )
            slack.fail_next("chat.postMessage", retry_after=1)
            sent = await retrying.chat_postMessage(channel="C0001", text="patient")
            assert sent["ok"]
            assert len(slack.posts) == 1
            calls = [r for r in slack.requests if r.method == "chat.postMessage"]
            assert [(r.status, r.error) for r in calls] == [(429, "ratelimited"), (200, None)]
            assert calls[1].time - calls[0].time >= 1.0

            slack.fail_next("chat.postMessage", retry_after=7)
            failed = await api_error(api_client(slack).chat_postMessage(channel="C0001", text="x"))
            assert failed.response.status_code == 429
            assert failed.response.headers["Retry-After"] == "7"
            assert failed.response["error"] == "ratelimited"

            slack.fail_next("chat.postMessage", status=500)
            failed = await api_error(api_client(slack).chat_postMessage(channel="C0001", text="x"))
            assert (failed.response.status_code, failed.response["error"]) == (
                500,
                "internal_error",
            )
            slack.fail_next("chat.postMessage", status=503)
            server_retry = api_client(slack, retry_handlers=[AsyncServerErrorRetryHandler()])
            assert (await server_retry.chat_postMessage(channel="C0001", text="again"))["ok"]

            slack.fail_next("*", error="fatal_error")
            failed = await api_error(api_client(slack).auth_test())
            assert (failed.response.status_code, failed.response["error"]) == (200, "fatal_error")
            assert slack.injected_fault_count == 5
            assert len(slack.posts) == 2
            slack.assert_clean()

    run(main)


def test_enforced_post_rate_per_channel() -> None:
    async def main() -> None:
        async with standin(enforce_limits=True, post_burst=3) as slack:
            client = api_client(slack)
            for i in range(3):
                await client.chat_postMessage(channel="C0001", text=f"burst {i}")
            failed = await api_error(client.chat_postMessage(channel="C0001", text="too many"))
            assert failed.response.status_code == 429
            assert failed.response.headers["Retry-After"] == "1"
            await client.chat_postMessage(channel="C0002", text="other channel")
            assert slack.rate_limited_count == 1
            assert len(slack.posts) == 4
            slack.assert_clean()

    run(main)


def test_history_returns_what_was_posted() -> None:
    async def main() -> None:
        async with standin() as slack:
            client = api_client(slack)
            seeded = slack.seed_message("C0001", "from a user")
            metadata = {"event_type": "brief_posted", "event_payload": {"brief": "summit"}}
            first = await client.chat_postMessage(
                channel="C0001", text="one", blocks=ping_blocks("one"), metadata=metadata
            )
            second = await client.chat_postMessage(channel="C0001", text="two")

            page = await client.conversations_history(channel="C0001", limit=2)
            assert [m["text"] for m in page["messages"]] == ["two", "one"]
            assert page["has_more"] is True
            assert page["messages"][1]["bot_id"] == slack.identity.bot_id
            assert page["messages"][1]["blocks"][0]["text"]["text"] == "*pong* one"
            assert "metadata" not in page["messages"][1]
            cursor = page["response_metadata"]["next_cursor"]
            rest = await client.conversations_history(channel="C0001", cursor=cursor)
            assert [m["ts"] for m in rest["messages"]] == [seeded]
            assert rest["has_more"] is False

            full = await client.conversations_history(
                channel="C0001", oldest=first["ts"], inclusive=True, include_all_metadata=True
            )
            assert [m["ts"] for m in full["messages"]] == [second["ts"], first["ts"]]
            assert full["messages"][1]["metadata"] == metadata
            newer = await client.conversations_history(channel="C0001", oldest=first["ts"])
            assert [m["text"] for m in newer["messages"]] == ["two"]
            slack.remove_bot("C0001")
            failed = await api_error(client.conversations_history(channel="C0001"))
            assert failed.response["error"] == "not_in_channel"
            slack.assert_clean()

    run(main)


def test_buttons_on_channel_messages_and_response_url_effects() -> None:
    async def main() -> None:
        async with standin() as slack, socket_mode(build_app(slack), slack):
            await slack.socket_command("/announce", "vote", channel_id="C0001")
            (post,) = await slack.wait_for_posts(1, TIMEOUT)
            click = await slack.socket_action("ping_again", message_ts=post.ts)
            assert click.payload["container"] == {
                "type": "message",
                "message_ts": post.ts,
                "channel_id": "C0001",
                "is_ephemeral": False,
            }
            assert click.payload["message"]["text"] == "announcement: vote"
            (response,) = await click.wait_responses(1, TIMEOUT)
            assert response.text == "again:vote by U0000USER"

            hook = AsyncWebhookClient(click.response_url)
            await hook.send(text="results are in", response_type="in_channel")
            history = [m["text"] for m in slack.channel_history("C0001")]
            assert history == ["announcement: vote", "results are in"]
            for n in range(3):
                await hook.send(text=f"private {n}")
            assert len(click.responses) == 5
            slack.assert_clean()
            sixth = await hook.send(text="six")
            assert sixth.status_code == 404
            assert len(click.responses) == 5
            with pytest.raises(AssertionError, match="used more than 5 times"):
                slack.assert_clean()

    run(main)


def test_editing_the_original_through_response_url_is_not_modelled() -> None:
    async def main() -> None:
        async with standin() as slack, socket_mode(build_app(slack), slack):
            await slack.socket_command("/announce", "vote", channel_id="C0001")
            (post,) = await slack.wait_for_posts(1, TIMEOUT)
            click = await slack.socket_action("ping_again", message_ts=post.ts)
            await click.wait_responses(1, TIMEOUT)
            hook = AsyncWebhookClient(click.response_url)
            replaced = await hook.send(text="closed", replace_original=True)
            assert replaced.status_code == 400
            assert [m["text"] for m in slack.channel_history("C0001")] == ["announcement: vote"]
            with pytest.raises(AssertionError, match="response_url edit of the original"):
                slack.assert_clean()

    run(main)


# ------------------------------------------------------------------ auth and checking


def test_wrong_tokens_are_refused() -> None:
    async def main() -> None:
        async with standin() as slack:
            wrong = await api_error(api_client(slack, "xoxb-wrong").auth_test())
            assert (wrong.response.status_code, wrong.response["error"]) == (200, "invalid_auth")
            assert wrong.response.headers["Content-Type"] == "application/json"
            assert slack.requests[-1].token_kind == "invalid"
            app_token = await api_error(
                api_client(slack, APP).chat_postMessage(channel="C0001", text="x")
            )
            assert app_token.response["error"] == "not_allowed_token_type"
            bot_token = await api_error(api_client(slack).apps_connections_open(app_token=BOT))
            assert bot_token.response["error"] == "not_allowed_token_type"
            missing = await api_error(AsyncWebClient(base_url=slack.api_base).auth_test())
            assert missing.response["error"] == "not_authed"
            assert (await api_client(slack).auth_test())["user_id"] == slack.identity.bot_user_id
            assert slack.posts == []
            slack.assert_clean()

    run(main)


def test_unknown_methods_and_invalid_blocks_fail_assert_clean() -> None:
    async def main() -> None:
        async with standin() as slack:
            client = api_client(slack)
            unknown = await api_error(client.users_list())
            assert unknown.response["error"] == "unknown_method"
            too_many = [{"type": "divider"}] * 51
            failed = await api_error(
                client.chat_postMessage(channel="C0001", text="t", blocks=too_many)
            )
            assert failed.response["error"] == "invalid_blocks"
            long_text = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
            failed = await api_error(
                client.chat_postMessage(channel="C0001", text="t", blocks=long_text)
            )
            messages = failed.response["response_metadata"]["messages"]
            assert messages == [
                "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
            ]
            assert slack.posts == []
            async with aiohttp.ClientSession() as session:
                url = f"{slack.base_url}/response/unknown"
                async with session.post(url, data=json.dumps({"text": "x"})) as response:
                    assert response.status == 404
                    assert response.content_type == "application/json"
                async with session.get(f"{slack.base_url}/oauth/v2/authorize") as response:
                    assert response.status == 404
                    assert (await response.json())["error"] == "unknown_method"
        assert slack.unhandled == ["users.list", "GET /oauth/v2/authorize"]
        with pytest.raises(AssertionError) as info:
            slack.assert_clean()
        problems = str(info.value)
        assert "unhandled request: users.list" in problems
        assert "no more than 50 items allowed" in problems
        assert "less than 3001 characters" in problems
        assert "unknown response_url" in problems

    run(main)


def test_history_pages_by_timestamp_with_scopes_and_metadata() -> None:
    async def main() -> None:
        async with standin(scopes=["chat:write", "users:read"]) as slack:
            client = api_client(slack)
            blind = await api_error(client.conversations_history(channel="C0001"))
            assert blind.response["error"] == "missing_scope"
            assert blind.response["needed"] == "channels:history"
            assert blind.response["provided"] == "chat:write,users:read"
            assert blind.response.headers["x-oauth-scopes"] == "chat:write,users:read"
            info = await client.users_info(user="W0000GRID")
            assert info["user"]["id"] == "W0000GRID"
        async with standin() as slack:
            client = api_client(slack)
            scopes = (await client.auth_test()).headers["x-oauth-scopes"].split(",")
            assert "channels:history" in scopes
            first, *rest = slack.add_chatter("C0001", 250)
            metadata = {"event_type": "x", "event_payload": {"n": 1}}
            posted = await client.chat_postMessage(channel="C0001", text="t", metadata=metadata)
            page = await client.conversations_history(channel="C0001", oldest=first)
            assert len(page["messages"]) == 100, "100 by default"
            assert "metadata" not in page["messages"][0]
            slack.add_chatter("C0001", 5, text="newer")  # shifts no page already served
            seen = [m["ts"] for m in page["messages"]]
            while page["has_more"]:
                cursor = page["response_metadata"]["next_cursor"]
                page = await client.conversations_history(
                    channel="C0001", oldest=first, cursor=cursor, limit=100
                )
                seen += [m["ts"] for m in page["messages"]]
            assert seen == [posted["ts"], *reversed(rest)]
            window = await client.conversations_history(
                channel="C0001", oldest=rest[9], latest=rest[20], include_all_metadata=True
            )
            assert [m["ts"] for m in window["messages"]] == list(reversed(rest[10:20]))
            tagged = await client.conversations_history(
                channel="C0001",
                latest=posted["ts"],
                inclusive=True,
                limit=1,
                include_all_metadata=True,
            )
            assert tagged["messages"][0]["metadata"] == metadata
            bad = await api_error(client.conversations_history(channel="C0001", oldest="soon"))
            assert bad.response["error"] == "invalid_ts_oldest"
            refused = await api_error(
                client.chat_postMessage(
                    channel="C0001", text="t", metadata={"event_type": "x", "event_payload": "y"}
                )
            )
            assert refused.response["error"] == "invalid_metadata_format"
            slack.protocol_errors.clear()
            slack.assert_clean()

    run(main)


@pytest.mark.parametrize("reset", [False, True])
def test_a_lost_reply_after_the_post_was_stored(reset: bool) -> None:
    async def main() -> None:
        async with standin() as slack:
            slack.lose_next_reply("chat.postMessage", reset=reset)
            client = api_client(slack, retry_handlers=[])
            with pytest.raises(aiohttp.ClientError if reset else SlackApiError) as lost:
                await client.chat_postMessage(channel="C0001", text="stored")
            if not reset:
                assert isinstance(lost.value, SlackApiError)
                assert lost.value.response.status_code == 500
            assert [p.text for p in slack.posts] == ["stored"]
            assert slack.injected_fault_count == 1
            assert (await client.chat_postMessage(channel="C0001", text="next"))["ok"]
            slack.assert_clean()

    run(main)
