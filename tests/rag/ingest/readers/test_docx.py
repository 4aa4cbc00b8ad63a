"""The DOCX reader (mammoth) on a file python-docx writes."""

from __future__ import annotations

import io

import docx

from rag.ingest.documents import load_bytes
from tests.rag.ingest.readers.realdocs import MB, units


def test_a_word_docx_keeps_its_table_heading_and_bullet():
    """The issue's file: a heading, a Team/Budget table and a bullet (python-docx writes it)."""
    d = docx.Document()
    d.add_heading("Budget 2025", 1)
    d.add_paragraph("The teams asked for these amounts.")
    table = d.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("Team", "Budget"), ("Platform", "$120,000"),
                                       ("Search", "$80,000")], strict=True):  # fmt: skip
        row.cells[0].text, row.cells[1].text = cells
    d.add_paragraph("Hire two engineers in March", style="List Bullet")
    buf = io.BytesIO()
    d.save(buf)
    doc = load_bytes(buf.getvalue(), "budget.docx", MB)
    got = units(doc)
    assert ("Team: Platform · Budget: $120,000", "row", 0, "Budget 2025") in got
    assert ("Hire two engineers in March", "item", 0, "Budget 2025") in got
    assert doc.title == "Budget 2025"
