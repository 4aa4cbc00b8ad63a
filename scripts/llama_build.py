#!/usr/bin/env python3
"""Build llama-cpp-python for this CPU with explicit flags, into a wheelhouse keyed by them.

Why not llama.cpp's default build: it compiles with ``-march=native``, and on the Intel Xeon
machines of this kind the CPU advertises AMX that the virtual machine cannot execute, so the
first multi-token decode dies (SIGSEGV / SIGILL). Here every instruction set is named
explicitly, AMX is always off, and nothing is left to the compiler's idea of "native".

Tiers (``RAG_LLAMA_TIER``): ``avx2`` — AVX, AVX2, FMA, F16C, BMI2, which every x86-64 machine of
this kind runs; ``avx512`` — the same plus AVX-512 F/VBMI/VNNI/BF16, each only when
``/proc/cpuinfo`` lists it; ``auto`` (default) — ``avx512`` when the CPU has AVX-512 F, BW, DQ
and VL, else ``avx2``. The choice is measured in docs/performance.md.

pip caches wheels by source package, not by ``CMAKE_ARGS``, so a wheel built once with other
flags would come back. This script builds with ``--no-cache-dir`` into
``$RAG_WHEELHOUSE/<version>-<key>/`` (default ``~/.cache/rag/wheels``), where ``key`` hashes the
flags, compiler and Python; the Makefile installs from that folder only (``--no-index``).

Not handled: other architectures than x86-64 (the flags are left to llama.cpp there, without
``-march=native``), GPU builds.

Usage: ``python3 scripts/llama_build.py {flags|key|dir|wheel} [--python PY] [--version V]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = "0.3.36"
ALWAYS = ["-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
# cmake option -> the /proc/cpuinfo flags it needs
AVX2_TIER = {
    "GGML_AVX": ["avx"],
    "GGML_AVX2": ["avx2"],
    "GGML_FMA": ["fma"],
    "GGML_F16C": ["f16c"],
    "GGML_BMI2": ["bmi2"],
}
AVX512_TIER = {
    "GGML_AVX512": ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"],
    "GGML_AVX512_VBMI": ["avx512vbmi"],
    "GGML_AVX512_VNNI": ["avx512_vnni"],
    "GGML_AVX512_BF16": ["avx512_bf16"],
}


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cmake_flags(tier: str | None = None, flags: set[str] | None = None) -> list[str]:
    """The CMAKE_ARGS for this CPU: every option named, ON only where the CPU has it."""
    flags = cpu_flags() if flags is None else flags
    if platform.machine() not in ("x86_64", "AMD64"):
        return ["-DGGML_NATIVE=OFF"]
    tier = tier or os.environ.get("RAG_LLAMA_TIER", "auto")
    if tier not in ("auto", "avx2", "avx512"):
        sys.exit(f"RAG_LLAMA_TIER must be auto, avx2 or avx512, not {tier!r}")
    if tier == "auto":
        tier = "avx512" if set(AVX512_TIER["GGML_AVX512"]) <= flags else "avx2"
    options = dict(AVX2_TIER)
    if tier == "avx512":
        options.update(AVX512_TIER)
    args = list(ALWAYS)
    for name in [*AVX2_TIER, *AVX512_TIER]:
        on = name in options and set(options[name]) <= flags
        args.append(f"-D{name}={'ON' if on else 'OFF'}")
    return args


def compiler() -> str:
    cc = os.environ.get("CC", "cc")
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=True)
        return out.stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return cc


def key(version: str, python: str) -> str:
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    text = "\n".join([version, tag, platform.machine(), compiler(), *cmake_flags()])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def wheelhouse(version: str, python: str) -> Path:
    root = os.environ.get("RAG_WHEELHOUSE") or Path.home() / ".cache" / "rag" / "wheels"
    return Path(root) / f"llama-cpp-python-{version}-{key(version, python)}"


def build(version: str, python: str) -> Path:
    target = wheelhouse(version, python)
    if any(target.glob("llama_cpp_python-*.whl")):
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    args = " ".join(cmake_flags())
    jobs = str(os.cpu_count() or 2)
    env = {**os.environ, "CMAKE_ARGS": args, "CMAKE_BUILD_PARALLEL_LEVEL": jobs}
    print(
        f">> building llama-cpp-python {version} with {jobs} cores (about 8 min on 2 cores)",
        file=sys.stderr,
    )
    print(f">> CMAKE_ARGS={args}", file=sys.stderr)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-cache-dir",
            "--no-deps",
            "--no-binary",
            "llama-cpp-python",
            "-w",
            str(tmp),
            f"llama-cpp-python=={version}",
        ],
        env=env,
        check=True,
    )
    (tmp / "CMAKE_ARGS").write_text(args + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["flags", "key", "dir", "wheel"])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--version", default=VERSION)
    ns = parser.parse_args()
    if ns.what == "flags":
        print(" ".join(cmake_flags()))
    elif ns.what == "key":
        print(key(ns.version, ns.python))
    elif ns.what == "dir":
        print(wheelhouse(ns.version, ns.python))
    else:
        print(build(ns.version, ns.python))


if __name__ == "__main__":
    main()
