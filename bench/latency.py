"""Answer latency on the seed questions: each question through `Pipeline.ask` (via the eval
harness's `ask_one`, so answers are scored too), on the seed set's own index.

Reports p50/p95 of retrieval, prompt tokens, time to first token, total and tokens/s, and the
share answered correctly (a quality guard: faster must not mean worse).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common import p50_p95
from eval import harness
from rag.config import Settings

TARGETS = {"ttft_p50_s": 4.0, "total_p50_s": 8.0}
WARM_UP = "What is this document about?"


def run(
    limit: int | None = None,
    settings: Settings | None = None,
    generator: Any = None,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    base = settings or Settings()
    qset = harness.load_set(harness.EvalConfig(set="seed"))
    questions = harness.select(qset, limit)
    pipeline = harness.open_pipeline(qset, base, generator=generator, log=log)
    k = base.k
    t0 = time.perf_counter()
    _ = pipeline.generator  # load the model before timing
    load_s = time.perf_counter() - t0
    pipeline.ask(WARM_UP, k=k)  # first call: caches the system prompt, warms the allocator
    records = []
    for n, q in enumerate(questions, 1):
        rec = harness.ask_one(pipeline, q, k)
        records.append(rec)
        t = rec["timings"]
        log(f"latency {n}/{len(questions)}: ttft {t['ttft_s']:.2f}s total {t['total_s']:.2f}s")
    generated = [r["timings"] for r in records if r["timings"]["prompt_tokens"]]
    writing = [(t, t["total_s"] - t["ttft_s"] - t.get("check_s", 0.0)) for t in generated]
    rates = [t["completion_tokens"] / w for t, w in writing if w > 0]
    summary = harness.aggregate(records, k)["summary"]
    lat = summary["latency"]
    out = {
        "model": str(base.model_path or base.model),
        "n": len(records),
        "n_generated": len(generated),
        "model_load_s": round(load_s, 2),
        "retrieval_s": p50_p95(r["timings"]["retrieval_s"] for r in records),
        "prompt_tokens": p50_p95((t["prompt_tokens"] for t in generated), 1),
        "completion_tokens": p50_p95((t["completion_tokens"] for t in generated), 1),
        "ttft_s": {"p50": lat["ttft_s_p50"], "p95": lat["ttft_s_p95"]},
        "total_s": {"p50": lat["total_s_p50"], "p95": lat["total_s_p95"]},
        "tokens_per_s": p50_p95(rates, 2),
        "check_s": p50_p95((t.get("check_s", 0.0) for t in generated if t.get("check_s")), 2),
        "correct": summary["correct"],
        "targets": TARGETS,
    }
    out["meets_targets"] = {
        "ttft_p50_s": out["ttft_s"]["p50"] is not None and out["ttft_s"]["p50"] <= 4.0,
        "total_p50_s": out["total_s"]["p50"] is not None and out["total_s"]["p50"] <= 8.0,
    }
    out["questions"] = [
        {"id": r["id"], "correct": r["scores"]["correct"], **r["timings"]} for r in records
    ]
    return out
