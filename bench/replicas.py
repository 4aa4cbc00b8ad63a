"""Answer throughput of 1 vs 2 `rag serve` replicas in front of one model server.

    python -m bench.replicas [--model qwen1.5b] [--questions 8]

Starts llama-cpp-python's OpenAI-compatible server (2 threads) and one or two `rag serve`
replicas on loopback (RAG_LLM_URL; one files index, ingested once), sends the same questions at
once (split over the replicas), and reports answers per minute, latency, and where the CPU time
went (the model server's process against the replicas'), read from /proc.
Does not: measure more than one model server, or a network between the processes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.common import cpu_seconds
from rag.config import DEFAULT_CORPUS
from rag.generation.models import resolve_model

SEED = Path(__file__).resolve().parent.parent / "eval" / "questions" / "seed.jsonl"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready")


def run(model: str, n_questions: int) -> dict[str, Any]:
    questions = [json.loads(x)["question"] for x in SEED.read_text().splitlines()[:n_questions]]
    tmp = Path(tempfile.mkdtemp(prefix="rag-replicas-"))
    env = {**os.environ, "RAG_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", str(DEFAULT_CORPUS)],
        env=env,
        check=True,
        capture_output=True,
    )
    mport = _port()
    log = (tmp / "model.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_model(model)),
         "--host", "127.0.0.1", "--port", str(mport), "--n_ctx", "2048", "--n_threads", "2",
         "--n_threads_batch", "2", "--verbose", "False", "--interrupt_requests", "False"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    results: dict[str, Any] = {"model": model, "questions": len(questions), "runs": {}}
    try:
        _wait(f"http://127.0.0.1:{mport}/v1/models", server, "model server")
        env["RAG_LLM_URL"] = f"http://127.0.0.1:{mport}/v1"
        for n in (1, 2):
            ports = [_port() for _ in range(n)]
            reps = [
                subprocess.Popen(
                    [sys.executable, "-m", "api.cli", "serve", "--port", str(p)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                for p in ports
            ]
            try:
                for p, r in zip(ports, reps, strict=True):
                    _wait(f"http://127.0.0.1:{p}/readyz", r, "replica")
                httpx.post(f"http://127.0.0.1:{ports[0]}/ask", json={"question": "warm up?"},
                           timeout=300)  # fmt: skip
                cpu0 = {
                    "model": cpu_seconds(server.pid),
                    "replicas": sum(cpu_seconds(r.pid) for r in reps),
                }

                def ask(i: int, ports: list[int] = ports) -> float:
                    t = time.perf_counter()
                    url = f"http://127.0.0.1:{ports[i % len(ports)]}/ask"
                    httpx.post(url, json={"question": questions[i]}, timeout=600).raise_for_status()
                    return time.perf_counter() - t

                t0 = time.perf_counter()
                with ThreadPoolExecutor(len(questions)) as pool:
                    latencies = sorted(pool.map(ask, range(len(questions))))
                wall = time.perf_counter() - t0
                cpu = {
                    "model": cpu_seconds(server.pid) - cpu0["model"],
                    "replicas": sum(cpu_seconds(r.pid) for r in reps) - cpu0["replicas"],
                }
                results["runs"][f"{n} replica(s)"] = {
                    "wall_s": round(wall, 2),
                    "answers_per_min": round(60 * len(questions) / wall, 2),
                    "latency_p50_s": round(latencies[len(latencies) // 2], 2),
                    "latency_max_s": round(latencies[-1], 2),
                    "cpu_s_model_server": round(cpu["model"], 2),
                    "cpu_s_replicas": round(cpu["replicas"], 2),
                }
            finally:
                for r in reps:
                    r.terminate()
                    r.wait(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    ap.add_argument("--model", default="qwen1.5b")
    ap.add_argument("--questions", type=int, default=8)
    args = ap.parse_args()
    out = run(args.model, args.questions)
    print(json.dumps(out, indent=1))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
