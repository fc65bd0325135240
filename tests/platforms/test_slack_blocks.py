"""Block Kit stays within Slack's limits whatever the brief holds, and says when it was cut."""

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import answer
from bot.core.commands import parse
from bot.core.dates import Precision
from bot.core.library import Library
from bot.core.reply import Countdown, Moment, Reply, Section, Source, line
from bot.platforms.slack import blocks
from bot.platforms.slack.blocks import reply_blocks, sources_blocks

START = datetime(2017, 7, 7, 8, 0, tzinfo=UTC)


def within_limits(built: list[dict[str, Any]]) -> None:
    assert 1 <= len(built) <= blocks.BLOCKS
    for block in built:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= blocks.SECTION_TEXT
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= blocks.HEADER_TEXT


def big_reply(sections: int, lines: int, width: int) -> Reply:
    return Reply(
        command="summit",
        title="T" * 300,
        summary=(line("S" * 5000),),
        sections=tuple(
            Section(f"Part {n}", tuple(line("x" * width) for _ in range(lines)))
            for n in range(sections)
        ),
        footer="F" * 100,
        sources=tuple(Source(f"point {n}", ("q" * width,)) for n in range(sections)),
    )


@settings(max_examples=60, deadline=None)
@given(
    sections=st.integers(min_value=0, max_value=80),
    lines=st.integers(min_value=1, max_value=10),
    width=st.integers(min_value=1, max_value=4000),
)
def test_any_reply_fits(sections: int, lines: int, width: int) -> None:
    reply = big_reply(sections, lines, width)
    within_limits(reply_blocks(reply, sources_at=1))
    within_limits(sources_blocks(reply))


def test_cut_content_says_so() -> None:
    built = reply_blocks(big_reply(80, 2, 100), sources_at=1)
    assert len(built) == blocks.BLOCKS
    assert any("shortened to fit Slack" in str(block) for block in built)
    assert built[-1]["type"] == "actions", "the Sources button survives the cut"


def test_dates_and_escaping() -> None:
    unix = int(START.timestamp())
    timed = Moment(START, None, Precision.MINUTE, "Europe/Berlin", "7 July 2017, 10:00 CEST")
    all_day = Moment(START, None, Precision.DAY, "Europe/Berlin", "7–8 July 2017")
    assert blocks.segment_text(timed) == (
        f"<!date^{unix}^{{date_long_pretty}} {{time}}|7 July 2017, 10:00 CEST>"
    )
    assert blocks.segment_text(all_day) == "7–8 July 2017"
    assert blocks.segment_text(Countdown(START, "in 2 months")) == "in 2 months"
    assert blocks.segment_text("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_the_summit_as_blocks(library: Library) -> None:
    reply = answer(library, parse("/summit"), datetime(2017, 4, 28, tzinfo=UTC))
    built = reply_blocks(reply, sources_at=1493337600)
    assert built[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017",
        },
    }
    text = str(built)
    assert "*Outcomes*" in text
    assert "29 memorandums of understanding" in text
    assert built[-1]["elements"][0]["value"] == "summit:1493337600::"


def mrkdwn_objects(value: Any) -> list[dict[str, Any]]:
    """Every mrkdwn text object anywhere in ``value``."""
    if isinstance(value, list):
        return [found for item in value for found in mrkdwn_objects(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("type") == "mrkdwn" else []
    return own + [found for item in value.values() for found in mrkdwn_objects(item)]


def test_every_mrkdwn_text_is_verbatim(library: Library) -> None:
    """A plain ``@here`` or ``#general`` from a brief is never parsed as a mention or link."""
    now = datetime(2017, 4, 28, tzinfo=UTC)
    replies = [
        answer(library, parse(typed), now) for typed in ("/summit", "/mous", "/next-meeting")
    ]
    replies.append(answer(library, parse("/mous area:energy"), now))
    mention = Reply(
        command="reminder",
        title="Reminder",
        summary=(line("@here see #general"),),
        sections=(Section("Why", (line("@channel"),)),),
        footer="/next-meeting",
    )
    replies += [mention, big_reply(80, 2, 100)]
    built: list[list[dict[str, Any]]] = []
    for reply in replies:
        built += [reply_blocks(reply), reply_blocks(reply, sources_at=1), sources_blocks(reply)]
    texts = mrkdwn_objects(built)
    kinds = {block["type"] for blocks_ in built for block in blocks_}
    assert {"section", "context"} <= kinds
    assert len(texts) > 50
    assert all(text.get("verbatim") is True for text in texts)
    assert any("shortened to fit Slack" in text["text"] for text in texts)
