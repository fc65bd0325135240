"""The gateway half of the Discord stand-in: a websocket speaking Discord's gateway v10.

Sends HELLO, acknowledges every heartbeat, answers IDENTIFY with READY and a GUILD_CREATE per
guild, numbers every dispatch, keeps the dispatch log of the session so a RESUME replays what
the client missed, and can drop or hold connections to exercise reconnects. The payloads
themselves come from the :class:`GatewayHost` (the stand-in) that owns the gateway. Member
requests (op 8) are not modelled: a bot without privileged intents sends none.

Sharding is Discord's: an IDENTIFY with ``shard: [id, count]`` opens the session of that
shard, which is sent READY and GUILD_CREATE for the guilds with ``(guild_id >> 22) % count ==
id`` only, and every later dispatch about a guild goes to the session of the shard that owns
it (one without a guild, such as a DM's interaction, to shard 0). Without ``shard`` a session
is shard 0 of 1. When the host requires more shards than an IDENTIFY asks for, the connection
is closed with 4011 (Sharding required); a shard id outside ``0 .. count - 1`` gets 4010.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .discord_payloads import JSON, PRIVILEGED_INTENTS

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

#: Dispatches kept per session for RESUME; a client further behind must IDENTIFY again.
REPLAY_BUFFER = 1000

CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011


def shard_of(guild_id: int, count: int) -> int:
    """The shard that receives a guild's events, as Discord computes it."""
    return (guild_id >> 22) % count


def dispatch_guild(event: str, data: JSON) -> int | None:
    """The guild a dispatch is about (``None``: no guild, as a DM's interaction)."""
    found = data.get("guild_id")
    if found is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        found = data.get("id")
    return int(found) if found is not None else None


class GatewayHost(Protocol):
    """What the gateway asks of the stand-in that owns it."""

    token: str
    privileged_intents: int
    heartbeat_interval_ms: int

    @property
    def required_shards(self) -> int:
        """The fewest shards Discord accepts for this bot (1: no sharding needed)."""
        ...

    def gateway_ready(self, session_id: str, shard: list[int] | None) -> JSON:
        """The READY payload for a new session (of ``shard``, or unsharded)."""
        ...

    def gateway_guilds(self, shard: tuple[int, int]) -> list[JSON]:
        """One GUILD_CREATE payload per guild of ``shard`` (``(id, count)``)."""
        ...

    def protocol_error(self, text: str) -> None:
        """Record something real Discord would have refused."""
        ...

    def notify(self) -> None:
        """Wake waiters: something was recorded."""
        ...


@dataclass
class GatewayOpRecord:
    """A gateway frame received from the client."""

    op: int
    data: Any
    time: float


def _frame(op: int, data: Any = None) -> JSON:
    return {"op": op, "d": data, "s": None, "t": None}


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    query: dict[str, str]
    session: _Session | None = None
    alive: bool = True

    async def send(self, frame: JSON) -> bool:
        if not self.alive or self.ws.closed:
            return False
        try:
            await self.ws.send_str(json.dumps(frame, separators=(",", ":")))
        except (ConnectionError, RuntimeError):
            self.alive = False
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        self.alive = False
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode())


@dataclass(eq=False)
class _Session:
    session_id: str
    shard: list[int] | None
    seq: int = 0
    log: deque[JSON] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    conn: _Connection | None = None
    ready: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard_key(self) -> tuple[int, int]:
        """``(id, count)``; an unsharded session is shard 0 of 1."""
        return (self.shard[0], self.shard[1]) if self.shard is not None else (0, 1)

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session receives the guild's events (DMs: shard 0)."""
        shard_id, count = self.shard_key
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))

    async def emit(self, event: str, data: JSON) -> None:
        """Number, log and (when connected) send a dispatch; the caller holds ``lock``."""
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(frame)
        if self.conn is not None:
            await self.conn.send(frame)


class Gateway:
    """Gateway sessions and websocket connections for one stand-in."""

    def __init__(self, host: GatewayHost) -> None:
        self.host = host
        self.ops: list[GatewayOpRecord] = []
        self.identify_payloads: list[JSON] = []  # whole frames: {"op": 2, "d": {...}}
        self.resume_count = 0  # RESUMEs accepted (RESUMED sent)
        self.replayed_count = 0  # dispatches re-sent because of a RESUME
        self.drop_count = 0
        self.closes: list[tuple[int, str]] = []  # (code, reason) of refused IDENTIFYs
        self._sessions: dict[str, _Session] = {}
        self._current: dict[int, _Session] = {}  # the live session of each shard id
        self._connections: list[_Connection] = []
        self._gate = asyncio.Event()  # cleared: new connections wait before HELLO
        self._gate.set()

    @property
    def has_session(self) -> bool:
        """Whether a client has IDENTIFYed (dispatches can be sent or buffered)."""
        return bool(self._current)

    @property
    def is_ready(self) -> bool:
        """Whether every shard has a connected session that was sent READY and GUILD_CREATEs.

        Every shard: the ids ``0 .. count - 1`` of the sessions' shard count, whichever
        clients (processes) hold them.
        """
        sessions = list(self._current.values())
        if not sessions:
            return False
        counts = {session.shard_key[1] for session in sessions}
        return len(counts) == 1 and all(self.shard_ready(i) for i in range(counts.pop()))

    def shard_ready(self, shard_id: int) -> bool:
        """Whether shard ``shard_id`` has a connected session that was sent its guilds."""
        session = self._current.get(shard_id)
        return session is not None and session.ready and self._live(session) is not None

    @property
    def shards(self) -> dict[int, int]:
        """The shard count of each shard id with a session."""
        return {shard_id: s.shard_key[1] for shard_id, s in sorted(self._current.items())}

    @staticmethod
    def _live(session: _Session) -> _Connection | None:
        if session.conn is None or not session.conn.alive:
            return None
        return session.conn

    def _owner(self, guild_id: int | None) -> _Session:
        for session in self._current.values():
            if session.owns(guild_id):
                return session
        where = f"guild {guild_id}" if guild_id is not None else "a DM (shard 0)"
        raise RuntimeError(f"stand-in: no gateway session of the shard that serves {where}")

    def serves(self, guild_id: int | None) -> bool:
        """Whether a session would receive this guild's events (``None``: DMs)."""
        return any(session.owns(guild_id) for session in self._current.values())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler for ``/gateway``."""
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        conn = _Connection(ws, request.transport, dict(request.query))
        self._connections.append(conn)
        try:
            await self._gate.wait()
            if conn.query.get("encoding", "json") != "json" or conn.query.get("v") != "10":
                self.host.protocol_error(f"gateway connected with query {conn.query}")
            hello = {"heartbeat_interval": self.host.heartbeat_interval_ms, "_trace": ["stand-in"]}
            await conn.send(_frame(OP_HELLO, hello))
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, msg.data)
                else:
                    self.host.protocol_error(f"gateway: unexpected {msg.type.name} frame")
                    await conn.close(4002, "Error while decoding payload.")
        finally:
            conn.alive = False
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._connections.remove(conn)
            self.host.notify()
        return ws

    async def _on_frame(self, conn: _Connection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = int(frame["op"])
        except (ValueError, KeyError, TypeError):
            self.host.protocol_error(f"gateway: undecodable frame {text[:200]!r}")
            await conn.close(4002, "Error while decoding payload.")
            return
        data = frame.get("d")
        self.ops.append(GatewayOpRecord(op, data, time.perf_counter()))
        try:
            if op == OP_HEARTBEAT:
                await conn.send(_frame(OP_HEARTBEAT_ACK))
            elif op == OP_IDENTIFY:
                await self._identify(conn, frame)
            elif op == OP_RESUME:
                await self._resume(conn, data)
            elif conn.session is None:
                self.host.protocol_error(f"gateway: op {op} before IDENTIFY")
                await conn.close(4003, "Not authenticated.")
            elif op not in (OP_PRESENCE, OP_VOICE_STATE):
                self.host.protocol_error(f"gateway: unknown op {op}")
                await conn.close(4001, "Unknown opcode.")
        finally:
            self.host.notify()

    async def _identify(self, conn: _Connection, frame: JSON) -> None:
        data = frame.get("d")
        if not isinstance(data, dict) or data.get("token") != self.host.token:
            await conn.close(4004, "Authentication failed.")
            return
        self.identify_payloads.append(frame)
        if conn.session is not None:
            self.host.protocol_error("gateway: IDENTIFY sent twice on one connection")
            await conn.close(4005, "Already authenticated.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            self.host.protocol_error("gateway: IDENTIFY without intents")
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.host.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard, refusal = self._shard_of(data.get("shard"))
        if refusal is not None:
            self.closes.append(refusal)
            await conn.close(*refusal)
            return
        session = _Session(secrets.token_hex(16), shard)
        self._sessions[session.session_id] = session
        self._current[session.shard_key[0]] = conn.session = session
        async with session.lock:
            session.conn = conn
            await session.emit("READY", self.host.gateway_ready(session.session_id, session.shard))
            for guild in self.host.gateway_guilds(session.shard_key):
                await session.emit("GUILD_CREATE", guild)
            session.ready = True

    def _shard_of(self, shard: object) -> tuple[list[int] | None, tuple[int, str] | None]:
        """IDENTIFY's ``shard``, or the close code and reason Discord refuses it with."""
        invalid = (CLOSE_INVALID_SHARD, "Invalid shard.")
        if shard is not None and (
            not isinstance(shard, list)
            or len(shard) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            or not 0 <= shard[0] < shard[1]
        ):
            self.host.protocol_error(f"gateway: IDENTIFY with invalid shard {shard!r}")
            return None, invalid
        count = shard[1] if shard is not None else 1
        if count < self.host.required_shards:
            return None, (CLOSE_SHARDING_REQUIRED, "Sharding required.")
        return shard, None

    async def _resume(self, conn: _Connection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self.host.token:
            await conn.close(4004, "Authentication failed.")
            return
        session = self._sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if session is None or self._current.get(session.shard_key[0]) is not session:
            await conn.send(_frame(OP_INVALID_SESSION, False))
            return
        async with session.lock:
            oldest = session.log[0]["s"] if session.log else session.seq + 1
            if not oldest - 1 <= seq <= session.seq:  # unknown or no longer buffered
                await conn.send(_frame(OP_INVALID_SESSION, False))
                return
            if session.conn is not None and session.conn is not conn:
                session.conn.alive = False
            session.conn, conn.session = conn, session
            for frame in session.log:
                if frame["s"] > seq:
                    self.replayed_count += 1
                    await conn.send(frame)
            await session.emit("RESUMED", {"_trace": ["stand-in"]})
            self.resume_count += 1

    async def dispatch(
        self, event: str, data: JSON, before_send: Callable[[], None] | None = None
    ) -> None:
        """Send a dispatch on the session of the shard that owns its guild, or log it for
        RESUME while that shard is offline.

        ``before_send`` runs right before the frame goes out (to timestamp it).
        """
        if not self._current:
            raise RuntimeError("stand-in: no client has IDENTIFYed yet")
        session = self._owner(dispatch_guild(event, data))
        async with session.lock:
            if before_send is not None:
                before_send()
            await session.emit(event, data)

    async def drop(self, code: int | None, shard_id: int | None = None) -> None:
        """Close the live connection (of ``shard_id``, or of every shard) with ``code``,
        or abort its transport when ``code`` is ``None``."""
        chosen = [
            session for key, session in sorted(self._current.items()) if shard_id in (None, key)
        ]
        live = [conn for conn in map(self._live, chosen) if conn is not None]
        if not live:
            raise RuntimeError("stand-in: no live gateway connection")
        for conn in live:
            conn.alive = False
            self.drop_count += 1
            if code is None:
                if conn.transport is not None:
                    conn.transport.abort()
            else:
                await conn.close(code, "stand-in dropped the connection")

    def hold(self) -> None:
        """Make new connections wait before HELLO."""
        self._gate.clear()

    def release(self) -> None:
        """Let waiting and new connections get HELLO."""
        self._gate.set()

    async def close(self) -> None:
        """Close every connection (code 1001, going away)."""
        self._gate.set()
        for conn in list(self._connections):
            await conn.close(1001, "stand-in shutting down")
