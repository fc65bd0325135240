"""The Discord stand-in, checked against the real, unpatched discord.py client.

Each test starts a stand-in, points discord.py at it (REST base and default gateway only),
runs a small bot with one guild slash command and checks what crossed the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Self

import aiohttp
import discord
import pytest
from discord import app_commands

from standins.discord_permissions import (
    CHANNEL_PERMISSIONS,
    EMBED_LINKS,
    INVITE_PERMISSIONS,
    READ_MESSAGE_HISTORY,
    VIEW_CHANNEL,
)
from standins.discord_standin import DiscordStandIn, point_discord_py_at

TOKEN = "stand-in.test.token"
TIMEOUT = 5.0
NO_MENTIONS = discord.AllowedMentions.none()
SOURCES = ("src", "docs", "news")
CALLBACK_PATH = r"^/interactions/\d+/[^/]+/callback$"
POST_PATH = r"^/channels/\d+/messages$"


def run(main: Callable[[], Coroutine[Any, Any, None]], timeout: float = 20.0) -> None:
    """Run one test body on a fresh event loop, bounded by ``timeout``."""
    asyncio.run(asyncio.wait_for(main(), timeout))


class PingButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"ping:(?P<source>[a-z]+):(?P<count>\d+)",
):
    """A persistent "again" button whose state lives in its custom id."""

    def __init__(self, source: str, count: int) -> None:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label="Again", style=discord.ButtonStyle.primary, custom_id=f"ping:{source}:{count}"
        )
        super().__init__(button)
        self.source = source
        self.count = count

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(match["source"], int(match["count"]))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message(
            f"pong again from {self.source} #{self.count}", allowed_mentions=NO_MENTIONS
        )


@app_commands.command(name="ping", description="Answer with pong")
@app_commands.describe(source="Where the ping comes from")
async def ping(interaction: discord.Interaction[discord.Client], source: str) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(PingButton(source, 1))
    await interaction.response.send_message(
        f"pong from {source}", view=view, allowed_mentions=NO_MENTIONS
    )


@ping.autocomplete("source")
async def ping_source(
    interaction: discord.Interaction[discord.Client], current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=s, value=s) for s in SOURCES if s.startswith(current)]


@app_commands.command(name="brief", description="An answer and a followup")
async def brief(interaction: discord.Interaction[discord.Client]) -> None:
    await interaction.response.send_message("part one", allowed_mentions=NO_MENTIONS)
    await interaction.followup.send("part two", allowed_mentions=NO_MENTIONS)


@app_commands.command(name="slow", description="Defers, which the stand-in does not model")
async def slow(interaction: discord.Interaction[discord.Client]) -> None:
    await interaction.response.defer(thinking=True)


reminders = app_commands.Group(
    name="reminders",
    description="Reminders for a channel",
    default_permissions=discord.Permissions(manage_channels=True),
)


@reminders.command(name="subscribe", description="Post reminders in a channel")
async def reminders_subscribe(
    interaction: discord.Interaction[discord.Client], channel: discord.TextChannel
) -> None:
    await interaction.response.send_message(
        f"subscribed #{channel.name}", ephemeral=True, allowed_mentions=NO_MENTIONS
    )


class PingBot(discord.Client):
    """A minimal bot: guild commands, a dynamic button, no privileged intents."""

    def __init__(self, guild_id: int) -> None:
        intents = discord.Intents.default()
        intents.members = intents.presences = intents.message_content = False
        super().__init__(intents=intents, guild_ready_timeout=0.1, allowed_mentions=NO_MENTIONS)
        self.guild_object = discord.Object(id=guild_id)
        self.tree = app_commands.CommandTree(self)
        commands: list[app_commands.Command[Any, Any, None] | app_commands.Group] = [
            ping,
            brief,
            slow,
            reminders,
        ]
        for command in commands:
            self.tree.add_command(command, guild=self.guild_object)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(PingButton)
        await self.tree.sync(guild=self.guild_object)


@contextlib.asynccontextmanager
async def running_bot(standin: DiscordStandIn) -> AsyncIterator[PingBot]:
    """Run a :class:`PingBot` against ``standin`` until the block ends."""
    with point_discord_py_at(standin):
        bot = PingBot(standin.guild.id)
        runner = asyncio.create_task(bot.start(TOKEN))
        ready = asyncio.create_task(bot.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {runner, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            if runner in done:
                runner.result()
            if ready not in done:
                raise TimeoutError("the bot did not become ready")
            yield bot
        finally:
            ready.cancel()
            await bot.close()
            if not runner.done():
                await asyncio.wait_for(runner, TIMEOUT)


def text_channel(bot: discord.Client, standin: DiscordStandIn) -> discord.TextChannel:
    channel = bot.get_channel(standin.guild.channels[0].id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def statuses(standin: DiscordStandIn, method: str, pattern: str) -> list[int]:
    return [r.status for r in standin.requests if r.method == method and re.search(pattern, r.path)]


def test_login_ready_and_guild_sync() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            assert bot.user is not None
            assert bot.user.id == standin.bot_user.id
            assert bot.application_id == standin.application_id
            guild = bot.get_guild(standin.guild.id)
            assert guild is not None
            assert [c.name for c in guild.text_channels] == ["general"]
            assert guild.me.guild_permissions.send_messages
            commands = {c["name"]: c for c in standin.commands(standin.guild.id)}
            assert set(commands) == {"ping", "brief", "slow", "reminders"}
            assert commands["reminders"]["default_member_permissions"] == str(1 << 4)
            assert commands["ping"]["description"] == "Answer with pong"
            assert commands["ping"]["guild_id"] == str(standin.guild.id)
            assert commands["ping"]["options"] == [
                {
                    "type": 3,
                    "name": "source",
                    "description": "Where the ping comes from",
                    "required": True,
                    "autocomplete": True,
                }
            ]
            assert standin.commands() == []
            assert standin.identify_count == 1
            assert standin.heartbeat_count >= 1
            identify = standin.identify_payloads[0]["d"]
            assert identify["intents"] & (1 << 1 | 1 << 8 | 1 << 15) == 0
            standin.assert_clean()

    run(main)


def test_command_is_answered_with_a_button() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            rec = await standin.send_command("ping", {"source": "src"})
            callback = await rec.wait_response(TIMEOUT)
            assert callback.type == 4
            assert callback.with_response
            assert callback.data is not None
            assert callback.data["content"] == "pong from src"
            assert callback.data["allowed_mentions"] == {"parse": []}
            button = callback.data["components"][0]["components"][0]
            assert button["custom_id"] == "ping:src:1"
            assert rec.latency is not None
            assert 0 < rec.latency < TIMEOUT
            assert standin.channel_history(rec.channel_id)[-1]["content"] == "pong from src"
            standin.assert_clean()

    run(main)


def test_subcommand_with_a_channel_option() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            general = standin.guild.channels[0]
            rec = await standin.send_command("reminders subscribe", {"channel": general.id})
            sub = rec.payload["data"]["options"][0]
            assert (sub["type"], sub["name"]) == (1, "subscribe")
            assert sub["options"] == [{"name": "channel", "type": 7, "value": str(general.id)}]
            assert rec.payload["data"]["resolved"]["channels"][str(general.id)]["name"] == "general"
            callback = await rec.wait_response(TIMEOUT)
            assert callback.data is not None
            assert callback.data["content"] == "subscribed #general"
            assert callback.data["flags"] == 64
            with pytest.raises(ValueError, match="required"):
                await standin.send_command("reminders subscribe", {})
            with pytest.raises(ValueError, match="no subcommand"):
                await standin.send_command("reminders channel set", {})
            with pytest.raises(ValueError, match="no option"):
                await standin.send_command("ping", {"sauce": "x"})
            with pytest.raises(LookupError):
                await standin.send_command("pong")
            standin.assert_clean()

    run(main)


def test_autocomplete_offers_choices() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            rec = await standin.send_autocomplete("ping", {"source": "n"})
            callback = await rec.wait_response(TIMEOUT)
            assert callback.type == 8
            assert callback.data == {"choices": [{"name": "news", "value": "news"}]}
            standin.assert_clean()

    run(main)


def test_button_click_is_answered() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            await (await standin.send_command("ping", {"source": "docs"})).wait_response(TIMEOUT)
            click = await standin.click_button("ping:docs:1")
            assert click.payload["message"]["content"] == "pong from docs"
            callback = await click.wait_response(TIMEOUT)
            assert callback.type == 4
            assert callback.data is not None
            assert callback.data["content"] == "pong again from docs #1"
            standin.assert_clean()

    run(main)


def test_answer_with_a_followup() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            rec = await standin.send_command("brief")
            callback = await rec.wait_response(TIMEOUT)
            assert callback.type == 4
            assert callback.message is not None
            assert callback.message["content"] == "part one"
            followups = await rec.wait_followups(1, TIMEOUT)
            assert followups[0].json["content"] == "part two"
            contents = [m["content"] for m in standin.channel_history(rec.channel_id)]
            assert contents == ["part one", "part two"]
            standin.assert_clean()

    run(main)


def test_unmodelled_deferral_and_upload_are_reported() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            rec = await standin.send_command("slow")
            await standin.wait_until(lambda: bool(standin.unhandled), TIMEOUT, "a refusal")
            assert rec.callback is None
            with pytest.raises(discord.HTTPException):
                await text_channel(bot, standin).send(
                    "with file", file=discord.File(io.BytesIO(b"abc"), "a.txt")
                )
            assert standin.posts == []
            with pytest.raises(AssertionError) as info:
                standin.assert_clean()
            assert "callback type 5 to 'slow' (not modelled)" in str(info.value)
            assert "attachments: not modelled" in str(info.value)

    run(main)


def test_repeated_nonce_posts_once() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            channel = text_channel(bot, standin)
            first = await channel.send("briefing ready", nonce="brief-1")
            second = await channel.send("briefing ready", nonce="brief-1")
            assert first.id == second.id
            assert len(standin.posts) == 1
            assert standin.deduplicated_posts == 1
            post = standin.posts[0]
            assert post.nonce == "brief-1"
            assert post.json["enforce_nonce"] is True
            assert post.json["allowed_mentions"] == {"parse": []}
            standin.assert_clean()

    run(main)


def test_rate_limit_on_callback_and_post_is_retried() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            standin.fail_next("POST", CALLBACK_PATH, 429, retry_after=0.05)
            rec = await standin.send_command("ping", {"source": "news"})
            await rec.wait_response(TIMEOUT)
            assert statuses(standin, "POST", CALLBACK_PATH) == [429, 200]
            assert len(standin.callbacks) == 1

            standin.fail_next("POST", POST_PATH, 429, retry_after=0.05)
            await text_channel(bot, standin).send("after a 429")
            assert statuses(standin, "POST", POST_PATH) == [429, 200]
            assert [p.json["content"] for p in standin.posts] == ["after a 429"]
            standin.assert_clean()

    run(main)


def test_server_error_on_post_is_retried() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            standin.fail_next("POST", POST_PATH, 500)
            await text_channel(bot, standin).send("after a 500")
            assert statuses(standin, "POST", POST_PATH) == [500, 200]
            assert len(standin.posts) == 1
            standin.assert_clean()

    run(main)


def test_lost_response_retry_is_deduplicated_by_nonce() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            standin.fail_next("POST", POST_PATH, 502, processed=True)
            message = await text_channel(bot, standin).send("exactly once")
            assert statuses(standin, "POST", POST_PATH) == [502, 200]
            assert len(standin.posts) == 1
            assert standin.deduplicated_posts == 1
            assert message.id == int(standin.posts[0].message["id"])
            standin.assert_clean()

    run(main)


@pytest.mark.parametrize("close_code", [4000, None], ids=["close-4000", "abort"])
def test_dropped_gateway_resumes(close_code: int | None) -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            standin.hold_gateway()
            await standin.drop_connection(close_code)
            # Sent while the client is away: it must be replayed on RESUME.
            offline = await standin.send_command("ping", {"source": "src"})
            standin.release_gateway()
            await standin.wait_for_resume(TIMEOUT)
            await offline.wait_response(TIMEOUT)
            rec = await standin.send_command("ping", {"source": "docs"})
            assert (await rec.wait_response(TIMEOUT)).type == 4
            assert standin.identify_count == 1
            assert standin.resume_count == 1
            assert standin.drop_count == 1
            assert standin.replayed_count >= 1
            standin.assert_clean()

    run(main)


def test_wrong_token_is_rejected() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin:
            with point_discord_py_at(standin):
                bot = PingBot(standin.guild.id)
                with pytest.raises(discord.LoginFailure):
                    await asyncio.wait_for(bot.start("not-the-token"), TIMEOUT)
                await bot.close()
            assert [(r.method, r.path, r.status) for r in standin.requests] == [
                ("GET", "/users/@me", 401)
            ]
            assert standin.requests[0].headers["Authorization"] == "Bot not-the-token"
            standin.assert_clean()

    run(main)


def test_gateway_rejects_wrong_token_with_4004() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, aiohttp.ClientSession() as http:
            async with http.ws_connect(standin.gateway_url + "?v=10&encoding=json") as ws:
                hello = await ws.receive_json(timeout=TIMEOUT)
                assert hello["op"] == 10
                await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
                closing = await ws.receive(timeout=TIMEOUT)
                assert closing.type is aiohttp.WSMsgType.CLOSE
                assert closing.data == 4004
            standin.assert_clean()

    run(main)


def test_channel_history() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            channel = text_channel(bot, standin)
            for n in range(4):
                await channel.send(f"message {n}")
            newest = [m.content async for m in channel.history(limit=2)]
            assert newest == ["message 3", "message 2"]
            oldest = [m.content async for m in channel.history(limit=2, oldest_first=True)]
            assert oldest == ["message 0", "message 1"]
            history = standin.requests[-1]
            assert history.query["after"] is not None
            standin.assert_clean()

    run(main)


def test_forbidden_and_deleted_channels() -> None:
    async def main() -> None:
        channels = [(1_300_000_000_000_000_101, "general"), (1_300_000_000_000_000_102, "news")]
        async with (
            DiscordStandIn(token=TOKEN, channels=channels) as standin,
            running_bot(standin) as bot,
        ):
            general = bot.get_channel(channels[0][0])
            news = bot.get_channel(channels[1][0])
            assert isinstance(general, discord.TextChannel)
            assert isinstance(news, discord.TextChannel)
            standin.forbid_channel(general.id)
            with pytest.raises(discord.Forbidden) as forbidden:
                await general.send("nope")
            assert forbidden.value.code == 50013
            standin.delete_channel(news.id)
            with pytest.raises(discord.NotFound) as not_found:
                await news.send("gone")
            assert not_found.value.code == 10003
            assert standin.posts == []
            standin.assert_clean()

    run(main)


def test_enforced_rate_limits() -> None:
    async def main() -> None:
        async with (
            DiscordStandIn(
                token=TOKEN, enforce_limits=True, channel_rate=(2, 0.3), global_rate=(40, 1.0)
            ) as standin,
            running_bot(standin) as bot,
        ):
            channel = text_channel(bot, standin)
            await asyncio.gather(*(channel.send(f"burst {n}") for n in range(5)))
            assert sorted(p.json["content"] for p in standin.posts) == [
                f"burst {n}" for n in range(5)
            ]
            headers = {"Authorization": f"Bot {TOKEN}"}
            url = f"{standin.api_base}/channels/{channel.id}/messages"
            async with aiohttp.ClientSession(headers=headers) as http:
                limited = None
                for n in range(6):  # 2 per 0.3 s: one of these is refused whatever the phase
                    answer = await http.post(url, json={"content": f"raw {n}"})
                    await answer.read()
                    if answer.status == 429:
                        limited = answer
                        break
                assert limited is not None
                assert limited.headers["Via"] == "1.1 google"
                assert limited.headers["Content-Type"] == "application/json"
                assert limited.headers["X-RateLimit-Remaining"] == "0"
                assert limited.headers["X-RateLimit-Limit"] == "2"
                body = await limited.json()
                assert body["global"] is False
                assert 0 < body["retry_after"] <= 0.3
                me = f"{standin.api_base}/users/@me"
                codes = []
                for _ in range(90):  # 40 per 1 s globally
                    async with http.get(me) as answer:
                        codes.append(answer.status)
                assert 429 in codes
            assert standin.rate_limited_count >= 2
            standin.assert_clean()

    run(main)


def test_unhandled_route_and_double_ack_are_reported() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin):
            rec = await standin.send_command("ping", {"source": "src"})
            await rec.wait_response(TIMEOUT)
            url = f"{standin.api_base}/interactions/{rec.id}/{rec.token}/callback"
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json={"type": 4, "data": {"content": "x"}}) as again:
                    assert again.status == 400
                    assert (await again.json())["code"] == 40060
                async with http.get(f"{standin.api_base}/guilds/1/roles") as unknown:
                    assert unknown.status == 404
                    assert unknown.headers["Content-Type"] == "application/json"
            with pytest.raises(AssertionError, match="GET /guilds/1/roles"):
                standin.assert_clean()
            assert any("second callback" in e for e in standin.protocol_errors)

    run(main)


class FakeMonotonic:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_nonce_window_passes_on_the_injected_clock() -> None:
    async def main() -> None:
        clock = FakeMonotonic()
        async with (
            DiscordStandIn(token=TOKEN, monotonic=clock, nonce_window=300.0) as standin,
            running_bot(standin) as bot,
        ):
            channel = text_channel(bot, standin)
            first = await channel.send("reminder", nonce="delivery-1")
            clock.now += 299.0
            again = await channel.send("reminder", nonce="delivery-1")
            assert again.id == first.id, "within the window: the first message comes back"
            clock.now += 1.0
            late = await channel.send("reminder", nonce="delivery-1")
            assert late.id != first.id, "after the window the same nonce posts again"
            standin.expire_nonces()
            forgotten = await channel.send("reminder", nonce="delivery-1")
            assert forgotten.id not in (first.id, late.id)
            assert len(standin.posts) == 3
            assert standin.deduplicated_posts == 1
            standin.assert_clean()

    run(main)


def test_bot_permissions_per_channel_as_discord_applies_them() -> None:
    async def main() -> None:
        ids = [1_300_000_000_000_000_101, 1_300_000_000_000_000_102, 1_300_000_000_000_000_103]
        channels = list(zip(ids, ["general", "hidden", "plain"], strict=True))
        async with DiscordStandIn(token=TOKEN, channels=channels) as standin:
            general, hidden, plain = ids
            standin.set_bot_permissions(general, deny=READ_MESSAGE_HISTORY)
            standin.set_bot_permissions(hidden, deny=VIEW_CHANNEL)
            standin.set_bot_permissions(plain, deny=EMBED_LINKS)
            assert standin.bot_permissions_in(general) & INVITE_PERMISSIONS == (
                INVITE_PERMISSIONS & ~READ_MESSAGE_HISTORY
            )
            async with running_bot(standin) as bot:
                cached = [bot.get_channel(i) for i in ids]
                assert all(isinstance(c, discord.TextChannel) for c in cached)
                guild = bot.get_guild(standin.guild.id)
                assert guild is not None
                assert guild.me is not None
                seen = [
                    c.permissions_for(guild.me)
                    for c in cached
                    if isinstance(c, discord.TextChannel)
                ]
                # Without View Channel every channel permission is implicitly denied.
                assert [p.read_message_history for p in seen] == [False, False, True]
                assert [p.view_channel for p in seen] == [True, False, True]
                assert [p.embed_links for p in seen] == [True, False, False]

                posted = await bot.http.send_message(general, params=_content("one"))
                assert await bot.http.logs_from(general, 100) == [], "blind, and no error"
                assert posted["id"] in {p.message["id"] for p in standin.posts}
                with pytest.raises(discord.Forbidden) as hidden_history:
                    await bot.http.logs_from(hidden, 100)
                assert hidden_history.value.code == 50001
                with pytest.raises(discord.Forbidden) as hidden_post:
                    await bot.http.send_message(hidden, params=_content("two"))
                assert hidden_post.value.code == 50001

                channel = cached[2]
                assert isinstance(channel, discord.TextChannel)
                sent = await channel.send("text", embed=discord.Embed(title="dropped"))
                assert sent.embeds == []
                assert sent.content == "text"
                assert standin.dropped_embed_posts == 1

                rec = await standin.send_command("ping", {"source": "news"}, channel_id=general)
                assert not int(rec.payload["app_permissions"]) & READ_MESSAGE_HISTORY
                await rec.wait_response(TIMEOUT)
                standin.assert_clean()

    run(main)


def _content(text: str) -> Any:
    from discord.http import handle_message_parameters

    with handle_message_parameters(content=text) as params:
        return params


def test_history_omits_nonces_and_pages_through_chatter() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            channel = text_channel(bot, standin)
            mine = await channel.send("mine", nonce="n-1")
            standin.add_chatter(channel.id, 250)
            seen = [m async for m in channel.history(limit=None, after=discord.Object(0))]
            assert len(seen) == 251
            assert seen[0].id == mine.id
            assert seen[0].nonce is None
            assert {m.author.id for m in seen[1:]} == {standin.member.id}
            pages = [r for r in standin.requests if r.method == "GET" and "messages" in r.path]
            assert len(pages) == 3
            standin.assert_clean()

    run(main)


def test_connection_reset_after_the_post_is_stored() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin, running_bot(standin) as bot:
            standin.reset_next("POST", POST_PATH)
            with pytest.raises((aiohttp.ClientError, OSError)):
                await text_channel(bot, standin).send("lost reply", nonce="n-2")
            assert [p.json["content"] for p in standin.posts] == ["lost reply"]
            assert standin.injected_fault_count == 1
            standin.assert_clean()

    run(main)


def test_channel_permission_bits_match_discord_py() -> None:
    assert discord.Permissions.all_channel().value == CHANNEL_PERMISSIONS
    assert INVITE_PERMISSIONS == 84992


# ------------------------------------------------------------- application commands


def chat_command(name: str = "ping", **fields: Any) -> dict[str, Any]:
    """A chat-input command as a bot syncs it."""
    return {"type": 1, "name": name, "description": "Answer with pong", **fields}


def text_option(name: str = "source", **fields: Any) -> dict[str, Any]:
    """A string option."""
    return {"type": 3, "name": name, "description": "Where it comes from", **fields}


async def sync(standin: DiscordStandIn, commands: list[dict[str, Any]]) -> tuple[int, Any]:
    """PUT ``commands`` to the guild as a bot would; return the status and the JSON body."""
    url = (
        f"{standin.api_base}/applications/{standin.application_id}"
        f"/guilds/{standin.guild.id}/commands"
    )
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http,
        http.put(url, json=commands) as answer,
    ):
        assert answer.headers["Content-Type"] == "application/json"
        return answer.status, await answer.json()


async def refused(standin: DiscordStandIn, commands: list[dict[str, Any]]) -> dict[str, Any]:
    """Sync ``commands``, which must be refused with 50035; return the ``errors`` object."""
    status, body = await sync(standin, commands)
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body"), body
    assert standin.protocol_errors, "a refused sync fails assert_clean"
    standin.protocol_errors.clear()
    errors: dict[str, Any] = body["errors"]
    return errors


def test_command_names_are_checked_as_discord_does() -> None:
    accepted = ["ping", "next-meeting", "brief_2", "café", "नमस्ते", "สวัสดี", "x" * 32]
    rejected = ["Ping", "next meeting", "ab!", "", "x" * 33, "brief.2"]

    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin:
            for name in accepted:
                status, body = await sync(standin, [chat_command(name)])
                assert status == 200, (name, body)
            for name in rejected:
                errors = await refused(standin, [chat_command(name)])
                assert errors == {
                    "0": {
                        "name": {
                            "_errors": [
                                {"code": "BASE_TYPE_INVALID", "message": "Command name is invalid"}
                            ]
                        }
                    }
                }, name
            standin.assert_clean()

    run(main)


def test_option_names_descriptions_and_choices_are_checked() -> None:
    def choices(n: int) -> list[dict[str, str]]:
        return [{"name": f"choice {i}", "value": f"c{i}"} for i in range(n)]

    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin:
            fine = chat_command(options=[text_option(choices=choices(25))])
            assert (await sync(standin, [fine]))[0] == 200
            errors = await refused(standin, [chat_command(options=[text_option("Source")])])
            assert set(errors["0"]["options"]["0"]) == {"name"}
            for description in ("", "x" * 101):
                option = text_option(description=description)
                errors = await refused(standin, [chat_command(options=[option])])
                assert set(errors["0"]["options"]["0"]) == {"description"}
            errors = await refused(standin, [chat_command(description="x" * 101)])
            assert set(errors["0"]) == {"description"}
            many = chat_command(options=[text_option(choices=choices(26))])
            errors = await refused(standin, [many])
            assert errors["0"]["options"]["0"]["choices"]["_errors"][0]["message"] == (
                "Must be 25 or fewer in length."
            )
            sub = {"type": 1, "name": "Subscribe", "description": "Post reminders"}
            errors = await refused(standin, [chat_command("reminders", options=[sub])])
            assert set(errors["0"]["options"]["0"]) == {"name"}
            standin.assert_clean()

    run(main)


def test_a_command_holds_at_most_8000_characters() -> None:
    def option(n: int) -> dict[str, Any]:
        values = [{"name": f"{i:02d}".ljust(50, "n"), "value": "v" * 60} for i in range(25)]
        return text_option(f"option-{n}", choices=values)  # 25 * 110 characters of choices

    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin:
            two = chat_command(options=[option(n) for n in range(2)])
            assert (await sync(standin, [two]))[0] == 200
            three = chat_command(options=[option(n) for n in range(3)])
            errors = await refused(standin, [three])
            message = errors["0"]["_errors"][0]["message"]
            assert "8000" in message
            standin.assert_clean()

    run(main)


def test_default_member_permissions_come_back_as_a_string() -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as standin:
            status, body = await sync(standin, [chat_command(default_member_permissions=16)])
            assert status == 200
            assert body[0]["default_member_permissions"] == "16"
            assert standin.commands(standin.guild.id)[0]["default_member_permissions"] == "16"
            status, body = await sync(standin, [chat_command(default_member_permissions=None)])
            assert body[0]["default_member_permissions"] is None
            errors = await refused(standin, [chat_command(default_member_permissions="admins")])
            assert set(errors["0"]) == {"default_member_permissions"}
            standin.assert_clean()

    run(main)
