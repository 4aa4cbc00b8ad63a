"""Contradictions: does an answer show both sides when two passages disagree?

`eval/questions/contradictions.json` (our writing): 18 made-up documents on 9 subjects, indexed
together; 31 "conflict" questions (two passages give different values: both sides' strings are
listed) and 31 "agree" controls (a value stated once, twice alike, or near-misses: another year,
the district not the town). Halves by subject (`fit` on each question).

A conflict answer passes when it declines or holds a string of each side; an agree answer is
right when it holds its answer and adds no "another source says otherwise" note.

    python -m eval.contradictions --split report --out eval/runs/contradictions-report
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import ROOT, Settings
from rag.grounding.conflicts import NOTE

SET_FILE = ROOT / "eval" / "questions" / "contradictions.json"


def load(split: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    data = json.loads(SET_FILE.read_text())
    questions = [q for q in data["questions"] if split == "all" or q["fit"] == (split == "fit")]
    return questions, data["documents"]


def _has(text: str, strings: list[str]) -> bool:
    """One of `strings` is in `text`, or the number one of them gives ("38 metres" is shown by
    "38 meters": the model's spelling of the unit is not the point)."""
    low = text.lower()
    if any(s.lower() in low for s in strings):
        return True
    given = {n for s in strings for n in re.findall(r"\d[\d,.]*\d|\d", s)}
    return bool(given & set(re.findall(r"\d[\d,.]*\d|\d", text)))


def judge(q: dict[str, Any], answer: dict[str, Any]) -> dict[str, bool]:
    text, declined = answer["answer"], answer["declined"]
    noted = NOTE in text
    if q["kind"] == "conflict":
        both = not declined and all(_has(text, side) for side in q["sides"])
        return {"both_sides": both, "declined": declined, "passed": both or declined}
    right = not declined and _has(text, q["answers"]) and not noted
    return {"right": right, "declined": declined, "false_conflict": noted, "passed": right}


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("conflict", "agree"):
        rows = [r for r in records if r["kind"] == kind]
        if not rows:
            continue
        n = len(rows)
        part = {"questions": n, "passed": sum(r["scores"]["passed"] for r in rows) / n}
        for key in ("both_sides", "declined", "right", "false_conflict"):
            if key in rows[0]["scores"]:
                part[key] = sum(r["scores"][key] for r in rows) / n
        out[kind] = part
    return out


def rejudge(split: str, out: Path) -> dict[str, Any]:
    """Score a run's records again (after a change to the judge), without asking anything."""
    questions = {q["id"]: q for q in load(split)[0]}
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    for r in records:
        r["scores"] = judge(questions[r["id"]], {"answer": r["answer"], "declined": r["declined"]})
    (out / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    report = {**json.loads((out / "report.json").read_text()), **summarize(records)}
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def run(split: str, out: Path, settings: Settings | None = None) -> dict[str, Any]:
    from eval.harness import QuestionSet, open_pipeline

    questions, documents = load(split)
    settings = settings or Settings()
    pipeline = open_pipeline(QuestionSet("contradictions", [], passages=documents), settings)
    records = []
    for q in questions:
        t0 = time.perf_counter()
        answer = pipeline.ask(q["question"]).to_dict()
        records.append(
            {
                "id": q["id"],
                "kind": q["kind"],
                "question": q["question"],
                "answer": answer["answer"],
                "declined": answer["declined"],
                "citations": [c["quote"] for c in answer["citations"]],
                "scores": judge(q, answer),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        sys.stderr.write(f"{q['id']} {records[-1]['scores']} {answer['answer'][:160]!r}\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    report = {"split": split, "model": settings.model, **summarize(records)}
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.contradictions")
    parser.add_argument("--split", choices=("fit", "report", "all"), default="report")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rejudge", action="store_true", help="score --out's records again")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "eval" / "runs" / f"contradictions-{args.split}"
    if args.rejudge:
        sys.stdout.write(json.dumps(rejudge(args.split, out), indent=1) + "\n")
        return 0
    sys.stdout.write(json.dumps(run(args.split, out), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
