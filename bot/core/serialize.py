"""A reply as JSON-ready data, for ``briefbot ask --json`` and other programs."""

from datetime import datetime
from typing import Any

from bot.core.plaintext import render
from bot.core.reply import ChannelRef, Countdown, Line, Moment, Reply, plain


def _segments(segments: Line) -> list[Any]:
    out: list[Any] = []
    for segment in segments:
        if isinstance(segment, Moment):
            out.append(
                {
                    "moment": segment.words,
                    "start": segment.start.isoformat(),
                    "end": segment.end.isoformat() if segment.end else None,
                    "precision": segment.precision.value,
                    "time_zone": segment.time_zone,
                }
            )
        elif isinstance(segment, Countdown):
            out.append({"countdown": segment.words, "target": segment.target.isoformat()})
        elif isinstance(segment, ChannelRef):
            out.append({"channel": segment.words, "platform": segment.platform})
        else:
            out.append(segment)
    return out


def reply_to_json(reply: Reply, now: datetime) -> dict[str, Any]:
    """Everything in ``reply``: plain text for reading, structure for programs."""
    return {
        "command": f"/{reply.command}",
        "options": dict(reply.options),
        "brief": reply.brief_id,
        "now": now.isoformat(),
        "title": reply.title,
        "summary": "\n".join(plain(summary) for summary in reply.summary),
        "text": render(reply),
        "sections": [
            {
                "title": section.title,
                "lines": [plain(entry) for entry in section.lines],
                "parts": [_segments(entry) for entry in section.lines],
            }
            for section in reply.sections
        ],
        "footer": reply.footer,
        "sources": [
            {
                "point": source.point,
                "quotes": list(source.quotes),
                "external": [
                    {"title": ref.title, "url": ref.url, "reason": ref.reason}
                    for ref in source.external
                ],
            }
            for source in reply.sources
        ],
    }
