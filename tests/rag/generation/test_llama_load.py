"""llama.cpp's weight repacking follows RAG_REPACK (off by default: faster load and prompt on the
measured CPU), and the swap of llama-cpp-python's defaults ends with the load."""

from __future__ import annotations

import llama_cpp.llama_cpp as c
import pytest

from rag.config import Settings
from rag.generation.factory import make_generator
from rag.generation.llama import LlamaGenerator
from tests.conftest import SMALL_MODEL


@pytest.mark.parametrize("env, expected", [(None, False), ("1", True), ("0", False)])
def test_repack_follows_the_setting(monkeypatch, env, expected):
    monkeypatch.delenv("RAG_REPACK", raising=False)
    if env is not None:
        monkeypatch.setenv("RAG_REPACK", env)
    gen = make_generator(Settings(model=SMALL_MODEL))
    assert isinstance(gen, LlamaGenerator)
    assert gen.llm.model_params.use_extra_bufts is expected
    assert c.llama_model_default_params().use_extra_bufts is True  # llama.cpp's own default back
    reply = "".join(gen.stream([{"role": "user", "content": "Say hello."}], max_tokens=4))
    assert reply.strip()
