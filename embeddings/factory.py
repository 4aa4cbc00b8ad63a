"""Plain factories keyed by a config string."""

from __future__ import annotations

from pathlib import Path

from embeddings.base import Embedder, VectorIndex


def make_embedder(model_dir: Path | None = None) -> Embedder:
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model_dir)


def make_query_embedder(embedder: Embedder, cache: Path) -> Embedder:
    """The embedder for questions: the ONNX export of `embedder`'s model when one was made and
    verified under `cache` (no torch import), else `embedder` itself."""
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    if not isinstance(embedder, SentenceTransformerEmbedder):
        return embedder
    from embeddings.onnx_runtime import OnnxEmbedder

    return OnnxEmbedder.load(embedder.path, cache) or embedder


def export_query_embedder(embedder: Embedder, cache: Path) -> None:
    """Make the ONNX export `make_query_embedder` looks for (needs torch; a no-op when it exists
    or the model is not supported)."""
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    if isinstance(embedder, SentenceTransformerEmbedder):
        from embeddings.onnx_runtime import export

        export(embedder, cache)


def make_index(dim: int, n: int) -> VectorIndex:
    """An empty FAISS index suited to `n` vectors."""
    from embeddings.faiss_index import FaissIndex, choose_spec

    return FaissIndex(dim, choose_spec(n), n=n)
