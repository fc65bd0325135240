"""A loopback Discord: gateway and REST API v10, enough for an unmodified discord.py client.

Start it with ``async with DiscordStandIn(...) as standin:`` and point discord.py at it with
:func:`point_discord_py_at` (which only sets ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``). Tests then act as a Discord user with
:meth:`DiscordStandIn.send_command`, :meth:`~DiscordStandIn.send_autocomplete` and
:meth:`~DiscordStandIn.click_button`, and read what the bot did from the recorded ``posts``,
``callbacks``, ``followups`` and ``requests``. Faults (429 with ``Via``, 5xx, lost replies,
forbidden or deleted channels, dropped gateway connections) are injected on demand, and
:meth:`~DiscordStandIn.assert_clean` fails a test that used a route the stand-in does not model
or broke a rule real Discord would have refused.

Channel permissions are computed as Discord does (roles, then channel overwrites; see
``discord_permissions``): :meth:`~DiscordStandIn.set_bot_permissions` changes the bot's in one
channel, history reads and posts obey them, and interactions carry them as ``app_permissions``.
Message nonces are remembered for a window measured on an injectable clock
(:meth:`~DiscordStandIn.expire_nonces`). Only what briefbot uses is modelled: no modals,
selects, subcommand groups or message edits, and files only on an interaction's answer.
``docs/standins.md`` lists what is modelled, what is refused and the wire facts it relies on.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import datetime as dt
import http
import json
import math
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .discord_acting import (
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_COMMAND,
    INTERACTION_COMPONENT,
    ActingUser,
)
from .discord_events import ScheduledEvents
from .discord_gateway import Gateway, GatewayOpRecord, shard_of
from .discord_payloads import (
    ALREADY_ACKNOWLEDGED,
    BOT_PERMISSIONS,
    EMPTY_MESSAGE,
    FLAG_EPHEMERAL,
    INVALID_JSON,
    JSON,
    MEMBER_PERMISSIONS,
    MISSING_PERMISSIONS,
    NOT_FOUND,
    UNAUTHORIZED,
    UNKNOWN_APPLICATION,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_INTERACTION,
    UNKNOWN_WEBHOOK,
    ChannelSpec,
    DiscordError,
    SnowflakeFactory,
    StandInChannel,
    StandInGuild,
    StandInUser,
    build_message,
    command_problems,
    invalid_form,
    stored_command,
    validate_choices,
    validate_message,
)
from .discord_permissions import (
    EMBED_LINKS,
    MEMBER_OVERWRITE,
    NONCE_WINDOW,
    READ_MESSAGE_HISTORY,
    NonceWindow,
    Overwrite,
    base_permissions,
    channel_permissions,
    history_error,
    post_error,
)
from .discord_records import (
    CallbackRecord,
    FollowupRecord,
    InteractionRecord,
    PostRecord,
    RequestRecord,
)
from .loopback import InjectedFault, LoopbackServer, json_response, reset_connection

__all__ = [
    "CallbackRecord",
    "DiscordStandIn",
    "FollowupRecord",
    "GatewayOpRecord",
    "InteractionRecord",
    "PostRecord",
    "RequestRecord",
    "StandInChannel",
    "StandInGuild",
    "StandInUser",
    "point_discord_py_at",
]

# The callback types modelled for each interaction type: a message (4) and autocomplete
# choices (8). Discord also takes deferrals, message updates and modals; the bot sends none.
_MODELLED_CALLBACKS = {
    INTERACTION_COMMAND: {4},
    INTERACTION_COMPONENT: {4},
    INTERACTION_AUTOCOMPLETE: {8},
}
_TRUE = ("1", "true", "True")
_FILES = web.RequestKey("files", dict[str, bytes])
"""The files of a multipart upload, by file name."""
GUILDS_PER_SHARD = 2500  # from this many guilds on, Discord refuses an unsharded session


@dataclass
class _Fault(InjectedFault):
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    global_: bool
    body: JSON | None


@dataclass
class _Window:
    """A fixed rate-limit window, as Discord's buckets work: ``limit`` hits per ``period``."""

    limit: int
    period: float
    start: float = -math.inf
    count: int = 0

    def hit(self, now: float) -> float | None:
        """Count a request; return the seconds to wait instead when the bucket is empty."""
        if now - self.start >= self.period:
            self.start, self.count = now, 0
        if self.count >= self.limit:
            return self.start + self.period - now
        self.count += 1
        return None

    def headers(self, now: float, bucket: str) -> dict[str, str]:
        """``X-RateLimit-*`` headers describing the window after a request."""
        reset_after = max(self.start + self.period - now, 0.0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.count, 0)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }


@dataclass
class _Call:
    request: web.Request
    params: dict[str, str]
    body: Any

    def id(self, name: str) -> int:
        return int(self.params[name])

    def flag(self, name: str) -> bool:
        return self.request.query.get(name) in _TRUE


_Handler = Callable[[_Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: _Handler
    auth: bool
    global_limit: bool


class DiscordStandIn(LoopbackServer[_Fault], ActingUser):
    """Discord's gateway and REST API v10 on ``127.0.0.1``, for a real discord.py client.

    ``guild_id``/``channels`` describe the one guild. ``member`` is the user who types
    commands. No privileged intent is granted: asking for one closes the gateway with 4014.
    ``interaction_deadline`` is Discord's 3 s limit for the first callback (``None``: off).
    ``enforce_limits`` models Discord's rate limits: ``global_rate`` requests per second
    (50 per 1 s) and ``channel_rate`` messages per channel (5 per 5 s), answering 429 beyond.
    ``bot_permissions`` is what the bot's role grants (``@everyone`` grants an ordinary
    member's); a message nonce is remembered for ``nonce_window`` seconds of ``monotonic``.
    ``shards`` is the shard count ``GET /gateway/bot`` recommends, with ``max_concurrency``
    in its session start limit. Sharding is required (an IDENTIFY asking for fewer shards is
    closed with 4011) from ``guilds_per_shard`` guilds on, as Discord does from 2,500, or
    always with ``required_shards``.
    """

    platform = "Discord"

    def __init__(
        self,
        *,
        token: str = "stand-in-token",  # noqa: S107 - a fake token for a fake Discord
        guild_id: int = 1_300_000_000_000_000_001,
        channels: Sequence[ChannelSpec] = ((1_300_000_000_000_000_101, "general"),),
        application_id: int = 1_300_000_000_000_000_900,
        member: StandInUser | None = None,
        bot_permissions: int = BOT_PERMISSIONS,
        interaction_deadline: float | None = 3.0,
        enforce_limits: bool = False,
        global_rate: tuple[int, float] = (50, 1.0),
        channel_rate: tuple[int, float] = (5, 5.0),
        nonce_window: float = NONCE_WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
        shards: int = 1,
        required_shards: int | None = None,
        guilds_per_shard: int = GUILDS_PER_SHARD,
        max_concurrency: int = 1,
        wall_clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        self.shards = shards
        self.explicit_required_shards = required_shards
        self.guilds_per_shard = guilds_per_shard
        self.max_concurrency = max_concurrency
        self.token = token
        self.application_id = application_id
        self.guilds = [StandInGuild.build(guild_id, channels, "Stand-in Guild")]
        self.bot_user = StandInUser(application_id, "briefbot", bot=True)
        self.member = member or StandInUser(1_300_000_000_000_000_500, "reader", "Reader")
        self.bot_permissions = bot_permissions
        self.heartbeat_interval_ms = 41_250
        self.interaction_deadline = interaction_deadline
        self.privileged_intents = 0  # the "developer portal" grants none
        self.enforce_limits = enforce_limits

        # Recordings, in arrival order.
        self.requests: list[RequestRecord] = []
        self.posts: list[PostRecord] = []
        self.callbacks: list[CallbackRecord] = []
        self.followups: list[FollowupRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.messages: dict[int, JSON] = {}
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []
        self.deduplicated_posts = 0

        self._snowflake = SnowflakeFactory()
        self._commands: dict[int | None, list[JSON]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._history: defaultdict[int, list[int]] = defaultdict(list)
        self.nonces = NonceWindow(nonce_window, monotonic)
        self._overwrites: defaultdict[int, list[Overwrite]] = defaultdict(list)
        self.dropped_embed_posts = 0  # posts whose embeds were dropped: no EMBED_LINKS
        self._forbidden: set[int] = set()
        self._deleted: set[int] = set()
        self._global_window = _Window(*global_rate)
        self._channel_windows: defaultdict[int, _Window] = defaultdict(
            lambda: _Window(*channel_rate)
        )
        self._by_id: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._routes = self._build_routes()
        self.gateway = Gateway(self)
        self.guild_bot_permissions: dict[int, int] = {}  # the bot role's, where not the default
        self.scheduled_events = ScheduledEvents(
            self.bot_user,
            self._snowflake,
            wall_clock or (lambda: dt.datetime.now(dt.UTC)),
            self.unhandled,
        )

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind an ephemeral port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        await self._serve(app)

    async def close(self) -> None:
        """Close every gateway connection and stop the server."""
        await self.gateway.close()
        await self._stop()

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``: ``base_url + "/api/v10"``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The gateway URL (also sent as ``resume_gateway_url``)."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    # ------------------------------------------------------------ configuration

    @property
    def guild(self) -> StandInGuild:
        """The first (default) guild."""
        return self.guilds[0]

    def add_guild(
        self, guild_id: int, channels: Sequence[ChannelSpec], name: str = "Stand-in Guild"
    ) -> StandInGuild:
        """Add a guild (sent in GUILD_CREATE to the shard that owns it at its next IDENTIFY)."""
        guild = StandInGuild.build(guild_id, channels, name)
        self.guilds.append(guild)
        return guild

    @property
    def required_shards(self) -> int:
        """The fewest shards an IDENTIFY may ask for (1: sharding is not required)."""
        if self.explicit_required_shards is not None:
            return self.explicit_required_shards
        return len(self.guilds) // self.guilds_per_shard + 1

    def forbid_channel(self, channel_id: int) -> None:
        """From now on requests about this channel get 403 Missing Permissions (50013)."""
        self._forbidden.add(channel_id)

    def set_bot_permissions(self, channel_id: int, *, allow: int = 0, deny: int = 0) -> None:
        """Give the bot a member overwrite in this channel (replacing an earlier one).

        ``deny=READ_MESSAGE_HISTORY`` makes history reads return ``[]``; the bot's gateway
        cache sees the overwrite in GUILD_CREATE, or after :meth:`dispatch_channel_update`.
        """
        kept = [o for o in self._overwrites[channel_id] if o.id != self.bot_user.id]
        self._overwrites[channel_id] = [
            *kept,
            Overwrite(self.bot_user.id, MEMBER_OVERWRITE, allow, deny),
        ]

    def bot_permissions_in(self, channel_id: int) -> int:
        """The bot's permissions in a channel, as Discord computes them."""
        found = self._find_channel(channel_id)
        if found is None:
            return 0
        guild = found[0]
        return channel_permissions(
            self.bot_guild_permissions(guild.id),
            self._overwrites[channel_id],
            guild_id=guild.id,
            member_id=self.bot_user.id,
            roles=[guild.bot_role_id()],
        )

    def set_guild_bot_permissions(self, guild_id: int, permissions: int) -> None:
        """Make the bot's role grant ``permissions`` in one guild (sent in its GUILD_CREATE)."""
        self.guild_bot_permissions[guild_id] = permissions

    def bot_guild_permissions(self, guild_id: int) -> int:
        """The bot's guild-wide permissions: ``@everyone``'s and its role's."""
        role = guild_id + 1  # StandInGuild.bot_role_id
        granted = self.guild_bot_permissions.get(guild_id, self.bot_permissions)
        return base_permissions({guild_id: MEMBER_PERMISSIONS, role: granted}, guild_id, [role])

    async def dispatch_channel_update(self, channel_id: int) -> None:
        """Send CHANNEL_UPDATE for a channel (with its overwrites) on the live session."""
        found = self._find_channel(channel_id)
        if found is None:
            raise ValueError(f"no channel {channel_id} in the stand-in's guilds")
        guild, channel = found
        await self.dispatch("CHANNEL_UPDATE", self._channel_payload(guild, channel))

    def _channel_payload(self, guild: StandInGuild, channel: StandInChannel) -> JSON:
        overwrites = [o.payload() for o in self._overwrites[channel.id]]
        return channel.payload(guild.id, overwrites=overwrites)

    def forget(self) -> None:
        """Drop what was recorded so far, nonces included (call only while nothing is in flight).

        A benchmark sending tens of thousands of interactions calls it between blocks so
        that the measuring process does not grow while it measures.
        """
        for records in (self.requests, self.posts, self.callbacks, self.followups):
            records.clear()
        self.interactions.clear()
        self.messages.clear()
        self._by_id.clear()
        self._by_token.clear()
        self._history.clear()
        self.expire_nonces()

    def expire_nonces(self) -> None:
        """Let the nonce window pass now: a repeated nonce posts a second message."""
        self.nonces.expire()

    def add_chatter(
        self, channel_id: int, count: int, *, author: StandInUser | None = None
    ) -> list[JSON]:
        """Add ``count`` messages from ``author`` (the acting member) to a channel, at once."""
        author = author or self.member
        found = self._find_channel(channel_id)
        if found is None:
            raise ValueError(f"no channel {channel_id} in the stand-in's guilds")
        added = []
        for n in range(count):
            message = build_message(
                message_id=self._snowflake(),
                channel_id=channel_id,
                guild_id=found[0].id,
                author=author,
                body={"content": f"chatter {n + 1}"},
            )
            self.messages[int(message["id"])] = message
            self._history[channel_id].append(int(message["id"]))
            added.append(message)
        return added

    def reset_next(
        self, method: str, path_regex: str, times: int = 1, *, processed: bool = True
    ) -> None:
        """Close the connection instead of answering the next ``times`` matching requests.

        With ``processed`` (the default) the request is carried out first: the post is
        stored but its reply is lost, as when a connection breaks after Discord did the work.
        """
        pattern = re.compile(path_regex)
        self._inject(_Fault(times, processed, True, method.upper(), pattern, 0, 0.0, False, None))

    def delete_channel(self, channel_id: int) -> None:
        """From now on this channel is gone: 404 Unknown Channel (10003)."""
        self._deleted.add(channel_id)
        for guild in self.guilds:
            guild.channels = [c for c in guild.channels if c.id != channel_id]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        retry_after: float = 0.05,
        *,
        global_: bool = False,
        body: JSON | None = None,
        processed: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (or ``"*"``) and
        ``path_regex`` (searched in the path after ``/api/v10``) with ``status``.

        A 429 carries ``Via``, ``retry_after``/``global`` and ``X-RateLimit-*`` as Discord's
        does, so discord.py sleeps and retries; other statuses get a JSON error ``body``.
        With ``processed`` the request is carried out first and only its answer is replaced
        (Discord did the work but the response was lost, e.g. a 502 from the edge).
        """
        pattern = re.compile(path_regex)
        fault = _Fault(
            times, processed, False, method.upper(), pattern, status, retry_after, global_, body
        )
        self._inject(fault)

    # ---------------------------------------------------------------- waiting

    async def wait_for_posts(
        self, n: int = 1, timeout: float = 5.0, channel_id: int | None = None
    ) -> list[PostRecord]:
        """Wait until at least ``n`` channel posts (in ``channel_id`` if given); return them."""

        def matching() -> list[PostRecord]:
            return [p for p in self.posts if channel_id is None or p.channel_id == channel_id]

        return await self.wait_for_records(matching, n, timeout, "channel posts")

    async def wait_for_ready(self, timeout: float = 5.0) -> None:
        """Wait until every shard (one, unsharded) was sent READY and its GUILD_CREATEs."""
        await self.wait_until(
            lambda: self.gateway.is_ready,
            timeout,
            "IDENTIFY, READY and GUILD_CREATE",
        )

    async def wait_for_shard(self, shard_id: int, timeout: float = 5.0) -> None:
        """Wait until shard ``shard_id`` identified and was sent READY and its GUILD_CREATEs."""
        await self.wait_until(
            lambda: self.gateway.shard_ready(shard_id), timeout, f"shard {shard_id} ready"
        )

    async def wait_for_resume(self, timeout: float = 5.0, count: int = 1) -> None:
        """Wait until the client has RESUMEd (successfully) ``count`` times in total."""
        await self.wait_until(lambda: self.resume_count >= count, timeout, f"{count} RESUMEs")

    async def wait_for_commands(self, guild_id: int | None = None, timeout: float = 5.0) -> None:
        """Wait until commands were synced globally (``None``) or for ``guild_id``."""
        await self.wait_until(
            lambda: guild_id in self._commands, timeout, f"a command sync for {guild_id}"
        )

    # --------------------------------------------------------------- checking

    @property
    def gateway_ops(self) -> list[GatewayOpRecord]:
        """Every gateway frame received from clients."""
        return self.gateway.ops

    @property
    def identify_payloads(self) -> list[JSON]:
        """Every IDENTIFY frame with the right token, whole: ``{"op": 2, "d": {...}}``."""
        return self.gateway.identify_payloads

    @property
    def identify_count(self) -> int:
        """IDENTIFY frames received (accepted or not)."""
        return sum(1 for op in self.gateway_ops if op.op == 2)

    @property
    def resume_count(self) -> int:
        """RESUMEs accepted (RESUMED sent)."""
        return self.gateway.resume_count

    @property
    def replayed_count(self) -> int:
        """Dispatches re-sent because of a RESUME."""
        return self.gateway.replayed_count

    @property
    def drop_count(self) -> int:
        """Connections dropped with :meth:`drop_connection`."""
        return self.gateway.drop_count

    @property
    def heartbeat_count(self) -> int:
        """Heartbeats (op 1) received."""
        return sum(1 for op in self.gateway_ops if op.op == 1)

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The commands last synced globally (``None``) or for ``guild_id``."""
        return list(self._commands.get(guild_id, []))

    def channel_history(self, channel_id: int) -> list[JSON]:
        """Messages (not ephemeral) in a channel, oldest first."""
        return [self.messages[i] for i in self._history[channel_id] if i in self.messages]

    # ------------------------------------------------------------------- REST

    def _build_routes(self) -> list[_Route]:
        app, guild, cid = r"(?P<app>\d+)", r"(?P<guild>\d+)", r"(?P<cid>\d+)"
        event = r"(?P<event>\d+)"
        hook = rf"/webhooks/{app}/(?P<token>[^/]+)"
        callback = r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback"
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("PUT", rf"/applications/{app}/commands", self._put_commands, True),
            ("PUT", rf"/applications/{app}/guilds/{guild}/commands", self._put_commands, True),
            ("POST", callback, self._callback, False),
            ("POST", hook, self._post_followup, False),
            ("GET", rf"/channels/{cid}/messages", self._get_history, True),
            ("POST", rf"/channels/{cid}/messages", self._post_message, True),
            ("GET", rf"/guilds/{guild}/scheduled-events", self._list_events, True),
            ("POST", rf"/guilds/{guild}/scheduled-events", self._create_event, True),
            ("PATCH", rf"/guilds/{guild}/scheduled-events/{event}", self._modify_event, True),
            ("DELETE", rf"/guilds/{guild}/scheduled-events/{event}", self._delete_event, True),
        ]
        # Interaction and webhook endpoints are exempt from the global rate limit.
        return [_Route(m, re.compile(p), h, auth, auth) for m, p, h, auth in table]

    @staticmethod
    def _error(error: DiscordError) -> web.Response:
        return json_response(error.body(), error.status)

    def _rate_limited(
        self, retry_after: float, *, global_: bool, bucket: str, limit: int = 5
    ) -> web.Response:
        """A 429 shaped so discord.py retries it: ``Via``, JSON ``retry_after``, bucket headers."""
        retry_after = max(math.ceil(retry_after * 1000) / 1000, 0.001)
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if global_ else "user",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
        }
        return json_response(body, 429, headers)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, bool]:
        """Return ``(json body, body_was_invalid)``.

        A multipart upload's body is its ``payload_json`` part; its files are kept in
        ``request[_FILES]`` (file name to bytes).
        """
        if request.content_type == "multipart/form-data":
            files: dict[str, bytes] = {}
            payload: Any = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    return None, True
                if part.name == "payload_json":
                    payload = await part.text()
                elif part.filename:
                    files[part.filename] = bytes(await part.read(decode=False))
            request[_FILES] = files
            try:
                return (json.loads(payload), False) if payload else (None, True)
            except ValueError:
                return None, True
        raw = await request.read()
        if not raw:
            return None, False
        try:
            return json.loads(raw), False
        except ValueError:
            return None, True

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, invalid = await self._read_body(request)
        record = RequestRecord(
            request.method,
            path,
            dict(request.query),
            dict(request.headers),
            body,
            time.perf_counter(),
        )
        self.requests.append(record)
        try:
            response = await self._answer(request, path, body, invalid)
            record.status = response.status
            return response
        finally:
            self.notify()

    async def _answer(
        self, request: web.Request, path: str, body: Any, invalid: bool
    ) -> web.StreamResponse:
        method = request.method
        fault = self._take_fault(
            lambda f: f.method in ("*", method) and f.pattern.search(path) is not None
        )
        if fault is not None and not fault.processed:
            return self._injected(request, fault)
        found = self._match(method, path)
        if found is None:
            self.unhandled.append(f"{method} {path}")
            return self._error(NOT_FOUND)
        route, params = found
        upload = request.content_type == "multipart/form-data"
        if (upload and route.handler != self._callback) or invalid:
            if upload and not invalid:
                self.unhandled.append(f"{method} {path}: an upload (attachments: not modelled)")
            else:
                self.protocol_error(f"{method} {path}: body is not valid JSON")
            return self._error(INVALID_JSON)
        if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._error(UNAUTHORIZED)
        if self.enforce_limits and route.global_limit:
            wait = self._global_window.hit(time.monotonic())
            if wait is not None:
                self.rate_limited_count += 1
                return self._rate_limited(wait, global_=True, bucket="global")
        response = await route.handler(_Call(request, params, body))
        return self._injected(request, fault) if fault is not None else response

    def _injected(self, request: web.Request, fault: _Fault) -> web.Response:
        return self._reset(request) if fault.reset else self._fault_response(fault)

    @staticmethod
    def _reset(request: web.Request) -> web.Response:
        """Drop the connection without an answer (the client sees it closed under it)."""
        reset_connection(request)
        return web.Response(status=499)

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is not None and route.method == method:
                return route, match.groupdict()
        return None

    def _fault_response(self, fault: _Fault) -> web.Response:
        if fault.status == 429:
            return self._rate_limited(fault.retry_after, global_=fault.global_, bucket="injected")
        phrase = http.HTTPStatus(fault.status).phrase
        body = fault.body or {"message": f"{fault.status}: {phrase}", "code": 0}
        return json_response(body, fault.status)

    # --- gateway info, users, application

    def _bot_user_payload(self) -> JSON:
        return {
            **self.bot_user.payload(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
        }

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 86_400_000,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    async def _get_me(self, call: _Call) -> web.Response:
        return json_response(self._bot_user_payload())

    async def _get_application(self, call: _Call) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.member.payload(),
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "summary": "",
                "bot": self.bot_user.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
            }
        )

    # --- application commands

    def _command_scope(self, call: _Call) -> tuple[int | None, DiscordError | None]:
        if call.id("app") != self.application_id:
            return None, UNKNOWN_APPLICATION
        if "guild" not in call.params:
            return None, None
        guild_id = call.id("guild")
        if not any(g.id == guild_id for g in self.guilds):
            return guild_id, UNKNOWN_GUILD
        return guild_id, None

    async def _put_commands(self, call: _Call) -> web.Response:
        guild_id, error = self._command_scope(call)
        if error is not None:
            return self._error(error)
        problems = command_problems(call.body)
        if problems:
            self.protocol_error(f"command sync rejected: {problems}")
            return self._error(invalid_form(problems))
        stored: list[JSON] = []
        for command in call.body:
            kind = int(command.get("type", 1))
            key = (guild_id, command["name"], kind)
            command_id = self._command_ids.setdefault(key, self._snowflake())
            entry = {
                **stored_command(command),
                "id": str(command_id),
                "application_id": str(self.application_id),
                "version": str(self._snowflake()),
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        self._commands[guild_id] = stored
        self.command_syncs.append((guild_id, stored))
        return json_response(stored)

    # --- interactions

    async def _callback(self, call: _Call) -> web.Response:
        now = time.perf_counter()
        rec = self._by_id.get(call.id("iid"))
        if rec is None or rec.token != call.params["token"]:
            self.protocol_error(f"callback for unknown interaction {call.params['iid']}")
            return self._error(UNKNOWN_INTERACTION)
        if rec.callback is not None:
            self.protocol_error(f"second callback to interaction {rec.name!r}")
            return self._error(ALREADY_ACKNOWLEDGED)
        deadline = self.interaction_deadline
        if deadline is not None and now - rec.sent_at > deadline:
            self.protocol_error(f"interaction {rec.name!r} answered after {now - rec.sent_at:.2f}s")
            return self._error(UNKNOWN_INTERACTION)
        body = call.body if isinstance(call.body, dict) else {}
        kind, data = body.get("type"), body.get("data")
        error = self._callback_problem(rec, kind, data)
        if error is not None:
            return self._error(error)
        assert isinstance(kind, int)
        message = None
        if kind == 4:
            message = self._new_message(rec.channel_id, dict(data or {}), interaction=rec)
        record = CallbackRecord(
            rec.id,
            rec.token,
            kind,
            data,
            call.flag("with_response"),
            now,
            message,
            files=dict(call.request.get(_FILES, {})),
        )
        rec.callback, rec.responded_at = record, now
        self.callbacks.append(record)
        if not record.with_response:
            return web.Response(status=204)
        flags = message["flags"] if message is not None else 0
        interaction: JSON = {
            "id": str(rec.id),
            "type": rec.type,
            "response_message_loading": False,
            "response_message_ephemeral": bool(flags & FLAG_EPHEMERAL),
        }
        resource: JSON = {"type": kind}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            resource["message"] = message
        return json_response({"interaction": interaction, "resource": resource})

    def _callback_problem(
        self, rec: InteractionRecord, kind: object, data: object
    ) -> DiscordError | None:
        if kind not in _MODELLED_CALLBACKS[rec.type]:
            self.unhandled.append(f"callback type {kind!r} to {rec.name!r} (not modelled)")
            why = f"Callback type {kind!r} is not modelled for interaction type {rec.type}"
            return invalid_form([("type", why)])
        error = validate_choices(data) if kind == 8 else validate_message(data or {})
        if error is not None:
            self.protocol_error(f"callback {kind} to {rec.name!r} rejected: {error.body()}")
        return error

    def _interaction_by_token(self, call: _Call) -> InteractionRecord | None:
        rec = self._by_token.get(call.params["token"])
        if rec is None or call.id("app") != self.application_id:
            self.protocol_error(f"{call.request.method} {call.request.path}: unknown webhook")
            return None
        return rec

    async def _post_followup(self, call: _Call) -> web.Response:
        rec = self._interaction_by_token(call)
        if rec is None or rec.callback is None:
            if rec is not None:
                self.protocol_error(f"followup to {rec.name!r} before it was acknowledged")
            return self._error(UNKNOWN_WEBHOOK)
        body = call.body if isinstance(call.body, dict) else {}
        error = validate_message(body)
        if error is not None:
            self.protocol_error(f"followup to {rec.name!r} rejected: {error.body()}")
            return self._error(error)
        message = self._new_message(rec.channel_id, body, interaction=rec)
        record = FollowupRecord(rec.id, rec.token, body, message, time.perf_counter())
        rec.followups.append(record)
        self.followups.append(record)
        return json_response(message) if call.flag("wait") else web.Response(status=204)

    # --- guild scheduled events (``discord_events``)

    def _event_guild(self, call: _Call) -> int | None:
        guild_id = call.id("guild")
        return guild_id if any(g.id == guild_id for g in self.guilds) else None

    async def _list_events(self, call: _Call) -> web.Response:
        guild_id = self._event_guild(call)
        if guild_id is None:
            return self._error(UNKNOWN_GUILD)
        return json_response(self.scheduled_events.list(guild_id, call.flag("with_user_count")))

    async def _create_event(self, call: _Call) -> web.Response:
        guild_id = self._event_guild(call)
        if guild_id is None:
            return self._error(UNKNOWN_GUILD)
        permissions = self.bot_guild_permissions(guild_id)
        answer = self.scheduled_events.create(guild_id, call.body, permissions)
        return self._error(answer) if isinstance(answer, DiscordError) else json_response(answer)

    async def _modify_event(self, call: _Call) -> web.Response:
        guild_id = self._event_guild(call)
        if guild_id is None:
            return self._error(UNKNOWN_GUILD)
        permissions = self.bot_guild_permissions(guild_id)
        answer = self.scheduled_events.modify(guild_id, call.id("event"), call.body, permissions)
        return self._error(answer) if isinstance(answer, DiscordError) else json_response(answer)

    async def _delete_event(self, call: _Call) -> web.Response:
        guild_id = self._event_guild(call)
        if guild_id is None:
            return self._error(UNKNOWN_GUILD)
        permissions = self.bot_guild_permissions(guild_id)
        error = self.scheduled_events.delete(guild_id, call.id("event"), permissions)
        return self._error(error) if error is not None else web.Response(status=204)

    # --- channels and messages

    def _find_channel(self, channel_id: int) -> tuple[StandInGuild, StandInChannel] | None:
        if channel_id in self._deleted:
            return None
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def _channel_error(self, channel_id: int) -> DiscordError | None:
        if self._find_channel(channel_id) is None:
            return UNKNOWN_CHANNEL
        if channel_id in self._forbidden:
            return MISSING_PERMISSIONS
        return None

    async def _get_history(self, call: _Call) -> web.Response:
        channel_id = call.id("cid")
        error = self._channel_error(channel_id)
        if error is not None:
            return self._error(error)
        query = call.request.query
        limit = int(query.get("limit", "50"))
        if not 1 <= limit <= 100:
            return self._error(invalid_form([("limit", "Must be between 1 and 100.")]))
        permissions = self.bot_permissions_in(channel_id)
        error = history_error(permissions)
        if error is not None:
            return self._error(error)
        if not permissions & READ_MESSAGE_HISTORY:
            return json_response([])  # Discord's answer: an empty list, not an error
        ids = [i for i in self._history[channel_id] if i in self.messages]
        if "before" in query:
            ids = [i for i in ids if i < int(query["before"])]
        if "after" in query:
            chosen = [i for i in ids if i > int(query["after"])][:limit]
        elif "around" in query:
            around = int(query["around"])
            older = [i for i in ids if i < around][-(limit // 2) :] if limit > 1 else []
            chosen = older + [i for i in ids if i >= around][: limit - len(older)]
        else:
            chosen = ids[-limit:]
        # A nonce is echoed only to the request that posted it, never in history.
        found = [self.messages[i] for i in reversed(chosen)]
        return json_response([{k: v for k, v in m.items() if k != "nonce"} for m in found])

    async def _post_message(self, call: _Call) -> web.Response:
        channel_id = call.id("cid")
        error = self._channel_error(channel_id)
        if error is not None:
            return self._error(error)
        now = time.monotonic()
        window = self._channel_windows[channel_id]
        if self.enforce_limits:
            wait = window.hit(now)
            if wait is not None:
                self.rate_limited_count += 1
                bucket = f"messages-{channel_id}"
                return self._rate_limited(wait, global_=False, bucket=bucket, limit=window.limit)
        headers = window.headers(now, f"messages-{channel_id}") if self.enforce_limits else {}
        body, error = self._postable(channel_id, call)
        if error is not None:
            return self._error(error)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self.nonces.earlier(channel_id, str(nonce))
            if earlier is not None:
                self.deduplicated_posts += 1
                return json_response(earlier, headers=headers)
        message = self._new_message(channel_id, body)
        if nonce is not None:
            self.nonces.remember(channel_id, str(nonce), message)
        self.posts.append(PostRecord(channel_id, body, nonce, message, time.perf_counter()))
        return json_response(message, headers=headers)

    def _postable(self, channel_id: int, call: _Call) -> tuple[JSON, DiscordError | None]:
        """The body as Discord would post it, or why Discord refuses it."""
        permissions = self.bot_permissions_in(channel_id)
        body = call.body if isinstance(call.body, dict) else {}
        error = post_error(permissions)
        if error is not None:
            return body, error
        error = validate_message(body)
        if error is not None:
            self.protocol_error(f"post to channel {channel_id} rejected: {error.body()}")
            return body, error
        if body.get("embeds") and not permissions & EMBED_LINKS:
            body = {k: v for k, v in body.items() if k != "embeds"}  # dropped without a word
            self.dropped_embed_posts += 1
            if not (body.get("content") or body.get("components")):
                return body, EMPTY_MESSAGE
        return body, None

    def _new_message(
        self,
        channel_id: int,
        body: JSON,
        interaction: InteractionRecord | None = None,
    ) -> JSON:
        found = self._find_channel(channel_id)
        message = build_message(
            message_id=self._snowflake(),
            channel_id=channel_id,
            guild_id=found[0].id if found else None,
            author=self.bot_user,
            body=body,
            message_type=20 if interaction and interaction.type == INTERACTION_COMMAND else 0,
            application_id=self.application_id if interaction else None,
        )
        message_id = int(message["id"])
        self.messages[message_id] = message
        if not message["flags"] & FLAG_EPHEMERAL:
            self._history[channel_id].append(message_id)
        return message

    # ---------------------------------------------------------------- gateway

    def _guilds_of(self, shard: tuple[int, int]) -> list[StandInGuild]:
        return [g for g in self.guilds if shard_of(g.id, shard[1]) == shard[0]]

    def gateway_ready(self, session_id: str, shard: list[int] | None) -> JSON:
        """The READY payload for a new gateway session (of ``shard``: its guilds only)."""
        key = (shard[0], shard[1]) if shard is not None else (0, 1)
        ready: JSON = {
            "v": 10,
            "user": self._bot_user_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._guilds_of(key)],
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["stand-in"],
        }
        if shard is not None:
            ready["shard"] = shard
        return ready

    def gateway_guilds(self, shard: tuple[int, int] = (0, 1)) -> list[JSON]:
        """One GUILD_CREATE payload per guild of ``shard`` (``(id, count)``)."""
        return [
            g.payload(
                self.bot_user,
                self.guild_bot_permissions.get(g.id, self.bot_permissions),
                self.member,
                {c: [o.payload() for o in found] for c, found in self._overwrites.items()},
            )
            for g in self._guilds_of(shard)
        ]

    async def dispatch(self, event: str, data: JSON, timeout: float = 5.0) -> None:
        """Send any dispatch event on the current session (buffered for RESUME if offline)."""
        await self.wait_until(lambda: self.gateway.has_session, timeout, "a gateway session")
        await self.gateway.dispatch(event, data)
        self.notify()

    async def drop_connection(self, code: int | None = 4000, shard_id: int | None = None) -> None:
        """Close the live gateway connection (of ``shard_id``, or every shard's) so the client
        reconnects and RESUMEs.

        With a ``code`` the socket is closed with that close code; with ``None`` the TCP
        transport is aborted without a closing handshake.
        """
        await self.gateway.drop(code, shard_id)

    def hold_gateway(self) -> None:
        """Keep new gateway connections waiting for HELLO (the client stays offline)."""
        self.gateway.hold()

    def release_gateway(self) -> None:
        """Undo :meth:`hold_gateway`: waiting connections get HELLO now."""
        self.gateway.release()


@contextlib.contextmanager
def point_discord_py_at(standin: DiscordStandIn) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``standin``; restore on exit."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = standin.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
