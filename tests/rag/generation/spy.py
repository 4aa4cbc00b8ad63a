"""A real llama.cpp generator whose `llm.eval` calls are counted (a spy at the llama.cpp
boundary): `gen.evaluated` lists how many tokens each call was asked to evaluate."""

from __future__ import annotations

from rag.generation.llama import LlamaGenerator
from rag.generation.models import resolve_model
from tests.conftest import SMALL_MODEL


def counting_generator(model: str = SMALL_MODEL) -> LlamaGenerator:
    gen = LlamaGenerator(resolve_model(model), n_ctx=2048)
    evaluated: list[int] = []
    original = gen.llm.eval

    def counting_eval(tokens):
        evaluated.append(len(tokens))
        return original(tokens)

    gen.llm.eval = counting_eval  # type: ignore[method-assign]
    gen.evaluated = evaluated  # type: ignore[attr-defined]
    return gen
