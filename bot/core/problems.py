"""Problems found in a brief, each naming the file, the line and the field.

Also the one way briefbot reads a brief, a seed or an attribution file:
bounded, so that a hostile file (a FIFO, ``/dev/zero``, 50 MB of text) is a
problem line rather than a hang or a huge read.
"""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


def display_path(path: Path) -> str:
    """The path as a reader would type it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def size_words(size: int) -> str:
    """``1 MiB``, ``4 MiB``, ``512 KiB`` or ``100 bytes``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


class Unreadable(Exception):
    """A file briefbot cannot or will not read; the message says why, without the path."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_limited(path: Path, limit: int) -> str:
    """The UTF-8 text of the regular file ``path``, of at most ``limit`` bytes; no leading BOM.

    The file is opened without blocking (a named pipe does not hang), checked to
    be a regular file, and read for at most ``limit + 1`` bytes. Raises
    ``Unreadable`` for anything else, and ``FileNotFoundError`` for a missing file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise Unreadable("is a directory, not a regular file") from None
    except (OSError, ValueError) as error:
        raise Unreadable(f"cannot be opened: {getattr(error, 'strerror', None) or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(f"is {_kind(mode)}, not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    except OSError as error:
        raise Unreadable(f"cannot be read: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise Unreadable(f"is larger than the {size_words(limit)} limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"is not UTF-8 text (byte {error.start + 1} cannot be read)") from None
    return text.removeprefix(BOM)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a brief."""

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line is not None:
            where = f"{where}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class BriefsInvalid(Exception):
    """The briefs cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
