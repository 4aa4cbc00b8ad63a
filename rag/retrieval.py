"""Hybrid retrieval: FAISS dense search and BM25 (bm25s), fused by reciprocal rank fusion.

`Retriever` is built from a `Store` and rebuilt whenever the store changes.
Does not: rerank with a cross-encoder, or filter by document.
"""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer

from embeddings import Embedder, make_index
from rag.store import Store
from rag.types import Chunk, Hit

RRF_K = 60  # the usual constant from Cormack et al. (2009)


_STEMMER = Stemmer.Stemmer("english")


def _tokenize(texts: list[str]) -> bm25s.tokenization.Tokenized:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER.stemWords, show_progress=False)


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


class Retriever:
    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self.chunks: list[Chunk] = store.chunks
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self.index = make_index(embedder.dim, len(self.chunks))
        self.bm25: bm25s.BM25 | None = None
        if self.chunks:
            self.index.add(store.vectors)
            self.bm25 = bm25s.BM25()
            texts = [f"{c.title}\n{c.text}" for c in self.chunks]
            self.bm25.index(_tokenize(texts), show_progress=False)

    def sentence_vectors(self, chunk: Chunk) -> np.ndarray:
        """The stored vectors of `chunk`'s sentences, computed at ingest."""
        return self.store.sentence_rows(self.position[chunk.id])

    def dense(self, query_vec: np.ndarray, n: int) -> list[int]:
        _, ids = self.index.search(query_vec.reshape(1, -1), n)
        return [int(i) for i in ids[0] if i >= 0]

    def lexical(self, query: str, n: int) -> list[int]:
        if self.bm25 is None:
            return []
        tokens = _tokenize([query])
        if not tokens.ids or not tokens.ids[0]:
            return []  # only stopwords
        ids, scores = self.bm25.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def search(self, query: str, k: int, query_vec: np.ndarray | None = None) -> list[Hit]:
        """Top-k chunks for `query` (fewer when the index is smaller)."""
        if not self.chunks:
            return []
        n = min(len(self.chunks), max(k * 4, 20))
        if query_vec is None:
            query_vec = self.embedder.embed([query])[0]
        fused = rrf([self.dense(query_vec, n), self.lexical(query, n)])[:k]
        return [Hit(self.chunks[i], score, rank) for rank, (i, score) in enumerate(fused, 1)]
