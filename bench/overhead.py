"""Pipeline overhead: `Pipeline.ask` against llama-cpp-python called directly with the identical
final prompt and max_tokens, in the same process, alternating which goes first.

The prompt is the pipeline's own: a `LlamaGenerator` subclass records the messages `ask` passes
to `stream` (nothing is rebuilt here), and `LlamaGenerator.render` turns them into the prompt
text. A first, "dry" pass records each question's messages without generating; the timed pass
checks the pipeline sent the same messages again. Before every timed call the llama.cpp KV cache
is reset to the kept prompt prefix (instructions and examples, see `LlamaGenerator.keep_prefix`),
so both sides start from the same state and neither reuses the other's prompt evaluation.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from eval import harness
from rag.config import Settings
from rag.generation.base import Generation
from rag.generation.llama import LlamaGenerator
from rag.generation.models import resolve_model

TARGET = 1.05


class RecordingGenerator(LlamaGenerator):
    """A LlamaGenerator that remembers what it was asked; `dry` skips the generation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[list[dict[str, str]], int, float]] = []
        self.dry = False

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 96,
        temperature: float = 0.0,
        stats: Generation | None = None,
        fresh: bool = False,
        decline_below: float | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        self.calls.append(([dict(m) for m in messages], max_tokens, temperature))
        if self.dry:
            return iter(())
        return super().stream(
            messages, max_tokens, temperature, stats, fresh, decline_below, **kwargs
        )


def _sample(questions: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    answerable = [q for q in questions if q["type"] != "unanswerable"] or questions
    step = max(1, len(answerable) // n)
    return answerable[::step][:n]


def run(
    n: int = 16,
    settings: Settings | None = None,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    base = settings or Settings()
    qset = harness.load_set(harness.EvalConfig(set="seed"))
    path = base.model_path or resolve_model(base.model)
    gen = RecordingGenerator(path, n_ctx=base.n_ctx, n_threads=base.n_threads)
    pipeline = harness.open_pipeline(qset, base, generator=gen, log=log)
    questions = _sample(qset.questions, n)

    gen.dry = True  # record every question's final messages
    prompts: list[tuple[dict[str, Any], list[dict[str, str]], int, float]] = []
    for q in questions:
        gen.calls.clear()
        pipeline.ask(q["question"])
        if gen.calls:  # no context sentences: nothing is generated, nothing to compare
            prompts.append((q, *gen.calls[-1]))
    gen.dry = False
    pipeline.ask(harness.select(qset, 1)[0]["question"])  # warm-up, untimed

    rows = []
    for i, (q, messages, max_tokens, temperature) in enumerate(prompts):
        prompt, stops = gen.render(messages)
        row: dict[str, Any] = {"id": q["id"], "prompt_tokens": gen.count_tokens(prompt)}

        def via_pipeline(
            row: dict[str, Any] = row,
            q: dict[str, Any] = q,
            messages: list[dict[str, str]] = messages,
        ) -> None:
            gen.llm.reset()
            gen.restore_prefix()
            gen.calls.clear()
            t0 = time.perf_counter()
            ans = pipeline.ask(q["question"])
            row["pipeline_s"] = time.perf_counter() - t0
            row["pipeline_retrieval_s"] = ans.timings.retrieval_s
            row["pipeline_completion_tokens"] = ans.timings.completion_tokens
            row["pipeline_raw"] = ans.trace.raw
            row["same_prompt"] = bool(gen.calls) and gen.calls[-1][0] == messages

        def direct(
            row: dict[str, Any] = row,
            prompt: str = prompt,
            stops: list[str] = stops,
            max_tokens: int = max_tokens,
            temperature: float = temperature,
        ) -> None:
            gen.llm.reset()
            gen.restore_prefix()
            t0 = time.perf_counter()
            out: Any = gen.llm.create_completion(
                prompt, max_tokens=max_tokens, temperature=temperature, top_k=1, stop=stops
            )
            row["direct_s"] = time.perf_counter() - t0
            row["direct_completion_tokens"] = out["usage"]["completion_tokens"]
            row["direct_raw"] = out["choices"][0]["text"].strip()

        for call in (via_pipeline, direct) if i % 2 == 0 else (direct, via_pipeline):
            call()
        row["ratio"] = row["pipeline_s"] / row["direct_s"]
        row["same_output"] = row.pop("pipeline_raw") == row.pop("direct_raw")
        log(f"overhead {i + 1}/{len(prompts)}: {row}")
        rows.append(row)

    if not rows:
        return {"n": 0, "rows": []}
    med_p = statistics.median(r["pipeline_s"] for r in rows)
    med_d = statistics.median(r["direct_s"] for r in rows)
    ratio = med_p / med_d
    med_r = statistics.median(r["pipeline_retrieval_s"] for r in rows)
    # the decline gate can change the reply (e.g. NOT FOUND masked): compare equal work only
    same = [r for r in rows if r["same_output"]] or rows
    return {
        "model": str(base.model_path or base.model),
        "n": len(rows),
        "pipeline_s_p50": round(med_p, 3),
        "direct_s_p50": round(med_d, 3),
        "ratio_of_medians": round(ratio, 3),
        "median_paired_ratio": round(statistics.median(r["ratio"] for r in rows), 3),
        "same_prompt": all(r["same_prompt"] for r in rows),
        "same_output": sum(r["same_output"] for r in rows),
        "retrieval_s_p50": round(med_r, 3),
        "ratio_without_retrieval": round((med_p - med_r) / med_d, 3),
        "same_output_median_paired_ratio": round(statistics.median(r["ratio"] for r in same), 3),
        "same_output_paired_ratio_without_retrieval": round(
            statistics.median(
                (r["pipeline_s"] - r["pipeline_retrieval_s"]) / r["direct_s"] for r in same
            ),
            3,
        ),
        "same_output_extra_s_p50": round(
            statistics.median(r["pipeline_s"] - r["direct_s"] for r in same), 3
        ),
        "target_ratio": TARGET,
        "meets_target": statistics.median(r["ratio"] for r in same) <= TARGET,
        "rows": [
            {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in rows
        ],
    }
