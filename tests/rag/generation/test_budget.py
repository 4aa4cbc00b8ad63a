"""The token budget (rag/generation/budget.py) with a counter of words, then with the real model."""

from __future__ import annotations

import pytest

from rag.errors import BadQuestionError
from rag.generation.budget import MIN_REPLY, fit_answer, fit_history, trim_history


def words(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"].split()) for m in messages)


def build(question: str, sources: list[str]) -> list[dict[str, str]]:
    return [{"role": "user", "content": " ".join([*sources, question])}]


def test_sources_give_way_least_related_first_then_the_reply():
    sources = ["one " * 40, "two " * 40, "three " * 40]
    roomy = fit_answer("q", sources, build, words, n_ctx=300, max_tokens=96)
    assert roomy.sources == sources and roomy.max_tokens == 96
    fitted = fit_answer("q", sources, build, words, n_ctx=200, max_tokens=96)
    assert fitted.sources == sources and fitted.max_tokens == 200 - 121  # the reply first
    short = fit_answer("q", sources, build, words, n_ctx=100, max_tokens=96)
    assert short.sources == sources[:1] and short.max_tokens == 100 - 41  # then sources
    assert short.max_tokens >= MIN_REPLY
    cut = fit_answer("q", ["w " * 500], build, words, n_ctx=100, max_tokens=8)
    assert cut.prompt_tokens + 8 <= 100 and cut.sources[0].startswith("w w")


def test_a_question_that_cannot_fit_is_refused_in_words():
    with pytest.raises(BadQuestionError, match=r"about 300 tokens.*shorten it"):
        fit_answer("why " * 300, ["a source"], build, words, n_ctx=256, max_tokens=96)


def test_history_keeps_the_newest_turns_that_fit():
    turns = [{"role": "user", "content": f"turn {i} " + "x " * 50} for i in range(6)]
    assert [t["content"][:6] for t in trim_history(turns, 210)] == ["turn 4", "turn 5"]
    kept = fit_history(turns, lambda h: h, words, room=120)
    assert kept == turns[-2:]
    assert fit_history(turns[-1:], lambda h: h, words, room=30)[0]["content"].startswith("turn 5")
    assert fit_history(turns, lambda h: h, words, room=0) == []


def test_a_long_cjk_question_is_refused_and_a_long_conversation_answered(pipeline, docs_dir):
    pipeline.ingest([docs_dir])
    with pytest.raises(BadQuestionError, match="tokens"):
        pipeline.ask("阿富汗塔利班政权的领导人是谁" * 80)  # 1,120 characters, > 2,048 tokens
    long_turn = "Tell me everything about Mount Etna and the island of Sicily. " * 32
    history = [
        {"role": "user", "content": long_turn},
        {"role": "assistant", "content": "Mount Etna is on Sicily. " * 80},
        {"role": "user", "content": long_turn},
        {"role": "assistant", "content": "The documents don't say."},
    ]
    answer = pipeline.ask("When did it erupt?", history=history)  # 0.3.0: context overflow
    assert answer.timings.prompt_tokens + 96 <= 2048
