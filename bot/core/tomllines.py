"""Find the line of a TOML file on which a field is written.

``tomllib`` gives values without positions, so this scanner reads the file's
table headers, keys and one-item-per-line arrays to map a field path such as
``mous.areas[2].quotes[0]`` to its line. It understands the layout the brief
format documents; for anything else it falls back to the nearest enclosing
field it can place.
"""

import re

_AOT = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*)$""")
_ITEM = re.compile(r"""^\s*["'{]""")


def _parts(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".")]


class LineIndex:
    """Field path → 1-based line number for one TOML document."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        self._scan(text)

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of the nearest enclosing field that has one."""
        while path:
            if path in self._lines:
                return self._lines[path]
            path = re.sub(r"(\[\d+\]|\.[^.\[\]]+|^[^.\[\]]+)$", "", path)
        return None

    def _scan(self, text: str) -> None:
        counts: dict[str, int] = {}
        table = ""
        array: tuple[str, int] | None = None  # open multi-line array: its path, next index
        for number, line in enumerate(text.splitlines(), start=1):
            if array is not None:
                if line.strip().startswith("]"):
                    array = None
                elif _ITEM.match(line):
                    path, index = array
                    self._lines.setdefault(f"{path}[{index}]", number)
                    array = (path, index + 1)
                continue
            if match := _AOT.match(line):
                base = self._resolve(_parts(match.group(1))[:-1], counts)
                name = _parts(match.group(1))[-1]
                key = f"{base}.{name}" if base else name
                counts[key] = counts.get(key, -1) + 1
                table = f"{key}[{counts[key]}]"
                self._lines.setdefault(key, number)
                self._lines[table] = number
            elif match := _TABLE.match(line):
                table = self._resolve(_parts(match.group(1)), counts)
                self._lines.setdefault(table, number)
            elif match := _KEY.match(line):
                name = match.group(1).strip("\"'")
                path = f"{table}.{name}" if table else name
                self._lines.setdefault(path, number)
                rest = match.group(2).strip()
                if rest.startswith("[") and not _closes(rest):
                    array = (path, 0)

    @staticmethod
    def _resolve(parts: list[str], counts: dict[str, int]) -> str:
        """Turn a header's dotted name into a concrete path with array indexes."""
        path = ""
        for part in parts:
            path = f"{path}.{part}" if path else part
            if path in counts:
                path = f"{path}[{counts[path]}]"
        return path


def _closes(rest: str) -> bool:
    """Whether an array that opens on this line also closes on it (ignoring strings)."""
    depth = 0
    quote = ""
    for char in rest:
        if quote:
            if char == quote:
                quote = ""
        elif char == "#":
            break
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
    return depth <= 0
