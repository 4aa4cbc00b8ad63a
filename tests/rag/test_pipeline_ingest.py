"""Ingestion into a real index folder: idempotence, updates, removal, bad files, mismatch."""

import json
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexMismatchError, NotFoundError
from rag.grounding.question import parse
from rag.pipeline import Pipeline
from rag.store.files import IndexGeneration


def test_ingest_then_reingest_is_idempotent(pipeline: Pipeline, docs_dir: Path):
    first = pipeline.ingest([docs_dir])
    assert sorted(first.added) == ["bees.txt", "harbour.html", "volcano.md"]
    assert not first.errors
    generation = pipeline.store.generation.generation
    chunk_ids = [c.id for c in pipeline.store.generation.chunks]
    again = pipeline.ingest([docs_dir])
    assert sorted(again.unchanged) == sorted(first.added) and not again.added
    assert pipeline.store.generation.generation == generation  # nothing rewritten
    assert [c.id for c in pipeline.store.generation.chunks] == chunk_ids


def test_new_chunk_settings_rechunk_an_unchanged_document(
    pipeline: Pipeline, settings, embedder, small_generator, corpus: Path
):
    first = pipeline.ingest([corpus])
    before = len(pipeline.store.generation.chunks)
    smaller = Pipeline(
        settings.model_copy(update={"chunk_chars": 400}),
        embedder=embedder,
        generator=small_generator,
    )
    report = smaller.ingest([corpus])
    assert report.updated == first.added and not report.unchanged
    assert len(smaller.store.generation.chunks) > before
    assert max(len(c.text) for c in smaller.store.generation.chunks) < 900
    assert smaller.ingest([corpus]).unchanged == first.added  # and then it is stable


def test_changed_document_replaces_its_chunks(pipeline: Pipeline, docs_dir: Path):
    pipeline.ingest([docs_dir])
    (docs_dir / "volcano.md").write_text("# Volcanoes\nMount Fuji last erupted in 1707.\n")
    report = pipeline.ingest([docs_dir / "volcano.md"])
    assert report.updated == ["volcano.md"]
    texts = " ".join(c.text for c in pipeline.store.generation.chunks)
    assert "Fuji" in texts and "Etna" not in texts
    assert len(pipeline.store.generation.docs) == 3
    q = "When did Mount Fuji erupt?"
    hits = pipeline.store.search(q, pipeline.query_embedder.embed([q])[0], 1)
    assert "1707" in hits[0].chunk.text


def test_remove_by_id_or_name(pipeline: Pipeline, docs_dir: Path, settings, embedder):
    pipeline.ingest([docs_dir])
    bees = next(d for d in pipeline.documents() if d.source == "bees.txt")
    assert pipeline.remove(bees.doc_id).source == "bees.txt"
    assert pipeline.remove("volcano.md").source == "volcano.md"
    assert [d.source for d in pipeline.documents()] == ["harbour.html"]
    assert all(c.doc_id != bees.doc_id for c in pipeline.store.generation.chunks)
    with pytest.raises(NotFoundError, match="rag list"):
        pipeline.remove("bees.txt")
    reopened = IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim)
    assert [d.source for d in reopened.docs.values()] == ["harbour.html"]


def test_bad_files_are_reported_and_the_rest_is_kept(pipeline: Pipeline, docs_dir: Path, tmp_path):
    pipeline.ingest([docs_dir / "bees.txt"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (bad / "good.txt").write_text("The museum opens at nine.")
    report = pipeline.ingest([bad, tmp_path / "missing.txt"])
    assert report.added == ["good.txt"]
    assert len(report.errors) == 4
    assert {Path(p).name for p, _ in report.errors} == {
        "empty.txt",
        "binary.txt",
        "broken.pdf",
        "missing.txt",
    }
    assert {d.source for d in pipeline.documents()} == {"bees.txt", "good.txt"}


def test_index_built_with_another_model_is_refused(pipeline: Pipeline, docs_dir, settings):
    pipeline.ingest([docs_dir])
    with pytest.raises(IndexMismatchError, match="rebuild"):
        IndexGeneration.open(settings.index_dir, "some-other-model/384", 384)
    with pytest.raises(IndexMismatchError):
        IndexGeneration.open(settings.index_dir, pipeline.embedder.model_id, 768)


def test_index_survives_reload_with_identical_content(pipeline, docs_dir, settings, embedder):
    pipeline.ingest([docs_dir])
    again = IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim)
    assert again.chunks == pipeline.store.generation.chunks
    assert (again.vectors == pipeline.store.generation.vectors).all()
    # only one generation is kept on disk
    assert [p.name for p in settings.index_dir.iterdir() if p.is_dir()] == [
        f"gen-{again.generation:06d}"
    ]


def test_sentence_vectors_follow_their_chunks(
    pipeline: Pipeline, docs_dir: Path, settings, embedder
):
    pipeline.ingest([docs_dir])
    pipeline.remove("bees.txt")
    (docs_dir / "volcano.md").write_text(
        "# Volcanoes\nMount Fuji last erupted in 1707. Its crater is 780 metres wide.\n"
    )
    pipeline.ingest([docs_dir])
    store = IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim)
    assert len(store.sentence_vectors) == sum(len(c.sentences) for c in store.chunks)
    for i, chunk in enumerate(store.chunks):
        rows = store.sentence_rows(i)
        alone = embedder.embed([s.text for s in chunk.sentence_list()])
        # row j is sentence j of this chunk: it is closest to that sentence's own embedding
        assert (np.argmax(rows @ alone.T, axis=1) == np.arange(len(rows))).all()


def test_an_index_without_sentence_vectors_is_upgraded(
    pipeline: Pipeline, docs_dir: Path, settings, embedder, small_generator
):
    """An index written before format 2 (no sentence_vectors.npy) loads, and is rewritten once."""
    pipeline.ingest([docs_dir])
    before = IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim)
    gen = settings.index_dir / (settings.index_dir / "CURRENT").read_text()
    (gen / "sentence_vectors.npy").unlink()
    meta = json.loads((gen / "meta.json").read_text())
    (gen / "meta.json").write_text(json.dumps({**meta, "format": 1}))
    assert IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim).needs_upgrade

    upgraded = Pipeline(settings, embedder=embedder, generator=small_generator)
    assert upgraded.store.generation.generation == before.generation + 1
    live = upgraded.store.generation
    assert np.allclose(live.sentence_vectors, before.sentence_vectors, atol=1e-5)
    assert live.vectors.shape == before.vectors.shape
    assert [d.source for d in upgraded.documents()] == ["bees.txt", "harbour.html", "volcano.md"]
    again = IndexGeneration.open(settings.index_dir, embedder.model_id, embedder.dim)
    assert not again.needs_upgrade
    sentences, _, _ = upgraded.context(parse("When did Etna erupt?"), 2)
    assert sentences
