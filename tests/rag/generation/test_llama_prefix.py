"""The kept prompt prefix: evaluated once, restored after another prompt, loaded from disk by
the next process, and never a change to what the model says."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.generation.llama import LlamaGenerator
from rag.prompt import EXAMPLES, answer_messages, condense_messages
from tests.rag.generation.spy import counting_generator

SOURCES = ["Mount Etna is on the island of Sicily.", "It erupted in 2021 and again in 2023."]
QUESTION = "When did Mount Etna erupt?"


def _answer(gen: LlamaGenerator) -> str:
    return "".join(gen.stream(answer_messages(QUESTION, SOURCES, EXAMPLES), max_tokens=24))


def _keep(gen: LlamaGenerator, cache: Path | None) -> int:
    return gen.keep_prefix(
        answer_messages("A?", ["a."], EXAMPLES), answer_messages("B?", ["b."], EXAMPLES), cache
    )


@pytest.fixture(scope="module")
def reference() -> str:
    return _answer(counting_generator())  # no prefix kept: the plain llama.cpp path


def test_a_kept_prefix_is_restored_after_another_prompt(tmp_path: Path, reference: str):
    gen = counting_generator()
    n = _keep(gen, tmp_path)
    prompt_tokens = len(gen.tokenize(gen.render(answer_messages(QUESTION, SOURCES, EXAMPLES))[0]))
    assert 100 < n < prompt_tokens  # the instructions and examples, not the question
    assert gen.evaluated == [n]
    assert len(list(tmp_path.glob("prefix-*.kv"))) == 1

    "".join(gen.stream(condense_messages("and when?", [{"role": "user", "content": "Etna?"}])))
    gen.evaluated.clear()
    assert _answer(gen) == reference
    assert gen.evaluated[0] == prompt_tokens - n  # only the part after the prefix


def test_the_next_process_loads_the_prefix_from_disk(tmp_path: Path, reference: str):
    n = _keep(counting_generator(), tmp_path)
    gen = counting_generator()
    assert _keep(gen, tmp_path) == n
    assert gen.evaluated == []  # loaded, not evaluated
    assert _answer(gen) == reference


def test_a_damaged_prefix_file_is_replaced(tmp_path: Path, reference: str):
    n = _keep(counting_generator(), tmp_path)
    (saved,) = tmp_path.glob("prefix-*.kv")
    saved.write_bytes(b"not a llama.cpp state")
    gen = counting_generator()
    assert _keep(gen, tmp_path) == n
    assert gen.evaluated == [n]
    assert saved.stat().st_size > 1000
    assert _answer(gen) == reference


def test_fresh_evaluates_the_prompt_after_the_prefix_as_a_new_process_does():
    """A repeated prompt is evaluated again after the kept prefix (not reused from the last
    call), so an answer does not depend on what was asked before; without `fresh` llama.cpp
    reuses all but the last prompt token."""
    gen = counting_generator()
    n = _keep(gen, None)
    messages = answer_messages(QUESTION, SOURCES, EXAMPLES)
    prompt = gen.tokenize(gen.render(messages)[0])

    def prompt_tokens_evaluated(**kwargs) -> int:
        gen.evaluated.clear()
        "".join(gen.stream(messages, max_tokens=4, **kwargs))
        return gen.evaluated[0]  # the prompt's batch; generated tokens follow one by one

    first = prompt_tokens_evaluated(fresh=True)
    assert first == len(prompt) - n
    assert prompt_tokens_evaluated(fresh=True) == first
    assert prompt_tokens_evaluated() == 1  # the plain llama.cpp reuse


def test_the_prompts_a_caller_expects_have_their_prefix_kept_by_stream(tmp_path: Path):
    """The pipeline only says what its prompts look like (`expect`); keeping the prefix is the
    backend's business, done at the first reply and remembered after."""
    gen = counting_generator()
    gen.expect(
        answer_messages("A?", ["a."], EXAMPLES), answer_messages("B?", ["b."], EXAMPLES), tmp_path
    )
    assert gen.evaluated == [] and gen.prefix == []  # nothing happens before a reply
    prompt = gen.tokenize(gen.render(answer_messages(QUESTION, SOURCES, EXAMPLES))[0])
    _answer(gen)
    n = len(gen.prefix)
    assert 100 < n < len(prompt) and gen.evaluated[:2] == [n, len(prompt) - n]
    assert len(list(tmp_path.glob("prefix-*.kv"))) == 1
    gen.evaluated.clear()
    "".join(gen.stream(answer_messages(QUESTION, SOURCES, EXAMPLES), max_tokens=4, fresh=True))
    assert gen.evaluated[0] == len(prompt) - n  # kept: the prefix is not evaluated again


def test_each_kind_of_prompt_keeps_its_own_prefix(tmp_path: Path, reference: str):
    """#23: a follow-up's rewrite between two answers evaluated its whole prompt (instructions
    and worked examples) every time, and then the answer prompt's prefix was restored. Each
    kind now keeps its own: after the first reply, either kind evaluates only its variable part,
    and the answer is the one the plain path gives. A kind's prefix is evaluated when a prompt
    of that kind first comes, not before."""
    gen = counting_generator()
    gen.expect(
        answer_messages("A?", ["a."], EXAMPLES), answer_messages("B?", ["b."], EXAMPLES), tmp_path
    )
    gen.expect(
        condense_messages("A?", [{"role": "user", "content": "A?"}]),
        condense_messages("B?", [{"role": "user", "content": "B?"}]),
        tmp_path,
    )
    follow_up = condense_messages("and when?", [{"role": "user", "content": "Where is Etna?"}])
    rewrite = gen.tokenize(gen.render(follow_up)[0])
    assert _answer(gen) == reference
    assert len(list(tmp_path.glob("prefix-*.kv"))) == 1  # a kind is kept when it first comes
    "".join(gen.stream(follow_up, max_tokens=4))
    assert len(list(tmp_path.glob("prefix-*.kv"))) == 2  # both kept, on disk too
    for _ in range(2):
        gen.evaluated.clear()
        "".join(gen.stream(follow_up, max_tokens=4, fresh=True))
        assert 100 < len(rewrite) - gen.evaluated[0] < len(rewrite)  # its prefix was kept
        assert _answer(gen) == reference
