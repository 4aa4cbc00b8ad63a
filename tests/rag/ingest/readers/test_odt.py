"""The ODT reader (the file's XML as HTML): title and table rows."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load


def test_an_odt_keeps_its_title_and_table_rows():
    odt = load("debian-reference-authentication.odt")
    assert odt.title == "Chapter 4. Authentication and access controls"
    assert sum(p.kind == "row" for p in odt.parts) > 20
