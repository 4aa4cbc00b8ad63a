"""The benchmark code itself, on tiny sizes: index scale on 5k vectors, ingest on a tiny corpus."""

from __future__ import annotations

import sys

from bench import cli, index_scale, ingest, report
from rag.config import ROOT


def test_index_scale_small_is_exact_for_flat_and_sane():
    result = index_scale.run([5000], specs=("flat", "ivfsq8"), n_queries=50)
    (size,) = result["sizes"]
    assert size["n"] == 5000 and size["chosen"] == "flat"
    rows = {r["spec"]: r for r in size["indexes"]}
    flat, ivf = rows["flat"], rows["ivfsq8"]
    assert flat["recall_at_10"] == 1.0 and flat["chosen"] and all(flat["meets_targets"].values())
    assert flat["memory_bytes"] >= 5000 * 384 * 4
    assert ivf["memory_bytes"] < flat["memory_bytes"] / 3  # 8-bit codes
    assert 0.8 <= ivf["recall_at_10"] <= 1.0 and not ivf["chosen"]
    for row in rows.values():
        assert row["build_s"] >= 0 and 0 < row["query_p50_ms_1t"] <= row["query_p95_ms_1t"]
    assert "★ flat" in report.markdown({"index": _doc(result)})


def test_ingest_small_corpus_reports_a_ratio(embedder, tmp_path):
    texts = ingest.synthetic_corpus(20_000, file_bytes=10_000)
    assert texts == ingest.synthetic_corpus(20_000, file_bytes=10_000)  # deterministic
    result = ingest.run(20_000, embedder=embedder, workdir=tmp_path)
    assert result["chunks"] > 0 and result["ratio"] > 0
    assert set(result["stages_s"]) == {"read_s", "chunk_s", "store_write_s", "embed_and_rest_s"}
    assert "Ingest throughput" in report.markdown({"ingest": _doc(result)})


def _doc(result):
    machine = {"nproc": 2, "cpu": "test", "ram_gb": 1.0, "date": "now"}
    return {"machine": machine, "elapsed_s": 0.0, "command": "test", "result": result}


def test_cli_bench_times_whole_processes(tmp_path):
    env = cli._env(ROOT, tmp_path / "home")
    row = cli.measure([sys.executable, "-m", "api.cli", "list"], env, runs=2, log=lambda m: None)
    assert len(row["walls"]) == 2 and row["wall_s"] > 0 and row["peak_mib"] > 10
    assert row["cpu_s"] > 0
    result = {"root": str(ROOT), "runs": 2, "question": cli.QUESTION, "list": row}
    assert "`rag list`" in report.markdown({"cli": _doc(result)})


def test_pgvector_bench_small():
    from bench import pgvector_scale

    result = pgvector_scale.run([2000], n_queries=20, fusion_chunks=600)  # own folders
    (size,) = result["sizes"]
    pg = size["pgvector"]
    assert pg["build_s"] > 0 and pg["disk_bytes"] > 2000 * 384 * 4  # the vectors, at least
    assert [e["ef_search"] for e in pg["ef_search"]] == [40, 100]
    assert all(0.9 <= e["recall_at_10"] <= 1.0 for e in pg["ef_search"])
    assert {f["spec"] for f in size["faiss"]} == {"faiss ivfsq8", "faiss flat"}
    fusion = result["fusion"]
    assert fusion["sql_p50_ms"] > 0 and fusion["python_p50_ms"] > 0
    assert fusion["same_top_k"] >= 0.5  # the two fusions agree but for ties
    text = report.markdown({"pgvector": _doc(result)})
    assert "pgvector hnsw" in text and "fusion over 600 chunks" in text


def test_store_start_bench_loads_what_it_saved(tmp_path):
    from bench import store_start

    index = tmp_path / "n" / "index"
    store_start.synthetic_index(index, 300, per_doc=50)
    row = store_start.measure(index, store_start.MODEL_ID, 384, runs=1)
    assert row["loaded_s"] > 0 and row["rebuilt_s"] > 0
    result = {"runs": 1, "indexes": [{"index": "synthetic", "chunks": 300, **row}]}
    assert "Files store start-up" in report.markdown({"store-start": _doc(result)})
