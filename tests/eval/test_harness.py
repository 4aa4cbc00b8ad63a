"""The evaluation harness: a real 5-question run on the 135M model (reports, resume), compare,
and the ClapNQ loader on the real shared files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from eval import clapnq
from eval.compare import compare, format_compare
from eval.harness import EvalConfig, QuestionSet, run_eval, select, strip_markers
from rag.config import Settings
from rag.errors import ConfigError

QUESTIONS = [
    {
        "id": "q1",
        "question": "When did Joe Biden give the press conference where he defended his "
        "Afghanistan record?",
        "answers": ["July 2023"],
        "evidence": [
            "At a July 2023 press conference, President Joe Biden somewhat angrily defended his "
            "record"
        ],
        "type": "fact",
    },
    {
        "id": "q2",
        "question": "What is the capital city of Australia?",
        "answers": [],
        "evidence": [],
        "type": "unanswerable",
    },
    {
        "id": "q3",
        "question": "What was the death toll of the Crocus City Hall attack near Moscow?",
        "answers": ["144", "144 people"],
        "evidence": [
            "the March 22, 2024, attack on the Crocus City Hall near Moscow that killed 144"
        ],
        "type": "number",
    },
    {
        "id": "q4",
        "question": "Who is the US Special Representative for Afghanistan quoted in the essay?",
        "answers": ["Thomas West", "West"],
        "evidence": ["US Special Representative for Afghanistan Thomas West testified"],
        "type": "fact",
    },
    {
        "id": "q5",
        "question": "How many people were injured in the Crocus City Hall attack?",
        "answers": [],
        "evidence": [],
        "type": "unanswerable",
    },
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, embedder, small_generator):
    """--limit 3, then the full set into the same folder (which must resume)."""
    tmp = tmp_path_factory.mktemp("harness")
    qfile = tmp / "five.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    settings = Settings(home=tmp / "home", model="smollm2")
    out = tmp / "run"
    asked: list[str] = []

    def go(limit: int | None):
        cfg = EvalConfig(set=str(qfile), out=out, k=4, limit=limit)
        return run_eval(
            cfg, settings, embedder, small_generator, lambda n, t, r: asked.append(r["id"])
        )

    first = go(3)
    lines_after_first = (out / "records.jsonl").read_text().splitlines()
    second = go(None)
    return out, first, second, lines_after_first, asked, settings


def test_run_writes_all_three_reports_with_the_expected_fields(runs):
    out, _, second, _, _, settings = runs
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(second.report))
    assert {"meta", "summary", "by_type", "records"} <= set(report)
    s = report["summary"]
    assert s["n"] == 5 and s["k"] == 4
    for section, keys in {
        "retrieval": {"hit_at_k", "mrr"},
        "answers": {"match", "token_f1", "rouge_l"},
        "citations": {"precision", "recall", "with_citation"},
        "abstention": {"decline_rate_unanswerable", "false_decline_rate_answerable"},
        "latency": {"retrieval_s_p50", "ttft_s_p95", "total_s_p95", "tokens_per_s_mean"},
    }.items():
        assert keys <= set(s[section]), section
    assert s["abstention"]["n_unanswerable"] == 2 and s["abstention"]["n_answerable"] == 3
    assert s["retrieval"]["hit_at_k"] is not None and s["retrieval"]["mrr"] is not None
    assert set(report["by_type"]) == {"fact", "number", "unanswerable"}
    assert [r["id"] for r in report["records"]] == [q["id"] for q in QUESTIONS]
    for r in report["records"]:
        assert {"answer", "declined", "citations", "timings", "retrieved", "scores"} <= set(r)
        assert len(r["retrieved"]) == 4
        assert r["timings"]["total_s"] > 0
        assert isinstance(r["scores"]["correct"], bool)
        if r["type"] == "unanswerable":
            assert r["scores"]["hit"] is None and r["scores"]["correct"] == r["declined"]
    biden = report["records"][0]
    assert biden["scores"]["first_relevant_rank"] is not None  # retrieval finds the evidence
    md = (out / "report.md").read_text()
    assert "hit@k" in md and "By question type" in md and "unanswerable" in md
    page = (out / "report.html").read_text()
    plots = 3 + 2 * report["selective"]["confidence"]  # + risk-coverage and reliability
    assert page.count("data:image/png;base64,") == plots and "<table>" in page
    assert (settings.home / "eval-index").is_dir()  # the cached index, not the user's index


def test_an_interrupted_run_resumes_without_asking_again(runs):
    out, first, second, lines_after_first, asked, _ = runs
    assert first.asked == 3 and second.asked == 2
    assert asked == ["q1", "q2", "q3", "q4", "q5"]  # every question asked exactly once
    lines = (out / "records.jsonl").read_text().splitlines()
    assert len(lines) == 5 and lines[:3] == lines_after_first


def test_strip_markers_before_matching():
    assert strip_markers("It was in July 2023 [1][2]. Then 144 died [3].") == (
        "It was in July 2023. Then 144 died."
    )


def _report(correct: dict[str, bool], hit: float) -> dict:
    records = [
        {
            "id": i,
            "type": "fact",
            "question": f"q {i}?",
            "answer": f"a {i}",
            "declined": False,
            "scores": {"correct": c},
        }
        for i, c in correct.items()
    ]
    summary = {"n": len(records), "correct": sum(correct.values()) / len(records)}
    return {"summary": {**summary, "retrieval": {"hit_at_k": hit, "mrr": None}}, "records": records}


def test_compare_prints_deltas_and_flips(tmp_path):
    a = _report({"x": True, "y": False, "z": True}, 0.5)
    b = _report({"x": True, "y": True, "z": False, "w": True}, 0.75)
    result = compare(a, b)
    rows = {name: (va, vb, d) for name, va, vb, d in result["metrics"]}
    assert rows["retrieval.hit_at_k"] == (0.5, 0.75, 0.25)
    assert "retrieval.mrr" not in rows  # undefined in both: not a metric to compare
    assert rows["n"] == (3.0, 4.0, 1.0)
    assert result["common"] == 3
    assert {(f["id"], f["now_correct"]) for f in result["flipped"]} == {("y", True), ("z", False)}
    text = format_compare(result, "A", "B")
    assert "+0.25" in text and "now correct: y" in text and "now wrong: z" in text
    # and through the command line, on files
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    done = _rag("eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    assert "retrieval.hit_at_k" in done.stdout and "now wrong: z" in done.stdout


def _rag(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_MODEL": "smollm2"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_clapnq_folder_is_one_clear_line(tmp_path):
    with pytest.raises(ConfigError, match="ClapNQ data not found"):
        clapnq.load(tmp_path / "nowhere")
    done = _rag("eval", "--set", "clapnq", "--clapnq-dir", str(tmp_path / "nowhere"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ClapNQ data not found" in lines[0], done.stderr


CLAPNQ = clapnq.default_dir()


@pytest.mark.skipif(not CLAPNQ.is_dir(), reason="shared ClapNQ folder not present")
def test_clapnq_loader_maps_the_real_files():
    questions, passages = clapnq.load(CLAPNQ)
    kinds = [q["type"] for q in questions]
    assert kinds.count("answerable") == 300 and kinds.count("unanswerable") == 300
    assert len(passages) == 600 and len({q["id"] for q in questions}) == 600
    for q in questions:
        assert {"id", "question", "answers", "evidence", "type", "gold_source"} <= set(q)
        assert q["gold_source"] in passages
        if q["type"] == "answerable":
            assert len(q["answers"]) == 1 and q["answers"][0]
        else:
            assert q["answers"] == [] and q["evidence"] == []
    no_evidence = [q for q in questions if q["type"] == "answerable" and not q["evidence"]]
    assert len(no_evidence) == 1  # one answerable item has no selected_sentences in the data
    first = questions[0]
    assert first["question"].startswith("which method of forecasting")
    assert passages[first["gold_source"]].startswith("Forecasting\nSeasonality")

    qset = QuestionSet("clapnq", questions, passages=passages, stratified=True)
    ten, forty = select(qset, 10), select(qset, 40)
    assert [q["type"] for q in ten].count("unanswerable") == 5
    assert {q["id"] for q in ten} <= {q["id"] for q in forty}  # fixed seed: nested samples
    assert select(qset, 10) == ten
