"""The answer model `settings` name: one backend module per kind, chosen by one setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.generation.base import Generator

if TYPE_CHECKING:
    from rag.config import Settings


def make_generator(settings: Settings) -> Generator:
    """The answer model `settings` name: a remote server when RAG_LLM_URL is set, else the GGUF
    file (`model_path`, or `model` resolved in `models_dir`) in this process."""
    if settings.llm_url:
        from rag.generation.remote import OpenAIGenerator

        return OpenAIGenerator(
            settings.llm_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            n_ctx=settings.llm_ctx,
            timeout=settings.llm_timeout,
            fallback_ctx=settings.n_ctx,
        )
    from rag.generation.llama import LlamaGenerator
    from rag.generation.models import resolve_model

    path = settings.model_path or resolve_model(settings.model, settings.models_dir)
    return LlamaGenerator(
        path, n_ctx=settings.n_ctx, n_threads=settings.n_threads, repack=settings.repack
    )
