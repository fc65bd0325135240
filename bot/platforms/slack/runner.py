"""Starting the Slack app: Socket Mode with an app token, else signed HTTP on a port."""

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.delivery.ledger import Ledger, LedgerError
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.cache import RenderCache
from bot.platforms.slack.blocks import Block, fallback_text, reply_blocks
from bot.platforms.slack.handlers import register, reminder_buttons
from bot.platforms.slack.http import ConnectionGuard, GuardedSite, HttpLimits, guarded_runner
from bot.platforms.slack.poster import BotIdentity, SlackPoster, web_client
from bot.platforms.web import add_feed_routes, shares_slack_port
from bot.runtime import PlatformStartError, Runtime

log = logging.getLogger(__name__)

DEFAULT_API = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
HISTORY_SCOPES = ("channels:history", "groups:history")
HISTORY_WARNING = (
    "Slack: the bot token lacks {missing}: after a crash or a lost reply the bot cannot look "
    "for a reminder it may already have posted in {where}, so such a reminder may show twice; "
    "add the scope under OAuth & Permissions and reinstall the app"
)


class SlackStartError(PlatformStartError):
    """Slack could not be started; the message says why, without secrets."""


class SlackPlatform:
    """Slack as one of the bot's platforms."""

    name = "Slack"

    def __init__(
        self,
        runtime: Runtime,
        ledger: Ledger,
        *,
        host: str = "0.0.0.0",  # noqa: S104 (Slack calls in from outside)
        http_limits: HttpLimits | None = None,
    ) -> None:
        settings = runtime.settings
        assert settings.slack_bot_token is not None
        self.runtime = runtime
        self.ledger = ledger
        self.host = host
        self.http_limits = http_limits or HttpLimits()
        self.api = (settings.slack_api_base_url or DEFAULT_API).rstrip("/") + "/"
        # Retries ``ratelimited`` only: retrying a lost reply would post twice (see web_client).
        self.client = web_client(settings.slack_bot_token.get_secret_value(), self.api)
        secret = settings.slack_signing_secret
        self.socket_mode = settings.slack_app_token is not None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else "",
            process_before_response=True,
            request_verification_enabled=not self.socket_mode,
        )
        self.rendered: RenderCache[tuple[str, list[Block]]] = RenderCache(
            lambda reply, now: (
                fallback_text(reply),
                reply_blocks(reply, sources_at=int(now.timestamp())),
            )
        )
        register(self.app, self)
        self.poster = SlackPoster(self.client, buttons=lambda reply: reminder_buttons(self, reply))
        self.channel_ids = settings.slack_channels
        #: Whether the bot token may read channel history (``channels:history`` and
        #: ``groups:history``), from the ``x-oauth-scopes`` header of ``auth.test``; ``None``
        #: until started, or when Slack did not say.
        self.history_readable: bool | None = None
        #: Problems found at start that an operator should fix (one sentence each).
        self.warnings: list[str] = []
        self.scheduler: ReminderScheduler | None = None
        self.http_port: int | None = None
        self.http_guard: ConnectionGuard | None = None
        self._handler: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._stopped = asyncio.Event()

    def attach(self, scheduler: ReminderScheduler) -> None:
        """Let /reminders show the shared scheduler's plan."""
        self.scheduler = scheduler

    async def start(self) -> None:
        """Check the bot token with ``auth.test``, then open Socket Mode or the HTTP endpoint."""
        try:
            identity = await self.client.auth_test()
        except SlackApiError as error:
            code = error.response.get("error")
            raise SlackStartError(
                f"Slack rejected SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again "
                "from the app's OAuth & Permissions page"
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise SlackStartError(f"cannot reach Slack's API at {self.api}: {error}") from None
        log.info(
            "Slack: authenticated as %s in workspace %s (%s)",
            identity.get("user"),
            identity.get("team"),
            identity.get("team_id"),
        )
        self.poster.identity = BotIdentity(identity.get("user_id"), identity.get("bot_id"))
        self._check_scopes(identity.headers.get("x-oauth-scopes"))
        if self.socket_mode:
            await self._start_socket_mode()
        else:
            await self._start_http()

    def _check_scopes(self, header: str | None) -> None:
        """Note (and warn once) when the token cannot read history to find an earlier post."""
        if header is None:
            log.debug("Slack: auth.test did not say which scopes the bot token has")
            return
        scopes = {scope.strip() for scope in header.split(",")}
        missing = [scope for scope in HISTORY_SCOPES if scope not in scopes]
        self.history_readable = not missing
        if missing:
            where = (
                "any channel"
                if len(missing) == len(HISTORY_SCOPES)
                else "public channels"
                if missing == ["channels:history"]
                else "private channels"
            )
            warning = HISTORY_WARNING.format(missing=" and ".join(missing), where=where)
            self.warnings.append(warning)
            log.warning("%s", warning)

    async def _start_socket_mode(self) -> None:
        token = self.runtime.settings.slack_app_token
        assert token is not None
        self._handler = AsyncSocketModeHandler(self.app, token.get_secret_value())
        try:
            await self._handler.connect_async()  # type: ignore[no-untyped-call]
        except SlackApiError as error:
            code = error.response.get("error")
            raise SlackStartError(
                f"Slack refused SLACK_APP_TOKEN ({code}): it needs the connections:write scope "
                "and Socket Mode turned on for the app"
            ) from None
        log.info("Slack: connected in Socket Mode")

    async def _start_http(self) -> None:
        port = self.runtime.settings.slack_http_port
        web_app = self.app.web_app(path=EVENTS_PATH, port=port)
        if shares_slack_port(self.runtime.settings):
            add_feed_routes(web_app, self.runtime)
        self._runner, self.http_guard = guarded_runner(web_app, self.http_limits)
        await self._runner.setup()
        site = GuardedSite(self._runner, self.host, port, self.http_guard)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise SlackStartError(
                f"cannot listen on SLACK_HTTP_PORT {port}: {error.strerror}"
            ) from None
        self.http_port = site.port  # the bound port, when SLACK_HTTP_PORT is 0
        log.info(
            "Slack: listening for signed requests at http://%s:%s%s",
            self.host,
            self.http_port,
            EVENTS_PATH,
        )

    async def serve(self) -> None:
        """Serve until closed (Socket Mode reconnects on its own)."""
        await self.record_warnings()
        await self._stopped.wait()

    @property
    def channel_warning(self) -> str | None:
        """What the bot cannot do in any Slack channel (a missing scope), or None."""
        return " ".join(self.warnings) or None

    async def record_warnings(self, channels: list[str] | None = None) -> None:
        """Keep the scope warning on the subscribed channels (or ``channels``) in the ledger,
        for ``briefbot schedule``; clear it when the token has the scopes again."""
        try:
            if channels is None:
                channels = await asyncio.to_thread(self.ledger.active_channels, "slack")
            warning = self.channel_warning
            await asyncio.to_thread(
                self.ledger.set_warnings, "slack", dict.fromkeys(channels, warning)
            )
        except LedgerError as error:
            log.warning("cannot record the channels' warnings now: %s", error)

    async def close(self) -> None:
        """Disconnect and stop listening."""
        self._stopped.set()
        if self._handler is not None:
            await self._handler.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            await self._runner.cleanup()
