"""Process and machine facts through psutil when it is installed, else from ``/proc``.

psutil is not one of briefbot's declared dependencies, so the suite must not need it; on Linux
both give the same numbers (psutil reads the same ``/proc`` files).
"""

import importlib
import os
from pathlib import Path
from types import ModuleType


def _psutil() -> ModuleType | None:
    try:
        return importlib.import_module("psutil")
    except ImportError:
        return None


def rss(pid: int) -> int:
    """The resident set size of process ``pid``, in bytes."""
    psutil = _psutil()
    if psutil is not None:
        return int(psutil.Process(pid).memory_info().rss)
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text(encoding="ascii").split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def total_memory() -> int:
    """The machine's RAM in bytes."""
    psutil = _psutil()
    if psutil is not None:
        return int(psutil.virtual_memory().total)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def physical_cores() -> int | None:
    """Physical cores, when psutil can tell."""
    psutil = _psutil()
    if psutil is None:
        return None
    cores = psutil.cpu_count(logical=False)
    return int(cores) if cores else None


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, all threads) process ``pid`` has used, in seconds."""
    psutil = _psutil()
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    # After the command name in parentheses: state is field 3, utime and stime 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int | None:
    """The highest resident set size process ``pid`` has reached, in bytes (Linux only)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and its children that have been waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy (all cores, not idle or waiting for I/O)."""
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal (guest time is within user)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
