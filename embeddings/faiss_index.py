"""FAISS backend. The index type follows the corpus size (see `choose_spec`):
exact search while it is cheap, HNSW beyond that, compressed IVF-PQ for very large corpora.
"""

from __future__ import annotations

import faiss
import numpy as np

from embeddings.base import VectorIndex

FLAT_MAX = 50_000
HNSW_MAX = 2_000_000


def choose_spec(n: int) -> str:
    """The FAISS index type for `n` vectors: "flat", "hnsw" or "ivfpq"."""
    if n <= FLAT_MAX:
        return "flat"
    return "hnsw" if n <= HNSW_MAX else "ivfpq"


class FaissIndex(VectorIndex):
    def __init__(self, dim: int, spec: str = "flat", ef_search: int = 64) -> None:
        super().__init__(dim)
        self.spec = spec
        if spec == "flat":
            self.index: faiss.Index = faiss.IndexFlatIP(dim)
        elif spec == "hnsw":
            self.index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = 80
            self.index.hnsw.efSearch = ef_search
        else:
            raise ValueError(f"unknown FAISS spec {spec!r} for incremental use (flat or hnsw)")

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def __len__(self) -> int:
        return int(self.index.ntotal)
