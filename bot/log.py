"""Logging: one line per event on standard error, set up once in ``main()``."""

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET_LIBRARIES = ("discord", "apscheduler", "asyncio", "aiohttp", "slack_bolt", "slack_sdk")


class Redact(logging.Filter):
    """Replace any secret that reaches a log record with asterisks (a last line of defence)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback text) without the secrets."""
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "********")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "********")
        record.msg, record.args = message, None
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
    handler.addFilter(Redact(secrets or []))
    if level != "DEBUG":
        handler.addFilter(OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
