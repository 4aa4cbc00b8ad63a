"""A `kill -9` in the middle of an ingest leaves the previous index loadable and complete."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rag.store import Store


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}


def test_sigkill_mid_ingest_leaves_a_complete_index(tmp_path: Path, embedder, docs_dir):
    home = tmp_path / "home"
    rag = [sys.executable, "-m", "rag.cli"]
    subprocess.run([*rag, "ingest", str(docs_dir)], env=_env(home), check=True, capture_output=True)
    before = Store.open(home / "index", embedder.model_id, embedder.dim)
    assert len(before.docs) == 3
    big = tmp_path / "big"
    big.mkdir()
    for i in range(400):
        (big / f"n{i:03d}.txt").write_text(
            f"Note {i}. "
            + " ".join(f"Fact {j} about item {i} is number {i * j}." for j in range(30))
        )
    kills = 0
    for delay in (4.0, 7.0, 10.0):
        proc = subprocess.Popen(
            [*rag, "ingest", str(big)],
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        after = Store.open(home / "index", embedder.model_id, embedder.dim)
        # either the old generation or a complete new one, never a mix
        assert len(after.chunks) == len(after.vectors)
        assert set(before.docs) <= set(after.docs)
        assert sum(d.chunks for d in after.docs.values()) == len(after.chunks)
        assert len(after.docs) in (3, 403)
    assert kills >= 1, "ingest finished before any kill; make the batch bigger"
