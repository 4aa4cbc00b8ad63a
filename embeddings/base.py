"""The two contracts: an `Embedder` turns texts into unit vectors, a `VectorIndex` searches them.

Backends implement only `_embed_batch` / `add`+`search`; batching, normalisation and shape
checks live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Embedder(ABC):
    model_id: str  # recorded in the index; a different id means "rebuild the index"
    dim: int
    batch_size: int = 64

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, any norm."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors; n may be 0."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # batches of similar length pad less (what SentenceTransformer.encode does within a call)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        ordered = [texts[i] for i in order]
        parts = [
            self._embed_batch(ordered[i : i + self.batch_size])
            for i in range(0, len(ordered), self.batch_size)
        ]
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        stacked = np.asarray(np.vstack(parts), dtype=np.float32)
        if stacked.shape != (len(texts), self.dim):
            raise ValueError(
                f"embedder returned {stacked.shape}, expected ({len(texts)}, {self.dim})"
            )
        vectors[order] = stacked
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


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
