"""The llama.cpp build flags: explicit, AMX always off, AVX-512 only where the CPU has it; and
the installed build really is one of ours (no AMX compiled in)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "llama_build.py"
spec = importlib.util.spec_from_file_location("llama_build", SCRIPT)
assert spec and spec.loader
llama_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(llama_build)

BASE = {"avx", "avx2", "fma", "f16c", "bmi2", "sse4_2"}
AVX512 = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_vnni"}
SAPPHIRE_RAPIDS = BASE | AVX512 | {"avx512_bf16", "avx512vbmi", "amx_tile", "amx_int8", "amx_bf16"}


def options(flags: set[str], tier: str = "auto") -> dict[str, str]:
    args = llama_build.cmake_flags(tier, flags)
    return dict(a.removeprefix("-D").split("=") for a in args)


@pytest.mark.parametrize("tier", ["auto", "avx2", "avx512"])
def test_never_native_and_never_amx(tier: str):
    opts = options(SAPPHIRE_RAPIDS, tier)
    assert opts["GGML_NATIVE"] == "OFF"
    assert opts["GGML_AMX_TILE"] == opts["GGML_AMX_INT8"] == opts["GGML_AMX_BF16"] == "OFF"


def test_avx512_only_where_the_cpu_lists_it():
    assert options(SAPPHIRE_RAPIDS)["GGML_AVX512"] == "ON"
    assert options(SAPPHIRE_RAPIDS)["GGML_AVX512_BF16"] == "ON"
    assert options(BASE | AVX512)["GGML_AVX512_BF16"] == "OFF"  # not listed: not compiled
    no512 = options(BASE)
    assert no512["GGML_AVX512"] == "OFF" and no512["GGML_AVX2"] == "ON"
    baseline = options(SAPPHIRE_RAPIDS, "avx2")
    assert all(v == "OFF" for k, v in baseline.items() if k.startswith("GGML_AVX512"))


def test_the_flags_key_the_wheelhouse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import sys

    monkeypatch.setenv("RAG_WHEELHOUSE", str(tmp_path))
    monkeypatch.setenv("RAG_LLAMA_TIER", "avx2")
    a = llama_build.wheelhouse("0.3.36", sys.executable)
    monkeypatch.setenv("RAG_LLAMA_TIER", "avx512")
    b = llama_build.wheelhouse("0.3.36", sys.executable)
    assert a.parent == b.parent == tmp_path
    if llama_build.cpu_flags() >= set(llama_build.AVX512_TIER["GGML_AVX512"]):
        assert a != b  # other flags, another folder: a wheel built with other flags is not reused


def test_the_installed_build_has_no_amx_compiled_in():
    from llama_cpp import llama_print_system_info

    info = llama_print_system_info()
    text = info.decode() if isinstance(info, bytes) else str(info)
    assert "CPU" in text
    assert "AMX_INT8 = 1" not in text and "AMX = 1" not in text, text
