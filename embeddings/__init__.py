"""Embedding models and vector indexes: one small contract each, one module per backend.

The names below load on first use (PEP 562), so `import embeddings.errors` (which `rag.errors`
needs) stays cheap: no numpy in a parser cage or in `rag list`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from embeddings.base import Embedder, VectorIndex
    from embeddings.factory import (
        export_query_embedder,
        make_embedder,
        make_index,
        make_query_embedder,
    )

_WHERE = {
    "Embedder": "embeddings.base",
    "VectorIndex": "embeddings.base",
    "export_query_embedder": "embeddings.factory",
    "make_embedder": "embeddings.factory",
    "make_index": "embeddings.factory",
    "make_query_embedder": "embeddings.factory",
}

__all__ = [
    "Embedder",
    "VectorIndex",
    "export_query_embedder",
    "make_embedder",
    "make_index",
    "make_query_embedder",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'embeddings' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
