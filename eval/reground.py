"""Replay a run's stored model replies through today's grounding, without the model (seconds).

    rag eval --reground eval/runs/seed --out eval/runs/seed-reground

Every record of `<run>/records.jsonl` keeps the model's raw reply and the sentences the model was
shown (`context`: source, chunk id, span, text); replaying them through `rag.verified` (the same
code `Pipeline.ask` uses) gives the answer, citations and scores the current grounding would
give. Retrieval scores, timings and the decline gate's probability are copied from the run.
Does not: re-ask the model (a prompt or retrieval change needs a real run), or replay records
made before they kept `context` (they are reported and left out).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eval.harness import Record, RunResult, aggregate, load_records, score
from rag.errors import ConfigError
from rag.types import Chunk, Sentence
from rag.verified import VerifiedReply

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


def replay(rec: Record, min_support: float) -> Record:
    """One record as the current grounding answers its stored reply."""
    question = " ".join(rec["question"].split())
    verified = VerifiedReply(question, _sentences(rec["context"]), min_support)
    verified.feed(rec["raw"])  # the whole reply as one piece; `finish` decides the last sentence
    answer = verified.finish([], rec["raw"])
    d = answer.to_dict()
    d["timings"] = rec["timings"]
    new = {**rec, **d}
    scores = score(rec, d, [], 0)
    new["scores"] = {**scores, **{k: rec["scores"][k] for k in RETRIEVAL_SCORES}}
    return new


def reground(run: Path, out: Path, min_support: float) -> RunResult:
    """Replay `run` (a run folder) into `out`; writes report.{json,md,html} there."""
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
    replayed = [replay(r, min_support) for r in usable]
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        **meta,
        "reground_of": str(run),
        "min_support": min_support,
        "left_out": len(records) - len(usable),
    }
    report = {"meta": meta, **aggregate(replayed, meta.get("k", 0)), "records": replayed}
    reports.write_all(report, out)
    with (out / "records.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in replayed)
    return RunResult(out, report, 0)
