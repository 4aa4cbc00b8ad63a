"""`rag eval --reground`: a real run on the 135M model, replayed through grounding without the
model — the same answers when nothing changed, a decline when the support is taken away."""

from __future__ import annotations

import json

import pytest

from eval.harness import EvalConfig, run_eval
from eval.reground import reground
from rag.config import Settings
from rag.errors import ConfigError

QUESTIONS = [
    {
        "id": "r1",
        "question": "What was the death toll of the Crocus City Hall attack near Moscow?",
        "answers": ["144"],
        "evidence": [
            "the March 22, 2024, attack on the Crocus City Hall near Moscow that killed 144"
        ],
        "type": "number",
    },
    {
        "id": "r2",
        "question": "Who is the US Special Representative for Afghanistan quoted in the essay?",
        "answers": ["Thomas West"],
        "evidence": ["US Special Representative for Afghanistan Thomas West testified"],
        "type": "fact",
    },
    {
        "id": "r3",
        "question": "What is the capital city of Australia?",
        "answers": [],
        "evidence": [],
        "type": "unanswerable",
    },
]


@pytest.fixture(scope="module")
def run(tmp_path_factory, embedder, small_generator):
    tmp = tmp_path_factory.mktemp("reground")
    qfile = tmp / "three.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    settings = Settings(home=tmp / "home", model="smollm2")
    out = tmp / "run"
    run_eval(EvalConfig(set=str(qfile), out=out, k=4), settings, embedder, small_generator)
    return out, settings


def test_a_replay_of_an_unchanged_pipeline_gives_the_same_answers(run, tmp_path):
    out, settings = run
    result = reground(out, tmp_path / "again", settings.min_support)
    before = json.loads((out / "report.json").read_text())["records"]
    after = result.report["records"]
    assert [r["id"] for r in after] == [q["id"] for q in QUESTIONS]
    for a, b in zip(before, after, strict=True):
        assert (a["answer"], a["declined"], a["citations"]) == (
            b["answer"],
            b["declined"],
            b["citations"],
        )
        assert a["scores"] == b["scores"]
    assert (tmp_path / "again" / "report.md").is_file()
    assert result.report["meta"]["reground_of"] == str(out)


def test_the_same_reply_is_an_answer_with_its_support_and_a_decline_without(run, tmp_path):
    out, settings = run
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    west = next(r for r in records if r["id"] == "r2")
    assert any("Thomas West" in c["text"] for c in west["context"])  # retrieval found it
    west["raw"] = "Thomas West is the US Special Representative for Afghanistan."

    def replay(context: list[dict]) -> dict:
        folder = tmp_path / str(len(context))
        folder.mkdir()
        (folder / "run.json").write_text((out / "run.json").read_text())
        (folder / "records.jsonl").write_text(json.dumps({**west, "context": context}) + "\n")
        return reground(folder, folder / "out", settings.min_support).report["records"][0]

    kept = replay(west["context"])
    assert not kept["declined"] and "Thomas West" in kept["answer"] and kept["citations"]
    assert kept["scores"]["correct"] is True
    cut = replay([c for c in west["context"] if "West" not in c["text"]])
    assert cut["declined"] and not cut["citations"] and cut["scores"]["correct"] is False


def test_a_folder_without_a_run_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no finished eval run"):
        reground(tmp_path, tmp_path / "out", 0.5)
