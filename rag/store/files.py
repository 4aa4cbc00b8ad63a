"""The default store: files under `RAG_HOME/index`, FAISS (dense) and BM25 (bm25s, lexical).

Layout of `index_dir`:
    CURRENT            the name of the live generation, replaced atomically
    gen-000007/        meta.json (format, embedding model, documents), chunks.jsonl,
                       vectors.npy (one row per chunk), sentence_vectors.npy (one row per
                       sentence of each chunk, in chunk order), dense.faiss and bm25/ (the search
                       indexes over those chunks, loaded as they are instead of rebuilt)
A write builds a whole new generation in a temporary folder, fsyncs it, renames it into place,
then swaps CURRENT. A `kill -9` at any moment leaves CURRENT naming a complete generation.
Writers hold an exclusive lock on `index_dir/.lock`. Each commit first sweeps what a killed
writer left (`.tmp-gen-*`, `CURRENT.tmp`, generations other than the live one), and again after
the swap. Readers check CURRENT before each call and load a newer generation when another process
wrote one. Does not: support concurrent writers without the lock, or partial (delta) writes —
every commit rewrites the generation (so ingest commits in batches, see `Pipeline.ingest`), or
share an index between machines (use the PostgreSQL store).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexMismatchError, NotFoundError
from rag.ingest.injection import flag_sentences
from rag.store.base import Store, Stored, Upsert, Writer, candidates, rrf
from rag.types import Chunk, DocumentInfo, Hit

FORMAT = 3  # 2 added sentence_vectors.npy, 3 dense.faiss and bm25/
READABLE = (1, 2, 3)  # 1 is upgraded (see `needs_upgrade`); 2 builds its search indexes on load
DENSE, LEXICAL = "dense.faiss", "bm25"
Reembed = Callable[[list[Chunk]], list[np.ndarray]]  # chunks -> their sentence vectors


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


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _tokenize(texts: list[str]) -> Any:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer.stemWords, show_progress=False)


class Searcher:
    """FAISS and BM25 over one generation's chunks; ids are chunk positions."""

    def __init__(self, index: Any, bm25: Any) -> None:
        self.index, self.bm25 = index, bm25

    @classmethod
    def build(cls, chunks: list[Chunk], vectors: np.ndarray, dim: int) -> Searcher:
        import bm25s

        from embeddings import make_index

        index = make_index(dim, len(chunks))
        bm25 = None
        if chunks:
            index.add(vectors)
            bm25 = bm25s.BM25()
            bm25.index(_tokenize([f"{c.title}\n{c.text}" for c in chunks]), show_progress=False)
        return cls(index, bm25)

    @classmethod
    def load(cls, gen_dir: Path) -> Searcher | None:
        """The indexes saved in `gen_dir`, or None when it has none (format 2)."""
        if not (gen_dir / DENSE).is_file():
            return None
        import bm25s

        from embeddings.faiss_index import FaissIndex

        bm25 = None
        if (gen_dir / LEXICAL).is_dir():
            bm25 = bm25s.BM25.load(str(gen_dir / LEXICAL), mmap=False)
        return cls(FaissIndex.load(gen_dir / DENSE), bm25)

    def save(self, gen_dir: Path) -> None:
        self.index.save(gen_dir / DENSE)
        _fsync_file(gen_dir / DENSE)
        if self.bm25 is not None:
            self.bm25.save(str(gen_dir / LEXICAL), show_progress=False)
            for path in (gen_dir / LEXICAL).iterdir():
                _fsync_file(path)
            _fsync_dir(gen_dir / LEXICAL)

    def dense(self, query_vec: np.ndarray, n: int) -> list[int]:
        _, ids = self.index.search(query_vec.reshape(1, -1), n)
        return [int(i) for i in ids[0] if i >= 0]

    def lexical(self, query: str, n: int) -> list[int]:
        if self.bm25 is None:
            return []
        tokens = _tokenize([query])
        if not tokens.ids or not tokens.ids[0]:
            return []  # only stopwords
        ids, scores = self.bm25.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


class IndexGeneration:
    """One generation of the index in memory, plus `commit` to write the next one."""

    def __init__(self, index_dir: Path, embed_model: str, dim: int) -> None:
        self.dir = index_dir
        self.embed_model = embed_model
        self.dim = dim
        self.generation = 0
        self.name = ""  # the folder it was read from ("" when new)
        self.docs: dict[str, DocumentInfo] = {}
        self.chunks: list[Chunk] = []
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.sentence_vectors = np.zeros((0, dim), dtype=np.float32)
        self.needs_upgrade = False  # read from format 1: no sentence vectors yet
        self._rows = np.zeros(1, dtype=np.int64)
        self.position: dict[str, int] = {}
        self._searcher: Searcher | None = None
        self._building = threading.Lock()

    def sentence_rows(self, i: int) -> np.ndarray:
        """The sentence vectors of chunk `i` (one row per `chunks[i].sentences`)."""
        return self.sentence_vectors[self._rows[i] : self._rows[i + 1]]

    def _index_sentences(self) -> None:
        self._rows = np.concatenate([[0], np.cumsum([len(c.sentences) for c in self.chunks])])
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self._searcher = None
        if not self.needs_upgrade and len(self.sentence_vectors) != self._rows[-1]:
            raise IndexMismatchError(
                f"{self.dir}: sentence vectors and chunks disagree; rebuild the index"
            )

    @property
    def searcher(self) -> Searcher:
        """The search indexes: loaded from the generation's folder, else built (and kept)."""
        with self._building:
            if self._searcher is None:
                gen_dir = self.dir / self.name
                loaded = Searcher.load(gen_dir) if self.name else None
                self._searcher = loaded or Searcher.build(self.chunks, self.vectors, self.dim)
            return self._searcher

    def search(self, query: str, query_vec: np.ndarray, k: int) -> list[Hit]:
        if not self.chunks:
            return []
        n = candidates(k, len(self.chunks))
        s = self.searcher
        fused = rrf([s.dense(query_vec, n), s.lexical(query, n)])[:k]
        return [Hit(self.chunks[i], score, rank) for rank, (i, score) in enumerate(fused, 1)]

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embed_model: str, dim: int) -> IndexGeneration:
        """Load the live generation, or an empty one when there is none yet. A generation swept
        by a writer while it was read is read again under its new name."""
        for attempt in range(5):
            try:
                return cls._open(index_dir, embed_model, dim)
            except FileNotFoundError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    @classmethod
    def _open(cls, index_dir: Path, embed_model: str, dim: int) -> IndexGeneration:
        store = cls(index_dir, embed_model, dim)
        name = live_name(index_dir)
        if name is None:
            return store
        gen_dir = index_dir / name
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
        store.name = name
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
        writes the current format)."""
        self.needs_upgrade = False
        self._set_sentence_vectors(sentence_vectors)

    def _set_sentence_vectors(self, per_chunk: list[np.ndarray]) -> None:
        rows = [np.asarray(v, dtype=np.float32).reshape(-1, self.dim) for v in per_chunk]
        self.sentence_vectors = np.vstack([np.zeros((0, self.dim), np.float32), *rows])
        self._index_sentences()

    def sweep(self) -> list[str]:
        """Remove what an interrupted write left: temporary folders and files, and every
        generation but the live one. Call with the lock held. Returns the names removed."""
        live = live_name(self.dir)
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
        """Write the in-memory state and its search indexes as the next generation and make it
        live."""
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
        searcher = Searcher.build(self.chunks, self.vectors, self.dim)
        searcher.save(tmp)
        _write(tmp / "meta.json", json.dumps(meta, indent=1).encode())  # written last
        _fsync_dir(tmp)
        final = self.dir / name
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _write(self.dir / "CURRENT.tmp", name.encode())
        os.replace(self.dir / "CURRENT.tmp", self.dir / "CURRENT")
        _fsync_dir(self.dir)
        self.generation, self.name, self._searcher = gen, name, searcher
        self.sweep()  # the generation before this one


def live_name(index_dir: Path) -> str | None:
    """The live generation's folder name, or None when there is no index."""
    try:
        return (index_dir / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def read_documents(index_dir: Path) -> list[DocumentInfo]:
    """The documents of the live generation, from its meta.json alone (no vectors, no model
    check); [] when there is no index."""
    name = live_name(index_dir)
    if name is None:
        return []
    meta = json.loads((index_dir / name / "meta.json").read_text())
    return [DocumentInfo(**d) for d in meta["documents"]]


class _FileWriter(Writer):
    """Collects a batch of changes; `FileStore.writer` commits them as one generation."""

    def __init__(self, gen: IndexGeneration) -> None:
        self.gen = gen
        self.upserts: dict[str, Upsert] = {}
        self.removals: set[str] = set()
        self._ids: dict[str, list[str]] | None = None

    def stored(self, doc_ids: list[str]) -> dict[str, Stored]:
        if self._ids is None:
            self._ids = {}
            for c in self.gen.chunks:
                self._ids.setdefault(c.doc_id, []).append(c.id)
        docs = self.gen.docs
        return {d: Stored(docs[d], self._ids.get(d, [])) for d in doc_ids if d in docs}

    def put(self, upsert: Upsert) -> None:
        self.upserts[upsert.info.doc_id] = upsert

    def remove(self, name: str) -> DocumentInfo:
        docs = self.gen.docs
        info = docs.get(name) or next((d for d in docs.values() if d.source == name), None)
        if info is None or info.doc_id in self.removals:
            raise NotFoundError(f"no document {name!r} in the index; `rag list` shows the ids")
        self.removals.add(info.doc_id)
        self.upserts.pop(info.doc_id, None)
        return info


class FileStore(Store):
    """The store contract over `IndexGeneration`s in `index_dir`."""

    def __init__(
        self, index_dir: Path, model_id: str, dim: int, reembed: Reembed | None = None
    ) -> None:
        self.dir, self.model_id, self.dim = index_dir, model_id, dim
        self.reembed = reembed
        self._gen = IndexGeneration.open(index_dir, model_id, dim)
        self._prev = self._gen  # sentence vectors of hits from the generation before a reload
        if self._gen.needs_upgrade:
            with self._gen.locked():
                self._gen = self._open_for_write()

    @property
    def location(self) -> str:
        return str(self.dir)

    @property
    def generation(self) -> IndexGeneration:
        """The live generation (read again when another process committed a newer one)."""
        gen = self._gen
        if live_name(self.dir) != (gen.name or None):
            fresh = IndexGeneration.open(self.dir, self.model_id, self.dim)
            if not fresh.needs_upgrade:
                self._prev, self._gen = gen, fresh
                gen = fresh
        return gen

    def _open_for_write(self) -> IndexGeneration:
        """The live generation, upgraded first when it predates stored sentence vectors (embedded
        once and rewritten). Call with the lock held."""
        gen = IndexGeneration.open(self.dir, self.model_id, self.dim)
        if gen.needs_upgrade:
            if self.reembed is None:
                raise IndexMismatchError(f"the index at {self.dir} needs `rag ingest` to upgrade")
            gen.upgrade(self.reembed(gen.chunks))
            gen.commit()
        return gen

    def documents(self) -> list[DocumentInfo]:
        return sorted(self.generation.docs.values(), key=lambda d: d.source)

    def find(self, name: str) -> DocumentInfo | None:
        docs = self.generation.docs
        return docs.get(name) or next((d for d in docs.values() if d.source == name), None)

    def counts(self) -> tuple[int, int]:
        gen = self.generation
        return len(gen.docs), len(gen.chunks)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.generation.chunks if c.doc_id == doc_id]

    def titles(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.generation.chunks:
            out[c.title] = out.get(c.title, 0) + 1
        return out

    def search(self, query: str, query_vec: np.ndarray, k: int) -> list[Hit]:
        return self.generation.search(query, query_vec, k)

    def sentence_vectors(self, chunk: Chunk) -> np.ndarray:
        for gen in (self._gen, self._prev):
            i = gen.position.get(chunk.id)
            if i is not None:
                return gen.sentence_rows(i)
        raise NotFoundError(f"chunk {chunk.id} is no longer in the index; ask again")

    def warm(self) -> None:
        self.generation.searcher  # noqa: B018 - load or build it now

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        with self._gen.locked():
            gen = self._open_for_write()
            w = _FileWriter(gen)
            yield w
            if w.upserts or w.removals:
                gen.apply(list(w.upserts.values()), w.removals)
                gen.commit()
            self._prev, self._gen = self._gen, gen


def _chunk_dict(c: Chunk) -> dict[str, Any]:
    d = asdict(c)
    d["sentences"] = [list(s) for s in c.sentences]
    d["flagged"] = list(c.flagged)
    d["kinds"] = list(c.kinds)
    d["pages"] = list(c.pages)
    return d


def _chunk(d: dict[str, Any]) -> Chunk:
    d["sentences"] = tuple(tuple(s) for s in d.get("sentences", ()))
    d["kinds"] = tuple(d.get("kinds", ()))  # absent in indexes written before 0.5
    d["pages"] = tuple(d.get("pages", ()))
    if "flagged" in d:
        d["flagged"] = tuple(d["flagged"])
    else:  # written before planted instructions were flagged: flag them now
        shift = [(a - d["start"], b - d["start"]) for a, b in d["sentences"]]
        d["flagged"] = flag_sentences(d["text"], shift)
    return Chunk(**d)
