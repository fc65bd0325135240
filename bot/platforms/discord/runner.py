"""Starting the Discord bot: endpoints, token, a clear message for each way start-up fails."""

import asyncio
import logging
from typing import Any

import aiohttp
import discord
import yarl

from bot.app import PlatformStartError, Runtime
from bot.delivery.ledger import Ledger
from bot.platforms.discord.client import BriefBot
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
PREFLIGHT_TIMEOUT = 10.0


class DiscordStartError(PlatformStartError):
    """Discord could not be started; the message says why and what to do, without secrets."""


def configure_endpoints(settings: Settings) -> tuple[str, str]:
    """Point discord.py at the configured API and gateway (a proxy or a stand-in)."""
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


async def run_discord(
    runtime: Runtime, ledger: Ledger, *, force_sync: bool = False, **client_options: Any
) -> None:
    """Log in, check the gateway, then serve until closed."""
    settings = runtime.settings
    assert settings.discord_token is not None
    api, gateway = configure_endpoints(settings)
    bot = BriefBot(runtime, ledger, force_sync=force_sync, **client_options)
    try:
        async with bot:
            await bot.login(settings.discord_token.reveal())
            log.info("Discord: logged in as %s (application %s)", bot.user, bot.application_id)
            await reach_gateway(gateway)
            await bot.connect(reconnect=True)
    except discord.LoginFailure:
        raise DiscordStartError(
            "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from "
            "the Developer Portal (Bot → Reset Token) into .env"
        ) from None
    except discord.ConnectionClosed as error:
        if error.code == 4004:
            raise DiscordStartError(
                "the Discord gateway rejected DISCORD_TOKEN (close code 4004): check the token"
            ) from None
        raise DiscordStartError(f"the Discord gateway closed the connection ({error})") from None
    except discord.PrivilegedIntentsRequired:
        raise DiscordStartError("Discord refused the requested intents") from None
    except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as error:
        raise DiscordStartError(f"cannot reach Discord's API at {api}: {error}") from None
    except discord.HTTPException as error:
        raise DiscordStartError(f"Discord refused a start-up request: {error}") from None


async def sync_once(runtime: Runtime, ledger: Ledger) -> bool:
    """Log in over HTTP only and sync the commands now (``briefbot sync``)."""
    settings = runtime.settings
    assert settings.discord_token is not None
    api, _ = configure_endpoints(settings)
    bot = BriefBot(runtime, ledger, force_sync=True, reminders=False)
    try:
        async with bot:
            await bot.login(settings.discord_token.reveal())  # runs setup_hook, which syncs
    except discord.LoginFailure:
        raise DiscordStartError("Discord rejected DISCORD_TOKEN (401 Unauthorized)") from None
    except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as error:
        raise DiscordStartError(f"cannot reach Discord's API at {api}: {error}") from None
    await asyncio.sleep(0)
    return bool(bot.synced)
