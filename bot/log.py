"""Logging: one line per event on standard error, set up once in ``main()``."""

import logging
import re
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET_LIBRARIES = ("discord", "apscheduler", "asyncio", "aiohttp", "slack_bolt", "slack_sdk")
HIDDEN = "********"

# A path separator as it appears in a log line: plain, percent-encoded, or escaped in JSON.
_SEP = r"(?:/|%2[fF]|\\/)"
_END = r"\s'\"?#&<>,;)\]}"
TOKEN_PATTERNS = (
    # Discord interaction and webhook tokens, in the URLs discord.py and aiohttp log at DEBUG:
    # /interactions/{id}/{token}/callback, /webhooks/{application_id}/{token}/messages/...
    re.compile(rf"({_SEP}(?:interactions|webhooks){_SEP}[0-9]+{_SEP})[^/\\%{_END}]+"),
    # Slack response_urls (https://hooks.slack.com/commands/T.../.../..., .../actions/...),
    # on any host: the path after /commands/ or /actions/ is the secret.
    re.compile(
        rf"((?:https?|wss?)(?::|%3[aA]){_SEP}{_SEP}[^/\\%{_END}]+{_SEP}"
        rf"(?:[^/\\%{_END}]+{_SEP})*?(?:commands|actions){_SEP})[^{_END}]+"
    ),
    # Any value given as a response_url (JSON, a dict, a form body), whatever its path.
    re.compile(
        rf"(response_url[\"']?\s*(?:[:=]|%3[dD])\s*[\"']?"
        rf"https?(?::|%3[aA]){_SEP}{_SEP}[^/\\%{_END}]+{_SEP})"
        rf"(?!(?:commands|actions){_SEP}\*)[^{_END}]+"
    ),
    # A token given by name in a payload: "token": "..." (JSON, a dict) or token=... (a form).
    re.compile(r"([\"']token[\"']\s*:\s*[\"'])[^\"']+"),
    re.compile(r"((?:^|[?&\s])token=)[^&\s'\"]+"),
)
"""Secrets that have a shape, hidden whatever the configured secrets: tokens inside URLs."""


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret and every token-bearing URL part replaced by asterisks."""
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(rf"\g<1>{HIDDEN}", text)
    return text


class Redact(logging.Filter):
    """Hide secrets in log records (a last line of defence).

    The configured secrets, and tokens inside URLs (Discord interaction and webhook
    tokens, Slack response_urls), are replaced with asterisks in the message, its
    arguments, the traceback and the stack. The record leaves with its message
    formatted and no arguments, so no later handler can format a secret back in.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is hidden whole.
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback text) without the secrets."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a bad format string or argument must not lose the line)
            message = f"{record.msg!s} (arguments that do not fit the message: {record.args!r})"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        record.msg, record.args = redact(message, self.secrets), None
        return True


class OneLine(logging.Filter):
    """Fold the traceback of an expected, handled event (a reconnect) into its one line."""

    EXPECTED = ("Attempting a reconnect",)

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with the exception's name and message instead of its traceback."""
        if record.exc_info and str(record.msg).startswith(self.EXPECTED):
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} (after {type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def setup(level: str, secrets: list[str] | None = None) -> None:
    """Send records at ``level`` and above to standard error; libraries stay at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    if level != "DEBUG":
        handler.addFilter(OneLine())  # first: the line it folds in is redacted next
    handler.addFilter(Redact(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def quiet_delivery_log() -> None:
    """In the terminal chat, reminders show as posts: INFO log lines would only repeat them."""
    delivery = logging.getLogger("bot.delivery")
    debugging = logging.getLogger().level <= logging.DEBUG
    if delivery.getEffectiveLevel() < logging.WARNING and not debugging:
        delivery.setLevel(logging.WARNING)
