"""What a benchmark ran on, said one way by every benchmark: on a shared, loaded host its figures mean
little without the processor, the cores and the Python that made them."""

from __future__ import annotations

import datetime
import os
import platform


def processor() -> str:
    """The processor's model name (Linux), which says more than the CPU count on a shared host."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    except OSError:
        models = []
    return models[0] if models else platform.machine() or "unknown processor"


def summary() -> str:
    """The words after *Machine:* in a report: architecture, cores, Python and the day."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" {datetime.date.today().isoformat()}"
    )


def facts() -> dict[str, object]:
    """The same for a JSON result, with the processor and the day."""
    return {
        "nproc": os.cpu_count(),
        "cpu": processor(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }
