"""Brute-force NumPy index: the reference the FAISS backends are tested against."""

from __future__ import annotations

import numpy as np

from embeddings.base import VectorIndex


class NumpyIndex(VectorIndex):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.vectors = np.zeros((0, dim), dtype=np.float32)

    def add(self, vectors: np.ndarray) -> None:
        self.vectors = np.vstack([self.vectors, np.asarray(vectors, dtype=np.float32)])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.asarray(queries, dtype=np.float32) @ self.vectors.T  # (q, n)
        k_eff = min(k, len(self))
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        out = np.full((len(queries), k), -np.inf, dtype=np.float32)
        if k_eff:
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k_eff]
            ids[:, :k_eff] = top
            out[:, :k_eff] = np.take_along_axis(scores, top, axis=1)
        return out, ids

    def __len__(self) -> int:
        return len(self.vectors)
