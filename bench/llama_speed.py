"""llama.cpp speed of the installed build: prompt evaluation and generation tokens/s.

    python -m bench.llama_speed [--model PATH] [--runs 3] [--threads 2]

Evaluates the first 256 tokens of the default corpus as one batch (prompt eval), then
generates 64 tokens greedily one at a time (generation), `runs` times; reports medians and
the CPU features the build was compiled with (`llama_print_system_info`). To compare builds,
run it once per build with that build first on `PYTHONPATH` (docs/performance.md).
Does not: include model loading, sampling overhead of `create_completion`, or the prompt cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import DEFAULT_CORPUS


def run(
    model: Path | None = None, runs: int = 3, threads: int = 2, log: Any = None
) -> dict[str, Any]:
    from llama_cpp import Llama, llama_print_system_info

    from rag.generation.models import resolve_model

    path = model or resolve_model("qwen1.5b")
    llm = Llama(
        model_path=str(path),
        n_ctx=1024,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        verbose=False,
    )
    prompt = llm.tokenize(DEFAULT_CORPUS.read_text().encode())[:256]
    n_gen = 64
    pp: list[float] = []
    tg: list[float] = []
    for i in range(runs):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        pp.append(len(prompt) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(n_gen):
            llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
        tg.append(n_gen / (time.perf_counter() - t0))
        if log:
            log(
                f"llama speed run {i + 1}/{runs}: prompt {pp[-1]:.1f} tok/s, gen {tg[-1]:.1f} tok/s"
            )
    info = llama_print_system_info()
    features = info.decode() if isinstance(info, bytes) else str(info)
    return {
        "model": path.name,
        "threads": threads,
        "prompt_tokens": len(prompt),
        "gen_tokens": n_gen,
        "runs": runs,
        "prompt_tok_s": round(statistics.median(pp), 1),
        "gen_tok_s": round(statistics.median(tg), 1),
        "features": " ".join(
            part.strip() for part in features.split("|") if part.strip().endswith("= 1")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.llama_speed", description=__doc__)
    ap.add_argument("--model", type=Path, default=None, help="a GGUF (default: qwen1.5b)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    from bench.common import machine

    result = run(args.model, args.runs, args.threads)
    print(json.dumps({"machine": machine(), "result": result}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
