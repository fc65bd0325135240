"""A plain-text rendering of a reply, for logs, ``ask --json`` and any plain channel."""

from bot.core.reply import Reply, plain


def render(reply: Reply) -> str:
    """The whole reply as plain text: title, summary, sections, footer."""
    parts = [reply.title, ""]
    parts.extend(plain(summary) for summary in reply.summary)
    for section in reply.sections:
        parts.extend(["", f"{section.title}:"])
        parts.extend(f"- {plain(entry)}" for entry in section.lines)
    if reply.footer:
        parts.extend(["", reply.footer])
    return "\n".join(parts)


def render_sources(reply: Reply) -> str:
    """The evidence behind each point of a reply, as plain text."""
    parts: list[str] = []
    for source in reply.sources:
        parts.append(f"{source.point}:")
        parts.extend(f"  \u201c{quote}\u201d" for quote in source.quotes)
        for ref in source.external:
            where = f" <{ref.url}>" if ref.url else ""
            parts.append(f"  From outside the article: {ref.title}{where}. {ref.reason}")
    return "\n".join(parts)
