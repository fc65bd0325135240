"""The articles briefs are built from, and the check that every quote is in one.

Only ``briefbot check`` reads seeds; the running bot works from briefs alone.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.core.problems import display_path
from bot.core.text import fold


@dataclass(frozen=True)
class Seed:
    """An article's text, folded for comparison, without the lines that are not evidence."""

    path: Path
    evidence: str
    boilerplate: str
    publisher: str | None
    headline: str | None

    def find(self, quote: str) -> str | None:
        """``None`` when ``quote`` is the article's own words; otherwise what is wrong."""
        folded = fold(quote)
        if folded in self.evidence:
            return None
        if folded in self.boilerplate:
            return f"quote is site boilerplate in {display_path(self.path)}, not evidence"
        return f"quote not found in {display_path(self.path)}"


class SeedError(Exception):
    """A seed or its attribution file cannot be read."""


def attribution_path(seed: Path) -> Path:
    """``seeds/x.txt`` → ``seeds/x.source.toml``."""
    return seed.with_suffix(".source.toml")


def read_seed(path: Path) -> Seed:
    """Read a seed and its attribution; raise ``SeedError`` naming the file on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"seed file {display_path(path)} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(f"cannot read seed file {display_path(path)}: {error}") from None
    meta: dict[str, object] = {}
    about = attribution_path(path)
    if about.exists():
        try:
            meta = tomllib.loads(about.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise SeedError(f"cannot read {display_path(about)}: {error}") from None
    raw_excluded = meta.get("not_evidence", [])
    if not isinstance(raw_excluded, list) or not all(isinstance(x, str) for x in raw_excluded):
        raise SeedError(f"{display_path(about)}: not_evidence must be a list of strings")
    excluded = {fold(line) for line in raw_excluded}
    kept: list[str] = []
    dropped: list[str] = []
    for line in text.splitlines():
        (dropped if fold(line) in excluded else kept).append(line)
    publisher = meta.get("publisher")
    headline = meta.get("headline")
    return Seed(
        path=path,
        evidence=fold("\n".join(kept)),
        boilerplate=fold("\n".join(dropped)),
        publisher=publisher if isinstance(publisher, str) else None,
        headline=headline if isinstance(headline, str) else None,
    )
