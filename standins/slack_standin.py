"""A loopback Slack: Web API, Socket Mode and response URLs, enough for an unmodified slack_bolt.

Start it with ``async with SlackStandIn(...) as slack:`` and point slack_bolt at it with
``AsyncApp(client=AsyncWebClient(token=..., base_url=slack.api_base), ...)`` and nothing
else. Tests then act as Slack and its users: push slash commands and button clicks down the
Socket Mode websocket (:meth:`SlackStandIn.socket_command`, :meth:`~SlackStandIn.socket_action`)
or POST a slash command, signed, to the app's HTTP endpoint (:meth:`~SlackStandIn.http_command`),
and read what the app did from the recorded ``requests``, ``posts``, ``responses``,
``envelopes`` and ``acks``. Faults (429 with ``Retry-After``, 5xx, lost replies, archived or
deleted channels, a bot removed from a channel, dropped websockets) are injected on demand, and
:meth:`~SlackStandIn.assert_clean` fails a test that called a method the stand-in does not
model or broke a rule real Slack enforces.

Only the Web API methods briefbot calls are modelled (``auth.test``, ``apps.connections.open``,
``chat.postMessage``, ``conversations.history``, ``users.info``). ``docs/standins.md`` lists what
is modelled, what is refused and the wire facts it relies on.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import json
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from .loopback import LoopbackServer, json_response, reset_connection
from .slack_faults import (
    APP_SCOPES,
    DEFAULT_ERRORS,
    DEFAULT_SCOPES,
    METHOD_SCOPES,
    ConnectionReset,
    Fault,
    decode_cursor,
    encode_cursor,
    history_scope,
    require_scope,
)
from .slack_payloads import (
    ACK_DEADLINE,
    JSON,
    MAX_RESPONSE_URL_USES,
    ApiError,
    ChannelSpec,
    SlackIdentity,
    StandInChannel,
    TsFactory,
    block_actions_payload,
    build_channel,
    clicked_action,
    command_payload,
    iter_elements,
    message_problems,
    new_trigger_id,
    sign,
    ts_key,
    with_block_ids,
)
from .slack_records import (
    AckRecord,
    EnvelopeRecord,
    HttpReply,
    InteractionRecord,
    PostRecord,
    RequestRecord,
    ResponseRecord,
)
from .slack_socket import SocketConnection, SocketModeServer

__all__ = [
    "AckRecord",
    "EnvelopeRecord",
    "HttpReply",
    "InteractionRecord",
    "PostRecord",
    "RequestRecord",
    "ResponseRecord",
    "SlackIdentity",
    "SlackStandIn",
    "StandInChannel",
    "sign",
]

_TRUE = ("1", "true", "True", True, 1)
_JSON_FIELDS = ("blocks", "metadata")
_USER_PREFIXES = ("U", "W")  # Enterprise Grid user ids start with W


@dataclass
class _Bucket:
    """A token bucket: ``capacity`` messages at once, refilled at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float
    last: float

    def take(self, now: float) -> float | None:
        """Spend a token; return the seconds until one is available instead when empty."""
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Call:
    """One Web API call being answered."""

    method: str
    params: JSON
    record: RequestRecord

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        return self.params.get(name) in _TRUE


@dataclass(eq=False)
class _Surface:
    """Somewhere buttons were shown: a channel message, or an ephemeral response."""

    channel_id: str
    ts: str
    message: JSON | None  # the stored channel message; None for ephemeral content
    blocks: list[Any] | None  # ephemeral content's blocks (channel messages: read live)


_Handler = Callable[[_Call], Awaitable[JSON]]


class SlackStandIn(LoopbackServer[Fault]):
    """Slack's Web API, Socket Mode and response URLs on ``127.0.0.1`` for a real slack_bolt app.

    ``bot_token`` (``xoxb-``) authorises Web API calls, ``app_token`` (``xapp-``) only
    ``apps.connections.open``; ``signing_secret`` signs what :meth:`http_command` sends.
    ``channels`` are ids, ``(id, name)`` pairs or :class:`StandInChannel`; the bot is a
    member of all of them. ``user_id`` is who types commands and clicks buttons.
    ``ack_deadline`` is Slack's 3 s limit for an ack (``None``: off). ``enforce_limits``
    models ``chat.postMessage``'s one message per second per channel as a token bucket of
    ``post_burst`` refilled at ``post_rate`` per second, answering ``ratelimited`` (429)
    beyond. ``scopes`` are the bot token's OAuth scopes (default: the manifest's); every
    answer carries them in ``x-oauth-scopes``, and a method whose scope is missing answers
    ``missing_scope`` with ``needed`` and ``provided``.
    """

    platform = "Slack"

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin-bot-token",  # noqa: S107 - a fake token
        app_token: str = "xapp-standin-app-token",  # noqa: S107 - a fake token
        signing_secret: str = "standin-signing-secret",  # noqa: S107 - a fake secret
        channels: Sequence[ChannelSpec] = (("C0001", "general"),),
        user_id: str = "U0000USER",
        ack_deadline: float | None = ACK_DEADLINE,
        enforce_limits: bool = False,
        post_burst: int = 5,
        post_rate: float = 1.0,
        clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = DEFAULT_SCOPES,
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.identity = SlackIdentity()
        self.channels: dict[str, StandInChannel] = {}
        for i, spec in enumerate(channels):
            channel = build_channel(spec, i)
            self.channels[channel.id] = channel
        self.user_id = user_id
        self.user_name = "reader"
        self.ack_deadline = ack_deadline
        self.enforce_limits = enforce_limits
        self.post_burst = post_burst
        self.post_rate = post_rate
        self.scopes = frozenset(scopes)

        # Recordings, in arrival order.
        self.requests: list[RequestRecord] = []
        self.posts: list[PostRecord] = []
        self.responses: list[ResponseRecord] = []
        self.acks: list[AckRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.messages: dict[str, list[JSON]] = {cid: [] for cid in self.channels}

        self._ts = TsFactory(clock)
        self._buckets: dict[str, _Bucket] = {}
        self._by_id: dict[str, InteractionRecord] = {}
        self._by_response_id: dict[str, InteractionRecord] = {}
        self._surfaces: list[_Surface] = []
        self._session: aiohttp.ClientSession | None = None
        self._methods: dict[str, tuple[_Handler, str]] = {
            "auth.test": (self._auth_test, "bot"),
            "apps.connections.open": (self._connections_open, "app"),
            "chat.postMessage": (self._post_message, "bot"),
            "conversations.history": (self._history, "bot"),
            "users.info": (self._user_info, "bot"),
        }
        self.admins: set[str] = set()  # user ids that users.info reports as workspace admins
        self.socket = SocketModeServer(self)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind an ephemeral port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self.socket.handle)
        app.router.add_get("/socket/", self.socket.handle)
        app.router.add_route("*", "/{tail:.*}", self._unknown_path)
        await self._serve(app)

    async def close(self) -> None:
        """Close every websocket and the HTTP client session, and stop the server."""
        await self.socket.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._stop()

    @property
    def api_base(self) -> str:
        """The ``base_url`` for ``AsyncWebClient``: ``base_url + "/api/"`` (trailing slash)."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        """The websocket endpoint (``apps.connections.open`` adds a ticket)."""
        return f"ws://127.0.0.1:{self._port}/socket"

    # ------------------------------------------------------------- configuration

    def forget(self) -> None:
        """Drop what was recorded so far (call only while nothing is in flight).

        Protocol errors and unhandled methods are kept, for :meth:`assert_clean`. A benchmark
        sending thousands of slash commands calls it between blocks so that the measuring
        process does not grow while it measures.
        """
        for records in (self.requests, self.posts, self.responses, self.acks):
            records.clear()
        self.interactions.clear()
        for history in self.messages.values():
            history.clear()
        self._by_id.clear()
        self._by_response_id.clear()
        self._surfaces.clear()

    def archive_channel(self, channel_id: str) -> None:
        """Archive a channel: posting answers ``is_archived`` (as Slack does); reading works."""
        self.channels[channel_id].archived = True

    def delete_channel(self, channel_id: str) -> None:
        """Delete a channel: every method answers ``channel_not_found``."""
        self.channels[channel_id].deleted = True

    def remove_bot(self, channel_id: str) -> None:
        """Remove the bot from a channel: posting and reading answer ``not_in_channel``."""
        self.channels[channel_id].bot_member = False

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error: str | None = None,
        *,
        status: int | None = None,
        retry_after: int = 1,
        processed: bool = False,
        reset: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (or ``"*"``) with a failure.

        By default a 429 ``ratelimited`` with ``Retry-After: retry_after``. ``status=500``
        (or 502/503) answers that status with ``internal_error`` (``service_unavailable``
        for 503); ``error="..."`` alone answers HTTP 200 ``{"ok": false, "error": ...}``.
        By default the call is refused before the method runs: nothing is posted. With
        ``processed=True`` the method runs (a post is stored) and only then is the failure
        answered: a reply lost after Slack did the work. ``reset=True`` (implies
        ``processed``) resets the connection instead of answering at all.
        """
        if status is None:
            status = 429 if error in (None, "ratelimited") and not reset else 200
        if error is None:
            error = DEFAULT_ERRORS.get(status, "internal_error" if status >= 500 else "")
        if not error and not reset:
            raise ValueError(f"fail_next: give the error for status {status}")
        self._inject(Fault(times, processed or reset, reset, method, status, error, retry_after))

    def lose_next_reply(
        self, method: str = "chat.postMessage", times: int = 1, *, reset: bool = False
    ) -> None:
        """Do the next ``times`` calls of ``method``, then lose the reply.

        The reply is an HTTP 500 ``internal_error``, or with ``reset=True`` a TCP reset
        with no answer at all. Same as ``fail_next(method, times, status=500,
        processed=True)`` or ``fail_next(method, times, reset=True)``.
        """
        if reset:
            self.fail_next(method, times, reset=True)
        else:
            self.fail_next(method, times, status=500, processed=True)

    def seed_message(
        self,
        channel_id: str,
        text: str,
        *,
        user_id: str | None = None,
        blocks: Sequence[JSON] | None = None,
        metadata: JSON | None = None,
    ) -> str:
        """Put a message from a user into a channel's history; return its ts."""
        ts = self._ts()
        message: JSON = {
            "type": "message",
            "user": user_id or self.user_id,
            "text": text,
            "ts": ts,
            "team": self.identity.team_id,
        }
        if blocks:
            message["blocks"] = with_block_ids(blocks)
        if metadata is not None:
            message["metadata"] = metadata
        self.messages.setdefault(channel_id, []).append(message)
        return ts

    def add_chatter(
        self, channel_id: str, count: int, *, user_id: str = "U0000OTHER", text: str = "chatter"
    ) -> list[str]:
        """Put ``count`` messages from another user into a channel (newest last); their ts."""
        return [self.seed_message(channel_id, f"{text} {n}", user_id=user_id) for n in range(count)]

    # ------------------------------------------------------------------ waiting

    async def wait_for_posts(
        self, n: int = 1, timeout: float = 5.0, channel: str | None = None
    ) -> list[PostRecord]:
        """Wait until at least ``n`` ``chat.postMessage`` posts (in ``channel`` if given)."""

        def matching() -> list[PostRecord]:
            return [p for p in self.posts if channel is None or p.channel == channel]

        return await self.wait_for_records(matching, n, timeout, "posts")

    async def wait_for_connections(self, n: int = 1, timeout: float = 5.0) -> SocketConnection:
        """Wait until ``n`` Socket Mode connections were opened and one is open; return it."""

        def ready() -> bool:
            return self.connections_opened >= n and self.socket.active() is not None

        await self.wait_until(ready, timeout, f"{n} Socket Mode connections")
        connection = self.socket.active()
        assert connection is not None
        return connection

    # ----------------------------------------------------------------- checking

    @property
    def envelopes(self) -> list[EnvelopeRecord]:
        """Every Socket Mode envelope sent."""
        return self.socket.envelopes

    @property
    def connections_opened(self) -> int:
        """Socket Mode websocket connections accepted so far."""
        return self.socket.opened

    @property
    def connection_urls_issued(self) -> int:
        """Successful ``apps.connections.open`` calls so far."""
        return self.socket.tickets_issued

    @property
    def socket_connected(self) -> bool:
        """Whether a Socket Mode connection is open."""
        return self.socket.active() is not None

    def channel_history(self, channel_id: str) -> list[JSON]:
        """A channel's messages, oldest first."""
        return list(self.messages.get(channel_id, []))

    # ------------------------------------------------------------------ Web API

    async def _read_params(self, request: web.Request) -> tuple[JSON, bool]:
        """Query string merged with the form or JSON body; ``(params, body_was_invalid)``."""
        params: JSON = dict(request.query)
        if request.method != "POST" or not request.body_exists:
            return params, False
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.read())
            except ValueError:
                return params, True
            if not isinstance(body, dict):
                return params, True
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_FIELDS:
            value = params.get(key)
            if isinstance(value, str) and value:
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params, False

    def _token_kind(self, request: web.Request, params: JSON) -> str:
        token = params.pop("token", None)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ").strip()
        if not token:
            return "missing"
        if token == self.bot_token:
            return "bot"
        if token == self.app_token:
            return "app"
        return "invalid"

    async def _unknown_path(self, request: web.Request) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}")
        self.notify()
        return json_response({"ok": False, "error": "unknown_method"}, 404)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, invalid = await self._read_params(request)
        token_kind = self._token_kind(request, params)
        record = RequestRecord(method, request.method, token_kind, params, time.perf_counter())
        self.requests.append(record)
        scopes = {"bot": self.scopes, "app": frozenset(APP_SCOPES)}.get(token_kind, frozenset())
        headers = {"x-oauth-scopes": ",".join(sorted(scopes))} if scopes else {}
        try:
            if invalid:
                self.protocol_error(f"{method}: body is not a JSON object")
                raise ApiError("invalid_json")
            body = await self._answer(_Call(method, params, record))
            record.status, record.response = 200, body
            return json_response(body, headers=headers)
        except ApiError as error:
            record.status, record.response = error.status, error.body()
            return json_response(error.body(), error.status, {**headers, **error.headers})
        except ConnectionReset:
            reset_connection(request)
            return web.Response(status=500)  # never reaches the client
        finally:
            self.notify()

    async def _answer(self, call: _Call) -> JSON:
        entry = self._methods.get(call.method)
        if entry is None:
            self.unhandled.append(call.method)
            raise ApiError("unknown_method")
        handler, needs = entry
        kind = call.record.token_kind
        if needs != "any":
            if kind == "missing":
                raise ApiError("not_authed")
            if kind == "invalid":
                raise ApiError("invalid_auth")
            if kind != needs:
                raise ApiError("not_allowed_token_type")
        if call.method in METHOD_SCOPES:
            require_scope(self.scopes, METHOD_SCOPES[call.method])
        fault = self._take_fault(lambda f: f.method in ("*", call.method))
        if fault is not None and not fault.processed:
            raise fault.refusal()
        body = await handler(call)
        if fault is not None:
            if fault.reset:
                raise ConnectionReset
            raise fault.refusal()
        return body

    def _channel(self, call: _Call, *, write: bool) -> StandInChannel:
        """The channel a call names, or the error Slack answers about it."""
        wanted = call.get("channel") or ""
        channel = self.channels.get(wanted)
        if channel is None:
            name = wanted.removeprefix("#")
            channel = next((c for c in self.channels.values() if c.name == name), None)
        if channel is None or channel.deleted:
            raise ApiError("channel_not_found")
        if write and channel.archived:
            raise ApiError("is_archived")
        if not channel.bot_member:
            raise ApiError("not_in_channel")
        return channel

    def _check_message(self, call: _Call, *, require_text: bool = True) -> None:
        problem = message_problems(call.params, require_text=require_text)
        if problem is not None:
            details = problem.extra.get("response_metadata", {}).get("messages", [])
            self.protocol_error(f"{call.method} refused with {problem.error}: {details}")
            raise problem

    def _limit_posts(self, channel_id: str) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        bucket = self._buckets.setdefault(
            channel_id, _Bucket(self.post_burst, self.post_rate, self.post_burst, now)
        )
        wait = bucket.take(now)
        if wait is not None:
            self.rate_limited_count += 1
            retry_after = str(max(1, math.ceil(wait)))
            raise ApiError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _bot_message(self, ts: str, params: JSON) -> JSON:
        identity = self.identity
        message: JSON = {
            "type": "message",
            "user": identity.bot_user_id,
            "bot_id": identity.bot_id,
            "app_id": identity.app_id,
            "text": str(params.get("text") or ""),
            "ts": ts,
            "team": identity.team_id,
            "bot_profile": identity.bot_profile(),
        }
        blocks = params.get("blocks")
        if blocks:
            message["blocks"] = with_block_ids(blocks)
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        return message

    async def _auth_test(self, call: _Call) -> JSON:
        identity = self.identity
        return {
            "ok": True,
            "url": identity.url,
            "team": identity.team_name,
            "user": identity.bot_name,
            "team_id": identity.team_id,
            "user_id": identity.bot_user_id,
            "bot_id": identity.bot_id,
            "is_enterprise_install": False,
        }

    async def _user_info(self, call: _Call) -> JSON:
        user = str(call.params.get("user", ""))
        if not user.startswith(_USER_PREFIXES):
            return {"ok": False, "error": "user_not_found"}
        admin = user in self.admins
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": self.identity.team_id,
                "name": self.user_name if user == self.user_id else user.lower(),
                "is_admin": admin,
                "is_owner": False,
                "is_primary_owner": False,
                "is_bot": user == self.identity.bot_user_id,
            },
        }

    async def _connections_open(self, call: _Call) -> JSON:
        ticket = self.socket.issue_ticket()
        query = urlencode({"ticket": ticket, "app_id": self.identity.app_id})
        return {"ok": True, "url": f"{self.socket_url}?{query}"}

    async def _post_message(self, call: _Call) -> JSON:
        channel = self._channel(call, write=True)
        self._limit_posts(channel.id)
        self._check_message(call)
        ts = self._ts()
        message = self._bot_message(ts, call.params)
        self.messages[channel.id].append(message)
        self.posts.append(PostRecord(channel.id, ts, call.params, message, time.perf_counter()))
        self._surfaces.append(_Surface(channel.id, ts, message, None))
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    async def _history(self, call: _Call) -> JSON:
        require_scope(self.scopes, history_scope(call.get("channel") or ""))
        channel = self._channel(call, write=False)
        try:
            limit = int(call.get("limit") or 100)
            before = decode_cursor(call.get("cursor"))
        except ValueError:
            raise ApiError("invalid_cursor") from None
        limit = min(max(limit, 1), 999)
        inclusive = call.flag("inclusive")
        oldest, latest = self._bound("oldest", call, 0), self._bound("latest", call, math.inf)

        def in_range(message: JSON) -> bool:
            key = ts_key(message["ts"])
            if before is not None and key > before:
                return False
            if inclusive:
                return oldest <= key <= latest
            return oldest < key < latest

        top_level = [m for m in reversed(self.messages[channel.id]) if in_range(m)]
        page = top_level[:limit]
        has_more = len(top_level) > limit
        with_metadata = call.flag("include_all_metadata")
        messages = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        return {
            "ok": True,
            "messages": messages,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": encode_cursor(ts_key(top_level[limit]["ts"])) if has_more else ""
            },
        }

    @staticmethod
    def _bound(name: str, call: _Call, default: float) -> float:
        """``oldest`` or ``latest`` as a ts key; Slack refuses one that is not a timestamp."""
        value = call.get(name)
        if not value:
            return default
        seconds, _, fraction = value.partition(".")
        if not (seconds.isdigit() and (fraction.isdigit() or not fraction)):
            raise ApiError(f"invalid_ts_{name}")
        return ts_key(value)

    # ------------------------------------------------------------ response URLs

    def _response_url_for(self) -> tuple[str, str]:
        rid = secrets.token_hex(12)
        return rid, f"{self.base_url}/response/{rid}"

    async def _response_url(self, request: web.Request) -> web.Response:
        now = time.perf_counter()
        rid = request.match_info["rid"]
        try:
            rec = self._by_response_id.get(rid)
            if rec is None:
                self.protocol_error(f"POST to unknown response_url {rid}")
                return json_response({"ok": False, "error": "expired_url"}, 404)
            try:
                body = json.loads(await request.read())
            except ValueError:
                body = None
            if not isinstance(body, dict):
                self.protocol_error(f"response_url post for {rec.type} {rec.id} is not JSON")
                return json_response({"ok": False, "error": "invalid_payload"}, 400)
            if len(rec.responses) >= MAX_RESPONSE_URL_USES:
                self.protocol_error(
                    f"response_url of {rec.type} {rec.id} used more than "
                    f"{MAX_RESPONSE_URL_USES} times"
                )
                return json_response({"ok": False, "error": "used_url"}, 404)
            if body.get("replace_original") in _TRUE or body.get("delete_original") in _TRUE:
                self.unhandled.append(f"response_url edit of the original for {rec.id}")
                return json_response({"ok": False, "error": "not_modelled"}, 400)
            problem = message_problems(body)
            if problem is not None:
                details = problem.extra.get("response_metadata", {}).get("messages", [])
                self.protocol_error(
                    f"response_url post for {rec.type} {rec.id} refused with "
                    f"{problem.error}: {details}"
                )
                return json_response(problem.body(), 400)
            response = ResponseRecord(rec.id, body, now)
            rec.responses.append(response)
            if rec.responded_at is None:
                rec.responded_at = now
            self.responses.append(response)
            self._show_response(rec, body)
            return json_response({"ok": True})
        finally:
            self.notify()

    def _show_response(self, rec: InteractionRecord, body: JSON) -> None:
        """What an ack or response_url payload shows: a message for all (``in_channel``) or
        only for the user."""
        ts = self._ts()
        if body.get("response_type") == "in_channel":
            message = self._bot_message(ts, body)
            self.messages.setdefault(rec.channel_id, []).append(message)
            self._surfaces.append(_Surface(rec.channel_id, ts, message, None))
        else:
            blocks = with_block_ids(body.get("blocks"))
            self._surfaces.append(_Surface(rec.channel_id, ts, None, blocks))

    # --------------------------------------------------------------------- acks

    def accept_socket_ack(self, envelope_id: str, payload: Any, now: float) -> None:
        """Record a Socket Mode ack frame (called by the websocket server)."""
        rec = self._by_id.get(envelope_id)
        if rec is None or rec.mode != "socket":
            self.protocol_error(f"ack for unknown envelope {envelope_id}")
            return
        if payload is not None and not isinstance(payload, dict):
            self.protocol_error(f"ack of envelope {envelope_id} has a non-object payload")
            payload = None
        self._accept_ack(rec, AckRecord(envelope_id, "socket", payload, now, 200, payload))

    def _accept_ack(self, rec: InteractionRecord, ack: AckRecord) -> None:
        try:
            self.acks.append(ack)
            if rec.ack is not None:
                self.protocol_error(f"{rec.type} {rec.id} acknowledged twice")
                return
            rec.ack, rec.acked_at = ack, ack.time
            elapsed = ack.time - rec.sent_at
            if self.ack_deadline is not None and elapsed > self.ack_deadline:
                self.protocol_error(
                    f"{rec.type} {rec.id} acknowledged after {elapsed:.2f}s "
                    f"(Slack gives up after {self.ack_deadline:g}s)"
                )
            if ack.status != 200 or ack.payload is None:
                return
            if not rec.accepts_response_payload:
                self.protocol_error(
                    f"ack of {rec.type} {rec.id} carries a payload, which Slack ignores"
                )
                return
            problem = message_problems(ack.payload, require_text=False)
            if problem is not None:
                details = problem.extra.get("response_metadata", {}).get("messages", [])
                self.protocol_error(
                    f"ack of {rec.type} {rec.id} refused with {problem.error}: {details}"
                )
                return
            self._show_response(rec, ack.payload)
        finally:
            self.notify()

    # ------------------------------------------------------------- interactions

    def _register(
        self,
        mode: str,
        kind: str,
        build: Callable[[str, str], JSON],
        channel_id: str,
    ) -> InteractionRecord:
        rid, response_url = self._response_url_for()
        interaction_id = str(uuid.uuid4()) if mode == "socket" else f"H{secrets.token_hex(8)}"
        payload = build(response_url, new_trigger_id())
        rec = InteractionRecord(
            interaction_id,
            mode,
            kind,
            payload,
            response_url,
            channel_id,
            standin=self,
            accepts_response_payload=kind == "slash_commands",
        )
        self.interactions.append(rec)
        self._by_id[interaction_id] = rec
        self._by_response_id[rid] = rec
        return rec

    def _command(
        self,
        mode: str,
        command: str,
        text: str,
        *,
        user_id: str | None,
        user_name: str | None,
        channel_id: str | None,
    ) -> InteractionRecord:
        if not command.startswith("/"):
            raise ValueError(f"a slash command starts with '/': {command!r}")
        channel_id = channel_id or next(iter(self.channels))
        channel = self.channels.get(channel_id)

        def build(response_url: str, trigger_id: str) -> JSON:
            return command_payload(
                self.identity,
                command=command,
                text=text,
                user_id=user_id or self.user_id,
                user_name=user_name or self.user_name,
                channel=channel,
                channel_id=channel_id,
                response_url=response_url,
                trigger_id=trigger_id,
            )

        return self._register(mode, "slash_commands", build, channel_id)

    def _find_element(
        self, action_id: str, message_ts: str | None
    ) -> tuple[_Surface, str, JSON] | None:
        """The newest shown element with ``action_id`` (in message ``message_ts`` if given)."""
        for surface in reversed(self._surfaces):
            if message_ts is not None and surface.ts != message_ts:
                continue
            if surface.message is not None:
                history = self.messages.get(surface.channel_id, [])
                if not any(m is surface.message for m in history):
                    continue  # deleted since
                blocks = surface.message.get("blocks")
            else:
                blocks = surface.blocks
            for block_id, element in iter_elements(blocks):
                if element.get("action_id") == action_id:
                    return surface, block_id, element
        return None

    async def _deliver(self, rec: InteractionRecord, timeout: float) -> InteractionRecord:
        await self.wait_until(
            lambda: self.socket.active() is not None, timeout, "a Socket Mode connection"
        )
        connection = self.socket.active()
        assert connection is not None
        try:
            await self.socket.send_envelope(rec, connection)
        finally:
            self.notify()
        return rec

    async def socket_command(
        self,
        command: str = "/summit",
        text: str = "",
        *,
        user_id: str | None = None,
        user_name: str | None = None,
        channel_id: str | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Send a ``slash_commands`` envelope down the newest Socket Mode connection.

        Waits up to ``timeout`` for a connection. The app's ack (with the command's immediate
        response as its ``payload``) arrives later: ``await rec.wait_ack()``.
        """
        rec = self._command(
            "socket", command, text, user_id=user_id, user_name=user_name, channel_id=channel_id
        )
        return await self._deliver(rec, timeout)

    async def socket_action(
        self,
        action_id: str,
        *,
        message_ts: str | None = None,
        user_id: str | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Click the newest button with ``action_id`` as a ``block_actions`` envelope.

        The button is looked up in channel messages, acks and response_url posts
        (``message_ts`` narrows it to one message).
        """
        found = self._find_element(action_id, message_ts)
        if found is None:
            raise LookupError(f"no message shows an element with action_id {action_id!r}")
        surface, block_id, element = found
        action = clicked_action(element, block_id, self._ts())
        message = surface.message

        def build(response_url: str, trigger_id: str) -> JSON:
            return block_actions_payload(
                self.identity,
                action=action,
                user_id=user_id or self.user_id,
                user_name=self.user_name,
                channel=self.channels.get(surface.channel_id),
                channel_id=surface.channel_id,
                message=dict(message) if message is not None else None,
                message_ts=surface.ts,
                response_url=response_url,
                trigger_id=trigger_id,
            )

        rec = self._register("socket", "block_actions", build, surface.channel_id)
        return await self._deliver(rec, timeout)

    async def drop_socket(self, mode: str = "disconnect", reason: str = "refresh_requested") -> int:
        """Make the app reconnect; return the number of the dropped connection.

        ``"disconnect"`` sends Slack's ``disconnect`` message (the client calls
        ``apps.connections.open`` again and closes the old connection); ``"close"`` closes
        the websocket from the server side (code 1001).
        """
        try:
            return await self.socket.drop(mode, reason)
        finally:
            self.notify()

    # ----------------------------------------------------------------- HTTP mode

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _post_signed(
        self,
        bot_url: str,
        body: str,
        rec: InteractionRecord,
        *,
        secret: str | None,
        timestamp: float | str | None,
        signature: str | None,
        timeout: float,
    ) -> HttpReply:
        stamp = str(int(time.time() if timestamp is None else float(timestamp)))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or sign(secret or self.signing_secret, stamp, body),
        }
        session = await self._client()
        rec.sent_at = time.perf_counter()
        async with session.post(
            bot_url,
            data=body.encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            raw = await response.text()
            now = time.perf_counter()
            status, content_type = response.status, response.content_type
        is_json = content_type == "application/json" and raw
        parsed: JSON | str | None = json.loads(raw) if is_json else raw or None
        if isinstance(parsed, dict):
            payload: JSON | None = parsed
        else:
            payload = {"text": parsed} if parsed else None
        self._accept_ack(rec, AckRecord(rec.id, "http", payload, now, status, parsed))
        return HttpReply(status, parsed, rec)

    async def http_command(
        self,
        bot_url: str,
        command: str = "/mous",
        text: str = "",
        *,
        user_id: str | None = None,
        user_name: str | None = None,
        channel_id: str | None = None,
        secret: str | None = None,
        timestamp: float | str | None = None,
        signature: str | None = None,
        timeout: float = 10.0,
    ) -> HttpReply:
        """POST a signed slash command to the app's HTTP endpoint ``bot_url``, as Slack does.

        Returns ``(status, body, record)``: the body parsed as JSON when the app answers
        JSON, else its text. ``secret``, ``timestamp`` (Unix seconds) or a literal
        ``signature`` override what Slack would send, to test refusals. The ack is recorded
        on the record; ``await record.wait_responses()`` waits for response_url posts.
        """
        rec = self._command(
            "http", command, text, user_id=user_id, user_name=user_name, channel_id=channel_id
        )
        body = urlencode(rec.payload)
        return await self._post_signed(
            bot_url,
            body,
            rec,
            secret=secret,
            timestamp=timestamp,
            signature=signature,
            timeout=timeout,
        )
