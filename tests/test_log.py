"""The log's redaction filter: secrets and tokens in URLs never reach a log line."""

import io
import logging
import sys
from collections.abc import Iterator
from types import TracebackType

import pytest

from bot import log
from bot.log import HIDDEN, Redact, redact

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

SECRET = "xoxb-1111-2222-abcdefSECRET"
APP_ID = "1234567890123456789"
INTERACTION = "1098765432109876543"
# Interaction and webhook tokens, shaped like Discord's.
TOKEN = "aW50ZXJhY3Rpb246MTA5ODc2NTQzMjEwOTg3NjU0MzpTZWNyZXRUb2tlbg.x-Y_z"
SLACK_PATH = "T0123ABCD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx"


def record(
    msg: object,
    *args: object,
    name: str = "discord.http",
    level: int = logging.DEBUG,
    exc_info: ExcInfo | tuple[None, None, None] | None = None,
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, exc_info)


def shown(entry: logging.LogRecord, secrets: list[str] | None = None) -> str:
    """The record as a plain formatter writes it after the filter."""
    assert Redact(secrets or []).filter(entry)
    return logging.Formatter("%(name)s: %(message)s").format(entry)


# ---------------------------------------------------------------- discord.py and aiohttp


def test_discord_interaction_callback_url_is_hidden() -> None:
    url = f"https://discord.com/api/v10/interactions/{INTERACTION}/{TOKEN}/callback"
    line = shown(
        record("%s %s with %s has returned %s", "POST", url, '{"type":5}', 204),
        secrets=[SECRET],
    )
    assert TOKEN not in line
    assert line == (
        "discord.http: POST https://discord.com/api/v10/interactions/"
        f'{INTERACTION}/{HIDDEN}/callback with {{"type":5}} has returned 204'
    )


@pytest.mark.parametrize(
    "path",
    [
        f"/webhooks/{APP_ID}/{TOKEN}",
        f"/webhooks/{APP_ID}/{TOKEN}/messages/@original",
        f"/webhooks/{APP_ID}/{TOKEN}?wait=true",
    ],
)
def test_discord_followup_webhook_urls_are_hidden(path: str) -> None:
    url = f"https://discord.com/api/v10{path}"
    line = shown(
        record(
            "Webhook ID %s with %s %s has returned status code %s",
            APP_ID,
            "PATCH",
            url,
            200,
            name="discord.webhook.async_",
        )
    )
    assert TOKEN not in line
    assert f"/webhooks/{APP_ID}/{HIDDEN}" in line


def test_discord_received_data_line_is_hidden() -> None:
    url = f"http://127.0.0.1:8123/api/v10/webhooks/{APP_ID}/{TOKEN}/messages/@original"
    line = shown(record("%s %s has received %s", "GET", url, {"id": "1", "token": TOKEN}))
    assert TOKEN not in line
    assert f"'token': '{HIDDEN}'" in line


def test_aiohttp_error_with_the_url_in_its_traceback_is_hidden() -> None:
    url = f"https://discord.com/api/v10/interactions/{INTERACTION}/{TOKEN}/callback"
    try:
        raise ConnectionError(f"Cannot connect to host discord.com:443 ssl:True [{url}]")
    except ConnectionError:
        entry = record("Unhandled error in %s", url, name="aiohttp.client", exc_info=sys.exc_info())
    line = shown(entry)
    assert TOKEN not in line
    assert "Traceback" in line
    assert f"/interactions/{INTERACTION}/{HIDDEN}/callback]" in line


# ---------------------------------------------------------------- slack_sdk and slack_bolt


@pytest.mark.parametrize(
    "url",
    [
        f"https://hooks.slack.com/commands/{SLACK_PATH}",
        f"https://hooks.slack.com/actions/{SLACK_PATH}",
        f"http://127.0.0.1:8765/commands/{SLACK_PATH}",
        f"http://localhost:8765/slack/actions/{SLACK_PATH}",
    ],
)
def test_slack_response_url_in_a_webhook_request_line_is_hidden(url: str) -> None:
    body = '{"text": "G20 summit in Hamburg", "response_type": "in_channel"}'
    headers = {"Content-Type": "application/json;charset=utf-8"}
    line = shown(
        record(
            f"Sending a request - url: {url}, body: {body}, headers: {headers}",
            name="slack_sdk.webhook.async_client",
        )
    )
    assert SLACK_PATH not in line
    assert "AbCdEf" not in line
    assert f"/commands/{HIDDEN}" in line or f"/actions/{HIDDEN}" in line
    assert "body: " in line


def test_slack_response_url_inside_a_logged_payload_is_hidden() -> None:
    form = (
        "token=verificationT0ken&team_id=T0123ABCD&command=%2Fsummit&"
        f"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F{SLACK_PATH.replace('/', '%2F')}"
        "&trigger_id=123.456.abc"
    )
    as_json = (
        '{"type":"block_actions","response_url":"https:\\/\\/hooks.slack.com\\/actions\\/'
        + SLACK_PATH.replace("/", "\\/")
        + '","token":"verificationT0ken"}'
    )
    for payload in (form, as_json):
        line = shown(record("Request body: %s", payload, name="slack_bolt.App"))
        assert "AbCdEf" not in line
        assert "1234567890123" not in line
        assert "verificationT0ken" not in line
    assert "team_id=T0123ABCD" in shown(record("%s", form))  # not a secret: left alone


def test_response_url_on_a_stand_in_path_is_hidden() -> None:
    url = "http://127.0.0.1:40123/response/5f2c9e0d41aa0b77e3c21d90"
    payload = {"type": "view_submission", "response_url": url}
    line = shown(record("Payload: %s", payload, name="slack_bolt.App"))
    assert "5f2c9e0d41aa0b77e3c21d90" not in line
    assert f"'response_url': 'http://127.0.0.1:40123/{HIDDEN}'" in line


def test_ordinary_urls_are_left_alone() -> None:
    text = (
        "POST https://slack.com/api/chat.postMessage; "
        "PUT https://discord.com/api/v10/applications/123/guilds/456/commands with [] "
        "has returned 200"
    )
    assert redact(text, []) == text


# ---------------------------------------------------------------- the filter itself


def test_configured_secrets_are_hidden_in_message_and_traceback() -> None:
    try:
        raise RuntimeError(f"refused {SECRET}")
    except RuntimeError:
        entry = record("token %s rejected", SECRET, level=logging.ERROR, exc_info=sys.exc_info())
    line = shown(entry, [SECRET])
    assert SECRET not in line
    assert line.startswith(f"discord.http: token {HIDDEN} rejected")
    assert f"RuntimeError: refused {HIDDEN}" in line


def test_a_secret_containing_another_is_hidden_whole() -> None:
    assert redact("pw=abcdef", ["abcdef", "abc"]) == "pw=********"
    entry = record("%s", "pw=abcdef")
    assert shown(entry, ["abc", "abcdef"]) == "discord.http: pw=********"


def test_the_record_leaves_without_arguments_for_any_later_handler() -> None:
    entry = record("token %s and %d", SECRET, 3)
    assert Redact([SECRET]).filter(entry)
    assert entry.args is None
    assert entry.getMessage() == f"token {HIDDEN} and 3"
    assert SECRET not in repr(entry.__dict__)


def test_a_record_whose_formatting_fails_is_kept_and_redacted() -> None:
    entry = record("%s %s with %s", "POST", f"/interactions/{INTERACTION}/{TOKEN}/callback")
    line = shown(entry, [SECRET])
    assert TOKEN not in line
    assert "arguments that do not fit the message" in line
    assert f"/interactions/{INTERACTION}/{HIDDEN}/callback" in line
    bad_type = record("%d things from %s", "many", SECRET)
    line = shown(bad_type, [SECRET])
    assert SECRET not in line
    assert line.startswith("discord.http: %d things from %s (arguments that do not fit")


def test_the_stack_is_redacted() -> None:
    entry = record("posting")
    entry.stack_info = f'Stack (most recent call last):\n  File "x.py", line 1, in {SECRET}'
    assert SECRET not in shown(entry, [SECRET])


# ---------------------------------------------------------------- setup


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger and the libraries' levels after ``log.setup``."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in log.QUIET_LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, previous in levels.items():
        logging.getLogger(name).setLevel(previous)


def setup_into(level: str, secrets: list[str]) -> io.StringIO:
    """Run ``log.setup``; return what its standard-error handler writes."""
    log.setup(level, secrets=secrets)
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    return stream


@pytest.mark.usefixtures("root_logging")
def test_setup_redacts_library_debug_lines() -> None:
    output = setup_into("DEBUG", [SECRET])
    url = f"https://discord.com/api/v10/interactions/{INTERACTION}/{TOKEN}/callback"
    logging.getLogger("discord.http").debug(
        "%s %s with %s has returned %s", "POST", url, SECRET, 204
    )
    logging.getLogger("slack_sdk.webhook").debug(
        "Sending a request - url: https://hooks.slack.com/commands/%s", SLACK_PATH
    )
    text = output.getvalue()
    assert len(text.splitlines()) == 2
    assert TOKEN not in text
    assert SECRET not in text
    assert "AbCdEf" not in text


@pytest.mark.usefixtures("root_logging")
def test_setup_redacts_the_line_a_reconnect_is_folded_into() -> None:
    output = setup_into("INFO", [SECRET])
    try:
        raise ConnectionResetError(f"peer went away ({SECRET})")
    except ConnectionResetError:
        logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 1.5)
    text = output.getvalue()
    assert SECRET not in text
    assert f"(after ConnectionResetError: peer went away ({HIDDEN}))" in text
    assert len(text.splitlines()) == 1
