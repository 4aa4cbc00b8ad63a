"""`rag serve` with its answer model on a server (RAG_LLM_URL): real `rag serve` processes on
loopback; the model server is llama-cpp-python's real OpenAI-compatible server. A model server
that is down, hangs, fails with 5xx or dies mid-answer is a clear 503 or a stream error event,
never a hang. Only the hanging and the 5xx servers are stand-ins, at that outside boundary."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from rag.generation.models import resolve_model
from tests.api.server import BIDEN, Server, start_server, stop_server
from tests.conftest import SMALL_MODEL
from tests.model_server import free_port, start_model_server, stop_model_server


def _serve(tmp_path: Path, index_home: Path, url: str, down_ok: bool = False, **env: str) -> Server:
    """`down_ok`: the model server is down on purpose (/readyz then says so with a 503)."""
    shutil.copytree(index_home, tmp_path / "home")
    return start_server(
        tmp_path / "home", tmp_path / "server.log", down_ok=down_ok, RAG_LLM_URL=url, **env
    )


@pytest.fixture
def serving(tmp_path, index_home) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(url: str, down_ok: bool = False, **env: str) -> Server:
        started.append(_serve(tmp_path / str(len(started)), index_home, url, down_ok, **env))
        return started[-1]

    yield start
    for srv in started:
        stop_server(srv)


def _assert_503(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert all(w in detail for w in ("RAG_LLM_URL", *words)), detail


def test_answers_through_a_model_server_as_in_process(serving, model_server, server):
    remote = serving(model_server.url)
    with remote.client() as c, server.client() as local:
        got = c.post("/ask", json={"question": BIDEN})
        want = local.post("/ask", json={"question": BIDEN})
        assert got.status_code == 200, got.text
        assert c.get("/v1/models").json()["data"][0]["id"] == "remote"  # then "remote+sources"
    a, b = got.json(), want.json()
    assert not a["declined"] and a["citations"]  # a real answer, with its sources
    assert (a["answer"], a["citations"]) == (b["answer"], b["citations"])


def test_a_model_server_that_is_not_running_is_a_503_at_once(serving):
    srv = serving(f"http://127.0.0.1:{free_port()}/v1", down_ok=True, RAG_LLM_TIMEOUT="600")
    with httpx.Client(
        base_url=srv.url, timeout=60
    ) as c:  # waiting for RAG_LLM_TIMEOUT would fail the request
        _assert_503(c.post("/ask", json={"question": BIDEN}), "cannot be reached")
        chat = {"messages": [{"role": "user", "content": BIDEN}]}
        _assert_503(c.post("/v1/chat/completions", json=chat), "cannot be reached")
        _assert_503(c.post("/v1/chat/completions", json={**chat, "stream": True}))


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._fail()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._fail()

    def _fail(self) -> None:
        body = json.dumps({"error": {"message": "CUDA out of memory"}}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """Accepts connections and reads, never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()
    for conn in held:
        conn.close()


def test_a_5xx_from_the_model_server_is_a_503_with_its_words(serving, failing_server):
    srv = serving(failing_server, down_ok=True)
    with srv.client() as c:
        _assert_503(c.post("/ask", json={"question": BIDEN}), "HTTP 500", "CUDA out of memory")


def test_a_model_server_that_hangs_is_a_503_after_rag_llm_timeout(serving, hanging_server):
    srv = serving(hanging_server, down_ok=True, RAG_LLM_TIMEOUT="1")
    with httpx.Client(base_url=srv.url, timeout=60) as c:
        _assert_503(c.post("/ask", json={"question": BIDEN}), "RAG_LLM_TIMEOUT")


class _KillingProxy:
    """Forwards loopback TCP to the model server; when the first streamed chunk with text of a
    reply passes (a streamed request for more than one token: not the decline gate's one-token
    probe), SIGKILLs the server: it dies in the middle of writing an answer."""

    def __init__(self, upstream_port: int, victim) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.upstream_port, self.victim, self.killed = upstream_port, victim, threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # the server is gone: so is the connection
                client.close()
                continue
            sent = bytearray()  # what the client asked on this connection
            threading.Thread(target=self._pump, args=(client, upstream, sent), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, sent, True), daemon=True
            ).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, sent: bytearray, back: bool = False
    ) -> None:
        try:
            while data := src.recv(65536):
                if not back:
                    sent += data
                dst.sendall(data)
                reply = b'"stream": true' in sent and b'"max_tokens": 1,' not in sent
                if back and reply and b"chat.completion.chunk" in data and b'"content"' in data:
                    self.victim.send_signal(signal.SIGKILL)
                    self.killed.set()
        except OSError:
            pass
        finally:  # shutdown, not only close: the other direction's thread is in recv()
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.listener.close()


def test_a_model_server_that_dies_mid_answer_ends_the_stream_with_an_error_event(serving, tmp_path):
    model = start_model_server(resolve_model(SMALL_MODEL), tmp_path / "model.log")
    proxy = _KillingProxy(int(model.url.rsplit(":", 1)[1].split("/")[0]), model.proc)
    try:
        srv = serving(proxy.url, RAG_MAX_TOKENS="512")
        chat = {"messages": [{"role": "user", "content": BIDEN}], "stream": True}
        events = []
        with (
            httpx.Client(base_url=srv.url, timeout=120) as c,
            c.stream("POST", "/v1/chat/completions", json=chat) as r,
        ):
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: "):
                    events.append(line.removeprefix("data: "))
        assert proxy.killed.is_set()
        assert events[-1] != "[DONE]"
        error = json.loads(events[-1])["error"]
        assert "closed the stream" in error["message"] and "RAG_LLM_URL" in error["message"]
        with httpx.Client(
            base_url=srv.url, timeout=60
        ) as c:  # the server gone: the next question is a 503 (the relay takes the connection
            # and, with nothing behind it, closes it: it hung up)
            _assert_503(c.post("/ask", json={"question": BIDEN}), "hung up without answering")
    finally:
        proxy.close()
        stop_model_server(model)
