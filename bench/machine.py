"""The machine a run was measured on: CPU, cores, memory, Python, OS, libraries."""

import os
import platform
from importlib import metadata
from pathlib import Path

from bench.procinfo import physical_cores, total_memory


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
                return f"{name} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def describe() -> dict[str, str]:
    """What to print above the results."""
    memory = total_memory() / 1024**3
    physical = physical_cores()
    return {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical" + (f", {physical} physical" if physical else ""),
        "ram": f"{memory:.1f} GiB",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": _os_name(),
        "discord.py": metadata.version("discord.py"),
    }
