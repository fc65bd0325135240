"""Starting the Discord bot: endpoints, token, a clear message for each way start-up fails."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import yarl

from bot.delivery.ledger import Ledger
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.discord.client import BriefBot
from bot.platforms.discord.poster import DiscordPoster
from bot.runtime import PlatformStartError, Runtime, serve_platforms
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
PREFLIGHT_TIMEOUT = 10.0


class DiscordStartError(PlatformStartError):
    """Discord could not be started; the message says why and what to do, without secrets."""


def configure_endpoints(settings: Settings) -> tuple[str, str]:
    """Point discord.py at the configured API and gateway (a proxy or a stand-in).

    This sets two class attributes of discord.py, process-wide, because discord.py
    offers no per-client way: every REST call, the interaction callbacks and
    followups included (its webhook adapter builds the same ``Route``), takes its
    URL from ``Route.BASE``, which discord.py itself sets module-wide for the API
    version (``http._set_api_version``); and the gateway reconnects to
    ``DiscordWebSocket.DEFAULT_GATEWAY`` after an invalidated session, whatever URL
    it first connected to. Overriding ``HTTPClient.request`` on one client would
    miss the interaction callbacks. One process serves one Discord bot, so one
    process-wide value is the true scope of these settings.
    """
    api = settings.discord_api_base_url or DEFAULT_API
    gateway = settings.discord_gateway_url or DEFAULT_GATEWAY
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return api, gateway


async def reach_gateway(gateway: str) -> None:
    """Open the gateway once and wait for its HELLO, so a wrong URL is one clear message."""
    url = yarl.URL(gateway).update_query(v=10, encoding="json")
    timeout = aiohttp.ClientWSTimeout(ws_close=PREFLIGHT_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, timeout=timeout, autoclose=True) as socket,
        ):
            await socket.receive(timeout=PREFLIGHT_TIMEOUT)
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        reason = str(error) or type(error).__name__
        raise DiscordStartError(
            f"cannot reach the Discord gateway at {gateway}: {reason}"
        ) from None


class DiscordPlatform:
    """Discord as one of the bot's platforms: log in, serve the gateway, post reminders."""

    name = "Discord"

    def __init__(self, runtime: Runtime, ledger: Ledger, **client_options: Any) -> None:
        self.runtime = runtime
        settings = runtime.settings
        assert settings.discord_token is not None
        self.token = settings.discord_token
        self.api, self.gateway = configure_endpoints(settings)
        self.bot = BriefBot(runtime, ledger, **client_options)
        self.poster = DiscordPoster(self.bot)
        self.channel_ids = settings.discord_channels

    @property
    def permission_warnings(self) -> list[str]:
        """One line per subscribed channel where the bot lacks a permission it needs.

        Checked from the gateway's cache once the bot is ready (and again on every
        fresh session); empty before that and when every channel is fine.
        """
        return list(self.bot.permission_warnings)

    def attach(self, scheduler: ReminderScheduler) -> None:
        """Let /reminders show the shared scheduler's plan."""
        self.bot.scheduler = scheduler

    async def start(self) -> None:
        """Log in over HTTP (and sync commands if they changed), then check the gateway."""
        with self._translated():
            await self.bot.login(self.token.get_secret_value())
        log.info(
            "Discord: logged in as %s (application %s)", self.bot.user, self.bot.application_id
        )
        await reach_gateway(self.gateway)

    async def serve(self) -> None:
        """Stay connected to the gateway (resuming dropped connections) until closed."""
        with self._translated():
            await self.bot.connect(reconnect=True)

    async def close(self) -> None:
        """Disconnect."""
        await self.bot.close()

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except discord.LoginFailure:
            raise DiscordStartError(
                "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again "
                "from the Developer Portal (Bot → Reset Token) into .env"
            ) from None
        except discord.ConnectionClosed as error:
            if error.code == 4004:
                raise DiscordStartError(
                    "the Discord gateway rejected DISCORD_TOKEN (close code 4004): check the token"
                ) from None
            if error.code == 4011:
                raise DiscordStartError(
                    "Discord requires more shards (close code 4011, sharding required): leave "
                    "DISCORD_SHARD_COUNT unset, or set it to at least what Discord recommends"
                ) from None
            if error.code == 4010:
                raise DiscordStartError(
                    "Discord refused the shard (close code 4010, invalid shard): check "
                    "DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS"
                ) from None
            raise DiscordStartError(
                f"the Discord gateway closed the connection ({error})"
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise DiscordStartError("Discord refused the requested intents") from None
        except discord.GatewayNotFound:
            raise DiscordStartError(
                f"Discord's API at {self.api} did not say how many shards to run "
                "(GET /gateway/bot failed): set DISCORD_SHARD_COUNT, or try again later"
            ) from None
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as error:
            raise DiscordStartError(f"cannot reach Discord's API at {self.api}: {error}") from None
        except discord.HTTPException as error:
            raise DiscordStartError(f"Discord refused a start-up request: {error}") from None


async def run_discord(runtime: Runtime, ledger: Ledger, **client_options: Any) -> None:
    """Discord alone: log in, post reminders, serve until cancelled."""
    await serve_platforms(runtime, ledger, [DiscordPlatform(runtime, ledger, **client_options)])


async def sync_once(runtime: Runtime, ledger: Ledger) -> bool:
    """Log in over HTTP only and sync the commands now (``briefbot sync``)."""
    settings = runtime.settings
    assert settings.discord_token is not None
    api, _ = configure_endpoints(settings)
    bot = BriefBot(runtime, ledger, force_sync=True)
    try:
        async with bot:
            # login runs setup_hook, which syncs
            await bot.login(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        raise DiscordStartError("Discord rejected DISCORD_TOKEN (401 Unauthorized)") from None
    except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as error:
        raise DiscordStartError(f"cannot reach Discord's API at {api}: {error}") from None
    await asyncio.sleep(0)
    return bool(bot.synced)
