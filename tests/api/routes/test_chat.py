"""The official `openai` package as the client, against the real server."""

from __future__ import annotations

import pytest
from openai import OpenAI

from rag.config import DEFAULT_CORPUS
from tests.api.server import BIDEN, Server

CROCUS = "How many people did the March 2024 Crocus City Hall attack kill?"


def _client(server: Server) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=300)


def _check_citations(citations: list[dict]) -> None:
    text = DEFAULT_CORPUS.read_text()
    assert citations
    for n, c in enumerate(citations, 1):
        assert set(c) == {"n", "source", "chunk_id", "start", "end", "quote", "page", "section"}
        assert c["n"] == n and c["source"] == DEFAULT_CORPUS.name
        assert text[c["start"] : c["end"]] == c["quote"]  # verbatim, at its span
        assert c["page"] is None and isinstance(c["section"], str)  # plain text has no pages


def _ask(client: OpenAI, question: str) -> tuple[str, list[dict]]:
    reply = client.chat.completions.create(
        model="anything", messages=[{"role": "user", "content": question}]
    )
    extra = reply.model_extra or {}
    assert reply.object == "chat.completion" and reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop" and reply.usage and reply.usage.total_tokens
    assert extra["declined"] is False and extra["decline"] is None and extra["passage"] is None
    assert 0.0 <= extra["confidence"] <= 1.0  # the calibrated P(right), beside the citations
    band = extra["band"]  # and what it means to a person: its band, measured on report halves
    assert band["name"] in ("high", "medium", "low") and band["name"] in band["text"]
    return reply.choices[0].message.content or "", extra["citations"]


def _ask_streaming(client: OpenAI, question: str) -> tuple[str, str, list[dict]]:
    chunks = list(
        client.chat.completions.create(
            model="anything", messages=[{"role": "user", "content": question}], stream=True
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    extra = last.model_extra or {}
    assert extra["declined"] is False and 0.0 <= extra["confidence"] <= 1.0
    assert extra["band"]["name"] in extra["band"]["text"] and extra["decline"] is None
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])
    return streamed, extra["answer"], extra["citations"]


def test_non_stream_answer_has_standard_shape_and_citations(server: Server):
    content, citations = _ask(_client(server), BIDEN)
    assert "July 2023" in content and "[1]" in content
    _check_citations(citations)
    assert "July 2023" in citations[0]["quote"]


def test_stream_sends_tokens_then_citations_before_done(server: Server):
    streamed, answer, citations = _ask_streaming(_client(server), BIDEN)
    assert "July 2023" in answer and "[1]" in answer  # the verified text
    assert streamed == answer  # delta.content carries only verified text, never raw tokens
    _check_citations(citations)


def test_multi_turn_follow_up_goes_through(server: Server):
    reply = _client(server).chat.completions.create(
        model="smollm2",
        max_tokens=48,
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
            {"role": "assistant", "content": "An ISKP attack near Moscow."},
            {"role": "user", "content": "How many people did it kill?"},
        ],
    )
    assert reply.choices[0].message.content
    extra = reply.model_extra or {}
    assert isinstance(extra["citations"], list)
    assert extra["searched"] != "How many people did it kill?"  # null, or what was searched
    own = _client(server).chat.completions.create(
        model="smollm2",
        max_tokens=48,
        stream=True,
        messages=[
            {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
            {"role": "assistant", "content": "An ISKP attack near Moscow."},
            {"role": "user", "content": "How many people did it kill?"},
        ],
        extra_body={"rag_rewrite": False},  # the user's own words, as the page's button sends
    )
    chunks = list(own)
    stages = [(c.model_extra or {}).get("rag_stage") for c in chunks]
    stages = [s for s in stages if s and s["stage"] != "waiting"]
    assert stages[0] == {
        "stage": "retrieving",
        "question": "How many people did it kill?",
        "rewritten": False,
    }, stages  # no "condensing": not rewritten
    assert (chunks[-1].model_extra or {})["searched"] is None


@pytest.mark.slow
def test_default_model_answers_144_with_citations(index_home, tmp_path):
    import shutil

    from tests.api.server import start_server, stop_server

    shutil.copytree(index_home, tmp_path / "home")
    server = start_server(
        tmp_path / "home", tmp_path / "server.log", RAG_MODEL="qwen1.5b", RAG_CALIBRATION=""
    )  # the default model with its own calibration, not the one the tests borrow
    try:
        client = _client(server)
        content, citations = _ask(client, CROCUS)
        assert "144" in content, content
        _check_citations(citations)
        assert any("144" in c["quote"] for c in citations)
        streamed, answer, citations = _ask_streaming(client, CROCUS)
        assert "144" in answer and streamed == answer
        _check_citations(citations)
    finally:
        stop_server(server)


def test_stream_reports_progress_stages_that_openai_clients_read_as_empty_chunks(server: Server):
    chunks = list(
        _client(server).chat.completions.create(
            model="smollm2",
            stream=True,
            messages=[
                {"role": "user", "content": "Who leads ISKP?"},
                {"role": "assistant", "content": "Sanaullah Ghafari leads ISKP. [1]"},
                {"role": "user", "content": "What is his alias?"},
            ],
        )
    )
    staged = [c for c in chunks if (c.model_extra or {}).get("rag_stage")]
    names = [c.model_extra["rag_stage"]["stage"] for c in staged]  # type: ignore[index]
    assert names[:4] == ["condensing", "retrieving", "reading", "writing"], names
    assert names[4:] in ([], ["checking"])  # the model reads back a reply that claims something
    assert all(c.choices[0].delta.content is None for c in staged)  # nothing to print
    retrieving = staged[1].model_extra["rag_stage"]  # type: ignore[index]
    assert retrieving["question"]  # the condensed question it searched for
    assert staged[2].model_extra["rag_stage"]["passages"] > 0  # type: ignore[index]
    assert chunks[-1].choices[0].finish_reason == "stop"
