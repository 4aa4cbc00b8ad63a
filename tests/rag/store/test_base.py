"""The store contract, run against both backends (files + FAISS + BM25, PostgreSQL + pgvector)
through the real pipeline and the real embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexMismatchError, NotFoundError
from rag.grounding.question import parse
from rag.ingest.chunking import chunk_document
from rag.pipeline import Pipeline
from rag.store import open_store


@pytest.fixture
def pipe(store_settings: Settings, embedder) -> Iterator[Pipeline]:
    p = Pipeline(store_settings, embedder=embedder)
    yield p
    p.store.close()


def _search(p: Pipeline, question: str, k: int = 3):
    return p.store.search(question, p.query_embedder.embed([question])[0], k)


def test_ingest_list_find_and_search(pipe: Pipeline, docs_dir: Path):
    report = pipe.ingest([docs_dir])
    assert sorted(report.added) == ["bees.txt", "harbour.html", "volcano.md"]
    docs = pipe.documents()
    assert [d.source for d in docs] == ["bees.txt", "harbour.html", "volcano.md"]
    assert pipe.store.counts() == (3, sum(d.chunks for d in docs))
    bees = docs[0]
    assert pipe.store.find("bees.txt") == bees == pipe.store.find(bees.doc_id)
    assert pipe.store.find("wasps.txt") is None
    chunks = pipe.store.chunks_of(bees.doc_id)
    assert len(chunks) == bees.chunks and all(c.source == "bees.txt" for c in chunks)
    assert "queen" in chunks[0].text and chunks[0].sentences
    assert sum(pipe.store.titles().values()) == pipe.store.counts()[1]
    # dense and lexical both point at the right document; the top hit is a chunk with its spans
    hits = _search(pipe, "When did Mount Etna erupt?")
    assert hits[0].chunk.source == "volcano.md" and hits[0].rank == 1
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    assert _search(pipe, "lighthouse Port Ellen")[0].chunk.source == "harbour.html"
    assert _search(pipe, "How long do worker bees live?")[0].chunk.source == "bees.txt"


def test_sentence_vectors_are_those_of_the_chunks_sentences(pipe: Pipeline, docs_dir, embedder):
    pipe.ingest([docs_dir])
    hits = _search(pipe, "Which island is Etna on?")
    for hit in hits:
        rows = pipe.store.sentence_vectors(hit.chunk)
        assert rows.shape == (len(hit.chunk.sentences), embedder.dim)
        alone = embedder.embed([s.text for s in hit.chunk.sentence_list()])
        assert (np.argmax(rows @ alone.T, axis=1) == np.arange(len(rows))).all()
    sentences, _, _ = pipe.context(parse("Which island is Etna on?"), 2)
    assert any("Sicily" in s.text for s in sentences)


def test_the_same_document_twice_is_one_document(pipe: Pipeline, docs_dir: Path):
    pipe.ingest([docs_dir])
    again = pipe.ingest([docs_dir])
    assert sorted(again.unchanged) == ["bees.txt", "harbour.html", "volcano.md"]
    (docs_dir / "volcano.md").write_text("# Volcanoes\nMount Fuji last erupted in 1707.\n")
    changed = pipe.ingest([docs_dir])
    assert changed.updated == ["volcano.md"] and len(changed.unchanged) == 2
    assert pipe.store.counts()[0] == 3
    [volcano] = [d for d in pipe.documents() if d.source == "volcano.md"]
    texts = " ".join(c.text for c in pipe.store.chunks_of(volcano.doc_id))
    assert "Fuji" in texts and "Etna" not in texts
    assert all("Etna" not in h.chunk.text for h in _search(pipe, "Mount Etna Sicily", 5))
    upload = pipe.ingest_bytes(b"Honey bees\nA hive has one queen.\n", "bees.txt")
    assert upload.updated == ["bees.txt"] and pipe.store.counts()[0] == 3


def test_remove(pipe: Pipeline, docs_dir: Path):
    pipe.ingest([docs_dir])
    bees = pipe.store.find("bees.txt")
    assert bees is not None
    assert pipe.remove(bees.doc_id) == bees
    assert pipe.remove("volcano.md").source == "volcano.md"
    assert [d.source for d in pipe.documents()] == ["harbour.html"]
    assert pipe.store.chunks_of(bees.doc_id) == []
    assert {h.chunk.source for h in _search(pipe, "bees queen Etna")} == {"harbour.html"}
    with pytest.raises(NotFoundError, match="rag list"):
        pipe.remove("bees.txt")


def test_another_embedding_model_is_refused(store_settings: Settings, pipe, docs_dir, embedder):
    pipe.ingest([docs_dir])
    with pytest.raises(IndexMismatchError, match="embedding model"):
        open_store(store_settings, "some-other-model/384", 384)
    with pytest.raises(IndexMismatchError):
        open_store(store_settings, embedder.model_id, 768)


def test_a_second_process_sees_new_documents_without_reopening(
    store_settings: Settings, pipe: Pipeline, docs_dir: Path, embedder
):
    """Two pipelines on one store (two replicas): what one writes, the other finds at once."""
    reader = Pipeline(store_settings, embedder=embedder)
    assert reader.documents() == [] and _search(reader, "Etna") == []
    pipe.ingest([docs_dir / "volcano.md"])
    assert [d.source for d in reader.documents()] == ["volcano.md"]
    hits = _search(reader, "When did Mount Etna erupt?")
    assert hits[0].chunk.source == "volcano.md"
    assert len(reader.store.sentence_vectors(hits[0].chunk)) == len(hits[0].chunk.sentences)
    pipe.remove("volcano.md")
    assert reader.documents() == [] and _search(reader, "Etna") == []
    reader.store.close()


def test_units_keep_their_kind_page_and_section(pipe: Pipeline):
    """A real slide deck: each sentence's kind and slide (page) and each chunk's section path are
    stored and come back as they were made."""
    from eval.extraction import REALDOCS
    from rag.ingest.documents import load_file

    path = REALDOCS / "files" / "ejpecp-readme.pptx"
    pipe.ingest([path])
    doc = load_file(path, 50_000_000)
    made = chunk_document(doc.doc_id, doc.source, doc.text, parts=doc.parts)
    stored = pipe.store.chunks_of(doc.doc_id)
    assert [(c.id, c.title, c.kinds, c.pages) for c in stored] == [
        (c.id, c.title, c.kinds, c.pages) for c in made
    ]
    assert {"item", "heading"} <= {k for c in stored for k in c.kinds}
    assert max(p for c in stored for p in c.pages) == 10  # ten slides
    unit = next(s for c in stored for s in c.sentence_list() if "Python2 script" in s.text)
    assert (unit.kind, unit.page, unit.chunk.title) == ("item", 4, "FILE LIST")
