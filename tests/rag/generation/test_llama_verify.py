"""The model reads its reply back: P(yes) to "is the proposed answer correct according to the
sources?", asked on the answer prompt still in llama.cpp's KV cache, so only the proposal and the
ask are evaluated, not the sources again."""

from __future__ import annotations

import pytest

from rag.prompt import answer_messages, verify_messages
from tests.rag.generation.spy import counting_generator

SOURCES = ["Mount Etna is on the island of Sicily.", "It erupted in 2021 and again in 2023."]
QUESTION = "On which island is Mount Etna?"


def test_after_a_reply_only_the_question_about_it_is_evaluated():
    gen = counting_generator()
    messages = answer_messages(QUESTION, SOURCES)
    reply = "".join(gen.stream(messages, max_tokens=24)).strip()
    assert reply
    gen.evaluated.clear()
    in_sequence = gen.yes_probability(verify_messages(messages, reply))
    assert in_sequence is not None and 0.0 < in_sequence < 1.0
    prompt = len(gen.tokenize(gen.render(messages)[0]))
    asked = len(gen.tokenize(gen.render(verify_messages(messages, reply))[0]))
    assert sum(gen.evaluated) <= asked - prompt + 60 < prompt  # the proposal, not the sources
    # the same number as a new process that evaluates the whole chat gives
    fresh = counting_generator()
    whole = fresh.yes_probability(verify_messages(messages, reply))
    assert sum(fresh.evaluated) > prompt
    assert whole == pytest.approx(in_sequence, abs=0.03)


def test_the_next_answer_is_unchanged_by_the_question_asked_before_it():
    gen = counting_generator()
    messages = answer_messages(QUESTION, SOURCES)
    first = "".join(gen.stream(messages, max_tokens=24, fresh=True))
    gen.yes_probability(verify_messages(messages, first.strip()))
    assert "".join(gen.stream(messages, max_tokens=24, fresh=True)) == first


@pytest.mark.slow
def test_the_default_model_says_yes_to_a_stated_answer_and_no_to_another():
    gen = counting_generator("qwen1.5b")
    messages = answer_messages(QUESTION, SOURCES)
    right = gen.yes_probability(verify_messages(messages, "Mount Etna is on Sicily."))
    wrong = gen.yes_probability(verify_messages(messages, "Mount Etna is on Crete."))
    assert right is not None and wrong is not None
    assert right > 0.5 > wrong
