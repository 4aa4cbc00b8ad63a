"""Start and stop a real server on loopback: `rag serve` in a subprocess, ready (/readyz 200)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BIDEN = "When did Joe Biden give the press conference where he defended his Afghanistan record?"
API_KEY = "test-key-123"
# every route the OpenAPI description lists, as (path, method): one list for every test
ROUTES = {
    ("/healthz", "get"),
    ("/readyz", "get"),
    ("/v1/chat/completions", "post"),
    ("/v1/models", "get"),
    ("/ask", "post"),
    ("/documents", "post"),
    ("/documents", "get"),
    ("/documents/{doc_id}", "delete"),
    ("/documents/{doc_id}/text", "get"),
    ("/documents/overview", "get"),
}


@dataclass
class Server:
    url: str
    home: Path
    proc: subprocess.Popen
    log: Path

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(
    url: str, proc: subprocess.Popen, log: Path, what: str, down_ok: bool = False
) -> bool:
    """Poll `url` until it answers 200 (True) or 240 s pass (False); a process that exits
    first is an error with its log. `down_ok`: a /readyz that says the server is loaded but a
    shared engine (model server, database) is down counts as started too."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()}")
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return True
            if down_ok and r.status_code == 503 and '"not ready: ' in r.text:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    return False


def start_server(
    home: Path, log: Path, port: int | None = None, down_ok: bool = False, **env: str
) -> Server:
    port = port or _free_port()
    environ = {
        **os.environ,
        "RAG_HOME": str(home),
        "RAG_MODEL": "smollm2",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", home, proc, log)
    if wait_ready(f"{server.url}/readyz", proc, log, "server", down_ok):
        return server
    stop_server(server)
    raise RuntimeError(f"server not ready in time:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


def raw_request(server: Server, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `head` (request line, headers, blank line: bytes as given, nothing checked) and
    read the answer to the end: (status, headers with lower-case names, body)."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    top, _, body = reply.partition(b"\r\n\r\n")
    status, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return int(status.split()[1]), headers, body


def run_async(coro: Any) -> Any:
    """`asyncio.run(coro)` in a thread of its own: the session's browser (playwright's sync API)
    keeps an event loop running in the main thread, where `asyncio.run` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
