"""The PDF reader (pdfminer.six layout analysis) on real PDFs and on a scan without text."""

from __future__ import annotations

import io

import pytest

from eval.extraction import REALDOCS, measure
from rag.errors import DocumentError
from rag.ingest.documents import load_bytes
from rag.ingest.readers.blocks import join_lines
from tests.rag.ingest.readers.realdocs import MB, load, units


def test_pdf_units_know_their_page_and_section():
    got = units(load("fhs-3.0.pdf"))
    purpose = [
        u
        for u in got
        if u[3].endswith("3.13. /opt : Add-on application software packages › 3.13.1. Purpose")
    ]
    assert purpose and {u[2] for u in purpose} == {20}  # pdftotext -f 20 -l 20 shows it there


def test_pdf_lines_are_joined_into_sentences_with_hyphenation_undone():
    assert join_lines(["The iden-", "tifier is kept"]) == "The identifier is kept"
    texts = [u[0] for u in units(load("acmart-user-guide.pdf"))]
    # the PDF breaks "op-" / "tion" over two lines
    assert any("typeset only when the option screen (see Section 2.2) is set" in t for t in texts)


def test_pdf_running_headers_and_a_menu_on_every_page_do_not_cut_sentences():
    doc = load("elsarticle-documentation.pdf")
    kinds = {doc.text[p.start : p.end]: p.kind for p in doc.parts}
    assert kinds["QUICK LINKS"] == "margin"  # a side menu repeated on all 17 pages
    assert measure(REALDOCS / "files" / "elsarticle-documentation.pdf").mid_sentence < 0.03


def test_a_pdf_without_a_text_layer_says_so():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 2))
    fig.figimage([[0.0, 1.0], [1.0, 0.0]])  # a picture of a page, no text
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    with pytest.raises(DocumentError, match="no text layer.*OCR"):
        load_bytes(buf.getvalue(), "scan.pdf", MB)
