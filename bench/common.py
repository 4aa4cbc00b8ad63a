"""Small helpers shared by the benchmarks: timing summaries, the machine, resident memory."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable
from typing import Any

from eval.metrics import percentile


def p50_p95(values: Iterable[float], digits: int = 4) -> dict[str, float | None]:
    xs = [float(v) for v in values]
    out: dict[str, float | None] = {}
    for p in (50, 95):
        v = percentile(xs, p)
        out[f"p{p}"] = None if v is None else round(v, digits)
    return out


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its waited-for children), from /proc;
    0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = (11, 12, 13, 14) if children else (11, 12)
    return sum(int(fields[i]) for i in ticks) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            names = (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
            cpu = next(names, "")
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(next(ln.split()[1] for ln in fh if ln.startswith("MemTotal"))) * 1024
    except (OSError, StopIteration):
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gb": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    for mod in ("faiss", "llama_cpp", "torch", "sentence_transformers"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - informational only
            info[mod] = None
    return info
