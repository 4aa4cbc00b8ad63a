"""Shared fixtures: the real embedding model and the real 135M GGUF, loaded once per session;
every test gets its own index folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SMALL_MODEL = "smollm2"


@pytest.fixture(scope="session")
def embedder():
    from embeddings import make_embedder

    return make_embedder()


@pytest.fixture(scope="session")
def small_generator():
    from rag.generation.llama import LlamaGenerator
    from rag.generation.models import resolve_model

    return LlamaGenerator(resolve_model(SMALL_MODEL), n_ctx=2048, n_threads=os.cpu_count() or 2)


@pytest.fixture(scope="session")
def model_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) serving the
    135M model on loopback, as RAG_LLM_URL would name it."""
    from rag.generation.models import resolve_model
    from tests.model_server import start_model_server, stop_model_server

    log = tmp_path_factory.mktemp("model-server") / "server.log"
    server = start_model_server(resolve_model(SMALL_MODEL), log)
    yield server
    stop_model_server(server)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model=SMALL_MODEL)


@pytest.fixture
def pipeline(settings, embedder, small_generator):
    from rag.pipeline import Pipeline

    return Pipeline(settings, embedder=embedder, generator=small_generator)


@pytest.fixture
def corpus() -> Path:
    return DEFAULT_CORPUS


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A folder of three small, distinct documents."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "bees.txt").write_text(
        "Honey bees\nA honey bee colony has one queen. Worker bees live for about six weeks "
        "in summer. Drones do not have stingers.\n"
    )
    (d / "volcano.md").write_text(
        "# Volcanoes\nMount Etna is on the island of Sicily. It erupted in 2021 and again "
        "in 2023.\n"
    )
    (d / "harbour.html").write_text(
        "<html><head><title>Harbour</title><style>p{}</style></head><body><h1>Harbour</h1>"
        "<p>The lighthouse at Port Ellen was built in 1832.</p><script>x=1</script></body></html>"
    )
    return d
