"""The `rag` command as a user runs it: a real process, real files, the 135M model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.generation.models import resolve_model

BIDEN = "When did Joe Biden give the press conference where he defended his Afghanistan record?"


def rag(
    home: Path, *args: str, stdin: str | None = None, **more: str
) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_HOME": str(home), "RAG_MODEL": "smollm2", "HF_HUB_OFFLINE": "1"}
    env |= more
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def home(
    tmp_path_factory,
) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    from rag.config import DEFAULT_CORPUS

    done = rag(home, "ingest", str(DEFAULT_CORPUS))
    assert done.returncode == 0, done.stderr
    assert "added: 1" in done.stdout
    return home


def test_ask_json_prints_exactly_one_object_of_the_documented_shape(home: Path):
    done = rag(
        home,
        "ask",
        "--json",
        "--k",
        "4",
        "When did Joe Biden give the press conference where he defended his Afghanistan record?",
    )
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)  # exactly one JSON document on stdout
    assert set(obj) == {
        *("answer", "declined", "decline", "confidence", "band", "citations", "passage"),
        *("searched", "timings"),
    }
    assert obj["searched"] is None  # one question, no conversation: searched as typed
    assert obj["confidence"] is None or 0.0 <= obj["confidence"] <= 1.0
    assert isinstance(obj["answer"], str) and isinstance(obj["declined"], bool)
    assert set(obj["timings"]) == {
        "retrieval_s",
        "ttft_s",
        "total_s",
        "prompt_tokens",
        "completion_tokens",
        "check_s",
        "rewrite_s",
    }
    assert obj["citations"], obj
    for c in obj["citations"]:
        assert set(c) == {"n", "source", "chunk_id", "start", "end", "quote", "page", "section"}
        assert c["source"] == "afghanistan-counterterrorism-mei-2024.txt"


def test_list_remove_and_reingest(home: Path, tmp_path: Path):
    doc = tmp_path / "extra.md"
    doc.write_text("# Extra\nThe ferry leaves at noon.\n")
    assert rag(home, "ingest", str(doc)).returncode == 0
    again = rag(home, "ingest", str(doc))
    assert "unchanged: 1" in again.stdout
    listed = json.loads(rag(home, "list", "--json").stdout)
    assert {d["source"] for d in listed} == {
        "afghanistan-counterterrorism-mei-2024.txt",
        "extra.md",
    }
    gone = rag(home, "remove", "extra.md")
    assert gone.returncode == 0 and "removed" in gone.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["remove", "nothing-here"], "no document 'nothing-here'"),
        (["ask", "--model", "/no/such.gguf", "hi"], "does not exist"),
        (["ask", "  "], "question is empty"),
        (["ingest", "/no/such/folder/x.txt"], "no such file"),
    ],
)
def test_errors_are_one_line_without_traceback(home: Path, args, message):
    done = rag(home, *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_model_server_that_is_not_running_is_one_line(home: Path):
    from tests.model_server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    for args in (["ask", "--local", "Who leads ISKP?"], ["ask", "--json", "Who leads ISKP?"]):
        done = rag(home, *args, RAG_LLM_URL=url)
        assert done.returncode == 1, done.stderr
        assert f"the model server at {url} (RAG_LLM_URL) cannot be reached" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bad_rag_llm_url_is_one_line(home: Path):
    done = rag(home, "ask", "hi", RAG_LLM_URL="localhost:8080")
    assert done.returncode == 1 and "bad setting llm_url" in done.stderr, done.stderr
    assert "http://127.0.0.1:8080/v1" in done.stderr  # the message shows the form


def test_not_a_model_file_and_empty_index(tmp_path: Path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF but not really")
    (tmp_path / "d.txt").write_text("Owls hunt at night.")
    assert rag(tmp_path / "h", "ingest", str(tmp_path / "d.txt")).returncode == 0
    done = rag(tmp_path / "h", "ask", "--model", str(fake), "What do owls do?")
    assert done.returncode == 1 and "not a loadable GGUF" in done.stderr
    empty = rag(tmp_path / "empty", "ask", "anything?")
    assert empty.returncode == 1 and "rag ingest" in empty.stderr


def test_an_embedding_model_folder_error_is_one_line(tmp_path: Path):
    """embeddings/ raises its own error (it does not import rag/); the CLI still shows it."""
    (tmp_path / "not-a-model").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "list"],
        env={
            **os.environ,
            "RAG_HOME": str(tmp_path / "h"),
            "RAG_EMBED_MODEL": str(tmp_path / "not-a-model"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "is not a sentence-transformers model folder" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_rag_models_checks_an_assembled_model(tmp_path: Path):
    done = rag(tmp_path / "h", "models", "smollm2")  # assembled and verified: nothing to do
    assert done.returncode == 0, done.stderr  # was a NameError (Settings) in rag/cli.py
    unknown = rag(tmp_path / "h", "models", "no-such-model")
    assert unknown.returncode == 1 and "unknown model 'no-such-model'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_models_resolve_to_verified_files():
    assert resolve_model("smollm2").stat().st_size == 98_362_432


def test_a_model_without_its_calibration_warns_once_and_gives_no_number(home: Path):
    """RAG_CALIBRATION names the default model's calibration; the 135M model answers: one
    warning line that says how to calibrate it, and confidence null rather than a wrong one."""
    from rag.config import ROOT

    other = ROOT / "rag" / "calibrations" / "qwen1.5b.json"
    done = rag(home, "ask", "--json", "--local", BIDEN, RAG_CALIBRATION=str(other))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "make calibrate MODEL=smollm2" in warnings[0], done.stderr
    obj = json.loads(done.stdout)
    assert obj["confidence"] is None and obj["band"] is None
    assert obj["timings"]["check_s"] == 0  # nothing weighs the read-back: it is not asked


def test_chat_rewrites_a_follow_up_and_bang_searches_the_words_as_typed(home: Path):
    """`rag chat` (#23): a question that stands alone is searched as typed; a follow-up is
    rewritten and the line "searched: …" says how; `!` asks it again with the user's words."""
    done = rag(
        home,
        "chat",
        stdin="What happened at Crocus City Hall in March 2024?\nand how many did it kill?\n!\n",
    )
    assert done.returncode == 0, done.stderr
    searched = [line for line in done.stderr.splitlines() if line.startswith("searched: ")]
    assert len(searched) == 1, done.stderr  # the follow-up only, not the first or the "!"
    assert "and how many did it kill?" not in searched[0]
    assert done.stderr.count("(first token") == 3  # three answers, each with its status line
