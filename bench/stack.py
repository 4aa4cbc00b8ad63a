"""Answers per minute through the stack's load balancer with 1, 2 and 4 replicas in front of one
model server, and where the CPU time goes (`python -m bench.run --only stack`).

For each replica count: `rag stack up` (api/stack.py: Postgres + pgvector on TCP, one llama.cpp
server, the replicas, HAProxy) in one folder (the database is ingested once and kept), one
warm-up question per replica, then `questions` seed questions sent at once to the load balancer
(`POST /ask`); answers per minute, latency, and the CPU seconds of each kind of process (from
/proc, children included: Postgres' backends), then `rag stack down`.
Does not: run more than one model server or another machine (docs/scaling.md estimates them from
these per-answer costs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.common import cpu_seconds

SEED = Path(__file__).resolve().parent.parent / "eval" / "questions" / "seed.jsonl"
KINDS = {"postgres": "postgres", "llm": "model server", "haproxy": "load balancer"}


def _stack(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "api.cli", "stack", *args, "--dir", str(root)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800)


def _cpu_by_kind(root: Path) -> dict[str, float]:
    from api import stack

    info = json.loads(_stack(root, "status", "--json").stdout)
    out: dict[str, float] = {}
    for name, proc in info["processes"].items():
        pid = int(proc["pid"])
        kind = KINDS.get(name, "replicas")
        total = sum(cpu_seconds(p, children=True) for p in [pid, *stack.descendants(pid)])
        out[kind] = out.get(kind, 0.0) + total
    return out


def run(
    model: str = "qwen1.5b",
    counts: tuple[int, ...] = (1, 2, 4),
    n_questions: int = 8,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    from api import stack

    rows = [json.loads(x) for x in SEED.read_text().splitlines()]
    questions = [r["question"] for r in rows if r.get("answers")][:n_questions]
    root = Path(tempfile.mkdtemp(prefix="rag-stack-bench-"))
    result: dict[str, Any] = {"model": model, "questions": len(questions), "runs": []}
    for n in counts:
        port = stack.free_port()
        log(f"stack: up with {n} replica(s)")
        t0 = time.perf_counter()
        up = _stack(root, "up", "--replicas", str(n), "--port", str(port), "--model", model)
        if up.returncode:
            raise RuntimeError(f"rag stack up failed:\n{up.stdout[-2000:]}{up.stderr[-2000:]}")
        ready_s = time.perf_counter() - t0
        url = f"http://127.0.0.1:{port}/ask"
        try:
            for i in range(n):  # round robin: one warm-up question per replica
                httpx.post(url, json={"question": questions[i]}, timeout=900).raise_for_status()
            cpu0 = _cpu_by_kind(root)

            def ask(q: str, url: str = url) -> tuple[float, bool]:
                t = time.perf_counter()
                r = httpx.post(url, json={"question": q}, timeout=1800)
                r.raise_for_status()
                return time.perf_counter() - t, bool(r.json().get("citations"))

            t1 = time.perf_counter()
            with ThreadPoolExecutor(len(questions)) as pool:
                done = list(pool.map(ask, questions))
            wall = time.perf_counter() - t1
            cpu1 = _cpu_by_kind(root)
        finally:
            log(f"stack: down ({n} replica(s))")
            _stack(root, "down")
        latencies = sorted(t for t, _ in done)
        cpu = {k: round(cpu1.get(k, 0.0) - cpu0.get(k, 0.0), 1) for k in cpu1}
        result["runs"].append(
            {
                "replicas": n,
                "ready_s": round(ready_s, 1),
                "wall_s": round(wall, 1),
                "answers_per_min": round(60 * len(questions) / wall, 2),
                "latency_p50_s": round(latencies[len(latencies) // 2], 1),
                "latency_max_s": round(latencies[-1], 1),
                "cited": sum(c for _, c in done),
                "cpu_s": cpu,
                "cpu_s_per_answer": {k: round(v / len(questions), 2) for k, v in cpu.items()},
                "load_avg": round(os.getloadavg()[0], 2),
            }
        )
        log(f"stack: {result['runs'][-1]}")
    return result
