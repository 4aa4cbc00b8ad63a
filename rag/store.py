"""The index on disk: chunks, their vectors and the documents they came from.

Layout of `index_dir`:
    CURRENT            the name of the live generation, replaced atomically
    gen-000007/        meta.json (format, embedding model, documents), chunks.jsonl,
                       vectors.npy (one row per chunk), sentence_vectors.npy (one row per
                       sentence of each chunk, in chunk order)
A write builds a whole new generation in a temporary folder, fsyncs it, renames it into place,
then swaps CURRENT. A `kill -9` at any moment leaves CURRENT naming a complete generation.
Writers hold an exclusive lock on `index_dir/.lock`. Each commit first sweeps what a killed
writer left (`.tmp-gen-*`, `CURRENT.tmp`, generations other than the live one), and again after
the swap. Does not: support concurrent writers without the lock, or partial (delta) writes —
every commit rewrites the generation (so ingest commits in batches, see `Pipeline.ingest`).
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
from typing import Any, NamedTuple

import numpy as np

from rag.errors import IndexMismatchError, NotFoundError
from rag.injection import flag_sentences
from rag.types import Chunk, DocumentInfo

FORMAT = 2  # 2 added sentence_vectors.npy; a format-1 index is upgraded (see `needs_upgrade`)
READABLE = (1, 2)


class Upsert(NamedTuple):
    """One document's rows for `Store.apply`."""

    info: DocumentInfo
    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dim)
    sentence_vectors: list[np.ndarray]  # per chunk, (len(chunk.sentences), dim)


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
        self.sentence_vectors = np.zeros((0, dim), dtype=np.float32)
        self.needs_upgrade = False  # read from format 1: no sentence vectors yet
        self._rows = np.zeros(1, dtype=np.int64)

    def sentence_rows(self, i: int) -> np.ndarray:
        """The sentence vectors of chunk `i` (one row per `chunks[i].sentences`)."""
        return self.sentence_vectors[self._rows[i] : self._rows[i + 1]]

    def _index_sentences(self) -> None:
        self._rows = np.concatenate([[0], np.cumsum([len(c.sentences) for c in self.chunks])])
        if not self.needs_upgrade and len(self.sentence_vectors) != self._rows[-1]:
            raise IndexMismatchError(
                f"{self.dir}: sentence vectors and chunks disagree; rebuild the index"
            )

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
        if meta.get("format") not in READABLE:
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
        if (gen_dir / "sentence_vectors.npy").is_file():
            store.sentence_vectors = np.load(gen_dir / "sentence_vectors.npy")
        else:
            store.needs_upgrade = True
        store._index_sentences()
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
        upserts: list[Upsert],
        removals: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        """Replace/add documents and remove others, in memory (call `commit` to persist)."""
        if self.needs_upgrade:
            raise IndexMismatchError("upgrade the index (`upgrade`) before changing it")
        for doc_id in removals:
            if doc_id not in self.docs:
                raise NotFoundError(
                    f"no document {doc_id!r} in the index; `rag list` shows the ids"
                )
        drop = set(removals) | {u.info.doc_id for u in upserts}
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in drop]
        chunks = [self.chunks[i] for i in keep]
        vectors = [self.vectors[keep]]
        sentence_vectors = [self.sentence_rows(i) for i in keep]
        for doc_id in drop:
            self.docs.pop(doc_id, None)
        for u in upserts:
            self.docs[u.info.doc_id] = u.info
            chunks.extend(u.chunks)
            vectors.append(np.asarray(u.vectors, dtype=np.float32).reshape(-1, self.dim))
            sentence_vectors.extend(u.sentence_vectors)
        self.chunks = chunks
        self.vectors = np.vstack(vectors)
        self._set_sentence_vectors(sentence_vectors)

    def upgrade(self, sentence_vectors: list[np.ndarray]) -> None:
        """Give a format-1 store its sentence vectors, one array per chunk (in memory; `commit`
        writes format 2)."""
        self.needs_upgrade = False
        self._set_sentence_vectors(sentence_vectors)

    def _set_sentence_vectors(self, per_chunk: list[np.ndarray]) -> None:
        rows = [np.asarray(v, dtype=np.float32).reshape(-1, self.dim) for v in per_chunk]
        self.sentence_vectors = np.vstack([np.zeros((0, self.dim), np.float32), *rows])
        self._index_sentences()

    def sweep(self) -> list[str]:
        """Remove what an interrupted write left: temporary folders and files, and every
        generation but the live one. Call with the lock held. Returns the names removed."""
        current = self.dir / "CURRENT"
        live = current.read_text().strip() if current.is_file() else None
        removed = []
        for entry in self.dir.iterdir() if self.dir.is_dir() else ():
            stale = (
                entry.name.startswith(".tmp-gen-")
                or entry.name == "CURRENT.tmp"
                or (entry.name.startswith("gen-") and entry.name != live)
            )
            if not stale:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
        return removed

    def commit(self) -> None:
        """Write the in-memory state as the next generation and make it live."""
        if self.needs_upgrade:
            raise IndexMismatchError("upgrade the index (`upgrade`) before writing it")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sweep()
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
        for stem, array in (("vectors", self.vectors), ("sentence_vectors", self.sentence_vectors)):
            with (tmp / f"{stem}.npy").open("wb") as fh:
                np.save(fh, array)
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
        self.sweep()  # the generation before this one


def read_documents(index_dir: Path) -> list[DocumentInfo]:
    """The documents of the live generation, from its meta.json alone (no vectors, no model
    check); [] when there is no index."""
    current = index_dir / "CURRENT"
    if not current.is_file():
        return []
    meta = json.loads((index_dir / current.read_text().strip() / "meta.json").read_text())
    return [DocumentInfo(**d) for d in meta["documents"]]


def _chunk_dict(c: Chunk) -> dict[str, Any]:
    d = asdict(c)
    d["sentences"] = [list(s) for s in c.sentences]
    d["flagged"] = list(c.flagged)
    return d


def _chunk(d: dict[str, Any]) -> Chunk:
    d["sentences"] = tuple(tuple(s) for s in d.get("sentences", ()))
    if "flagged" in d:
        d["flagged"] = tuple(d["flagged"])
    else:  # written before planted instructions were flagged: flag them now
        shift = [(a - d["start"], b - d["start"]) for a, b in d["sentences"]]
        d["flagged"] = flag_sentences(d["text"], shift)
    return Chunk(**d)
