"""The answer model in this process against the same GGUF behind llama-cpp-python's
OpenAI-compatible server (`python -m llama_cpp.server`), on the seed questions' index.

    python -m bench.model_server --model smollm2 --limit 10
Per question: both answers (same text? same decline? same citations?), p(NOT) from each, and
the time of each `Pipeline.ask`. For the server: the time spent in the decline gate's first
request (max_tokens=1 with top_logprobs) and in token counting (the server's tokenizer).
Questions alternate which backend goes first.
    python -m bench.model_server --model smollm2 --limit 8 --gate-cost
The decline gate's extra cost: `Pipeline.ask` through the server with and without the gate's
first request (patched out), answerable seed questions, alternating order, the server's prompt
cache flushed by an unrelated chat before each call.
Does not: start replicas or measure throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval import harness
from rag.config import Settings
from rag.generation.llama import LlamaGenerator
from rag.generation.models import resolve_model
from rag.generation.remote import OpenAIGenerator


def _timed(obj: Any, name: str, spent: list[float]) -> None:
    """Wrap `obj.name` so each call's seconds are appended to `spent`."""
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    setattr(obj, name, wrapper)


def run(model: str, limit: int, threads: int = 2) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.model_server import start_model_server, stop_model_server

    path = resolve_model(model)
    home = Path(tempfile.gettempdir()) / "rag-bench-model-server"
    base = Settings(home=home, model_path=path, n_threads=threads)
    qset = harness.load_set(harness.EvalConfig(set="seed"))
    every = harness.select(qset, None)
    questions = every[:: max(1, len(every) // limit)][:limit]  # spread over the set's types
    log = Path(tempfile.mkdtemp(prefix="rag-model-server-")) / "server.log"
    server = start_model_server(path, log)
    try:
        local_gen = LlamaGenerator(path, n_ctx=base.n_ctx, n_threads=threads)
        remote_gen = OpenAIGenerator(server.url, fallback_ctx=base.n_ctx)
        probe: list[float] = []
        counting: list[float] = []
        _timed(remote_gen, "_first_token", probe)
        _timed(remote_gen, "_n_tokens", counting)
        local = harness.open_pipeline(qset, base, generator=local_gen)
        served = harness.open_pipeline(qset, base, local.embedder, remote_gen)
        for p in (local, served):
            p.ask("Who leads ISKP?")  # warm: the kept prefix, the server's template and caches
        probe.clear()
        counting.clear()
        rows = []
        for n, q in enumerate(questions):
            order = [("local", local), ("server", served)]
            out: dict[str, Any] = {}
            for name, p in order if n % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                a = p.ask(q["question"])
                out[name] = (a, time.perf_counter() - t0)
            (a, ta), (b, tb) = out["local"], out["server"]
            rows.append(
                {
                    "id": q["id"],
                    "same_answer": a.answer == b.answer,
                    "same_declined": a.declined == b.declined,
                    "same_citations": [(c.chunk_id, c.start, c.end) for c in a.citations]
                    == [(c.chunk_id, c.start, c.end) for c in b.citations],
                    "declined": a.declined,
                    "p_decline": [a.trace.p_decline, b.trace.p_decline],
                    "local_s": round(ta, 2),
                    "server_s": round(tb, 2),
                    "local_answer": a.answer,
                    "server_answer": b.answer,
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
        return {
            "model": path.name,
            "n": len(rows),
            "same_answer": sum(r["same_answer"] for r in rows),
            "same_declined": sum(r["same_declined"] for r in rows),
            "same_citations": sum(r["same_citations"] for r in rows),
            "answered": sum(not r["declined"] for r in rows),
            "local_s_total": round(sum(r["local_s"] for r in rows), 1),
            "server_s_total": round(sum(r["server_s"] for r in rows), 1),
            "gate_first_request_s": {"n": len(probe), "total": round(sum(probe), 2)},
            "token_counting_s": {"n": len(counting), "total": round(sum(counting), 2)},
            "rows": rows,
        }
    finally:
        stop_model_server(server)


def gate_cost(model: str, limit: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.model_server import start_model_server, stop_model_server

    path = resolve_model(model)
    home = Path(tempfile.gettempdir()) / "rag-bench-model-server"
    base = Settings(home=home, model_path=path)
    qset = harness.load_set(harness.EvalConfig(set="seed"))
    questions = [q for q in harness.select(qset, None) if q["type"] != "unanswerable"][:limit]
    server = start_model_server(path, Path(tempfile.mkdtemp(prefix="rag-gate-")) / "server.log")
    try:
        gen = OpenAIGenerator(server.url, fallback_ctx=base.n_ctx)
        pipeline = harness.open_pipeline(qset, base, generator=gen)
        pipeline.ask("Who leads ISKP?")
        with_gate = gen._first_token
        flush = [{"role": "user", "content": "Say hi."}]
        rows = []
        for n, q in enumerate(questions):
            out: dict[bool, tuple[float, str]] = {}
            for gate in [True, False] if n % 2 == 0 else [False, True]:
                "".join(gen.stream(flush, 2))  # another prompt in the server's cache
                gen._first_token = with_gate if gate else lambda *a, **k: None  # type: ignore
                t0 = time.perf_counter()
                answer = pipeline.ask(q["question"]).answer
                out[gate] = (time.perf_counter() - t0, answer)
            gen._first_token = with_gate  # type: ignore[method-assign]
            rows.append(
                {
                    "id": q["id"],
                    "gate_s": round(out[True][0], 2),
                    "no_gate_s": round(out[False][0], 2),
                    "same_answer": out[True][1] == out[False][1],
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
        return {
            "model": path.name,
            "n": len(rows),
            "median_gate_s": statistics.median(r["gate_s"] for r in rows),
            "median_no_gate_s": statistics.median(r["no_gate_s"] for r in rows),
            "median_extra_s": round(
                statistics.median(r["gate_s"] - r["no_gate_s"] for r in rows), 2
            ),
            "rows": rows,
        }
    finally:
        stop_model_server(server)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--gate-cost", action="store_true", help="measure the decline gate's cost")
    args = ap.parse_args()
    result = (gate_cost if args.gate_cost else run)(args.model, args.limit)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
