"""The answer model on a server (rag/generation/remote.py) against a real one: llama-cpp-python's
OpenAI-compatible server serving the same 135M GGUF as the in-process backend. Same token
counts, the same decline gate, the same answers to seed questions at temperature 0."""

from __future__ import annotations

import json

import pytest

from rag.config import DEFAULT_CORPUS, ROOT
from rag.generation.base import Generation
from rag.generation.factory import make_generator
from rag.generation.remote import OpenAIGenerator
from rag.pipeline import Pipeline
from rag.prompt import EXAMPLES, answer_messages, condense_messages, verify_messages
from tests.conftest import borrowed_calibration

SOURCES = ["Mount Etna is on the island of Sicily.", "It erupted in 2021 and again in 2023."]
CHATS = [
    answer_messages("When did Mount Etna erupt?", SOURCES, ()),
    answer_messages("When did Mount Etna erupt?", SOURCES, EXAMPLES),
    answer_messages("埃特纳火山什么时候喷发? 🌋", ["埃特纳火山位于西西里岛。"], ()),
    condense_messages(
        "and how many died?",
        [
            {"role": "user", "content": "Who attacked Kabul airport?"},
            {"role": "assistant", "content": "ISKP did [1]."},
        ],
    ),
]
# two worked examples that decline: the model's first token is "NOT" with p ~0.8
DECLINE = [
    {
        "role": "system",
        "content": "Answer from the sources only; if they do not say, reply exactly: NOT FOUND",
    },
    {
        "role": "user",
        "content": "Sources:\n[1] The ferry leaves at noon.\n\nQuestion: Who painted it?",
    },
    {"role": "assistant", "content": "NOT FOUND"},
    {
        "role": "user",
        "content": "Sources:\n[1] Owls hunt at night.\n\nQuestion: When was it built?",
    },
    {"role": "assistant", "content": "NOT FOUND"},
    {
        "role": "user",
        "content": "Sources:\n[1] The river is wide.\n\nQuestion: Who built the bridge?",
    },
]


@pytest.fixture(scope="module")
def remote(model_server) -> OpenAIGenerator:
    return OpenAIGenerator(model_server.url)


@pytest.mark.parametrize("n", range(len(CHATS)))
def test_counts_are_the_in_process_tokenizer_s(remote, small_generator, n):
    assert remote.count(CHATS[n]) == small_generator.count(CHATS[n])


def test_the_context_window_comes_from_the_setting_else_rag_n_ctx(model_server):
    # llama-cpp-python's server does not say its n_ctx (no /props): RAG_N_CTX stands in
    assert OpenAIGenerator(model_server.url, fallback_ctx=1536).n_ctx() == 1536
    assert OpenAIGenerator(model_server.url, n_ctx=4096, fallback_ctx=1536).n_ctx() == 4096


def test_the_factory_picks_the_server_when_rag_llm_url_is_set(model_server, settings):
    gen = make_generator(settings.model_copy(update={"llm_url": model_server.url}))
    assert isinstance(gen, OpenAIGenerator) and gen.model().endswith(".gguf")


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_the_decline_gate_acts_as_in_process(remote, small_generator, threshold):
    """p(NOT) ~0.8: threshold 0.5 lets both decline; 0.9 masks NOT at the first token, and both
    write the same other thing."""
    out = []
    for gen in (remote, small_generator):
        stats = Generation()
        with gen.lock:
            text = "".join(gen.stream(DECLINE, 8, 0.0, stats, True, decline_below=threshold))
        out.append((text, stats.p_decline))
    (remote_text, remote_p), (local_text, local_p) = out
    assert remote_p is not None and local_p is not None and 0.5 < local_p < 0.9
    assert remote_p == pytest.approx(local_p, abs=0.02)
    assert remote_text == local_text
    assert remote_text.lstrip().upper().startswith("NOT") == (threshold == 0.5)


def test_the_model_reads_its_answer_back_through_the_server_as_in_process(remote, small_generator):
    """P(yes) to "is the proposed answer correct?" from one token's top log-probabilities."""
    sources = ["Mount Etna is on the island of Sicily.", "It erupted in 2021 and again in 2023."]
    asked = verify_messages(answer_messages("Where is Mount Etna?", sources), "On Sicily.")
    with small_generator.lock:
        local = small_generator.yes_probability(asked)
    served = remote.yes_probability(asked)
    assert remote.offers_yes and local is not None and served is not None
    assert served == pytest.approx(local, abs=0.03)


def _seed(n: int) -> list[dict]:
    lines = (ROOT / "eval" / "questions" / "seed.jsonl").read_text().splitlines()
    return [q for q in map(json.loads, lines) if q["type"] == "fact"][:n]


def test_the_same_answers_as_in_process_on_seed_questions(
    tmp_path, embedder, small_generator, remote, settings
):
    settings = settings.model_copy(update={"read_back": True})  # both read their answer back
    local = Pipeline(settings, embedder=embedder, generator=small_generator)
    local.ingest([DEFAULT_CORPUS])
    served = Pipeline(settings, embedder=embedder, generator=remote)
    answered = 0
    for q in _seed(3):
        a, b = local.ask(q["question"]), served.ask(q["question"])
        # the same reply and grounded candidate; the confidence may differ: a server's reply
        # carries no token log-probabilities, so those features count as their mean there
        assert (b.trace.raw, b.trace.candidate) == (a.trace.raw, a.trace.candidate), q["id"]
        if b.declined == a.declined:
            assert [(c.n, c.chunk_id, c.start, c.end) for c in b.citations] == [
                (c.n, c.chunk_id, c.start, c.end) for c in a.citations
            ]
        if a.trace.p_yes is not None:  # the model's reading of its answer, through the server
            assert b.trace.p_yes == pytest.approx(a.trace.p_yes, abs=0.02)
        assert b.timings.prompt_tokens == a.timings.prompt_tokens
        assert b.trace.p_decline is not None and a.trace.p_decline is not None
        assert b.trace.p_decline == pytest.approx(a.trace.p_decline, abs=0.02)
        assert a.trace.tokens and b.trace.tokens is None  # in process only: see generator_openai
        assert "".join(t for t, _ in a.trace.tokens).strip() == a.trace.raw
        assert all(lp <= 0 for _, lp in a.trace.tokens)
        answered += bool(a.trace.candidate)
    assert answered  # a model that declines everything proves nothing


def test_a_server_model_has_a_calibration_of_its_own(tmp_path, embedder, remote, settings):
    """The server's model is known by its name: the in-process file's calibration does not
    apply to it; one made for `server <name>` does."""
    assert remote.identity() == f"server {remote.model()}"
    served = Pipeline(settings, embedder=embedder, generator=remote)
    served.ingest([DEFAULT_CORPUS])
    assert served.calibrator is None and remote.identity() in served.calibration_note
    question = "When did Joe Biden give the press conference where he defended his record?"
    assert served.ask(question).confidence is None
    own = borrowed_calibration(tmp_path, remote.identity())
    calibrated = Pipeline(
        settings.model_copy(update={"calibration": own}), embedder=embedder, generator=remote
    )
    answer = calibrated.ask(question)
    assert answer.trace.candidate, answer.trace.raw
    assert answer.confidence is not None and answer.trace.p_yes is not None
