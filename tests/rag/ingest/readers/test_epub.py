"""The EPUB reader (the spine's XHTML in order): headings kept."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load


def test_an_epub_keeps_its_headings():
    epub = load("developers-reference-best-practices.epub")
    assert sum(p.kind == "heading" for p in epub.parts) > 10
