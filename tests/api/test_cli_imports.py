"""`rag list`, `remove`, `--help` and `--version` start without torch, sentence-transformers or
llama.cpp; `rag ask` embeds the question without torch once ingest has exported the ONNX model.
Real processes; the modules each one imported are read from `python -X importtime`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS

HEAVY = {"torch", "sentence_transformers", "transformers", "llama_cpp"}


def imported(home: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {**os.environ, "RAG_HOME": str(home), "RAG_MODEL": "smollm2", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, modules


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("imports") / "home"
    doc = home.parent / "ferry.md"
    doc.write_text("# Ferry\nThe ferry leaves at noon.\n")
    done, modules = imported(home, "ingest", str(DEFAULT_CORPUS), str(doc))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "torch" in modules  # ingest embeds with sentence-transformers: the probe sees it
    return home


@pytest.mark.parametrize(
    "args", [("list",), ("list", "--json"), ("--help",), ("--version",), ("ask", "--help")]
)
def test_commands_that_read_no_model_import_none(home: Path, args: tuple[str, ...]):
    done, modules = imported(home, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"typer", "rag.errors"} <= modules  # the probe sees what the CLI imports
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_list_output_and_remove_without_heavy_imports(home: Path):
    done, modules = imported(home, "list", "--json")
    assert {d["source"] for d in json.loads(done.stdout)} == {DEFAULT_CORPUS.name, "ferry.md"}
    done, modules = imported(home, "remove", "ferry.md")
    assert done.returncode == 0 and "removed" in done.stdout, done.stderr[-2000:]
    assert not modules & HEAVY, sorted(modules & HEAVY)
    done, _ = imported(home, "list", "--json")
    assert [d["source"] for d in json.loads(done.stdout)] == [DEFAULT_CORPUS.name]


def test_ask_embeds_the_question_without_torch(home: Path):
    done, modules = imported(home, "ask", "--json", "--local", "Who leads ISKP?")
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(json.loads(done.stdout)) == {
        *("answer", "declined", "decline", "confidence", "band", "citations", "passage"),
        *("searched", "timings"),
    }
    assert "llama_cpp" in modules and "onnxruntime" in modules
    assert not modules & {"torch", "sentence_transformers", "transformers"}
