"""Checks on the real-document question set eval/questions/realdocs.jsonl against the real files
in eval/realdocs/files, read by the project's own readers."""

from __future__ import annotations

import json
import re
from collections import Counter

from eval.metrics import tokens
from eval.sets import REALDOCS_FILES, REALDOCS_SET, read_jsonl
from eval.splits import half
from rag.ingest.documents import load_file

FIELDS = {"id", "question", "answers", "evidence", "type", "file", "unit", "group"}
UNITS = {"list", "table", "wrapped", "code", "heading", "prose", "none"}
QUESTIONS = read_jsonl(REALDOCS_SET)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_format_size_and_mix():
    for line in REALDOCS_SET.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        assert set(q) == FIELDS and q["unit"] in UNITS and q["group"] == q["file"], q["id"]
        assert (q["type"] == "unanswerable") == (q["answers"] == []) == (q["evidence"] == [])
    assert len(QUESTIONS) >= 80
    files = Counter(q["file"] for q in QUESTIONS)
    assert len(files) >= 12 and set(files) == {p.name for p in REALDOCS_FILES.iterdir()}
    units = Counter(q["unit"] for q in QUESTIONS)
    assert all(units[u] >= 5 for u in UNITS), units
    assert units["none"] / len(QUESTIONS) >= 0.15


def test_every_evidence_quote_is_in_the_text_the_readers_extract():
    texts = {}
    for q in QUESTIONS:
        if q["file"] not in texts:
            texts[q["file"]] = _fold(load_file(REALDOCS_FILES / q["file"], 50_000_000).text)
        for quote in q["evidence"]:
            assert _fold(quote) in texts[q["file"]], (q["id"], quote)


def test_no_answer_is_given_away_by_its_question():
    for q in QUESTIONS:
        asked = " ".join(tokens(q["question"]))
        for a in q["answers"]:
            assert tokens(a) and f" {' '.join(tokens(a))} " not in f" {asked} ", q["id"]


def test_halves_split_by_file_so_no_document_is_on_both_sides():
    sides = {q["file"]: half(q["group"]) for q in QUESTIONS}
    assert set(sides.values()) == {"fit", "report"}
    report = [q for q in QUESTIONS if half(q["group"]) == "report"]
    assert len(report) >= 40
    assert {p.rsplit(".", 1)[1] for p, h in sides.items() if h == "report"} >= {"pdf", "html"}


def test_rag_eval_set_realdocs_indexes_every_real_file():
    from eval.harness import EvalConfig, load_set

    qset = load_set(EvalConfig(set="realdocs"))
    assert qset.key == "realdocs" and qset.files == [REALDOCS_FILES]
    assert [q["id"] for q in qset.questions] == [q["id"] for q in QUESTIONS]
