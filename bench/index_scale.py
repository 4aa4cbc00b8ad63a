"""Index scale: build time, memory, single-query latency and recall@10 of each FAISS index type
on synthetic clustered unit vectors, built through `embeddings.faiss_index.FaissIndex` (the code
the retriever uses). Exact search (IndexFlatIP, batched) gives the ground truth.

Data: a Gaussian mixture of sqrt(n) unit centres, themselves grouped around sqrt(sqrt(n))
topics (so neighbouring clusters overlap, as topics do in real embeddings); each point is its
centre plus noise with a power-law spectrum (std of component j ~ (j+1)^-0.5, randomly
rotated) and a per-cluster spread, scaled so two points of one cluster have cosine ~0.5, then
normalised. Queries come from the same mixture (not from the data). Fixed seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from bench.common import p50_p95, rss_bytes
from embeddings.faiss_index import FaissIndex, choose_spec

DIM = 384
K = 10
TARGETS = {"query_p50_ms": 5.0, "recall_at_10": 0.95, "memory_bytes": 1 << 30}


def mixture(n: int, dim: int = DIM, seed: int = 0, n_queries: int = 0) -> tuple[np.ndarray, ...]:
    """(data (n, dim), queries (n_queries, dim)), float32 unit rows, deterministic."""
    rng = np.random.default_rng(seed)
    n_clusters = max(16, int(np.sqrt(n)))
    n_topics = max(4, int(np.sqrt(n_clusters)))  # clusters share topics, so lists overlap
    topics = rng.standard_normal((n_topics, dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    centres = topics[rng.integers(0, n_topics, n_clusters)] + rng.standard_normal(
        (n_clusters, dim), dtype=np.float32
    ) / np.sqrt(dim)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spectrum = (np.arange(1, dim + 1, dtype=np.float32)) ** -0.5
    spectrum /= np.sqrt((spectrum**2).sum())  # noise norm ~1 -> intra-cluster cosine ~0.5
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    basis = (spectrum[:, None] * rotation.T).astype(np.float32)  # (dim, dim)
    spread = rng.uniform(0.7, 1.3, n_clusters).astype(np.float32)

    def draw(count: int, r: np.random.Generator) -> np.ndarray:
        out = np.empty((count, dim), dtype=np.float32)
        for lo in range(0, count, 100_000):
            hi = min(count, lo + 100_000)
            c = r.integers(0, n_clusters, hi - lo)
            z = r.standard_normal((hi - lo, dim), dtype=np.float32)
            block = centres[c] + (z @ basis) * spread[c, None]
            out[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out

    data = draw(n, rng)
    queries = draw(n_queries, np.random.default_rng(seed + 1))
    return data, queries


def recall(found: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    pairs = zip(found, truth, strict=True)
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in pairs)
    return hits / (k * len(truth))


def time_queries(
    index: FaissIndex, queries: np.ndarray, threads: int
) -> tuple[list[float], np.ndarray]:
    """Per-query latency in ms (one query per search call) and the ids found."""
    faiss.omp_set_num_threads(threads)
    for q in queries[:5]:  # warm-up
        index.search(q[None, :], K)
    times, ids = [], np.empty((len(queries), K), dtype=np.int64)
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        _, found = index.search(q[None, :], K)
        times.append((time.perf_counter() - t0) * 1000)
        ids[i] = found[0]
    return times, ids


def measure(
    spec: str, data: np.ndarray, queries: np.ndarray, truth: np.ndarray, threads: int
) -> dict[str, Any]:
    faiss.omp_set_num_threads(threads)
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    index = FaissIndex(DIM, spec, n=len(data))
    index.add(data)
    build_s = time.perf_counter() - t0
    rss_delta = rss_bytes() - rss0
    row: dict[str, Any] = {
        "spec": spec,
        "build_s": round(build_s, 2),
        "memory_bytes": index.nbytes(),
        "rss_delta_bytes": rss_delta,
    }
    if index.nprobe is not None:
        row["nprobe"] = index.nprobe
        row["nlist"] = int(index.index.nlist)
    for t, label in ((1, "1t"), (threads, f"{threads}t")):
        times, ids = time_queries(index, queries, t)
        lat = p50_p95(times, 3)
        row[f"query_p50_ms_{label}"], row[f"query_p95_ms_{label}"] = lat["p50"], lat["p95"]
        row["recall_at_10"] = round(recall(ids, truth), 4)
    if index.nprobe is not None:  # how recall and latency move with the lists visited
        base = index.nprobe
        sweep = []
        for probe in sorted({max(1, base // 4), max(1, base // 2), base, base * 2}):
            index.nprobe = probe
            times, ids = time_queries(index, queries, 1)
            sweep.append(
                {
                    "nprobe": probe,
                    "query_p50_ms_1t": p50_p95(times, 3)["p50"],
                    "recall_at_10": round(recall(ids, truth), 4),
                }
            )
        index.nprobe = base
        row["nprobe_sweep"] = sweep
    del index
    return row


def run(
    sizes: list[int],
    specs: tuple[str, ...] = ("flat", "hnsw", "ivfsq8", "ivfpq"),
    n_queries: int = 200,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    threads = faiss.omp_get_max_threads()
    out: dict[str, Any] = {
        "dim": DIM,
        "k": K,
        "n_queries": n_queries,
        "threads": threads,
        "targets": TARGETS,
        "sizes": [],
    }
    for n in sizes:
        t0 = time.perf_counter()
        data, queries = mixture(n, n_queries=n_queries)
        log(f"index {n}: data in {time.perf_counter() - t0:.1f}s")
        faiss.omp_set_num_threads(threads)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(data)
        _, truth = exact.search(queries, K)
        del exact
        chosen = choose_spec(n)
        rows = []
        for spec in specs:
            log(f"index {n}: {spec} ...")
            row = measure(spec, data, queries, truth, threads)
            row["chosen"] = spec == chosen
            if row["chosen"]:
                row["meets_targets"] = {
                    "query_p50_ms": row["query_p50_ms_1t"] <= TARGETS["query_p50_ms"],
                    "recall_at_10": row["recall_at_10"] >= TARGETS["recall_at_10"],
                    "memory_bytes": row["memory_bytes"] <= TARGETS["memory_bytes"],
                }
            log(f"index {n}: {row}")
            rows.append(row)
        out["sizes"].append({"n": n, "chosen": chosen, "indexes": rows})
        del data, queries
    faiss.omp_set_num_threads(threads)
    return out
