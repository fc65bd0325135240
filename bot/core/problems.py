"""Problems found in a brief, each naming the file, the line and the field."""

import os
from dataclasses import dataclass
from pathlib import Path


def display_path(path: Path) -> str:
    """The path as a reader would type it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


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
