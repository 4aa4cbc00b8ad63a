"""Read an untrusted file in a cage: a child process with limits on CPU time, memory and
written files, so a decompression bomb or a parser that loops costs one file, not the caller.

    blocks = read_caged(data, "report.pdf", Limits(seconds=30, memory_mb=1024, extract_mb=100))

The parent hands the bytes over on stdin; the child (`python -m rag.ingest.cage`) sets its limits
(RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE=0), runs the format's reader (`rag.ingest.readers.read`,
which stops once the file yields more text than `readers.text_limit` allows), and answers
`OK\\n<blocks as JSON>` or `ERR\\n<message>` on stdout. Every failure is a
`DocumentError` that names the file and the limit; the child's memory is returned to the system
when it exits. `cancelled` (polled while the child runs) kills the child: `CancelledError`.
Does not: isolate the file system or the network (no namespaces, no seccomp; the readers
only parse bytes), or reuse children (each file pays a process start; docs/security.md).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CancelledError, DocumentError
from rag.ingest.readers.blocks import Block

ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds rag/


@dataclass(frozen=True)
class Limits:
    seconds: int = 30  # CPU seconds for one file (RAG_PARSER_SECONDS)
    memory_mb: int = 1024  # address space of the reader (RAG_PARSER_MEMORY_MB)
    extract_mb: float = 100.0  # decompressed parts and extracted text (RAG_MAX_EXTRACT_MB)
    max_chars: int = 5_000_000  # characters one file may yield (RAG_MAX_DOC_CHARS)

    @property
    def extract_bytes(self) -> int:
        return int(self.extract_mb * 1_000_000)


def read_caged(
    data: bytes, name: str, limits: Limits, cancelled: Callable[[], bool] | None = None
) -> list[Block]:
    """The blocks of one file (pdf, docx, html, …), read in a limited child process."""
    args = [str(limits.seconds), str(limits.memory_mb), str(limits.extract_mb)]
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        # -P: the caller's folder is not on the path (a `rag/` there is never imported)
        [sys.executable, "-P", "-m", "rag.ingest.cage", name, *args, str(limits.max_chars)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    deadline = time.monotonic() + 3 * limits.seconds + 10  # a reader blocked without CPU
    given: bytes | None = data
    while True:
        try:
            wait = 0.2 if cancelled else max(0.0, deadline - time.monotonic())
            out, err = proc.communicate(given, timeout=wait)
            break
        except subprocess.TimeoutExpired:
            given = None  # sent already; later calls only wait
            gone = cancelled is not None and cancelled()
            if gone or time.monotonic() > deadline:
                proc.kill()
                proc.communicate()
                if gone:
                    raise CancelledError(f"{name}: reading it was cancelled") from None
                raise DocumentError(_slow(name, limits)) from None
    head, _, body = out.partition(b"\n")
    if proc.returncode == 0 and head == b"OK":
        return [Block(*b) for b in json.loads(body)]
    if proc.returncode == 0 and head == b"ERR":
        raise DocumentError(body.decode("utf-8", "replace"))
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise DocumentError(_slow(name, limits))
    if b"MemoryError" in err:  # it ran out while answering, past the reader's handler
        raise DocumentError(_memory(name, limits))
    last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
    raise DocumentError(
        f"{name}: the reader stopped (exit {proc.returncode}: {last[0][:200]}); "
        "the file is broken or too complex to read"
    )


def _slow(name: str, limits: Limits) -> str:
    return (
        f"{name}: reading it took more than {limits.seconds} s of CPU (RAG_PARSER_SECONDS); "
        "the file is broken, a decompression bomb, or needs a higher limit"
    )


def _memory(name: str, limits: Limits) -> str:
    return (
        f"{name}: reading it needs more than {limits.memory_mb} MB of memory "
        "(RAG_PARSER_MEMORY_MB); a decompression bomb, or raise the limit"
    )


def _child(argv: list[str]) -> int:
    """`python -m rag.ingest.cage NAME SECONDS MEMORY_MB EXTRACT_MB MAX_CHARS`, the file's
    bytes on stdin."""
    from rag.ingest import readers

    name, limits = argv[0], Limits(int(argv[1]), int(argv[2]), float(argv[3]), int(argv[4]))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 1))
    data = sys.stdin.buffer.read()
    readers.preload(name)  # import the reader before memory is capped
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a reader writes no files
    out = sys.stdout.buffer
    try:
        blocks = readers.read(data, name, limits.extract_bytes, limits.max_chars)
        rows = [[b.kind, b.text, b.level, b.page] for b in blocks]
        reply = b"OK\n" + json.dumps(rows, ensure_ascii=False).encode("utf-8", "replace")
    except DocumentError as exc:
        reply = b"ERR\n" + str(exc).encode()
    except MemoryError:
        reply = b"ERR\n" + _memory(name, limits).encode()
    except RecursionError:
        reply = f"ERR\n{name}: nested too deeply to read; the file is broken".encode()
    except Exception as exc:  # any reader failure is this one file's failure
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if peak > 0.8 * memory:  # the interpreter fails in odd ways as memory runs out
            reply = b"ERR\n" + _memory(name, limits).encode()
        else:
            reply = f"ERR\n{name}: cannot be read ({exc.__class__.__name__}: {exc})"[:500].encode()
    out.write(reply)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
