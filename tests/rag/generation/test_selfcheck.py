"""The llama.cpp self-check: a real multi-token decode in a child process, and what a child
that dies by a signal (the crash of a build made for another CPU) turns into."""

import shutil
from pathlib import Path

import pytest

from rag.errors import LlamaBuildError
from rag.generation import selfcheck
from rag.generation.models import resolve_model

SUICIDE = "import os, signal; os.kill(os.getpid(), signal.{})"


def test_this_build_decodes_a_batch_of_tokens_in_a_child():
    assert selfcheck.check(resolve_model("smollm2"))


@pytest.mark.parametrize("sig", ["SIGILL", "SIGSEGV"])
def test_a_child_killed_by_a_signal_becomes_an_error_with_the_fix(sig: str):
    with pytest.raises(LlamaBuildError) as info:
        selfcheck.check(resolve_model("smollm2"), code=SUICIDE.format(sig))
    message = str(info.value)
    assert sig in message and "make rebuild-llama" in message and "GGML_NATIVE=OFF" in message


def test_a_child_that_fails_without_a_signal_is_left_to_the_normal_load_path(tmp_path: Path):
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really")
    assert selfcheck.check(bad) is False


def test_ensure_remembers_a_passed_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = resolve_model("smollm2")
    selfcheck.ensure(model)
    assert len(list((tmp_path / "cache" / "rag" / "selfcheck").iterdir())) == 1
    # a remembered verdict is not checked again: a child that would crash is never started
    selfcheck.ensure(model, code=SUICIDE.format("SIGSEGV"))
    # ... while another model file (or another build, or CPU) is checked afresh
    other = tmp_path / "other.gguf"
    shutil.copy(model, other)
    with pytest.raises(LlamaBuildError):
        selfcheck.ensure(other, code=SUICIDE.format("SIGSEGV"))
