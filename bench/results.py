"""What a benchmark reports: tables for people, numbers and ratios for machines, targets."""

from dataclasses import dataclass, field
from typing import Any

from bench.load import Load

Cell = float | int | str | None

OK = "ok"
NOT_BUILT = "not built"
FAILED = "failed"


@dataclass
class Table:
    """A titled table; ``None`` cells print as a dash."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def add(self, *cells: Cell) -> None:
        """Append a row."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(list(cells))


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``measured`` must not exceed ``limit``.

    A ``limit`` of ``None`` marks a figure reported beside the targets for information only
    (the issue sets no number for it): it is neither met nor missed.
    """

    name: str
    measured: float | None
    limit: float | None
    unit: str = "×"

    @property
    def informational(self) -> bool:
        """Whether this is a figure without a limit, reported for information only."""
        return self.limit is None

    @property
    def met(self) -> bool:
        """Whether the measurement is within the limit (an absent one, or no limit, is not)."""
        return self.measured is not None and self.limit is not None and self.measured <= self.limit


@dataclass
class BenchResult:
    """One benchmark's outcome.

    ``results`` holds its headline numbers and ``ratios`` its ratios (ours/baseline, or to a
    lower bound), both flat and numeric for ``--json``; ``tables`` are what people read.
    """

    name: str
    title: str
    status: str = OK
    results: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float | None] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: Load | None = None

    @property
    def under_load(self) -> bool:
        """Whether the machine was busy with other work while this ran."""
        return self.load is not None and self.load.under_load

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "load": self.load.to_json() if self.load else None,
            "results": self.results,
            "ratios": self.ratios,
            "targets": [
                {
                    "name": t.name,
                    "measured": t.measured,
                    "limit": t.limit,
                    "unit": t.unit,
                    "met": None if t.informational else t.met,
                    "informational": t.informational,
                }
                for t in self.targets
            ],
            "tables": [
                {"title": t.title, "columns": t.columns, "rows": t.rows} for t in self.tables
            ],
            "notes": self.notes,
        }
