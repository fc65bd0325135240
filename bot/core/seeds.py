"""The articles briefs are built from, and the check that every quote is in one.

``briefbot check`` reads seeds to verify quotes; the running bot reads them for
/ask's article sentences (``Seed.lines``), and answers from the brief alone when it cannot.
A brief names its seed by a path relative to itself; that path must lead,
after symbolic links, into one of the allowed roots (the briefs directory or
the seeds directory), to a regular file of at most ``MAX_SEED_BYTES``.
"""

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.problems import Unreadable, display_path, read_limited
from bot.core.text import fold
from bot.core.tomllines import shape_problem

MAX_SEED_BYTES = 4 << 20
"""The largest seed (the article's text) ``briefbot check`` reads."""
MAX_ATTRIBUTION_BYTES = 1 << 20
"""The largest attribution file (``x.source.toml``) ``briefbot check`` reads."""


@dataclass(frozen=True)
class Seed:
    """An article's text, folded for comparison, without the lines that are not evidence."""

    path: Path
    evidence: str
    boilerplate: str
    publisher: str | None
    headline: str | None
    lines: tuple[str, ...] = ()
    """The article's lines that are evidence, as published (blank ones left out)."""

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


def confined(path: Path, roots: Sequence[Path]) -> Path:
    """``path`` with symbolic links resolved; ``SeedError`` unless it lies in one of ``roots``."""
    try:
        real = path.resolve()
        allowed = [root.resolve() for root in roots]
    except (OSError, ValueError, RuntimeError) as error:  # a NUL byte, a symlink loop
        raise SeedError(f"cannot resolve {display_path(path)}: {error}") from None
    if not any(real.is_relative_to(root) for root in allowed):
        where = " or ".join(display_path(root) for root in allowed)
        raise SeedError(f"{display_path(real)} is outside the allowed seed locations ({where})")
    return real


def _read(path: Path, limit: int, what: str) -> str:
    try:
        return read_limited(path, limit)
    except FileNotFoundError:
        raise SeedError(f"{what} {display_path(path)} does not exist") from None
    except Unreadable as error:
        raise SeedError(f"{what} {display_path(path)} {error}") from None


def _attribution(about: Path) -> dict[str, object]:
    text = _read(about, MAX_ATTRIBUTION_BYTES, "attribution file")
    if (shape := shape_problem(text)) is not None:
        raise SeedError(f"cannot read {display_path(about)}:{shape[0]}: {shape[1]}")
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as error:
        raise SeedError(f"cannot read {display_path(about)}: {error}") from None


def read_seed(path: Path, roots: Sequence[Path]) -> Seed:
    """Read a seed and its attribution; raise ``SeedError`` naming the file on failure.

    Both files must resolve inside one of ``roots`` and be regular files within
    their size limits.
    """
    path = confined(path, roots)
    text = _read(path, MAX_SEED_BYTES, "seed file")
    meta: dict[str, object] = {}
    about = attribution_path(path)
    if about.exists() or about.is_symlink():
        about = confined(about, roots)
        meta = _attribution(about)
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
        lines=tuple(line.strip() for line in kept if line.strip()),
    )
