"""Sources in `content` for clients that show nothing else (api/footnotes.py), through a real
third-party client: simonw/llm's command line, streamed and not, against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from openai import OpenAI

from rag.config import DEFAULT_CORPUS
from tests.api.server import BIDEN, Server


def _llm(server: Server, home: Path, model_name: str, *args: str) -> str:
    """`llm -m rag [args] BIDEN` with a model entry pointing at the server (its own config)."""
    home.mkdir(exist_ok=True)
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: rag\n  model_name: {model_name}\n  api_base: {server.url}/v1\n"
    )
    cli = Path(sys.executable).with_name("llm")
    run = subprocess.run(
        [str(cli), "-m", "rag", *args, BIDEN],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LLM_USER_PATH": str(home)},
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_llm_shows_the_sources_when_the_model_name_asks_for_them(server: Server, tmp_path):
    for args in ((), ("--no-stream",)):
        shown = _llm(server, tmp_path / "with", "smollm2+sources", *args)
        answer, _, notes = shown.partition("**Sources**")
        assert "[1]" in answer and "July 2023" in answer, shown
        assert f"- [1] {DEFAULT_CORPUS.name}" in notes, shown
        assert "“" in notes and "”" in notes
    plain = _llm(server, tmp_path / "plain", "smollm2")
    assert "[1]" in plain and "**Sources**" not in plain  # the default is unchanged


def test_the_request_field_puts_sources_in_content_and_the_stream_ends_with_them(server: Server):
    client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=300)
    ask = {"model": "x", "messages": [{"role": "user", "content": BIDEN}]}
    reply = client.chat.completions.create(**ask, extra_body={"rag_sources": True})
    content = reply.choices[0].message.content or ""
    citations = (reply.model_extra or {})["citations"]
    answer, _, notes = content.partition("\n\n**Sources**\n")
    assert "[1]" in answer and notes and citations
    for c in citations:
        assert f"- [{c['n']}] {c['source']}" in notes and " ".join(c["quote"].split()) in notes
    chunks = list(
        client.chat.completions.create(**ask, stream=True, extra_body={"rag_sources": True})
    )
    streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    last = chunks[-1].model_extra or {}
    assert last["answer"] == answer  # the verified answer, without the sources
    assert streamed.startswith(answer) and "**Sources**" in streamed
    assert streamed == content  # the same text, streamed or not
