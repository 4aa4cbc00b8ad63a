"""Replay a run's stored model replies through today's grounding, without the model (seconds).

    rag eval --reground eval/runs/seed --out eval/runs/seed-reground [--without names ...]

Every record of `<run>/records.jsonl` keeps the model's raw reply and the sentences the model was
shown (`context`: source, chunk id, span, text); replaying them through
`rag.grounding.verified` (the same code `Pipeline.ask` uses) gives the answer, citations and
scores the current grounding would give. Retrieval scores, timings and the decline gate's
probability are copied from the run.
Does not: re-ask the model (a prompt or retrieval change needs a real run), or replay records
made before they kept `context` (they are reported and left out).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eval.harness import Record, RunResult, aggregate, candidate_right, load_records, score
from rag.errors import ConfigError
from rag.grounding.checks import Policy
from rag.grounding.confidence import Calibrator, judge_with
from rag.grounding.question import parse
from rag.grounding.verified import VerifiedReply
from rag.types import Chunk, Sentence, Trace

RETRIEVAL_SCORES = ("first_relevant_rank", "hit", "rr")


def _sentences(context: list[dict[str, Any]]) -> list[Sentence]:
    out = []
    for c in context:
        chunk = Chunk(
            c["chunk_id"],
            c["source"],
            c["source"],
            "",
            c["text"],
            c["start"],
            c["end"],
            ((c["start"], c["end"]),),
        )
        out.append(Sentence(chunk, c["text"], c["start"], c["end"]))
    return out


def replay(
    rec: Record,
    min_support: float,
    policy: Policy | None = None,
    cal: Calibrator | None = None,
    min_confidence: float = 0.0,
    seen: list[dict[str, float]] | None = None,
) -> Record:
    """One record as the current grounding and confidence answer its stored reply; `seen`
    collects the first claim's features (for `make calibrate`)."""
    question = " ".join(rec["question"].split())
    context = _sentences(rec["context"])
    ranks = {r["chunk_id"]: r["rank"] for r in rec.get("retrieved", [])}
    q = parse(question)
    tokens = [(t, lp) for t, lp in rec["tokens"]] if rec.get("tokens") else None
    judge = judge_with(
        cal,
        q,
        context,
        ranks,
        lambda: rec.get("p_decline"),
        lambda: tokens,
        seen,
        p_yes=lambda: rec.get("p_yes"),
    )
    verified = VerifiedReply(
        q,
        context,
        min_support,
        policy=policy or Policy(),
        judge=judge,
        min_confidence=min_confidence,
    )
    verified.feed(rec["raw"])  # the whole reply as one piece; `finish` decides the last sentence
    answer = verified.finish(Trace(raw=rec["raw"]))
    d = answer.to_dict()
    d["timings"] = rec["timings"]
    new = {**rec, **d, "candidate": answer.trace.candidate}
    new["candidate_right"] = candidate_right(rec, answer.trace.candidate)
    scores = score(rec, d, [], 0)
    new["scores"] = {**scores, **{k: rec["scores"][k] for k in RETRIEVAL_SCORES}}
    return new


def reground(
    run: Path,
    out: Path,
    min_support: float,
    without: tuple[str, ...] = (),
    min_confidence: str | None = None,
    calibration: Path | None = None,
) -> RunResult:
    """Replay `run` (a run folder) into `out`; writes report.{json,md,html} there. `without`
    switches checks off (rag/grounding/checks.py); `min_confidence` is an operating point (a
    level or a number; default: the calibration's)."""
    from eval import report as reports

    records = load_records(run / "records.jsonl")
    meta_path = run / "run.json"
    if not records or not meta_path.is_file():
        raise ConfigError(f"{run} holds no finished eval run (records.jsonl and run.json)")
    meta = {
        "n_questions_in_set": len(records),
        "limit": None,
        **json.loads(meta_path.read_text()),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if (run / "report.json").is_file():  # the run's own description, when it finished
        meta = {**meta, **json.loads((run / "report.json").read_text())["meta"]}
    usable = [r for r in records if "context" in r and "raw" in r]
    if not usable:
        raise ConfigError(
            f"the records in {run} keep no `context`: they predate replay; run the set again"
        )
    cal = Calibrator.load(calibration)
    policy = cal.policy().with_out(without)
    threshold = cal.threshold(min_confidence)
    replayed = [replay(r, min_support, policy, cal, threshold) for r in usable]
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        **meta,
        "reground_of": str(run),
        "min_support": min_support,
        "without": list(without),
        "min_confidence": threshold,
        "left_out": len(records) - len(usable),
    }
    report = {"meta": meta, **aggregate(replayed, meta.get("k", 0)), "records": replayed}
    reports.write_all(report, out)
    with (out / "records.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in replayed)
    return RunResult(out, report, 0)
