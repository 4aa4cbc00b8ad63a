"""Spreadsheets (XLSX via openpyxl) and CSV: each row is read with its header."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load


def test_spreadsheets_read_each_row_with_its_header():
    sheet = load("debian-reference-data-management-tables.xlsx")
    assert (
        "package: tar · popcon: V:920, I:999 · size: 3144 · extension: .tar · command: tar(1) · "
        "comment: the standard archiver (de facto standard)"
    ) in sheet.text.split("\n")
    csv = load("debian-releases.csv")
    assert any(line.startswith("version: 1.1 · codename: Buzz") for line in csv.text.split("\n"))
