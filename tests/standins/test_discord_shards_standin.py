"""The Discord stand-in shards as Discord does, checked on the wire with aiohttp's websocket client.

``GET /gateway/bot`` recommends a shard count; an IDENTIFY asking for fewer shards than the
stand-in requires is closed with 4011, an impossible shard with 4010; a shard's session gets
READY and GUILD_CREATE for its own guilds only, and later dispatches about a guild go to the
session of the shard that owns it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from standins.discord_standin import DiscordStandIn

TOKEN = "stand-in.shard.token"
TIMEOUT = 5.0
SHARD_0_GUILD = 1_300_000_000_000_000_001  # (id >> 22) % 2 == 0
SHARD_1_GUILD = SHARD_0_GUILD + (1 << 22)  # (id >> 22) % 2 == 1
SHARD_1_CHANNEL = 1_300_000_000_000_000_201


def two_guilds(**options: Any) -> DiscordStandIn:
    """A stand-in with one guild on each of two shards."""
    standin = DiscordStandIn(token=TOKEN, guild_id=SHARD_0_GUILD, **options)
    standin.add_guild(SHARD_1_GUILD, [(SHARD_1_CHANNEL, "second")], "Second Guild")
    return standin


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def identify(
    http: aiohttp.ClientSession, standin: DiscordStandIn, shard: list[int] | None
) -> aiohttp.ClientWebSocketResponse:
    """Open the gateway, read HELLO and send IDENTIFY (with ``shard`` when given)."""
    socket = await http.ws_connect(f"{standin.gateway_url}?v=10&encoding=json")
    hello = await socket.receive_json(timeout=TIMEOUT)
    assert hello["op"] == 10
    data: dict[str, Any] = {"token": TOKEN, "intents": 1, "properties": {}}
    if shard is not None:
        data["shard"] = shard
    await socket.send_str(json.dumps({"op": 2, "d": data}))
    return socket


async def dispatches(socket: aiohttp.ClientWebSocketResponse, n: int) -> list[dict[str, Any]]:
    """The next ``n`` dispatch frames."""
    frames: list[dict[str, Any]] = []
    while len(frames) < n:
        frame = await socket.receive_json(timeout=TIMEOUT)
        if frame["op"] == 0:
            frames.append(frame)
    return frames


async def close_code(socket: aiohttp.ClientWebSocketResponse) -> int | None:
    """The code the stand-in closed the connection with."""
    message = await socket.receive(timeout=TIMEOUT)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    return socket.close_code


async def test_gateway_bot_recommends_the_shard_count(http: aiohttp.ClientSession) -> None:
    async with two_guilds(shards=2, max_concurrency=2) as standin:
        headers = {"Authorization": f"Bot {TOKEN}"}
        async with http.get(f"{standin.api_base}/gateway/bot", headers=headers) as response:
            assert response.status == 200
            body = await response.json()
        assert body["url"] == standin.gateway_url
        assert body["shards"] == 2
        assert body["session_start_limit"]["max_concurrency"] == 2
        assert set(body["session_start_limit"]) == {
            "total",
            "remaining",
            "reset_after",
            "max_concurrency",
        }
        async with http.get(f"{standin.api_base}/gateway/bot") as unauthorized:
            assert unauthorized.status == 401
        standin.assert_clean()


async def test_unsharded_identify_is_closed_with_4011_when_sharding_is_required(
    http: aiohttp.ClientSession,
) -> None:
    async with two_guilds(shards=2, required_shards=2) as standin:
        for shard in (None, [0, 1]):
            socket = await identify(http, standin, shard)
            assert await close_code(socket) == 4011, shard
        assert standin.gateway.closes == [
            (4011, "Sharding required."),
            (4011, "Sharding required."),
        ]
        assert not standin.gateway.has_session


async def test_sharding_is_required_from_the_guild_threshold(http: aiohttp.ClientSession) -> None:
    async with two_guilds(guilds_per_shard=2) as standin:
        assert standin.required_shards == 2
        socket = await identify(http, standin, None)
        assert await close_code(socket) == 4011


async def test_an_impossible_shard_is_closed_with_4010(http: aiohttp.ClientSession) -> None:
    async with two_guilds(shards=2, required_shards=2) as standin:
        for shard in ([2, 2], [-1, 2], [0]):
            socket = await identify(http, standin, shard)
            assert await close_code(socket) == 4010, shard
        with pytest.raises(AssertionError, match="invalid shard"):
            standin.assert_clean()


async def test_each_shard_gets_its_own_guilds_and_their_dispatches(
    http: aiohttp.ClientSession,
) -> None:
    async with two_guilds(shards=2, required_shards=2) as standin:
        first = await identify(http, standin, [0, 2])
        ready, created = await dispatches(first, 2)
        assert ready["t"] == "READY"
        assert ready["d"]["shard"] == [0, 2]
        assert [g["id"] for g in ready["d"]["guilds"]] == [str(SHARD_0_GUILD)]
        assert (created["t"], created["d"]["id"]) == ("GUILD_CREATE", str(SHARD_0_GUILD))
        assert not standin.gateway.is_ready, "shard 1 has no session yet"

        second = await identify(http, standin, [1, 2])
        ready, created = await dispatches(second, 2)
        assert [g["id"] for g in ready["d"]["guilds"]] == [str(SHARD_1_GUILD)]
        assert (created["t"], created["d"]["id"]) == ("GUILD_CREATE", str(SHARD_1_GUILD))
        await standin.wait_for_ready(TIMEOUT)
        assert standin.gateway.shards == {0: 2, 1: 2}

        await standin.dispatch_channel_update(SHARD_1_CHANNEL)
        (update,) = await dispatches(second, 1)
        assert (update["t"], update["d"]["guild_id"]) == ("CHANNEL_UPDATE", str(SHARD_1_GUILD))
        await standin.dispatch_channel_update(standin.guild.channels[0].id)
        (update,) = await dispatches(first, 1)
        assert update["d"]["guild_id"] == str(SHARD_0_GUILD)
        standin.assert_clean()
        await first.close()
        await second.close()


async def test_one_shard_and_no_requirement_by_default(http: aiohttp.ClientSession) -> None:
    async with two_guilds() as standin:
        assert standin.required_shards == 1
        socket = await identify(http, standin, None)
        ready, *created = await dispatches(socket, 3)
        assert len(ready["d"]["guilds"]) == 2
        assert {g["d"]["id"] for g in created} == {str(SHARD_0_GUILD), str(SHARD_1_GUILD)}
        await socket.close()
