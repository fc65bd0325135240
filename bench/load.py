"""The machine's load around each benchmark, and whether others' work may have skewed it.

Each benchmark records the load average (``os.getloadavg``) before and after it ran, and
what the rest of the machine used meanwhile: the CPU time all cores spent busy (``/proc/stat``,
hypervisor steal included) less the CPU time of the bench and of the bots it started and
stopped (``os.times``, children included once reaped). That difference is other processes'
work, free of the bench's own load, which the load average cannot separate and which lingers
in it for a minute after every benchmark. A benchmark during which others used more than
``LIMIT`` of each core on average was taken under load; where ``/proc/stat`` is missing, the
1-minute load average per core at its start stands in for it.
"""

import os
import time
from dataclasses import dataclass

from bench.procinfo import machine_busy_seconds, own_cpu_seconds

LIMIT = 0.25  # other processes' average CPU use per core beyond which a run is under load


@dataclass(frozen=True)
class Load:
    """The load around one benchmark."""

    before: tuple[float, float, float]  # 1-, 5- and 15-minute load averages
    after: tuple[float, float, float]
    cores: int
    others_per_core: float | None  # other processes' average CPU use per core, 0..1

    @property
    def under_load(self) -> bool:
        """Whether others' work may have skewed the figures."""
        if self.others_per_core is not None:
            return self.others_per_core > LIMIT
        return self.before[0] / self.cores > 2 * LIMIT

    def describe(self) -> str:
        """One line for the report."""
        load = f"1-min load average {self.before[0]:.2f} before, {self.after[0]:.2f} after"
        load += f" ({self.cores} cores)"
        if self.others_per_core is None:
            return load
        return f"{load}; other processes used {self.others_per_core:.0%} of each core"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "loadavg_before": list(self.before),
            "loadavg_after": list(self.after),
            "cores": self.cores,
            "others_per_core": self.others_per_core,
            "limit_per_core": LIMIT,
            "under_load": self.under_load,
        }


class LoadWatch:
    """Started before a benchmark, read after it (its bots stopped and reaped)."""

    def __init__(self) -> None:
        self.cores = os.cpu_count() or 1
        self.before = os.getloadavg()
        self.started = time.monotonic()
        self.busy = machine_busy_seconds()
        self.own = own_cpu_seconds()

    def stop(self) -> Load:
        """The load over the benchmark."""
        elapsed = time.monotonic() - self.started
        busy = machine_busy_seconds()
        others: float | None = None
        if busy is not None and self.busy is not None and elapsed > 0:
            used = (busy - self.busy) - (own_cpu_seconds() - self.own)
            others = min(max(used / (elapsed * self.cores), 0.0), 1.0)
        return Load(self.before, os.getloadavg(), self.cores, others)
