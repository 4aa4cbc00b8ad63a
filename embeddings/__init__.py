"""Embedding models and vector indexes: one small contract each, one module per backend."""

from embeddings.base import Embedder, VectorIndex
from embeddings.factory import (
    export_query_embedder,
    make_embedder,
    make_index,
    make_query_embedder,
)

__all__ = [
    "Embedder",
    "VectorIndex",
    "export_query_embedder",
    "make_embedder",
    "make_index",
    "make_query_embedder",
]
