"""The multi-turn set (eval/questions/conversations.jsonl) and its replay (eval/conversations.py),
the last on the default 1.5B model: the page, `rag chat` and the chat endpoint make this call."""

from __future__ import annotations

import json

import pytest

from eval import conversations, splits, squad
from eval.metrics import normalize
from eval.sets import read_conversations
from rag.config import DEFAULT_CORPUS


@pytest.fixture(scope="module")
def convs() -> list[dict]:
    return read_conversations()


def _texts() -> dict[str, str]:
    texts = {"essay": DEFAULT_CORPUS.read_text(encoding="utf-8")}
    try:
        corpora = squad.load()[1]
    except Exception:  # the shared benchmarks are absent: the SQuAD turns are not checked
        return texts
    return texts | {title: next(iter(docs.values())) for title, docs in corpora.items()}


def test_the_set_is_labelled_as_its_readme_says(convs):
    texts = _texts()
    turns = [t for c in convs for t in c["turns"]]
    assert sum(c["corpus"] == "essay" for c in convs) >= 40 and len(turns) >= 150
    assert {c["corpus"] for c in convs} >= {"essay", "Normans", "Rhine"}
    for c in convs:
        for n, t in enumerate(c["turns"], 1):
            where = f"{c['id']}#{n}"
            assert t["depends"] == (t["kind"] not in ("first", "self-contained")), where
            if not t["depends"]:
                assert t["standalone"] == t["question"], where
            assert bool(t["answers"]) == (t["type"] != "unanswerable"), where
            for quote in t["evidence"]:
                if c["corpus"] in texts:
                    assert quote in texts[c["corpus"]], (where, quote)
            for a in t["answers"]:
                assert normalize(a) not in normalize(t["standalone"]), (where, a)
    kinds = [t["kind"] for t in turns]
    for kind, least in (("pronoun", 25), ("ellipsis", 15), ("about-answer", 10)):
        assert kinds.count(kind) >= least, kind
    assert kinds.count("self-contained") >= 35
    assert sum(len(c["prelude"]) >= 20 for c in convs) >= 2  # long histories before a question


def test_the_halves_follow_the_conversation(convs):
    committed = json.loads((splits.FOLDER / "conversations.json").read_text())
    assert committed == splits.split(convs)
    assert min(len(ids) for ids in committed.values()) >= 20


def test_a_search_means_the_reference_when_it_holds_every_group_of_its_key():
    key = [["injur", "wound"], ["kerman"], ["2024"]]
    assert conversations.meets("How many were wounded in the Kerman bombings of 2024?", key)
    assert not conversations.meets("How many people died in the Kerman bombing in 2024?", key)
    assert not conversations.meets("How many were injured in the Kerman attack?", key)
    qaeda = [["al-qaeda", "al qaeda"], ["leader", "amir"]]
    assert conversations.meets("Who is the amir of Al Qaeda?", qaeda)
    assert conversations.meets("Who is al-Qaeda's current leader?", qaeda)
    assert conversations.meets("Who leads ISKP and al-Qaeda's amir?", [["qaeda"], ["amir"]])


ISKP = "Who leads ISKP?"
CROCUS = "What happened at Crocus City Hall in March 2024?"
CHINESE = [
    {"role": r, "content": f"唐朝的第{n}位皇帝是谁？" if r == "user" else f"第{n}位皇帝是李某。"}
    for n in range(1, 50)
    for r in ("user", "assistant")
]  # 98 messages of another topic, in another language (the case)


def _turn(q: str, kind: str, answers: list[str], standalone: str = "") -> dict:
    return {
        "question": q,
        "depends": bool(standalone),
        "kind": kind,
        "standalone": standalone or q,
        "type": "fact",
        "answers": answers,
        "evidence": [],
    }


@pytest.mark.slow
def test_default_model_rewrites_only_the_follow_up(tmp_path, settings, embedder):
    """#13.9 and #23 on the 1.5B model, through `rag eval --set <file>`: the follow-up is
    rewritten about the latest topic and answered; the questions that stand alone are searched
    as typed and answered as they are alone, a long history in Chinese before one included.
    The reports are written, and a second run asks nothing again."""
    from eval.harness import EvalConfig

    s = settings.model_copy(update={"model": "qwen1.5b", "calibration": None})
    when = "When did the attack on Crocus City Hall happen?"
    chats = [
        {
            "id": "t1",
            "corpus": "essay",
            "turns": [
                _turn(ISKP, "first", ["Ghafari"]),
                _turn(CROCUS, "self-contained", ["144", "ISKP", "Islamic State"]),
                _turn("And when did it happen?", "pronoun", ["March 22"], when),
            ],
        },
        {
            "id": "t2",
            "corpus": "essay",
            "prelude": CHINESE,
            "turns": [_turn(ISKP, "first", ["Ghafari"])],
        },
    ]
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chats))
    cfg = EvalConfig(set=str(path), out=tmp_path / "run")
    result = conversations.run(cfg, s, embedder)
    records = result.report["records"]
    follow = records[2]
    assert follow["rewritten"] and "crocus" in follow["searched"].lower(), follow["searched"]
    assert "lead" not in follow["searched"].lower()  # not about the older topic (#13.9)
    assert follow["inside"]["correct"], follow["inside"]["answer"]
    assert records[0]["inside"]["correct"], records[0]["inside"]["answer"]
    for r in (records[1], records[3]):  # later turns that stand alone
        assert not r["condensed"] and r["searched"] == r["question"]
        assert r["same_answer"], (r["inside"]["answer"], r["alone"]["answer"])
    summary = result.report["summary"]
    assert summary["decision"]["accuracy"] == 1.0
    assert summary["self_contained"]["n"] == 2 and summary["dependent"]["n"] == 1
    assert "| dependent |" in (tmp_path / "run" / "report.md").read_text()
    again = conversations.run(cfg, s, embedder)
    assert again.asked == 0 and again.report["records"] == records
