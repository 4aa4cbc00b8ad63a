"""A hand-made eval run for the report and compare tests: six records as `run_eval` leaves them
(scored by the harness's own `score`), with or without the confidence fields, reported by the
harness's own `aggregate` and `write_all`. No model is run."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from eval import report as reports
from eval.harness import aggregate, load_records, score

TIMINGS = {
    "retrieval_s": 0.02,
    "ttft_s": 0.5,
    "total_s": 1.2,
    "prompt_tokens": 300,
    "completion_tokens": 12,
}
# (id, type, reference answers, final answer or None = declined, confidence, candidate right)
CASES = [
    ("a1", "fact", ["Kabul"], "Kabul [1]", 0.9, True),
    ("a2", "fact", ["Kabul"], "Herat [1]", 0.7, False),
    ("a3", "number", ["144"], None, 0.3, True),  # a right candidate the operating point declined
    ("a4", "number", ["144"], None, None, False),  # the model declined: no candidate
    ("u1", "unanswerable", [], "Canberra [2]", 0.6, False),
    ("u2", "unanswerable", [], None, 0.2, False),
]
# ranked: 0.9 right, 0.7 wrong, 0.6 wrong, 0.3 right, 0.2 wrong, none wrong
AURC = (0 + 1 / 2 + 2 / 3 + 2 / 4 + 3 / 5 + 4 / 6) / 6
OPTIMAL = (0 + 0 + 1 / 3 + 2 / 4 + 3 / 5 + 4 / 6) / 6
ECE = (0.1 + 0.7 + 0.6 + 0.7 + 0.2) / 5  # one candidate in each of five bins
AUROC = (3 + 1) / 6  # right 0.9 is above the 3 wrong ones, right 0.3 above wrong 0.2


def records(confidence: bool, changed: dict[str, float] | None = None) -> list[dict]:
    """The six records; `changed` gives some of them another confidence ({id: confidence})."""
    out = []
    for qid, qtype, answers, final, conf, right in CASES:
        conf = (changed or {}).get(qid, conf)
        q = {
            "id": qid,
            "question": f"question {qid}?",
            "answers": answers,
            "evidence": [f"evidence for {qid}"] if answers else [],
            "type": qtype,
        }
        declined = final is None
        answer = {"answer": final or "The documents do not say.", "declined": declined}
        cites = [] if declined else [{"quote": f"evidence for {qid}"}]
        rec = {**q, **answer, "citations": cites, "timings": TIMINGS, "retrieved": []}
        rec["scores"] = score(q, {**answer, "citations": cites}, [], 4)
        if confidence:
            rec |= {"confidence": conf, "candidate_right": right}
        out.append(rec)
    return out


def write_run(folder: Path, confidence: bool, changed: dict[str, float] | None = None) -> dict:
    """records.jsonl as a run leaves it, read back and reported the way `run_eval` does."""
    folder.mkdir()
    lines = "".join(json.dumps(r) + "\n" for r in records(confidence, changed))
    (folder / "records.jsonl").write_text(lines)
    loaded = load_records(folder / "records.jsonl")
    meta = {
        "set": "hand",
        "model": "none.gguf",
        "k": 4,
        "n_questions_in_set": len(loaded),
        "limit": None,
        "finished": "now",
        "context_sentences": 6,
        "max_tokens": 200,
        "temperature": 0.0,
    }
    report = {"meta": meta, **aggregate(loaded, 4), "records": loaded}
    reports.write_all(report, folder)
    return report


def images(page: str) -> dict[str, bytes]:
    found = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    return {alt: base64.b64decode(b64) for alt, b64 in found}
