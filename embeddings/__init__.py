"""Embedding models and vector indexes: one small contract each, one module per backend."""

from embeddings.base import Embedder, VectorIndex
from embeddings.factory import make_embedder, make_index

__all__ = ["Embedder", "VectorIndex", "make_embedder", "make_index"]
