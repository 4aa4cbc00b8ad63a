"""The files store keeps its FAISS and BM25 indexes in each generation: a new process loads them
instead of rebuilding; a generation written before (format 2) still opens and is upgraded by the
next commit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.pipeline import Pipeline
from rag.store.files import DENSE, LEXICAL, FileStore, Searcher, live_name


@pytest.fixture
def files(tmp_path: Path, embedder, docs_dir: Path) -> Pipeline:
    p = Pipeline(Settings(home=tmp_path / "home", model="smollm2"), embedder=embedder)
    p.ingest([docs_dir])
    return p


def _gen_dir(p: Pipeline) -> Path:
    index = p.settings.index_dir
    return index / str(live_name(index))


def test_a_new_process_loads_the_saved_indexes(files: Pipeline, embedder, monkeypatch):
    gen = _gen_dir(files)
    assert (gen / DENSE).is_file() and (gen / LEXICAL / "params.index.json").is_file()
    assert json.loads((gen / "meta.json").read_text())["format"] == 3

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt the search indexes instead of loading them")

    monkeypatch.setattr(Searcher, "build", no_build)
    store = FileStore(files.settings.index_dir, embedder.model_id, embedder.dim)
    store.warm()
    q = "When did Mount Etna erupt?"
    vec = embedder.embed([q])[0]
    assert [h.chunk.id for h in store.search(q, vec, 3)] == [
        h.chunk.id for h in files.store.search(q, vec, 3)
    ]
    assert store.search("lighthouse", vec * 0, 1)[0].chunk.source == "harbour.html"  # BM25


def test_a_format_2_generation_builds_them_and_the_next_commit_saves_them(
    files: Pipeline, embedder, docs_dir: Path
):
    gen = _gen_dir(files)
    (gen / DENSE).unlink()
    shutil.rmtree(gen / LEXICAL)
    meta = json.loads((gen / "meta.json").read_text())
    (gen / "meta.json").write_text(json.dumps({**meta, "format": 2}))
    store = FileStore(files.settings.index_dir, embedder.model_id, embedder.dim)
    q = "How long do worker bees live?"
    assert store.search(q, embedder.embed([q])[0], 1)[0].chunk.source == "bees.txt"
    (docs_dir / "ferry.txt").write_text("The ferry to Islay leaves at noon.\n")
    reopened = Pipeline(files.settings, embedder=embedder)
    assert reopened.ingest([docs_dir]).added == ["ferry.txt"]
    new = _gen_dir(reopened)
    assert new != gen and (new / DENSE).is_file() and (new / LEXICAL).is_dir()
    loaded = Searcher.load(new)
    assert loaded is not None and len(loaded.index) == reopened.store.counts()[1]
    assert np.isfinite(loaded.index.search(embedder.embed([q]), 1)[0]).all()
