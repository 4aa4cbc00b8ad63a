"""The two contracts: an `Embedder` turns texts into unit vectors, a `VectorIndex` searches them.

Backends implement only `_embed_batch` (and, optionally, `_embed_spans_batch`) / `add`+`search`;
batching, normalisation and shape checks live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import numpy as np

Span = tuple[int, int]  # character offsets inside one text
BatchDone = Callable[[int, int], None]  # (texts done, total)


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Embedder(ABC):
    model_id: str  # recorded in the index; a different id means "rebuild the index"
    dim: int
    batch_size: int = 64

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, any norm."""

    def _embed_spans_batch(
        self, texts: list[str], spans: list[list[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors, and per text a (len(spans), dim) array. This fallback embeds each span
        on its own; backends that expose token vectors pool them instead (one pass)."""
        flat = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
        flat_vecs = self._embed_batch(flat) if flat else np.zeros((0, self.dim), np.float32)
        cuts = np.cumsum([len(s) for s in spans])[:-1]
        return self._embed_batch(texts), list(np.split(np.asarray(flat_vecs), cuts))

    def _batches(self, texts: list[str]) -> Iterator[list[int]]:
        # batches of similar length pad less (what SentenceTransformer.encode does within a call)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i in range(0, len(order), self.batch_size):
            yield order[i : i + self.batch_size]

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors; n may be 0."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx in self._batches(texts):
            vectors[idx] = self._checked(self._embed_batch([texts[i] for i in idx]), len(idx))
        return unit(vectors)

    def embed_spans(
        self, texts: list[str], spans: list[list[Span]], progress: BatchDone | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit vectors of `texts`, and of the character spans (sentences) inside each text.

        With a token-level backend both come from one forward pass: a span's vector pools the
        tokens of its text that fall inside it ("late chunking"), so a sentence keeps the context
        of its chunk and costs nothing extra to embed."""
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vecs: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        done = 0
        for idx in self._batches(texts):
            vecs, parts = self._embed_spans_batch([texts[i] for i in idx], [spans[i] for i in idx])
            vectors[idx] = self._checked(vecs, len(idx))
            for i, part in zip(idx, parts, strict=True):
                span_vecs[i] = unit(self._checked(part, len(spans[i])))
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return unit(vectors), span_vecs

    def _checked(self, vectors: np.ndarray, n: int) -> np.ndarray:
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.shape != (n, self.dim):
            raise ValueError(f"embedder returned {arr.shape}, expected ({n}, {self.dim})")
        return arr


class VectorIndex(ABC):
    """Inner-product search over unit vectors; row i of `add` gets id i (ids are positions)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @abstractmethod
    def add(self, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k); missing results have id -1."""

    @abstractmethod
    def __len__(self) -> int: ...
