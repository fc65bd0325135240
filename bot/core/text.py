"""Text folding used to compare a brief's quotes with the article they cite."""

import re

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Fold typographic quotes to straight ones and every run of whitespace to one space."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()
