"""Plain factories keyed by a config string."""

from __future__ import annotations

from pathlib import Path

from embeddings.base import Embedder, VectorIndex


def make_embedder(model_dir: Path | None = None) -> Embedder:
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model_dir)


def make_index(dim: int, n: int, backend: str = "faiss") -> VectorIndex:
    """An empty index suited to `n` vectors."""
    if backend == "numpy":
        from embeddings.numpy_index import NumpyIndex

        return NumpyIndex(dim)
    from embeddings.faiss_index import FaissIndex, choose_spec

    return FaissIndex(dim, choose_spec(n), n=n)
