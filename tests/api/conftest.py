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


@pytest.fixture(scope="session")
def long_server(tmp_path_factory, index_home) -> Iterator[Server]:
    """Answers up to 1024 tokens long, so a test can act while one is being written."""
    root = tmp_path_factory.mktemp("long")
    shutil.copytree(index_home, root / "home")
    srv = start_server(root / "home", root / "server.log", RAG_MAX_TOKENS="1024")
    yield srv
    stop_server(srv)


@pytest.fixture
def own_server(tmp_path, index_home) -> Iterator[Server]:
    """A server of this test's own (its index may change, it may be killed)."""
    shutil.copytree(index_home, tmp_path / "home")
    srv = start_server(tmp_path / "home", tmp_path / "server.log")
    yield srv
    stop_server(srv)


# ---- a real browser: Debian's Chromium, driven by playwright ------------------------------
@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.api.browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium; `make test` installs it (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A desktop-sized page (1280x800) under the app's CSP; fails the test on a page error,
    a CSP violation or a request to any host but loopback."""
    from tests.api.browser import DESKTOP, open_page

    with open_page(browser, DESKTOP) as p:
        yield p


@pytest.fixture
def phone(browser):
    """The same, 390x844 with touch, like a phone."""
    from tests.api.browser import PHONE, open_page

    with open_page(browser, PHONE, is_mobile=True, has_touch=True) as p:
        yield p
