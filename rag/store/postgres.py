"""The PostgreSQL + pgvector store: one database shared by any number of processes and machines.

Chosen by `RAG_STORE=postgresql://user:pass@host/db` (any libpq URI, the socket form
`postgresql://user@/db?host=/dir` included). Tables (created on first connect, under an advisory
lock so that two first connects do not race):
    rag_meta       key/value: schema version, embedding model id and dimension (checked on
                   every connect: another model is an `IndexMismatchError`)
    rag_documents  doc_id, source, title, sha256 of the text, chars, chunks, added
    rag_chunks     id, doc_id, n (order), title, text, start/end (character span), embedding
                   vector(dim) under an HNSW index (inner product on unit vectors = cosine),
                   tsv (english full-text vector, generated) under a GIN index
    rag_sentences  chunk_id, n, start/end, flagged (a planted instruction), embedding
A document is written in one transaction (delete its old rows, insert the new ones) holding an
advisory lock on its id: a killed writer leaves it whole or absent, two writers of the same
document leave one. Search fuses the dense and the full-text rankings by reciprocal rank in one
SQL statement (one round trip, only the top k rows come back). Nothing is cached but sentence
vectors by chunk id (a chunk id names its text), so every process sees every commit at once.
An outage (the server stopped, restarting, unreachable) is a `StoreUnavailableError` that says
what happened (refused, timed out, hung up) once a request has waited `wait` seconds
(RAG_STORE_WAIT) for a connection; once the server is back, the next request connects again:
a pooled connection the server closed is noticed before use (its socket reads EOF) and
replaced, and the pool's reconnection attempts never back off for longer than a second.
Does not: rank lexically with BM25 (Postgres ranks with `ts_rank_cd`), migrate from the files
store (ingest the documents again), or create the `vector` extension without the right to
(`CREATE EXTENSION vector` once, as a superuser).
"""

from __future__ import annotations

import atexit
import math
import re
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from rag.errors import IndexMismatchError, NotFoundError, StoreUnavailableError
from rag.store.base import (
    RRF_K,
    Store,
    Stored,
    Upsert,
    Writer,
    candidates,
    iter_sentence_rows,
)
from rag.types import Chunk, DocumentInfo, Hit

SCHEMA = 1
SETUP_LOCK = 7_131_001  # advisory lock keys (any constants, unlikely to clash)
DOC_LOCK = 7_131_002
POOL_SIZE = 4
WAIT = 1.5  # seconds a request waits for a connection (RAG_STORE_WAIT)
RETRY = 1.0  # seconds between the pool's attempts to reconnect (it gives up after this long)
# HNSW candidates per dense search: at 1M vectors recall@10 0.94 at pgvector's default 40,
# 0.99 at 100 for +1.7 ms (docs/scaling.md, `python -m bench.run --only pgvector`)
EF_SEARCH = 100
_CACHE = 4096  # sentence-vector arrays kept (a few questions' hits)


def redact(uri: str) -> str:
    """The URI without its password: postgresql://rag:***@db/rag."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", uri)


def _unavailable(uri: str, exc: Exception) -> StoreUnavailableError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailableError(
        f"cannot use the PostgreSQL store at {redact(uri)}: {first}; check RAG_STORE and that "
        "the server runs and has pgvector (unset RAG_STORE for the files under RAG_HOME)"
    )


def _what(exc: BaseException) -> str:
    """What a failed connection did, in words: refused, timed out or hung up (libpq's text)."""
    text = str(exc).strip()
    low = text.lower()
    if "refused" in low or "no such file or directory" in low:
        what = "refused the connection (is it running?)"
    elif "timeout" in low or "timed out" in low:
        what = "did not answer in time"
    elif any(
        w in low
        for w in ("closed the connection", "terminating connection", "eof", "reset", "lost")
    ):
        what = "hung up (it stopped or restarted)"
    else:
        what = "cannot be used"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"{what}: {first}"


def _tables(dim: int) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS rag_meta (key text PRIMARY KEY, value text NOT NULL)",
        """CREATE TABLE IF NOT EXISTS rag_documents (
            doc_id text PRIMARY KEY, source text NOT NULL, title text NOT NULL,
            sha256 text NOT NULL, chars integer NOT NULL, chunks integer NOT NULL,
            added text NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS rag_documents_source ON rag_documents (source)",
        f"""CREATE TABLE IF NOT EXISTS rag_chunks (
            id text PRIMARY KEY,
            doc_id text NOT NULL REFERENCES rag_documents ON DELETE CASCADE,
            n integer NOT NULL, title text NOT NULL, text text NOT NULL,
            start_char integer NOT NULL, end_char integer NOT NULL,
            embedding vector({dim}) NOT NULL,
            tsv tsvector GENERATED ALWAYS AS
                (to_tsvector('english', title || E'\\n' || text)) STORED)""",
        "CREATE INDEX IF NOT EXISTS rag_chunks_doc ON rag_chunks (doc_id, n)",
        """CREATE INDEX IF NOT EXISTS rag_chunks_embedding ON rag_chunks
            USING hnsw (embedding vector_ip_ops)""",
        "CREATE INDEX IF NOT EXISTS rag_chunks_tsv ON rag_chunks USING gin (tsv)",
        f"""CREATE TABLE IF NOT EXISTS rag_sentences (
            chunk_id text NOT NULL REFERENCES rag_chunks ON DELETE CASCADE,
            n integer NOT NULL, start_char integer NOT NULL, end_char integer NOT NULL,
            flagged boolean NOT NULL, embedding vector({dim}) NOT NULL,
            PRIMARY KEY (chunk_id, n))""",
        *SENTENCE_COLUMNS,
    ]


# added in 0.5 (a sentence's block kind and page): databases made before get them on open
SENTENCE_COLUMNS = [
    "ALTER TABLE rag_sentences ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'paragraph'",
    "ALTER TABLE rag_sentences ADD COLUMN IF NOT EXISTS page integer NOT NULL DEFAULT 0",
]


# dense and full-text rankings of `n` each, fused by reciprocal rank, top `k` with their rows
SEARCH = """
WITH dense AS (
    SELECT id, row_number() OVER (ORDER BY dist, id) AS r
    FROM (SELECT id, embedding <#> %(v)s AS dist FROM rag_chunks ORDER BY dist LIMIT %(n)s) d
), lexical AS (
    SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS r
    FROM (SELECT id, ts_rank_cd(tsv, query) AS rank
          FROM rag_chunks, websearch_to_tsquery('english', %(q)s) query
          WHERE tsv @@ query ORDER BY rank DESC, id LIMIT %(n)s) l
), fused AS (
    SELECT id, sum(1.0 / (%(rrf)s + r)) AS score, min(r) AS best
    FROM (SELECT id, r FROM dense UNION ALL SELECT id, r FROM lexical) u
    GROUP BY id ORDER BY score DESC, best, id LIMIT %(k)s
)
SELECT c.id, c.doc_id, d.source, c.title, c.text, c.start_char, c.end_char, f.score
FROM fused f JOIN rag_chunks c USING (id) JOIN rag_documents d ON d.doc_id = c.doc_id
ORDER BY f.score DESC, f.best, c.id
"""
CHUNK_COLUMNS = "c.id, c.doc_id, d.source, c.title, c.text, c.start_char, c.end_char"


def lexical_query(question: str) -> str:
    """The question's words joined by `or` for `websearch_to_tsquery` (which never fails on
    syntax): any word may match, as in BM25; stop words drop out there.

    >>> lexical_query("Who leads ISKP -- or not?")
    'Who or leads or ISKP or not'
    """
    return " or ".join(w for w in re.findall(r"\w+", question) if w.lower() != "or")


def _vector(v: Any) -> np.ndarray:
    return v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v, dtype=np.float32)


def _info(row: tuple) -> DocumentInfo:
    return DocumentInfo(*row)


DOC_COLUMNS = "doc_id, source, title, sha256, chars, chunks, added"


class PostgresStore(Store):
    def __init__(
        self, uri: str, model_id: str, dim: int, pool_size: int = POOL_SIZE, wait: float = WAIT
    ) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.uri, self.model_id, self.dim, self.wait = uri, model_id, dim, wait
        # libpq's connect_timeout: whole seconds, at least 2
        connect_timeout = max(2, math.ceil(wait))
        try:
            with psycopg.connect(
                uri, autocommit=True, connect_timeout=max(10, connect_timeout)
            ) as conn:
                self._setup(conn)
        except psycopg.Error as exc:
            raise _unavailable(uri, exc) from exc
        self._failed: BaseException | None = None  # the pool's last failed connect, if the last
        self.pool = ConnectionPool(
            uri,
            connection_class=_recording(self),
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": connect_timeout},
            configure=self._configure,
            open=False,
            name="rag-store",
            timeout=wait,
            # psycopg_pool retries a lost connection with a doubling delay for 5 minutes by
            # default: after an outage the next attempt could be a minute away. Here it gives
            # up after a second, and the next request that waits starts a new attempt at once.
            reconnect_timeout=RETRY,
        )
        try:
            self.pool.open(wait=True, timeout=max(10, connect_timeout))
        except Exception as exc:  # PoolTimeout, or what a connection raised
            raise _unavailable(uri, exc) from exc
        atexit.register(self.close)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    @property
    def location(self) -> str:
        return redact(self.uri)

    def _setup(self, conn: Any) -> None:
        """Create the extension and tables once, record the embedding model, check it."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            row = conn.execute("SELECT to_regclass('rag_sentences') IS NOT NULL").fetchone()
            if not (row and row[0]):  # DDL only once: CREATE INDEX would wait for writers
                has_vector = conn.execute(
                    "SELECT 1 FROM pg_extension WHERE extname = 'vector'"
                ).fetchone()
                if not has_vector:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                for sql in _tables(self.dim):
                    conn.execute(sql)
            elif not conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'rag_sentences' "
                "AND column_name = 'page'"
            ).fetchone():
                for sql in SENTENCE_COLUMNS:
                    conn.execute(sql)
            conn.execute(
                "INSERT INTO rag_meta VALUES ('schema', %s), ('embed_model', %s), ('dim', %s) "
                "ON CONFLICT (key) DO NOTHING",
                (str(SCHEMA), self.model_id, str(self.dim)),
            )
            meta = dict(conn.execute("SELECT key, value FROM rag_meta").fetchall())
        if meta["schema"] != str(SCHEMA):
            raise IndexMismatchError(
                f"the database at {self.location} has rag schema {meta['schema']}, this version "
                f"uses {SCHEMA}; use another database or drop the rag_* tables and ingest again"
            )
        if meta["embed_model"] != self.model_id or meta["dim"] != str(self.dim):
            raise IndexMismatchError(
                f"the database at {self.location} was built with embedding model "
                f"{meta['embed_model']!r} ({meta['dim']} dimensions), not {self.model_id!r} "
                f"({self.dim}); use that model (RAG_EMBED_MODEL), or another database, or drop "
                "the rag_* tables and ingest again"
            )

    @staticmethod
    def _configure(conn: Any) -> None:
        from pgvector.psycopg import register_vector

        register_vector(conn)

    def close(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None and not pool.closed:
            pool.close()

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        """A pooled connection, as `pool.connection()`; an outage is a `StoreUnavailableError`
        after `wait` seconds at most (at once when the server hangs up mid-query)."""
        import psycopg

        conn = self._getconn()
        try:
            with conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise self._outage(exc) from exc
        finally:
            self.pool.putconn(conn)  # a broken one is replaced by the pool

    def _getconn(self) -> Any:
        """Wait up to `wait` s for a live connection. The wait is cut in slices of RETRY s: each
        slice asks the pool again, which starts a new connection attempt when the last gave up.
        A pooled connection whose socket has something to read while idle was closed by the
        server (its goodbye, then EOF): it is checked with an empty query and, when broken,
        handed back for the pool to replace, without psycopg_pool's one-second pause."""
        import psycopg
        from psycopg_pool import PoolTimeout

        deadline = time.monotonic() + self.wait
        broken: BaseException | None = None  # what a pooled connection said when checked
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._outage(self._failed or broken)
            try:
                conn = self.pool.getconn(timeout=min(left, RETRY))
            except PoolTimeout:
                continue
            if not _suspect(conn):
                return conn
            try:
                conn.execute("")
                return conn
            except psycopg.Error as exc:
                broken = exc
                self.pool.putconn(conn)

    def _outage(self, exc: BaseException | None) -> StoreUnavailableError:
        what = (
            _what(exc)
            if exc is not None
            else f"gave no connection in {self.wait:g} s (all {self.pool.max_size} in use, or "
            "connecting takes longer)"
        )
        return StoreUnavailableError(
            f"the PostgreSQL store at {self.location} (RAG_STORE) {what}; check that the "
            f"database runs and accepts connections (a request waits RAG_STORE_WAIT = "
            f"{self.wait:g} s for one)"
        )

    def probe(self) -> None:
        """One round trip (`SELECT 1`) through the pool: a `StoreUnavailableError` within `wait`
        seconds when the database cannot serve."""
        with self._conn() as conn:
            conn.execute("SELECT 1")

    # ---- reading -------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        with self._conn() as conn:
            rows = conn.execute(f"SELECT {DOC_COLUMNS} FROM rag_documents ORDER BY source")
            return [_info(r) for r in rows.fetchall()]

    def find(self, name: str) -> DocumentInfo | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {DOC_COLUMNS} FROM rag_documents WHERE doc_id = %s OR source = %s "
                "ORDER BY doc_id = %s DESC, source LIMIT 1",
                (name, name, name),
            ).fetchone()
        return _info(row) if row else None

    def counts(self) -> tuple[int, int]:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(chunks), 0) FROM rag_documents"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def titles(self) -> dict[str, int]:
        with self._conn() as conn:
            rows = conn.execute("SELECT title, count(*) FROM rag_chunks GROUP BY title")
            return {t: int(n) for t, n in rows.fetchall()}

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {CHUNK_COLUMNS} FROM rag_chunks c JOIN rag_documents d USING (doc_id) "
                "WHERE c.doc_id = %s ORDER BY c.n",
                (doc_id,),
            ).fetchall()
            return self._chunks(conn, rows)

    def _chunks(self, conn: Any, rows: list[tuple]) -> list[Chunk]:
        """Chunks from `CHUNK_COLUMNS` rows, with their sentences (and their vectors cached)."""
        sentences: dict[str, list[tuple]] = {r[0]: [] for r in rows}
        for row in conn.execute(
            "SELECT chunk_id, start_char, end_char, flagged, embedding, kind, page "
            "FROM rag_sentences "
            "WHERE chunk_id = ANY(%s) ORDER BY chunk_id, n",
            ([r[0] for r in rows],),
        ):
            sentences[row[0]].append(row[1:])
        chunks = []
        with self._cache_lock:
            if len(self._cache) > _CACHE:
                self._cache.clear()
            for cid, doc_id, source, title, text, start, end in (r[:7] for r in rows):
                sents = sentences[cid]
                chunks.append(
                    Chunk(
                        cid,
                        doc_id,
                        source,
                        title,
                        text,
                        start,
                        end,
                        tuple((s[0], s[1]) for s in sents),
                        tuple(i for i, s in enumerate(sents) if s[2]),
                        tuple(s[4] for s in sents),
                        tuple(s[5] for s in sents),
                    )
                )
                vecs = [_vector(s[3]) for s in sents]
                self._cache[cid] = (
                    np.stack(vecs).astype(np.float32)
                    if vecs
                    else np.zeros((0, self.dim), np.float32)
                )
        return chunks

    def search(self, query: str, query_vec: np.ndarray, k: int) -> list[Hit]:
        n = candidates(k, 1 << 30)
        params = {
            "v": np.asarray(query_vec, dtype=np.float32),
            "q": lexical_query(query),
            "n": n,
            "k": k,
            "rrf": RRF_K,
        }
        with self._conn() as conn, conn.transaction():
            # HNSW returns at most ef_search rows per scan: at least every candidate
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(max(EF_SEARCH, n)),))
            rows = conn.execute(SEARCH, params).fetchall()
            chunks = self._chunks(conn, rows)
        return [
            Hit(c, float(r[7]), rank)
            for rank, (c, r) in enumerate(zip(chunks, rows, strict=True), 1)
        ]

    def sentence_vectors(self, chunk: Chunk) -> np.ndarray:
        with self._cache_lock:
            cached = self._cache.get(chunk.id)
        if cached is not None and len(cached) == len(chunk.sentences):
            return cached
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT embedding FROM rag_sentences WHERE chunk_id = %s ORDER BY n", (chunk.id,)
            ).fetchall()
        if len(rows) != len(chunk.sentences):
            raise NotFoundError(f"chunk {chunk.id} is no longer in the index; ask again")
        return np.stack([_vector(r[0]) for r in rows]).astype(np.float32)

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[Writer]:
        yield _PostgresWriter(self)


def _suspect(conn: Any) -> bool:
    """An idle connection with something to read: the server closed it (or is closing it)."""
    if conn.closed or conn.broken:
        return True
    try:
        return bool(select.select([conn.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _recording(store: PostgresStore) -> Any:
    """A connection class that keeps the pool's last connect error on `store` (what a request
    that waited in vain says), forgotten on the next success."""
    import psycopg

    class Recording(psycopg.Connection):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            try:
                conn = super().connect(conninfo, **kwargs)
            except psycopg.OperationalError as exc:
                store._failed = exc
                raise
            store._failed = None
            return conn

    return Recording


class _PostgresWriter(Writer):
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def stored(self, doc_ids: list[str]) -> dict[str, Stored]:
        with self.store._conn() as conn:
            rows = conn.execute(
                f"SELECT {', '.join('d.' + c for c in DOC_COLUMNS.split(', '))}, "
                "array_remove(array_agg(c.id ORDER BY c.n), NULL) "
                "FROM rag_documents d LEFT JOIN rag_chunks c ON c.doc_id = d.doc_id "
                "WHERE d.doc_id = ANY(%s) GROUP BY d.doc_id",
                (doc_ids,),
            ).fetchall()
        return {r[0]: Stored(_info(r[:7]), list(r[7])) for r in rows}

    def put(self, upsert: Upsert) -> None:
        info, chunks = upsert.info, upsert.chunks
        vectors = np.asarray(upsert.vectors, dtype=np.float32).reshape(-1, self.store.dim)
        with self.store._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (DOC_LOCK, info.doc_id))
            conn.execute("DELETE FROM rag_documents WHERE doc_id = %s", (info.doc_id,))
            conn.execute(
                f"INSERT INTO rag_documents ({DOC_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    info.doc_id,
                    info.source,
                    info.title,
                    info.sha256,
                    info.chars,
                    info.chunks,
                    info.added,
                ),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO rag_chunks (id, doc_id, n, title, text, start_char, end_char, "
                    "embedding) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (c.id, c.doc_id, n, c.title, c.text, c.start, c.end, vectors[n])
                        for n, c in enumerate(chunks)
                    ],
                )
                cur.executemany(
                    "INSERT INTO rag_sentences (chunk_id, n, start_char, end_char, flagged, "
                    "embedding, kind, page) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            c.id,
                            i,
                            a,
                            b,
                            flagged,
                            np.asarray(vec, dtype=np.float32),
                            c.kinds[i] if i < len(c.kinds) else "paragraph",
                            c.pages[i] if i < len(c.pages) else 0,
                        )
                        for c, i, a, b, flagged, vec in iter_sentence_rows(
                            chunks, upsert.sentence_vectors
                        )
                    ],
                )

    def remove(self, name: str) -> DocumentInfo:
        with self.store._conn() as conn, conn.transaction():
            row = conn.execute(
                f"SELECT {DOC_COLUMNS} FROM rag_documents WHERE doc_id = %s OR source = %s "
                "ORDER BY doc_id = %s DESC LIMIT 1 FOR UPDATE",
                (name, name, name),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no document {name!r} in the index; `rag list` shows the ids")
            conn.execute("DELETE FROM rag_documents WHERE doc_id = %s", (row[0],))
        return _info(row)


def read_documents(uri: str) -> list[DocumentInfo]:
    """The documents in the database, without the embedding-model check; [] before the first
    ingest."""
    import psycopg

    try:
        with psycopg.connect(uri, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT to_regclass('rag_documents')").fetchone()
            if exists is None or exists[0] is None:
                return []
            rows = conn.execute(f"SELECT {DOC_COLUMNS} FROM rag_documents ORDER BY source")
            return [_info(r) for r in rows.fetchall()]
    except psycopg.Error as exc:
        raise _unavailable(uri, exc) from exc
