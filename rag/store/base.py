"""The store contract: where documents, their chunks and vectors live, and how they are searched.

Two backends implement it, one module each: `rag/store/files.py` (the default: files under
`RAG_HOME`, FAISS + BM25 indexes saved beside them) and `rag/store/postgres.py` (PostgreSQL +
pgvector, shared by many processes and machines). `rag.store.open_store` picks one from
`RAG_STORE`. The pipeline, the CLI, the API and the evaluation harness only see this contract.

Search is hybrid in both: dense (inner product of unit vectors) and lexical, fused by reciprocal
rank (`rrf`). Writes go through `Store.writer()`: a document is written whole or not at all.
Does not: embed anything (callers pass vectors), or chunk documents.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import NamedTuple

import numpy as np

from rag.types import Chunk, DocumentInfo, Hit

RRF_K = 60  # the usual constant from Cormack et al. (2009)


class Upsert(NamedTuple):
    """One document's rows: replaces whatever the store holds under `info.doc_id`."""

    info: DocumentInfo
    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dim), unit rows
    sentence_vectors: list[np.ndarray]  # per chunk, (len(chunk.sentences), dim)


class Stored(NamedTuple):
    """What the store holds of one document: enough to tell whether it changed."""

    info: DocumentInfo
    chunk_ids: list[str]  # in document order


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum 1 / (k + rank). Best first, ties by first seen.

    >>> rrf([[3, 1], [1, 2]])[0][0]
    1
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking, start=1):
            scores[idx] = scores.get(idx, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def candidates(k: int, size: int) -> int:
    """How many results each of dense and lexical search contributes to the fusion."""
    return min(size, max(k * 4, 20))


class Writer(ABC):
    """Changes to a store, from `Store.writer()`. Each `put` / `remove` is atomic per document."""

    @abstractmethod
    def stored(self, doc_ids: list[str]) -> dict[str, Stored]:
        """What the store holds of these documents (absent ids are left out)."""

    @abstractmethod
    def put(self, upsert: Upsert) -> None:
        """Add the document, or replace it whole."""

    @abstractmethod
    def remove(self, name: str) -> DocumentInfo:
        """Remove a document by id or source name; `NotFoundError` when there is none."""


class Store(ABC):
    """Documents, chunks and vectors built with one embedding model (`model_id`, `dim`)."""

    model_id: str
    dim: int

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store lives, for messages (no password)."""

    @abstractmethod
    def documents(self) -> list[DocumentInfo]:
        """Every document, by source name."""

    @abstractmethod
    def find(self, name: str) -> DocumentInfo | None:
        """A document by id or source name."""

    @abstractmethod
    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""

    @abstractmethod
    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """One document's chunks, in document order."""

    @abstractmethod
    def titles(self) -> dict[str, int]:
        """Chunk titles (section headings) and how many chunks carry each."""

    @abstractmethod
    def search(self, query: str, query_vec: np.ndarray, k: int) -> list[Hit]:
        """Top-k chunks for `query`: dense and lexical search fused by reciprocal rank."""

    @abstractmethod
    def sentence_vectors(self, chunk: Chunk) -> np.ndarray:
        """(len(chunk.sentences), dim): the vectors of `chunk`'s sentences, made at ingest."""

    @abstractmethod
    def writer(self) -> AbstractContextManager[Writer]:
        """A writer; what it wrote is visible to `search` once the block ends (or sooner)."""

    def warm(self) -> None:
        """Load what the first search needs now (a no-op where nothing is loaded)."""
        return None

    def close(self) -> None:
        """Release connections and files (a no-op where there are none)."""
        return None

    def probe(self) -> None:
        """Raise `StoreUnavailableError` when the store cannot serve now (a database that does
        not answer); cheap. Files on this machine always can: a no-op."""
        return None


def iter_sentence_rows(chunks: list[Chunk], vectors: list[np.ndarray]) -> Iterator[tuple]:
    """(chunk, sentence index, start, end, flagged, vector) for every sentence of `chunks`."""
    for chunk, vecs in zip(chunks, vectors, strict=True):
        for i, ((a, b), vec) in enumerate(zip(chunk.sentences, vecs, strict=True)):
            yield chunk, i, a, b, i in chunk.flagged, vec
