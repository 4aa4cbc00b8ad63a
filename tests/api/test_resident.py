"""`rag ask` hands the question to a running `rag serve` for the same index and settings: the
same answer, citations and JSON as answering in-process, and no model loaded by the client.
A discovery file that does not check out (dead process, another process's port, other
settings, writable by others) is ignored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import resident
from rag.config import Settings
from tests.api.server import BIDEN, Server, start_server, stop_server

QUESTIONS = [BIDEN, "Who leads ISKP?", "What colour is the Eiffel Tower?"]


def rag(home: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    environ = {
        **os.environ,
        "RAG_HOME": str(home),
        "RAG_MODEL": "smollm2",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "api.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,  # a shared 2-core machine under load can be very slow
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return done, modules


@pytest.fixture(scope="module")
def served(tmp_path_factory, index_home) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("resident")
    shutil.copytree(index_home, root / "home")
    srv = start_server(root / "home", root / "server.log")
    yield srv
    stop_server(srv)


def _asks(server: Server) -> int:
    return server.log.read_text().count('"POST /ask HTTP/1.1" 200')


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings"}


@pytest.mark.parametrize("question", QUESTIONS)
def test_resident_and_in_process_answers_are_identical(served: Server, question: str):
    before = _asks(served)
    remote, remote_modules = rag(served.home, "ask", "--json", question)
    assert remote.returncode == 0, remote.stderr[-2000:]
    assert _asks(served) == before + 1  # the server answered it
    assert "llama_cpp" not in remote_modules and "onnxruntime" not in remote_modules
    local, local_modules = rag(served.home, "ask", "--json", "--local", question)
    assert local.returncode == 0, local.stderr[-2000:]
    assert _asks(served) == before + 1 and "llama_cpp" in local_modules
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    assert _without_timings(a) == _without_timings(b)
    assert set(a["timings"]) == set(b["timings"])
    assert a["timings"]["prompt_tokens"] == b["timings"]["prompt_tokens"]
    if question == BIDEN:
        assert a["citations"] and not a["declined"]  # a real answer, not two declines


def test_resident_text_output_and_errors_match(served: Server):
    remote, _ = rag(served.home, "ask", BIDEN)
    local, _ = rag(served.home, "ask", "--local", BIDEN)
    assert remote.returncode == local.returncode == 0
    assert remote.stdout == local.stdout and "Sources" in remote.stdout
    bad, _ = rag(served.home, "ask", "--json", "   ")
    bad_local, _ = rag(served.home, "ask", "--json", "--local", "   ")
    assert bad.returncode == bad_local.returncode == 1
    last = [p.stderr.strip().splitlines()[-1] for p in (bad, bad_local)]
    assert last[0] == last[1] and "the question is empty" in last[0]


def test_other_settings_are_answered_in_process(served: Server):
    before = _asks(served)
    done, modules = rag(served.home, "ask", "--json", BIDEN, RAG_CONTEXT_SENTENCES="3")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _asks(served) == before and "llama_cpp" in modules


def _settings(server: Server) -> Settings:
    return Settings(home=server.home, model="smollm2")


def test_the_discovery_file_is_checked(served: Server, tmp_path: Path):
    settings = _settings(served)
    path = settings.home / resident.FILE
    good = json.loads(path.read_text())
    assert resident.find_server(settings) == ("127.0.0.1", good["port"])
    assert path.stat().st_mode & 0o777 == 0o600
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        cases = [
            {**good, "pid": int(dead.stdout)},  # that process is gone
            {**good, "pid": os.getpid()},  # alive and ours, but not listening on the port
            {**good, "fingerprint": "0" * 64},  # another index or other settings
            {**good, "host": "10.1.2.3"},  # not loopback
        ]
        for case in cases:
            path.write_text(json.dumps(case))
            assert resident.find_server(settings) is None, case
        path.write_text(json.dumps(good))
        path.chmod(0o622)  # others may write it
        assert resident.find_server(settings) is None
        path.chmod(0o600)
        assert resident.find_server(settings) == ("127.0.0.1", good["port"])
        other = Settings(home=served.home, model="smollm2", k=7)
        assert resident.find_server(other) is None
    finally:
        path.write_text(json.dumps(good))
        path.chmod(0o600)
