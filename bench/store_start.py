"""Files-store start-up: opening an index and getting it ready to search, with the FAISS and BM25
indexes loaded from the generation's folder (format 3) against rebuilt from the stored vectors
and texts (what every start did before format 3, and still does for a format-2 generation).

Each measurement is a fresh process (`python -c`): the time from before `FileStore(...)` to after
`warm()` and one search, imports excluded. "rebuilt" is the same generation with `dense.faiss`
and `bm25/` deleted. Indexes: the default corpus through the real pipeline, and synthetic ones
(`bench.index_scale.mixture` vectors, texts drawn from a fixed vocabulary). Does not: include
loading the embedding or the answer model (bench.cold_start does).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.index_scale import DIM, mixture
from rag.config import DEFAULT_CORPUS, ROOT, Settings
from rag.store.base import Upsert
from rag.store.files import DENSE, LEXICAL, IndexGeneration, live_name
from rag.types import Chunk, DocumentInfo

MODEL_ID = "bench/synthetic"
PROBE = """
import json, sys, time
import numpy as np
from rag.store.files import FileStore
t0 = time.perf_counter()
store = FileStore(__import__('pathlib').Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
store.warm()
store.search("when did the harbour open", np.ones(int(sys.argv[3]), np.float32) / 20, 4)
print(json.dumps({"ready_s": time.perf_counter() - t0}))
"""


def synthetic_index(index_dir: Path, n: int, per_doc: int = 100) -> None:
    """A files index of `n` chunks (one sentence each) in documents of `per_doc` chunks."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(20_000)]
    vectors, _ = mixture(n)
    gen = IndexGeneration(index_dir, MODEL_ID, DIM)
    upserts = []
    for d in range(0, n, per_doc):
        doc_id, chunks = f"doc{d}", []
        for i in range(d, min(n, d + per_doc)):
            text = " ".join(rng.choice(words, 40)) + "."
            chunks.append(
                Chunk(
                    f"{doc_id}:{i}",
                    doc_id,
                    f"{doc_id}.txt",
                    "",
                    text,
                    0,
                    len(text),
                    ((0, len(text)),),
                )
            )
        info = DocumentInfo(doc_id, f"{doc_id}.txt", "", "x", 0, len(chunks))
        rows = vectors[d : d + len(chunks)]
        upserts.append(Upsert(info, chunks, rows, [r[None, :] for r in rows]))
    gen.apply(upserts)
    gen.commit()


def _ready_s(index_dir: Path, model_id: str, dim: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(index_dir), model_id, str(dim)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["ready_s"])


def measure(index_dir: Path, model_id: str, dim: int, runs: int) -> dict[str, Any]:
    rebuilt = index_dir.parent / "rebuilt"
    shutil.rmtree(rebuilt, ignore_errors=True)
    shutil.copytree(index_dir, rebuilt)
    gen_dir = rebuilt / str(live_name(rebuilt))
    (gen_dir / DENSE).unlink()
    shutil.rmtree(gen_dir / LEXICAL, ignore_errors=True)
    loaded, built = [], []
    for _ in range(runs):  # interleaved, so load drifts hit both alike
        loaded.append(_ready_s(index_dir, model_id, dim))
        built.append(_ready_s(rebuilt, model_id, dim))
    return {
        "loaded_s": round(statistics.median(loaded), 3),
        "rebuilt_s": round(statistics.median(built), 3),
        "runs": runs,
        "load_avg": round(os.getloadavg()[0], 2),
    }


def run(
    sizes: list[int], runs: int = 3, log: Callable[[str], None] = lambda m: None
) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs, "indexes": []}
    with tempfile.TemporaryDirectory() as tmp:
        from embeddings import make_embedder
        from rag.pipeline import Pipeline

        embedder = make_embedder()
        home = Path(tmp) / "default" / "home"
        Pipeline(Settings(home=home), embedder=embedder).ingest([DEFAULT_CORPUS])
        row = measure(home / "index", embedder.model_id, embedder.dim, runs)
        gen = IndexGeneration.open(home / "index", embedder.model_id, embedder.dim)
        out["indexes"].append({"index": "default corpus", "chunks": len(gen.chunks), **row})
        log(f"store start: {out['indexes'][-1]}")
        for n in sizes:
            index = Path(tmp) / f"n{n}" / "index"
            t0 = time.perf_counter()
            synthetic_index(index, n)
            log(f"store start: {n} synthetic chunks written in {time.perf_counter() - t0:.0f}s")
            row = measure(index, MODEL_ID, DIM, runs)
            out["indexes"].append({"index": "synthetic", "chunks": n, **row})
            log(f"store start: {out['indexes'][-1]}")
            shutil.rmtree(index.parent, ignore_errors=True)
    return out
