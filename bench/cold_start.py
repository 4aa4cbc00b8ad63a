"""Cold start: a new `rag ask --json` process on the default index with the default model, timed
from spawn to exit. `startup_s` is that minus the answer's own total (imports, loading the
index, the embedding model and the GGUF). The page cache is warm after the first run (and may be
before it): the model file is not evicted, so the first run is not a cold-disk number.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import DEFAULT_CORPUS, ROOT, Settings

QUESTION = "Who leads ISKP?"


def _rag() -> str:
    exe = Path(sys.executable).parent / "rag"
    return str(exe) if exe.exists() else "rag"


def run(
    runs: int = 3, question: str = QUESTION, log: Callable[[str], None] = lambda m: None
) -> dict[str, Any]:
    settings = Settings()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if not (settings.index_dir / "CURRENT").is_file():
        log(f"cold start: building the default index from {DEFAULT_CORPUS.name} (not timed)")
        subprocess.run(
            [_rag(), "ingest", str(DEFAULT_CORPUS)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    rows = []
    for i in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [_rag(), "ask", "--json", question], cwd=ROOT, env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"rag ask failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        answer = json.loads(proc.stdout)
        t = answer["timings"]
        row = {
            "wall_s": round(wall, 2),
            "answer_total_s": t["total_s"],
            "ttft_s": t["ttft_s"],
            "startup_s": round(wall - t["total_s"], 2),
            "declined": answer["declined"],
        }
        log(f"cold start {i + 1}/{runs}: {row}")
        rows.append(row)
    return {
        "model": str(settings.model_path or settings.model),
        "question": question,
        "first_wall_s": rows[0]["wall_s"],
        "wall_s_p50": round(statistics.median(r["wall_s"] for r in rows), 2),
        "startup_s_p50": round(statistics.median(r["startup_s"] for r in rows), 2),
        "first_token_after_spawn_s_p50": round(
            statistics.median(r["startup_s"] + r["ttft_s"] for r in rows), 2
        ),
        "runs": rows,
    }
