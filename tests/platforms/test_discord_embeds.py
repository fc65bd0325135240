"""Embeds stay within Discord's limits whatever the brief holds, and say when they were cut."""

from datetime import UTC, datetime
from typing import Any

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.dates import Precision
from bot.core.reply import Countdown, Direction, Moment, Reply, Section, Source, line
from bot.platforms.discord import embeds
from bot.platforms.discord.embeds import reply_embeds, sources_embeds

START = datetime(2017, 7, 7, 8, 0, tzinfo=UTC)


def sizes_ok(built: list[discord.Embed]) -> None:
    assert 1 <= len(built) <= embeds.EMBEDS
    total = 0
    for embed in built:
        data: dict[str, Any] = dict(embed.to_dict())
        assert len(data.get("title", "")) <= embeds.TITLE
        assert len(data.get("description") or "") <= embeds.DESCRIPTION
        assert len(data.get("fields", [])) <= embeds.FIELDS
        for field in data.get("fields", []):
            assert 1 <= len(field["name"]) <= embeds.FIELD_NAME
            assert 1 <= len(field["value"]) <= embeds.FIELD_VALUE
        assert len(data.get("footer", {}).get("text", "")) <= embeds.FOOTER
        total += len(embed)
    assert total <= embeds.TOTAL


def big_reply(sections: int, lines: int, width: int) -> Reply:
    return Reply(
        command="summit",
        title="T" * 300,
        summary=(line("S" * 5000),),
        sections=tuple(
            Section(f"Section {n} " + "n" * 300, tuple(line("x" * width) for _ in range(lines)))
            for n in range(sections)
        ),
        footer="F" * 2100,
        sources=tuple(Source(f"point {n}", ("q" * width,)) for n in range(sections)),
    )


@settings(max_examples=60, deadline=None)
@given(
    sections=st.integers(min_value=0, max_value=60),
    lines=st.integers(min_value=1, max_value=12),
    width=st.integers(min_value=1, max_value=2000),
)
def test_any_reply_fits(sections: int, lines: int, width: int) -> None:
    reply = big_reply(sections, lines, width)
    sizes_ok(reply_embeds(reply))
    sizes_ok(sources_embeds(reply))


def test_cut_content_says_so() -> None:
    built = reply_embeds(big_reply(40, 10, 400))
    last = built[-1].to_dict()
    assert last["fields"][-1]["name"] == "More"
    assert "shortened to fit Discord" in last["fields"][-1]["value"]
    assert built[0].title is not None
    assert built[0].title.endswith("…")


def test_long_section_continues_in_a_second_field() -> None:
    reply = Reply(
        "mous", "t", (line("s"),), (Section("Areas", tuple(line("a" * 300) for _ in range(6))),)
    )
    names = [field.name for field in reply_embeds(reply)[0].fields]
    assert names == ["Areas", "Areas (continued)"]


def test_timed_moments_use_discord_timestamps_and_all_day_stay_text() -> None:
    unix = int(START.timestamp())
    timed = Moment(START, None, Precision.MINUTE, "Europe/Berlin", "7 July 2017, 10:00 CEST")
    all_day = Moment(START, None, Precision.DAY, "Europe/Berlin", "7–8 July 2017")
    assert embeds.segment_text(timed) == f"<t:{unix}:F>"
    assert embeds.segment_text(all_day) == "7–8 July 2017"
    assert embeds.segment_text(Countdown(START, "in 2 months")) == f"<t:{unix}:R>"
    assert embeds.segment_text(Countdown(START, "ended 3 days ago", Direction.SINCE)) == (
        f"ended <t:{unix}:R>"
    )
    assert embeds.segment_text(Countdown(START, "happening now", Direction.ONGOING)) == (
        "happening now"
    )
    assert embeds.segment_text(Countdown(START, "tomorrow", live=False)) == "tomorrow"


def test_brief_text_cannot_format_or_ping() -> None:
    assert embeds.segment_text("*bold* @everyone") == "\\*bold\\* @everyone"


def test_render_cache_reuses_an_answer_within_its_minute() -> None:
    from pathlib import Path

    from bot.core.commands import Invocation
    from bot.core.loading import load_library
    from bot.platforms.cache import RenderCache

    briefs = Path(__file__).resolve().parents[2] / "briefs"
    library = load_library(briefs)
    cache = RenderCache(lambda reply, _now: reply_embeds(reply), size=2)
    minute = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
    first = cache.get(library, Invocation("summit"), minute)
    assert cache.get(library, Invocation("summit"), minute) is not None
    assert cache.get(library, Invocation("summit"), minute)[1] is first[1], "same minute: reused"
    later = cache.get(library, Invocation("next-meeting"), minute.replace(month=7, day=7))
    assert "happening now" in str([e.to_dict() for e in later[1]])
    reloaded = load_library(briefs)
    assert cache.get(reloaded, Invocation("summit"), minute)[1] is not first[1], "new briefs"
