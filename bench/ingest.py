"""Ingest throughput: chunks/s of `Pipeline.ingest` on a synthetic text corpus, against raw
`SentenceTransformer.encode` of the very same chunk texts; and where the pipeline's time goes
(reading, chunking, store write, each timed alone through the same functions; embedding is the
rest).

The corpus is deterministic: files of ~100 kB of English-like sentences (a fixed vocabulary, some
numbers), paragraphs of 2-7 sentences and a heading every few paragraphs.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embeddings import Embedder
from rag.config import Settings
from rag.ingest.chunking import chunk_document
from rag.ingest.documents import iter_files, load_file
from rag.pipeline import Pipeline
from rag.store import Upsert
from rag.store.files import FileStore, IndexGeneration

_WORDS = (  # noqa: SIM905
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no will "
    "more about up out them some could what into than then other only its time new year people "
    "government report city river council market water school century army province village "
    "company minister policy attack treaty election bridge harbour festival museum university "
    "railway engine library mountain island valley border trade hospital court station factory "
    "announced built described estimated reported opened closed signed increased reduced moved "
    "northern southern eastern western early late major minor local national regional annual"
).split()
_NAMES = ["Aldren", "Bexley", "Corvin", "Dunmore", "Elswick", "Farrow", "Galloway", "Hartwell"]


def _sentence(r: random.Random) -> str:
    words = [r.choice(_WORDS) for _ in range(r.randint(8, 24))]
    if r.random() < 0.5:
        words.insert(r.randrange(len(words)), r.choice(_NAMES))
    if r.random() < 0.4:
        words.insert(r.randrange(len(words)), str(r.randint(2, 2024)))
    return " ".join(words).capitalize() + r.choice(".....?!")


def synthetic_corpus(total_bytes: int, file_bytes: int = 100_000, seed: int = 0) -> list[str]:
    """Texts of about `file_bytes` each, `total_bytes` in all; the same for the same arguments."""
    r = random.Random(seed)
    texts, size = [], 0
    while size < total_bytes:
        parts: list[str] = []
        length = 0
        while length < min(file_bytes, total_bytes - size):
            if not parts or r.random() < 0.2:
                parts.append(" ".join(r.choice(_WORDS) for _ in range(r.randint(2, 5))).title())
            para = " ".join(_sentence(r) for _ in range(r.randint(2, 7)))
            parts.append(para)
            length += len(para) + 1
        text = "\n".join(parts) + "\n"
        texts.append(text)
        size += len(text.encode())
    return texts


def run(
    total_bytes: int = 5_000_000,
    embedder: Embedder | None = None,
    workdir: Path | None = None,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    from embeddings import make_embedder

    embedder = embedder or make_embedder()
    model = getattr(embedder, "model", None)  # the SentenceTransformer, for the raw baseline
    if model is None:
        raise ValueError("the ingest benchmark needs a sentence-transformers embedder")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        texts = synthetic_corpus(total_bytes)
        for i, text in enumerate(texts):
            (docs / f"doc{i:04d}.txt").write_text(text, encoding="utf-8")
        n_bytes = sum(len(t.encode()) for t in texts)
        settings = Settings(home=Path(tmp) / "home")
        model.encode(["warm up the model"] * 8, batch_size=8)

        pipeline = Pipeline(settings, embedder=embedder)
        log(f"ingest: {len(texts)} files, {n_bytes / 1e6:.1f} MB through Pipeline.ingest ...")
        t0 = time.perf_counter()
        report = pipeline.ingest([docs])
        pipeline_s = time.perf_counter() - t0
        if report.errors:
            raise RuntimeError(f"ingest failed: {report.errors[0]}")
        assert isinstance(pipeline.store, FileStore)
        live = pipeline.store.generation
        chunks = live.chunks
        inputs = [f"{c.title}\n{c.text}" for c in chunks]  # what the pipeline embeds

        log(f"ingest: {len(chunks)} chunks; raw SentenceTransformer.encode ...")
        t0 = time.perf_counter()
        model.encode(
            inputs,
            batch_size=embedder.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        raw_s = time.perf_counter() - t0

        log("ingest: stages alone (read, chunk, embed, store write) ...")
        stages: dict[str, float] = {}
        t0 = time.perf_counter()
        loaded = [load_file(p, int(settings.max_file_mb * 1e6)) for p in iter_files([docs])]
        stages["read_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        per_doc = [
            chunk_document(d.doc_id, d.source, d.text, settings.chunk_chars, settings.chunk_overlap)
            for d in loaded
        ]
        stages["chunk_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = IndexGeneration(Path(tmp) / "store", embedder.model_id, embedder.dim)
        old, vecs = live.docs, live.vectors
        upserts, row = [], 0
        for d, cs in zip(loaded, per_doc, strict=True):
            sents = [live.sentence_rows(row + i) for i in range(len(cs))]
            upserts.append(Upsert(old[d.doc_id], cs, vecs[row : row + len(cs)], sents))
            row += len(cs)
        store.apply(upserts)
        store.commit()
        stages["store_write_s"] = time.perf_counter() - t0
        # embedding (Embedder.embed: batching, normalisation) is the rest of the pipeline time
        stages["embed_and_rest_s"] = pipeline_s - sum(stages.values())

    n = len(chunks)
    pipeline_rate, raw_rate = n / pipeline_s, n / raw_s
    return {
        "files": len(texts),
        "bytes": n_bytes,
        "chunks": n,
        "pipeline_s": round(pipeline_s, 2),
        "raw_encode_s": round(raw_s, 2),
        "pipeline_chunks_per_s": round(pipeline_rate, 1),
        "raw_chunks_per_s": round(raw_rate, 1),
        "ratio": round(pipeline_rate / raw_rate, 3),
        "target_ratio": 0.9,
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "stages_share_of_pipeline": {k: round(v / pipeline_s, 3) for k, v in stages.items()},
    }
