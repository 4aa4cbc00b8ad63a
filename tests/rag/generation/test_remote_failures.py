"""What the model-server client says when the server is down, in words: refused (nothing
listens), hung up (it took the request and closed the connection without a reply), timed out
(it took the request and sent nothing). The servers here are loopback sockets standing in for a
model server at that outside boundary; the real llama-cpp-python server killed and stopped is in
tests/api/test_api_outages.py."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from rag.errors import ModelServerError
from rag.generation import remote
from rag.generation.remote import OpenAIGenerator
from tests.model_server import free_port


def _listener(on_connection) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()[0]
            except OSError:
                return
            held.append(conn)
            on_connection(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def hanging_up() -> Iterator[str]:
    """Reads the request, then closes the connection without a reply (as a server that dies)."""

    def hang_up(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.close()

    yield from _listener(hang_up)


@pytest.fixture
def silent() -> Iterator[str]:
    """Accepts connections, reads, never answers (as a stopped process, SIGSTOP)."""
    yield from _listener(lambda conn: None)


def test_nothing_listening_is_refused():
    gen = OpenAIGenerator(f"http://127.0.0.1:{free_port()}/v1", timeout=600)
    for name in ("model", "probe"):
        call = getattr(gen, name)
        t0 = time.monotonic()
        with pytest.raises(ModelServerError) as err:
            call()
        assert time.monotonic() - t0 < 60  # at once, not after the 600 s timeout
        assert "connection was refused" in str(err.value) and "RAG_LLM_URL" in str(err.value)


def test_a_server_that_closes_without_a_reply_hung_up(hanging_up):
    gen = OpenAIGenerator(hanging_up, timeout=600)
    for name in ("model", "probe"):
        call = getattr(gen, name)
        with pytest.raises(ModelServerError) as err:
            call()
        message = str(err.value)
        assert "hung up without answering" in message and "RAG_LLM_URL" in message
        assert "cannot be reached" not in message  # it was reached


def test_a_silent_server_fails_the_probe_after_its_short_timeout(silent):
    gen = OpenAIGenerator(silent, timeout=600)
    t0 = time.monotonic()
    with pytest.raises(ModelServerError) as err:
        gen.probe()
    took = time.monotonic() - t0
    assert took < 60  # PROBE_TIMEOUT, not the 600 s a reply may take
    assert f"sent nothing for {remote.PROBE_TIMEOUT:g} s (timed out)" in str(err.value)


def test_a_reply_cut_short_by_another_request_is_an_error_not_a_short_answer(tmp_path):
    """llama-cpp-python's server, by default (`interrupt_requests`), ends a streaming reply with
    [DONE] as soon as another request waits for the model: the reply looked whole and short (the
    stack's replicas then declined most questions). A stream that ends without a finish reason
    is an error that says so; a server started with `--interrupt_requests False` (as `rag stack`
    and compose start it) lets both replies finish."""
    from rag.generation.models import resolve_model
    from tests.model_server import start_model_server, stop_model_server

    long = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    short = [{"role": "user", "content": "Say hello."}]
    for interrupt in (True, False):
        server = start_model_server(
            resolve_model("smollm2"), tmp_path / f"llm-{interrupt}.log", interrupt=interrupt
        )
        try:
            first = OpenAIGenerator(server.url, timeout=120)
            tokens = first.stream(long, max_tokens=200)
            got = [next(tokens)]  # the first reply is being written …
            second = OpenAIGenerator(server.url, timeout=120)
            other = threading.Thread(target=lambda g=second: list(g.stream(short, 8)))
            other.start()  # … when a second request comes
            time.sleep(0.5)
            if interrupt:
                with pytest.raises(ModelServerError, match="interrupt_requests False"):
                    got += list(tokens)
            else:
                got += list(tokens)
                assert len("".join(got)) > 200  # the whole story, not a few words
            other.join(timeout=120)
        finally:
            stop_model_server(server)
