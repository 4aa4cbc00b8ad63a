"""`rag ask` hands the question to a running `rag serve` for the same index and settings: the
same answer, citations and JSON as answering in-process, and no model loaded by the client.
A discovery file that does not check out (dead process, another process's port, other
settings, writable by others) is ignored."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api import resident
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
    path = resident.serve_file(settings.home, int(served.url.rsplit(":", 1)[1]))
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


def test_every_setting_that_changes_an_answer_changes_the_fingerprint(tmp_path: Path):
    base = Settings(home=tmp_path, model="smollm2")
    for change in ({"repack": True}, {"context_sentences": 3}, {"min_confidence": "strict"}):
        assert resident.fingerprint(base.model_copy(update=change)) != resident.fingerprint(base)


@pytest.mark.parametrize("question", [BIDEN, "What colour is the Eiffel Tower?"])
def test_a_streamed_resident_answer_is_the_same_object(served: Server, question: str):
    address = resident.find_server(_settings(served))
    assert address is not None
    pieces: list[str] = []
    streamed = resident.ask(address, question, None, on_token=pieces.append)
    whole = resident.ask(address, question, None)
    assert _without_timings(streamed) == _without_timings(whole)
    assert "".join(pieces).strip() == streamed["answer"]  # only verified text was sent


def test_rag_ask_on_a_terminal_streams_from_the_server(served: Server):
    import pty

    before = _asks(served)
    env = {**os.environ, "RAG_HOME": str(served.home), "RAG_MODEL": "smollm2", "COLUMNS": "200"}
    chunks: list[bytes] = []

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        chunks.append(data)
        return data

    pid, fd = pty.fork()
    if pid == 0:  # the child: `rag ask` with a terminal for its output
        os.execve(sys.executable, [sys.executable, "-m", "api.cli", "ask", BIDEN], env)
    with contextlib.suppress(OSError):
        while read(fd):
            pass
    _, status = os.waitpid(pid, 0)
    shown = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, shown[-2000:]
    assert _asks(served) == before + 1  # the server answered, streamed
    assert "July 2023" in shown and "Sources" in shown


def test_sigterm_stops_rag_serve_with_exit_0_and_removes_serve_json(tmp_path: Path):
    """`kill`, systemd and `docker stop` send SIGTERM: the server finishes and exits 0, and
    `rag ask` finds no discovery file pointing at a dead process (uvicorn re-raised the signal
    after its shutdown: exit 143, serve.json left behind)."""
    import signal

    srv = start_server(tmp_path / "home", tmp_path / "server.log")  # an empty index: no copy
    path = resident.serve_file(srv.home, int(srv.url.rsplit(":", 1)[1]))
    try:
        assert path.is_file()
        assert httpx.get(f"{srv.url}/healthz").status_code == 200
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=60)
    finally:
        stop_server(srv)
    assert code == 0, srv.log.read_text()[-2000:]
    assert not path.exists()
    assert "Finished server process" in srv.log.read_text()
