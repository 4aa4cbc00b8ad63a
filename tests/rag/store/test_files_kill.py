"""A `kill -9` in the middle of an ingest leaves a loadable, complete index that keeps every
batch committed before the kill; the next write sweeps what the killed one left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.store.files import IndexGeneration

BATCH = 50
DOCS = 200  # four batches: the suite's time, and still kills mid-ingest


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAG_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "RAG_INGEST_BATCH": str(BATCH),
    }


RAG = [sys.executable, "-m", "api.cli"]


@pytest.fixture
def big(tmp_path: Path) -> Path:
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(DOCS):
        (folder / f"n{i:03d}.txt").write_text(
            f"Note {i}. "
            + " ".join(f"Fact {j} about item {i} is number {i * j}." for j in range(30))
        )
    return folder


def _ingest(home: Path, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RAG, "ingest", str(folder)], env=_env(home), check=True, capture_output=True, text=True
    )


def _complete(store: IndexGeneration) -> None:
    assert len(store.chunks) == len(store.vectors)
    assert sum(d.chunks for d in store.docs.values()) == len(store.chunks)


def test_sigkill_mid_ingest_leaves_a_complete_index(tmp_path: Path, embedder, docs_dir, big):
    home = tmp_path / "home"
    _ingest(home, docs_dir)
    before = IndexGeneration.open(home / "index", embedder.model_id, embedder.dim)
    assert len(before.docs) == 3
    kills = 0
    for delay in (3.0, 6.0):
        proc = subprocess.Popen(
            [*RAG, "ingest", str(big)],
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        after = IndexGeneration.open(home / "index", embedder.model_id, embedder.dim)
        _complete(after)  # the old generation or a complete new one, never a mix
        assert set(before.docs) <= set(after.docs)
        assert (len(after.docs) - 3) % BATCH == 0 or len(after.docs) == DOCS + 3  # whole batches
    assert kills >= 1, "ingest finished before any kill; make the batch bigger"


def test_a_killed_ingest_keeps_its_batches_and_the_next_write_sweeps(tmp_path: Path, embedder, big):
    home, index = tmp_path / "home", tmp_path / "home" / "index"
    proc = subprocess.Popen(
        [*RAG, "ingest", str(big)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (index / "CURRENT").is_file() and proc.poll() is None:  # the first batch is in
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    kept = IndexGeneration.open(index, embedder.model_id, embedder.dim)
    _complete(kept)
    assert BATCH <= len(kept.docs) < DOCS and len(kept.docs) % BATCH == 0
    # what a writer killed mid-commit leaves: a temporary generation, CURRENT.tmp, an old one
    live = (index / "CURRENT").read_text().strip()
    (index / ".tmp-gen-999999-12345").mkdir()
    (index / ".tmp-gen-999999-12345" / "chunks.jsonl").write_text("half")
    (index / "CURRENT.tmp").write_text("gen-999999")
    (index / "gen-000000").mkdir(exist_ok=True)
    out = _ingest(home, big)
    assert f"unchanged: {len(kept.docs)} " in out.stdout  # committed batches are not redone
    after = IndexGeneration.open(index, embedder.model_id, embedder.dim)
    _complete(after)
    assert len(after.docs) == DOCS
    names = {p.name for p in index.iterdir()}
    assert names == {"CURRENT", ".lock", f"gen-{after.generation:06d}"}, names
    assert live not in names or live == f"gen-{after.generation:06d}"
