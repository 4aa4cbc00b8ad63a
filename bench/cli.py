"""The command line as a user meets it: whole `rag` processes timed from outside (spawn -> exit),
median of `runs` after one warm-up run, with each process's CPU time and peak memory.

Commands: `rag --help`, `rag list`, and `rag ask --json QUESTION` twice — cold (no resident
server: this process loads the index and the models) and resident (a `rag serve` for the same
index answers; its own peak memory is reported beside). The index is built from `corpus/` in a
temporary RAG_HOME (not timed). `root` runs another checkout's code (PYTHONPATH) with the same
harness, e.g. the previous release for a before/after table; a checkout without a resident
answerer gets the cold rows only.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import DEFAULT_CORPUS, ROOT

QUESTION = "Who leads ISKP?"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _env(root: Path, home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}


def cli_module(root: Path) -> str:
    """The CLI's module in checkout `root`: `api.cli`, or `rag.cli` before it moved (0.3.x)."""
    return "api.cli" if (root / "api" / "cli.py").is_file() else "rag.cli"


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One process: wall seconds, CPU seconds (user + system), peak RSS (MiB), stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        # `python -m` puts the working directory first on sys.path: run inside the checkout
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=env["PYTHONPATH"])
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed ({proc.returncode}): {stderr[-800:]}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "stdout": stdout,
    }


def measure(
    cmd: list[str], env: dict[str, str], runs: int, log: Callable[[str], None]
) -> dict[str, Any]:
    timed(cmd, env)  # warm-up: page cache, saved prompt state
    rows = [timed(cmd, env) for _ in range(runs)]
    row: dict[str, Any] = {
        key: round(statistics.median(r[key] for r in rows), 3)
        for key in ("wall_s", "cpu_s", "peak_mib")
    }
    row["walls"] = [r["wall_s"] for r in rows]
    if cmd[-1] == QUESTION:
        answers = [json.loads(r["stdout"]) for r in rows]
        row["ttft_s"] = statistics.median(a["timings"]["ttft_s"] for a in answers)
        row["answer_total_s"] = statistics.median(a["timings"]["total_s"] for a in answers)
        row["prompt_tokens"] = answers[0]["timings"]["prompt_tokens"]
        row["answer"] = {k: v for k, v in answers[0].items() if k != "timings"}
    row["load"] = _load()
    log(f"{' '.join(cmd[3:])}: {row['wall_s']} s wall (runs {row['walls']}, load {row['load']})")
    return row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(rag: list[str], env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    with log_path.open("w") as fh:
        proc = subprocess.Popen(
            [*rag, "serve", "--port", str(port)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=env["PYTHONPATH"],
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited: {log_path.read_text()[-800:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("rag serve was not ready in 300 s")


def _peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    return round(kb / 1024, 1)


def run(
    runs: int = 5,
    root: Path = ROOT,
    home: Path | None = None,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    home = home or Path(tempfile.mkdtemp(prefix="rag-bench-cli-")) / "home"
    env = _env(root, home)
    rag = [sys.executable, "-m", cli_module(root)]
    if not (home / "index" / "CURRENT").is_file():
        log(f"cli: indexing {DEFAULT_CORPUS.name} into {home} (not timed)")
        timed([*rag, "ingest", str(DEFAULT_CORPUS)], env)
    (home / "serve.json").unlink(missing_ok=True)
    result: dict[str, Any] = {"root": str(root), "runs": runs, "question": QUESTION}
    result["help"] = measure([*rag, "--help"], env, runs, log)
    result["list"] = measure([*rag, "list"], env, runs, log)
    result["ask_cold"] = measure([*rag, "ask", "--json", QUESTION], env, runs, log)
    if (root / "rag" / "resident.py").is_file():
        server, port = _serve(rag, env, home.parent / "serve.log")
        try:
            asked = (home.parent / "serve.log").read_text().count("POST /ask")
            row = measure([*rag, "ask", "--json", QUESTION], env, runs, log)
            answered = (home.parent / "serve.log").read_text().count("POST /ask") - asked
            if answered != runs + 1:
                raise RuntimeError(f"rag serve answered {answered} of {runs + 1} questions")
            row["server_peak_mib"] = _peak_mib(server.pid)
            row["port"] = port
            result["ask_resident"] = row
        finally:
            server.terminate()
            server.wait(timeout=30)
    return result
