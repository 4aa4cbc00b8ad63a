"""PostgreSQL + pgvector with the real pieces: the answer model against the database, two
`rag ingest` processes at once, a SIGKILL in the middle of a document's transaction, two
`rag serve` replicas sharing one database, and the errors a bad RAG_STORE gets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from rag.config import DEFAULT_CORPUS, Settings
from rag.grounding.question import parse
from rag.ingest.chunking import chunk_document
from rag.ingest.documents import doc_id_for
from rag.pipeline import Pipeline
from rag.store import open_store
from tests.api.server import BIDEN, start_server, stop_server

RAG = [sys.executable, "-m", "api.cli"]


def _env(uri: str, home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RAG_STORE": uri,
        "RAG_HOME": str(home),
        "RAG_MODEL": "smollm2",
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


def _whole(uri: str, *folders: Path) -> set[str]:
    """The sources stored in the database; asserts each is whole: the chunks its file makes (ids
    in order, the count its row records) and every sentence of each chunk."""
    with psycopg.connect(uri) as conn:
        docs = conn.execute("SELECT doc_id, source, chunks FROM rag_documents").fetchall()
        for doc_id, source, n in docs:
            text = next(f / source for f in folders if (f / source).is_file()).read_text()
            expected = chunk_document(doc_id, source, text)
            rows = conn.execute(
                "SELECT c.id, count(s.n) FROM rag_chunks c LEFT JOIN rag_sentences s "
                "ON s.chunk_id = c.id WHERE c.doc_id = %s GROUP BY c.id, c.n ORDER BY c.n",
                (doc_id,),
            ).fetchall()
            assert n == len(expected) == len(rows), source
            assert [r[0] for r in rows] == [c.id for c in expected], source
            assert [r[1] for r in rows] == [len(c.sentences) for c in expected], source
        orphans = conn.execute(
            "SELECT count(*) FROM rag_chunks WHERE doc_id NOT IN (SELECT doc_id FROM rag_documents)"
        ).fetchone()
        assert orphans == (0,)
    return {source for _, source, _ in docs}


@pytest.mark.slow  # the 135M model end to end
def test_pipeline_answers_from_postgres(pg_uri: str, tmp_path: Path, embedder, small_generator):
    settings = Settings(home=tmp_path / "home", model="smollm2", store=pg_uri)
    pipeline = Pipeline(settings, embedder=embedder, generator=small_generator)
    pipeline.ingest([DEFAULT_CORPUS])
    answer = pipeline.ask(BIDEN)
    assert not answer.declined, answer.trace.raw
    assert "July 2023" in answer.answer
    assert answer.citations and answer.citations[0].source == DEFAULT_CORPUS.name
    full = DEFAULT_CORPUS.read_text()
    assert all(full[c.start : c.end] == c.quote for c in answer.citations)
    pipeline.store.close()


def _notes(folder: Path, names: list[str], facts: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.txt").write_text(
            f"Notes on {name}\n" + " ".join(f"Fact {j} of {name} is {j * 7}." for j in range(facts))
        )
    return folder


@pytest.mark.slow  # two ingest processes, each loading the embedding model
def test_two_ingest_processes_into_one_database(pg_uri: str, tmp_path: Path):
    """Different folders at the same time, and one file name in both (the same text): every
    document whole, the shared one once."""
    a = _notes(tmp_path / "a", ["alder", "birch", "cedar", "shared"], 60)
    b = _notes(tmp_path / "b", ["dogwood", "elm", "fir", "shared"], 60)
    procs = [
        subprocess.Popen(
            [*RAG, "ingest", str(folder)],
            env=_env(pg_uri, tmp_path / f"home-{folder.name}", RAG_INGEST_BATCH="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in (a, b)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    names = ("alder", "birch", "cedar", "dogwood", "elm", "fir", "shared")
    assert _whole(pg_uri, a, b) == {f"{n}.txt" for n in names}
    with psycopg.connect(pg_uri) as conn:
        assert conn.execute("SELECT count(*) FROM rag_documents").fetchone() == (7,)


@pytest.mark.slow  # two ingest processes, each loading the embedding model
def test_sigkill_in_a_document_transaction_leaves_it_absent(pg_uri: str, tmp_path: Path, embedder):
    """The ingest is killed while a document's transaction has written rows (seen in
    pg_stat_activity); that document is absent, the committed ones are whole, and the next
    ingest and a question work."""
    names = [f"log{i:02d}" for i in range(5)]
    folder = _notes(tmp_path / "logs", names, 500)  # ~14 chunks, 500 sentence rows each
    open_store(Settings(store=pg_uri), embedder.model_id, embedder.dim).close()  # the tables
    env = _env(pg_uri, tmp_path / "home", RAG_INGEST_BATCH="1")
    proc = subprocess.Popen(
        [*RAG, "ingest", str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    writing = None
    with psycopg.connect(pg_uri, autocommit=True) as watch:
        while proc.poll() is None and writing is None:
            writing = watch.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                "AND query LIKE 'INSERT INTO rag_%%'"
            ).fetchone()
        if writing is not None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert writing is not None, "the ingest ended before a transaction was seen; retry"
        while watch.execute(  # the server rolls the orphaned transaction back
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s", writing
        ).fetchone():
            time.sleep(0.05)
    assert proc.returncode == -signal.SIGKILL
    kept = _whole(pg_uri, folder)
    assert len(kept) < len(names)
    done = subprocess.run(
        [*RAG, "ingest", str(folder)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if kept:
        assert f"unchanged: {len(kept)} " in done.stdout
    assert _whole(pg_uri, folder) == {f"{n}.txt" for n in names}
    pipeline = Pipeline(Settings(home=tmp_path / "home", store=pg_uri), embedder=embedder)
    sentences, hits, _ = pipeline.context(parse("What is fact 5 of log03?"), 2)
    assert hits[0].chunk.source == "log03.txt" and sentences
    assert pipeline.store.find(doc_id_for("log03.txt")) is not None
    pipeline.store.close()


@pytest.mark.slow  # two servers and a model server
def test_two_serve_replicas_share_one_database_and_one_model_server(
    pg_uri: str, model_server, tmp_path: Path
):
    """The scaled set-up: two `rag serve` replicas, one Postgres, one llama.cpp server. Upload
    through replica A, ask through replica B (started before the upload): B answers from the new
    document and cites it; a removal through B empties A."""
    shared = {"RAG_STORE": pg_uri, "RAG_LLM_URL": model_server.url}
    a = start_server(tmp_path / "a", tmp_path / "a.log", **shared)
    try:
        b = start_server(tmp_path / "b", tmp_path / "b.log", **shared)
        try:
            with a.client() as ca, b.client() as cb:
                assert cb.get("/readyz").json()["documents"] == 0
                up = ca.post(
                    "/documents",
                    files={"file": (DEFAULT_CORPUS.name, DEFAULT_CORPUS.read_bytes())},
                )
                assert up.status_code == 201, up.text
                assert [d["source"] for d in cb.get("/documents").json()] == [DEFAULT_CORPUS.name]
                reply = cb.post("/ask", json={"question": BIDEN}).json()
                assert not reply["declined"], reply
                assert "July 2023" in reply["answer"]
                assert reply["citations"][0]["source"] == DEFAULT_CORPUS.name
                c = reply["citations"][0]
                span = cb.get(
                    f"/documents/{c['source']}/text", params={"start": c["start"], "end": c["end"]}
                ).json()
                assert span["quote"] == c["quote"]
                doc_id = up.json()["document"]["doc_id"]
                assert cb.delete(f"/documents/{doc_id}").status_code == 200
                assert ca.get("/documents").json() == []
                assert ca.post("/ask", json={"question": BIDEN}).json()["declined"]
        finally:
            stop_server(b)
    finally:
        stop_server(a)


def test_a_bad_store_setting_is_a_one_line_error(tmp_path: Path):
    bad = subprocess.run(
        [*RAG, "list"],
        env=_env("mysql://db/rag", tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "postgresql://" in bad.stderr
    gone = subprocess.run(
        [*RAG, "list"],
        env=_env(f"postgresql://nobody@/rag?host={tmp_path}", tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gone.returncode == 1
    assert "cannot use the PostgreSQL store" in gone.stderr and "RAG_STORE" in gone.stderr
    assert "Traceback" not in gone.stderr
