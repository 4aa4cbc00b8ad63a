"""Where the index lives: `open_store` picks the backend from one setting, `RAG_STORE`.

RAG_STORE unset                          files under RAG_HOME/index (rag/store/files.py)
RAG_STORE=postgresql://user:pw@host/db   PostgreSQL + pgvector (rag/store/postgres.py)
RAG_STORE=postgresql://user@/db?host=/run/postgresql   the same over a Unix socket
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.config import Settings
from rag.store.base import Store, Stored, Upsert, Writer, rrf
from rag.types import Chunk, DocumentInfo

__all__ = ["Store", "Stored", "Upsert", "Writer", "open_store", "read_documents", "rrf"]


def open_store(
    settings: Settings,
    model_id: str,
    dim: int,
    reembed: Callable[[list[Chunk]], list[np.ndarray]] | None = None,
) -> Store:
    """The store `settings` name, for vectors of embedding model `model_id` (`dim` wide).

    `reembed` gives old file indexes (format 1) their sentence vectors on first open."""
    if settings.store:
        from rag.store.postgres import PostgresStore

        return PostgresStore(settings.store, model_id, dim, wait=settings.store_wait)
    from rag.store.files import FileStore

    return FileStore(settings.index_dir, model_id, dim, reembed)


def read_documents(settings: Settings) -> list[DocumentInfo]:
    """The documents of the store, without loading vectors or checking the embedding model
    (cheap: for commands that only need to know whether there are any)."""
    if settings.store:
        from rag.store.postgres import read_documents as read_pg

        return read_pg(settings.store)
    from rag.store.files import read_documents as read_files

    return read_files(settings.index_dir)
