"""The contradiction set (eval/questions/contradictions.json) and its judge."""

from __future__ import annotations

import json

from eval import contradictions
from rag.grounding.conflicts import NOTE


def test_the_set_is_well_formed_and_halved():
    data = json.loads(contradictions.SET_FILE.read_text())
    docs = data["documents"].values()
    conflicts = [q for q in data["questions"] if q["kind"] == "conflict"]
    assert len(conflicts) >= 20
    for q in data["questions"]:
        assert all(any(e in d for d in docs) for e in q["evidence"]), q["id"]
        for side in q.get("sides", []):
            assert any(s in e for s in side for e in q["evidence"]), q["id"]
    for kind in ("conflict", "agree"):
        halves = {q["fit"] for q in data["questions"] if q["kind"] == kind}
        assert halves == {True, False}


def test_the_judge_wants_both_sides_or_a_decline():
    q = {"kind": "conflict", "sides": [["38 metres"], ["41 m"]]}
    both = f"38 meters [1] {NOTE} “It measures 41 m.” [2]"
    assert contradictions.judge(q, {"answer": both, "declined": False})["passed"]
    assert not contradictions.judge(q, {"answer": "38 metres [1]", "declined": False})["passed"]
    assert contradictions.judge(q, {"answer": "The documents don't say.", "declined": True})[
        "passed"
    ]
    agree = {"kind": "agree", "answers": ["1911"]}
    noted = f"1911 [1] {NOTE} “It opened in 1913.” [2]"
    assert not contradictions.judge(agree, {"answer": noted, "declined": False})["passed"]
