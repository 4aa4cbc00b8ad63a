"""Servers for the API tests: copies of the default index, the 135M model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS, Settings
from tests.api.server import API_KEY, Server, start_server, stop_server


@pytest.fixture(scope="session")
def index_home(tmp_path_factory, embedder) -> Path:
    """The default corpus, indexed once; servers get their own copies."""
    from rag.pipeline import Pipeline

    home = tmp_path_factory.mktemp("index") / "home"
    Pipeline(Settings(home=home, model="smollm2"), embedder=embedder).ingest([DEFAULT_CORPUS])
    return home


@pytest.fixture(scope="session")
def server(tmp_path_factory, index_home) -> Iterator[Server]:
    """No API key; queue bound 4; 1 MB uploads."""
    root = tmp_path_factory.mktemp("server")
    shutil.copytree(index_home, root / "home")
    srv = start_server(root / "home", root / "server.log", RAG_MAX_QUEUE="4", RAG_MAX_UPLOAD_MB="1")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory, index_home) -> Iterator[Server]:
    """RAG_API_KEY set."""
    root = tmp_path_factory.mktemp("keyed")
    shutil.copytree(index_home, root / "home")
    srv = start_server(root / "home", root / "server.log", RAG_API_KEY=API_KEY)
    yield srv
    stop_server(srv)
