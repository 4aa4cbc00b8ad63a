"""A real OpenAI-compatible model server on loopback: llama-cpp-python's own server
(`python -m llama_cpp.server`) serving a GGUF, started in a subprocess and ready (/v1/models)."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.api.server import _free_port as free_port
from tests.api.server import wait_ready


@dataclass
class ModelServer:
    url: str  # the base, ending in /v1: what RAG_LLM_URL takes
    proc: subprocess.Popen
    log: Path


def start_model_server(
    model: Path, log: Path, n_ctx: int = 2048, port: int | None = None, interrupt: bool = False
) -> ModelServer:
    """`interrupt`: the server's own default, which ends a streaming reply early when another
    request comes (rag_stack and compose turn it off, as every server shared by replicas must)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    cmd += ["--n_threads", "2", "--n_threads_batch", "2", "--verbose", "False"]
    cmd += ["--interrupt_requests", str(interrupt)]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = ModelServer(f"http://127.0.0.1:{port}/v1", proc, log)
    if wait_ready(f"{server.url}/models", proc, log, "model server"):
        return server
    stop_model_server(server)
    raise RuntimeError(f"model server not ready in time:\n{log.read_text()}")


def stop_model_server(server: ModelServer) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
