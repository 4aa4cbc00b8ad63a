"""SQuAD 2.0 as per-article corpora and the fixed fit/report halves of every labelled set, on
the real shared files; one real run of two SQuAD questions on the 135M model."""

from __future__ import annotations

import json

import pytest

from eval import splits, squad
from eval.harness import EvalConfig, run_eval
from rag.config import Settings
from rag.errors import ConfigError

needs_squad = pytest.mark.skipif(
    not (squad.default_dir() / squad.FILE).is_file(), reason="../shared/benchmarks/squad2 absent"
)


@needs_squad
def test_squad_articles_are_corpora_of_their_own_and_evidence_holds_the_answer():
    questions, corpora = squad.load()
    assert len(questions) == 1124 and sum(q["type"] == "unanswerable" for q in questions) == 541
    assert set(corpora) == {"Normans", "Computational_complexity_theory", "Rhine"}
    assert all(len(docs) == 1 for docs in corpora.values())  # one document per article
    for q in questions:
        text = next(iter(corpora[q["corpus"]].values()))
        if q["type"] == "unanswerable":
            assert q["answers"] == [] and q["evidence"] == []
        else:
            assert any(a in " ".join(q["evidence"]) for a in q["answers"]), q
            assert all(e in text for e in q["evidence"])


def test_the_committed_halves_are_what_the_split_gives_and_no_group_straddles():
    for name, questions in splits.labelled_sets().items():
        committed = json.loads((splits.FOLDER / f"{name}.json").read_text())
        assert committed == splits.split(questions), f"eval/splits/{name}.json drifted"
        side: dict[str, str] = {}
        for q in questions:
            h = "fit" if q["id"] in set(committed["fit"]) else "report"
            assert side.setdefault(splits.group_of(q), h) == h
        assert committed["fit"] and committed["report"]


def test_a_bad_half_says_which_exist():
    with pytest.raises(ConfigError, match="fit, report"):
        splits.pick([{"id": "a"}], "train")


@needs_squad
def test_a_squad_run_asks_against_the_questions_own_article(tmp_path, embedder, small_generator):
    settings = Settings(home=tmp_path / "home", model="smollm2")
    cfg = EvalConfig(set="squad2", out=tmp_path / "run", k=4, limit=2, split="report")
    result = run_eval(cfg, settings, embedder, small_generator)
    records = result.report["records"]
    assert len(records) == 2 and result.report["meta"]["split"] == "report"
    report_ids = set(json.loads((splits.FOLDER / "squad2.json").read_text())["report"])
    for r in records:
        assert r["id"] in report_ids
        assert {h["source"] for h in r["retrieved"]} == {f"{r['corpus']}.txt"}
        assert r["context"] and all(c["text"] for c in r["context"])  # replayable
        assert r["p_decline"] is not None and 0 <= r["p_decline"] <= 1
    assert (settings.home / "eval-index" / "squad2" / records[0]["corpus"]).is_dir()
