"""Find the line of a TOML file on which a field is written.

``tomllib`` gives values without positions, so this scanner reads the file's
table headers, keys and one-item-per-line arrays to map a field path such as
``mous.areas[2].quotes[0]`` to its line. It understands the layout the brief
format documents; for anything else it falls back to the nearest enclosing
field it can place.

``shape_problem`` is the scan made before parsing: lines too long, arrays or
inline tables nested too deep, dotted keys of too many parts, NUL bytes.
"""

import re

# No lazy group before ``\s*``: a header of many spaces would backtrack quadratically.
_AOT = re.compile(r"^\s*\[\[([^\]]+)\]\]")
_TABLE = re.compile(r"^\s*\[([^\]\[]+)\]")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*)$""")
_ITEM = re.compile(r"""^\s*["'{]""")


def _parts(dotted: str) -> list[str]:
    """``a . "b"`` → ``['a', 'b']``."""
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


MAX_LINE = 20_000
"""The longest line a TOML file may have, in characters."""
MAX_DEPTH = 32
"""How deep arrays and inline tables may nest (``[[[...]]]``, ``{a = {b = ...}}``)."""
MAX_KEY_PARTS = 32
"""The most parts a dotted key or table name may have (``a.b.c`` has 3)."""

_NORMAL = re.compile(r"[\[{]+|[\]}]+|\.+|[=,\"'#\n]")  # runs of brackets at once
_BASIC = re.compile(r"[\"\\]")
_MULTI_BASIC = re.compile(r"\\.|\"\"\"", re.DOTALL)


def shape_problem(text: str) -> tuple[int, str] | None:
    """The first line on which ``text`` is too long, too deep or too dotted, and why.

    A linear scan made before parsing, outside strings and comments: ``tomllib``
    recurses once per nesting level and is slow on keys of many parts, so such
    a file is refused before it is parsed. ``None`` when the shape is fine.
    """
    if (nul := text.find("\0")) >= 0:
        return _line(text, nul), "the file holds a NUL byte: it is not text"
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE:
            return number, f"line is longer than {MAX_LINE:,} characters"
    depth = 0
    parts = 1
    position = 0
    while match := _NORMAL.search(text, position):
        found = match.group()
        char = found[0]
        position = match.end()
        if char in "[{":
            depth += len(found)
            parts = 1
            if depth > MAX_DEPTH:
                message = f"arrays or inline tables nest deeper than {MAX_DEPTH}"
                return _line(text, position), message
        elif char in "]}":
            depth = max(depth - len(found), 0)
            parts = 1
        elif char == ".":
            parts += len(found)
            if parts > MAX_KEY_PARTS:
                message = f"a dotted key has more than {MAX_KEY_PARTS} parts"
                return _line(text, position), message
        elif char in "=,\n":
            parts = 1
        else:
            position = _skip(text, match.start(), char)
    return None


def _skip(text: str, start: int, char: str) -> int:
    """The position after the comment or string that begins at ``start``.

    An unclosed single-line string ends at its line's end: ``tomllib`` reports it.
    """
    if char == "#":
        end = text.find("\n", start)
        return len(text) if end < 0 else end
    if text.startswith(char * 3, start):
        if char == "'":
            end = text.find("'''", start + 3)
            end = len(text) if end < 0 else end + 3
        else:
            end = len(text)
            position = start + 3
            while match := _MULTI_BASIC.search(text, position):
                position = match.end()
                if match.group() == '"""':
                    end = position
                    break
        for _ in range(2):  # up to two quotes of the content may touch the closing ones
            if text.startswith(char, end):
                end += 1
        return end
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if char == "'":
        end = text.find("'", start + 1, line_end)
        return line_end if end < 0 else end + 1
    position = start + 1
    while match := _BASIC.search(text, position, line_end):
        if match.group() == '"':
            return match.end()
        position = match.end() + 1  # a backslash escapes the next character
    return line_end


def _line(text: str, position: int) -> int:
    """The 1-based line of ``position``."""
    return text.count("\n", 0, position) + 1
