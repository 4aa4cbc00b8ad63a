"""Checks on the curated question set eval/questions/seed.jsonl against the default corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from eval.metrics import answer_match

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "eval" / "questions" / "seed.jsonl"
CORPUS = ROOT / "corpus" / "afghanistan-counterterrorism-mei-2024.txt"
FIELDS = {"id", "question", "answers", "evidence", "type"}
TYPES = {"fact", "number", "list", "multi-hop", "unanswerable", "false-premise"}


def load() -> list[dict]:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


QUESTIONS = load()


def test_every_line_is_a_json_object_with_exactly_the_fields() -> None:
    for n, line in enumerate(SEED.read_text(encoding="utf-8").splitlines(), 1):
        item = json.loads(line)  # raises on invalid JSON; blank lines are not allowed either
        assert isinstance(item, dict), f"line {n}"
        assert set(item) == FIELDS, f"line {n}: {sorted(item)}"
        assert item["type"] in TYPES, f"line {n}: {item['type']}"
        assert isinstance(item["question"], str) and item["question"].strip(), f"line {n}"
        for key in ("answers", "evidence"):
            assert isinstance(item[key], list), f"line {n}: {key}"
            assert all(isinstance(s, str) and s.strip() for s in item[key]), f"line {n}: {key}"


def test_ids_are_unique() -> None:
    counts = Counter(q["id"] for q in QUESTIONS)
    assert [i for i, c in counts.items() if c > 1] == []


def test_size_and_type_mix() -> None:
    types = Counter(q["type"] for q in QUESTIONS)
    assert len(QUESTIONS) >= 60
    assert types["unanswerable"] / len(QUESTIONS) >= 0.15
    assert 2 <= types["false-premise"] <= 4
    assert all(types[t] > 0 for t in TYPES)


def test_unanswerable_have_no_answers_or_evidence() -> None:
    for q in QUESTIONS:
        if q["type"] == "unanswerable":
            assert q["answers"] == [] and q["evidence"] == [], q["id"]


def test_answerable_have_answers_and_evidence() -> None:
    for q in QUESTIONS:
        if q["type"] != "unanswerable":
            assert q["answers"] and q["evidence"], q["id"]


def test_no_answer_is_given_away_by_its_question() -> None:
    leaks = [q["id"] for q in QUESTIONS if answer_match(q["question"], q["answers"])]
    assert leaks == []


def test_every_evidence_quote_is_verbatim_in_the_corpus() -> None:
    assert CORPUS.exists(), f"default corpus missing: copy it to {CORPUS}"
    text = CORPUS.read_text(encoding="utf-8")
    missing = [(q["id"], e) for q in QUESTIONS for e in q["evidence"] if e not in text]
    assert missing == []
