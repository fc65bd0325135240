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
