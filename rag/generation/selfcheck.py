"""Does this machine's llama.cpp build run here? One multi-token decode in a child process.

A llama.cpp built for CPU features this machine lacks does not fail with an error: the process
dies with SIGSEGV or SIGILL at its first batch decode (a `-march=native` build from another
machine; AMX that a virtual CPU advertises but cannot execute). This module runs that decode in
a subprocess once per (llama.cpp libraries, model file, CPU) and turns a death by signal into a
`LlamaBuildError` that says how to rebuild. A passed check is remembered in the user's cache
(`$XDG_CACHE_HOME/rag/selfcheck/`), so later processes pay nothing.

    python -m rag.generation.selfcheck [MODEL.gguf …]  # exit 0: fine; 1: the message says the fix

Does not: judge speed or answers; a model file that fails to load is left to the normal load
path, which reports it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from rag.errors import LlamaBuildError

# The child: load the model and decode a batch of several tokens, then one more token, with
# llama.cpp's weight repacking off and on.
CHILD = """
import sys
from rag.generation.llama import load_llama
for repack in (False, True):  # both kernel paths RAG_REPACK can choose
    m = load_llama(sys.argv[1], repack=repack, n_ctx=256, n_threads=2, n_threads_batch=2,
                   verbose=False)
    batch = m.tokenize(b"The quick brown fox jumps over the lazy dog, twice in one morning.")
    m.eval(batch)
    m.eval(m.tokenize(b" again", add_bos=False))
    del m
print("ok", len(batch))
"""
BASELINE = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_BMI2=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
)
FIX = (
    "rebuild llama-cpp-python for this CPU: in a source checkout `make rebuild-llama` "
    "(portable baseline: `make rebuild-llama LLAMA_TIER=avx2`); elsewhere "
    f'`CMAKE_ARGS="{BASELINE}" pip install --no-cache-dir --force-reinstall --no-deps '
    "--no-binary llama-cpp-python llama-cpp-python==0.3.36`"
)


def _signal_name(code: int) -> str:
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    meaning = {"SIGILL": "illegal instruction", "SIGSEGV": "segmentation fault"}.get(name)
    return f"{name} ({meaning})" if meaning else name


def check(model_path: Path, code: str | None = None, timeout: float = 600) -> bool:
    """Run the child decode. True: it ran; False: it failed without a signal (a bad model
    file, a missing package — the normal load path will say so). Raises `LlamaBuildError`
    when the child died by a signal."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code or CHILD, str(model_path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return False
    if proc.returncode < 0:
        raise LlamaBuildError(
            f"llama.cpp died with {_signal_name(proc.returncode)} decoding a batch of tokens "
            f"with {Path(model_path).name}: the installed llama-cpp-python uses CPU "
            f"instructions this machine cannot run. To fix it, {FIX}"
        )
    return proc.returncode == 0


def _identity(model_path: Path) -> str:
    """What the verdict depends on: the llama.cpp libraries, the model file, the CPU."""
    parts: list[str] = [CHILD]
    spec = importlib.util.find_spec("llama_cpp")
    if spec and spec.origin:
        lib = Path(spec.origin).parent / "lib"
        for f in sorted(lib.glob("*.so*")) if lib.is_dir() else []:
            st = f.stat()
            parts.append(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}")
    st = Path(model_path).stat()
    parts.append(f"{Path(model_path).resolve()}|{st.st_size}|{st.st_mtime_ns}")
    try:
        flags = next(
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        )
    except (OSError, StopIteration):
        flags = ""
    parts.append(flags)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "rag" / "selfcheck"


def ensure(model_path: Path, code: str | None = None) -> None:
    """Check once per build, model and CPU; raise `LlamaBuildError` if the build crashes."""
    marker = cache_dir() / _identity(model_path)
    if marker.is_file():
        return
    if check(model_path, code):
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{model_path}\n")
        except OSError:
            pass  # a read-only home: check again next time


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)  # noqa: T201
        return 0
    from rag.config import Settings
    from rag.generation.models import resolve_model

    try:
        paths = [Path(a) for a in argv] or [resolve_model(Settings().model)]
        for path in paths:
            if not check(path):
                print(f"error: {path} did not load; check the file", file=sys.stderr)  # noqa: T201
                return 1
            print(f"llama.cpp OK on this CPU: multi-token decode with {path.name}")  # noqa: T201
    except LlamaBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
