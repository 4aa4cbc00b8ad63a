"""The HTML reader on a real saved page."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load, units


def test_html_inline_markup_stays_inside_its_sentence():
    texts = [u[0] for u in units(load("python-pathlib.html"))]
    # <a>, <code> and <em> in the middle of sentences were lines of their own before
    assert not any(t in {"PurePath", "Path", "os.path"} for t in texts)
    nav = load("python-pathlib.html").text
    assert "Navigation" not in nav.split("\n")  # <nav>-like menus are not text of the page
