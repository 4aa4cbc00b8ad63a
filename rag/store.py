"""The index on disk: chunks, their vectors and the documents they came from.

Layout of `index_dir`:
    CURRENT            the name of the live generation, replaced atomically
    gen-000007/        meta.json (format, embedding model, documents), chunks.jsonl, vectors.npy
A write builds a whole new generation in a temporary folder, fsyncs it, renames it into place,
then swaps CURRENT. A `kill -9` at any moment leaves CURRENT naming a complete generation.
Writers hold an exclusive lock on `index_dir/.lock`. Does not: support concurrent writers
without the lock, or partial (delta) writes — every commit rewrites the generation.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexMismatchError, NotFoundError
from rag.types import Chunk, DocumentInfo

FORMAT = 1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class Store:
    """In-memory view of one generation, plus `commit` to write the next one."""

    def __init__(self, index_dir: Path, embed_model: str, dim: int) -> None:
        self.dir = index_dir
        self.embed_model = embed_model
        self.dim = dim
        self.generation = 0
        self.docs: dict[str, DocumentInfo] = {}
        self.chunks: list[Chunk] = []
        self.vectors = np.zeros((0, dim), dtype=np.float32)

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embed_model: str, dim: int) -> Store:
        """Load the live generation, or an empty store when there is none yet."""
        store = cls(index_dir, embed_model, dim)
        current = index_dir / "CURRENT"
        if not current.is_file():
            return store
        gen_dir = index_dir / current.read_text().strip()
        meta = json.loads((gen_dir / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            raise IndexMismatchError(
                f"the index at {index_dir} has format {meta.get('format')}, this version reads "
                f"format {FORMAT}; delete the folder and run `rag ingest` again"
            )
        if meta["embed_model"] != embed_model or meta["dim"] != dim:
            raise IndexMismatchError(
                f"the index at {index_dir} was built with embedding model {meta['embed_model']!r}, "
                f"not {embed_model!r}; use that model (RAG_EMBED_MODEL) or rebuild: delete the "
                "folder and run `rag ingest` again"
            )
        store.generation = int(meta["generation"])
        store.docs = {d["doc_id"]: DocumentInfo(**d) for d in meta["documents"]}
        with (gen_dir / "chunks.jsonl").open() as fh:
            store.chunks = [_chunk(json.loads(line)) for line in fh]
        store.vectors = np.load(gen_dir / "vectors.npy")
        if len(store.vectors) != len(store.chunks):
            raise IndexMismatchError(f"{gen_dir}: vectors and chunks disagree; rebuild the index")
        return store

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def apply(
        self,
        upserts: list[tuple[DocumentInfo, list[Chunk], np.ndarray]],
        removals: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        """Replace/add documents and remove others, in memory (call `commit` to persist)."""
        for doc_id in removals:
            if doc_id not in self.docs:
                raise NotFoundError(
                    f"no document {doc_id!r} in the index; `rag list` shows the ids"
                )
        drop = set(removals) | {info.doc_id for info, _, _ in upserts}
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in drop]
        chunks = [self.chunks[i] for i in keep]
        vectors = [self.vectors[keep]]
        for doc_id in drop:
            self.docs.pop(doc_id, None)
        for info, doc_chunks, doc_vectors in upserts:
            self.docs[info.doc_id] = info
            chunks.extend(doc_chunks)
            vectors.append(np.asarray(doc_vectors, dtype=np.float32).reshape(-1, self.dim))
        self.chunks = chunks
        self.vectors = np.vstack(vectors)

    def commit(self) -> None:
        """Write the in-memory state as the next generation and make it live."""
        self.dir.mkdir(parents=True, exist_ok=True)
        gen = self.generation + 1
        name = f"gen-{gen:06d}"
        tmp = self.dir / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        meta: dict[str, Any] = {
            "format": FORMAT,
            "generation": gen,
            "embed_model": self.embed_model,
            "dim": self.dim,
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "documents": [asdict(d) for d in self.docs.values()],
        }
        lines = "".join(json.dumps(_chunk_dict(c), ensure_ascii=False) + "\n" for c in self.chunks)
        _write(tmp / "chunks.jsonl", lines.encode())
        with (tmp / "vectors.npy").open("wb") as fh:
            np.save(fh, self.vectors)
            fh.flush()
            os.fsync(fh.fileno())
        _write(tmp / "meta.json", json.dumps(meta, indent=1).encode())  # written last
        _fsync_dir(tmp)
        final = self.dir / name
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _write(self.dir / "CURRENT.tmp", name.encode())
        os.replace(self.dir / "CURRENT.tmp", self.dir / "CURRENT")
        _fsync_dir(self.dir)
        self.generation = gen
        for old in self.dir.iterdir():  # earlier generations and abandoned temporaries
            if old.is_dir() and old.name != name:
                shutil.rmtree(old, ignore_errors=True)


def _chunk_dict(c: Chunk) -> dict[str, Any]:
    d = asdict(c)
    d["sentences"] = [list(s) for s in c.sentences]
    return d


def _chunk(d: dict[str, Any]) -> Chunk:
    d["sentences"] = tuple(tuple(s) for s in d.get("sentences", ()))
    return Chunk(**d)
