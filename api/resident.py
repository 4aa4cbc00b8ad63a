"""A resident answerer: `rag ask` hands its question to a running `rag serve` for the same index
and settings instead of loading the models itself.

`rag serve` writes `<RAG_HOME>/serve-<port>.json` (mode 0600) while it runs, one file per port, so
replicas on one machine sharing a RAG_HOME do not overwrite each other's:
    {"pid": 4242, "uid": 1000, "host": "127.0.0.1", "port": 8000, "fingerprint": "3f…"}
It removes its file when it stops (Ctrl-C, SIGTERM). `find_server` reads every such file, newest
first (and `serve.json`, the single file older versions wrote), and skips those that do not check
out (a killed server's file stays behind and is ignored).
A file is not trusted blindly. `find_server` returns an address only when the file belongs to
this user and nobody else may write it, the process is alive, belongs to this user and is the
one listening on that port (checked in /proc), and the fingerprint — a hash of every setting
that changes an answer: index folder, answer model file (or RAG_LLM_URL and RAG_LLM_MODEL),
embedding model folder, k, context sentences, token limit, temperature, thresholds, prompt
examples, context size, weight repacking — equals this process's.
`ask` then posts to `POST /ask`, the same object `rag ask --json` prints, and uses that object as
it is (the server's own answer, citations and timings).
With `on_token`, `ask` streams: `POST /ask` with `stream: true` sends each verified piece as it
is generated, then the same object.
Does not: start a server (run `rag serve`), or work without Linux's /proc (the check fails and
the question is answered in-process).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import USER_ERRORS, RagError

FILE = "serve.json"  # the one file of older versions: still read, no longer written
ANSWER_FIELDS = (  # settings that change an answer (not speed, limits or the web server)
    "k",
    "context_sentences",
    "max_tokens",
    "temperature",
    "n_ctx",
    "chunk_chars",
    "chunk_overlap",
    "max_question_chars",
    "min_confidence",
    "min_support",
    "decline_threshold",
    "prompt_examples",
    "repack",  # other kernels: other last bits, now and then another greedy reply
)
LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1"}
LOOPBACK6 = {"::1": "::1", "::": "::1"}


def fingerprint(settings: Settings) -> str:
    """A hash of what makes two processes give the same answer to the same question."""
    from embeddings.sentence_transformer import default_model_dir
    from rag.generation.models import resolve_model

    if settings.llm_url:  # the answer model on a server: that server and model name
        model = f"{settings.llm_url}#{settings.llm_model or ''}#{settings.llm_ctx or ''}"
    else:
        model = str(Path(settings.model_path or resolve_model(settings.model)).resolve())
    embed = settings.embed_model or default_model_dir()
    parts: dict[str, Any] = {f: getattr(settings, f) for f in ANSWER_FIELDS}
    parts |= {
        "index": settings.store or str(settings.index_dir.resolve()),
        "model": model,
        "embed_model": str(Path(embed).resolve()),
        "calibration": str(settings.calibration.resolve()) if settings.calibration else "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def connect_host(host: str) -> str | None:
    """The loopback address a client on this machine uses for a server bound to `host`, or None
    (a server bound to another interface is not used as the resident answerer)."""
    return LOOPBACK.get(host) or LOOPBACK6.get(host)


def announce(settings: Settings, host: str, port: int) -> Path | None:
    """Write the discovery file for this process; None when `host` is not loopback or the
    file cannot be written (the server runs anyway)."""
    if connect_host(host) is None:
        return None
    path = serve_file(settings.home, port)
    try:
        info = {
            "pid": os.getpid(),
            "uid": os.getuid(),
            "host": host,
            "port": port,
            "fingerprint": fingerprint(settings),
        }
    except USER_ERRORS:  # no model file: the server reports that itself
        return None
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        os.replace(tmp, path)
    except OSError:
        return None
    return path


def serve_file(home: Path, port: int) -> Path:
    """The discovery file of the `rag serve` listening on `port`."""
    return home / f"serve-{port}.json"


def withdraw(path: Path | None) -> None:
    """Remove the discovery file if it is still this process's."""
    if path is None:
        return
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def find_server(settings: Settings) -> tuple[str, int] | None:
    """(host, port) of a live `rag serve` that answers exactly as this process would, or None.
    Several may run (replicas on other ports): the most recently started one that checks out."""
    try:
        found = list(settings.home.glob("serve-*.json"))
    except OSError:
        return None
    found.append(settings.home / FILE)
    mine: list[str] = []  # this process's fingerprint, computed once if a file needs it
    for path in sorted(found, key=_mtime, reverse=True):
        if (address := _check(path, settings, mine)) is not None:
            return address
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _check(path: Path, settings: Settings, mine: list[str]) -> tuple[str, int] | None:
    """The address in discovery file `path` if it checks out for `settings`, else None."""
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        info = json.loads(path.read_text())
        pid, port = int(info["pid"]), int(info["port"])
        host = connect_host(str(info["host"]))
        if host is None or os.stat(f"/proc/{pid}").st_uid != os.getuid():
            return None  # gone (FileNotFoundError is an OSError) or another user's
        if not _listens(pid, port):
            return None
        mine[:] = mine or [fingerprint(settings)]
        if info.get("fingerprint") != mine[0]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    except USER_ERRORS:  # no model file: nothing resident can answer as this process would
        return None
    return host, port


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds a TCP socket listening on `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in list(fh)[1:]:
                f = line.split()
                if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{f[9]}]")
    if not inodes:
        return False
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            if os.readlink(f"{fd_dir}/{fd}") in inodes:
                return True
    return False


class Unavailable(Exception):
    """The server could not take the question (not ready, busy, gone): answer in-process."""


def ask(
    address: tuple[str, int],
    question: str,
    k: int | None,
    api_key: str | None = None,
    on_token: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The server's answer object for `question` (the shape of `rag ask --json`). With
    `on_token`, the answer is streamed: each verified piece goes there as the server sends it.

    Raises `RagError` with the server's words for a bad question, `Unavailable` when the server
    cannot answer now."""
    host, port = address
    body = json.dumps({"question": question, "k": k, "stream": on_token is not None}).encode()
    accept = "text/event-stream" if on_token else "application/json"
    headers = {"Content-Type": "application/json", "Accept": accept}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.connect()
        conn.sock.settimeout(None)  # a question may wait in the server's queue
        conn.request("POST", "/ask", body, headers)
        response = conn.getresponse()
        if on_token and response.status == 200:
            return _streamed(response, on_token)
        data = response.read()
    except OSError as exc:
        raise Unavailable(str(exc)) from None
    finally:
        conn.close()
    try:
        obj = json.loads(data)
    except ValueError:
        raise Unavailable(f"HTTP {response.status}, not JSON") from None
    if response.status == 200 and isinstance(obj, dict) and "answer" in obj:
        return obj
    detail = obj.get("detail") if isinstance(obj, dict) else None
    if response.status in (400, 422) and isinstance(detail, str):
        raise RagError(detail)  # the question itself is bad: in-process would say the same
    raise Unavailable(f"HTTP {response.status}: {detail}")


def _streamed(
    response: http.client.HTTPResponse, on_token: Callable[[str], None]
) -> dict[str, Any]:
    """Read `POST /ask`'s server-sent events: pieces to `on_token`, then the answer object."""
    for line in response:
        data = line.strip().removeprefix(b"data:").strip()
        if not line.startswith(b"data:") or not data:
            continue  # blank lines, pings
        event = json.loads(data)
        if "token" in event:
            on_token(str(event["token"]))
        elif "answer" in event and isinstance(event["answer"], dict):
            return event["answer"]
        elif "error" in event:
            raise Unavailable(f"the server failed while answering: {event['error']}")
    raise Unavailable("the server closed the stream before the answer")
