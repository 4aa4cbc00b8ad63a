"""Shared fixtures: the real embedding model and the real 135M GGUF, loaded once per session;
every test gets its own index folder.

The 135M model has no calibration of its own (a calibration belongs to one model and records
hundreds of questions with it). So that every calibrated path (reading the answer back, the
operating point, the bands) runs in the tests as it does with the default model, the session
borrows the default model's calibration re-labelled for the 135M file (RAG_CALIBRATION, also
seen by the servers the tests start). Tests of a model without a calibration set
`calibration=None`; tests/rag/generation/test_calibrated.py runs the 0.5B model with its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SMALL_MODEL = "smollm2"


def borrowed_calibration(folder: Path, identity: str) -> Path:
    """The default model's calibration, labelled as fitted for the model `identity`."""
    from rag.grounding.confidence import CALIBRATIONS, DEFAULT_CALIBRATION

    d = json.loads(
        (Path(__file__).parents[1] / "rag" / CALIBRATIONS / DEFAULT_CALIBRATION).read_text()
    )
    d["meta"]["model"] = {"id": identity, "name": "borrowed by the tests"}
    path = folder / f"borrowed-{abs(hash(identity))}.json"
    path.write_text(json.dumps(d))
    return path


@pytest.fixture(scope="session", autouse=True)
def small_model_calibration(tmp_path_factory):
    from rag.generation.models import manifest

    identity = f"gguf sha256:{manifest()[SMALL_MODEL]['sha256']}"
    path = borrowed_calibration(tmp_path_factory.mktemp("calibration"), identity)
    before = os.environ.get("RAG_CALIBRATION")
    os.environ["RAG_CALIBRATION"] = str(path)
    yield path
    if before is None:
        os.environ.pop("RAG_CALIBRATION", None)
    else:
        os.environ["RAG_CALIBRATION"] = before


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
