import io
from pathlib import Path

import docx
import pytest

from rag.errors import DocumentError
from rag.ingest.documents import doc_id_for, iter_files, load_bytes, load_file

MB = 1_000_000


def make_pdf(text: str) -> bytes:
    """A real one-page PDF with a text layer (matplotlib writes it, TrueType fonts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(4, 1))
        fig.text(0.05, 0.5, text)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf")
        plt.close(fig)
    return buf.getvalue()


def test_text_html_pdf_docx_are_read(tmp_path: Path):
    html = load_bytes(
        b"<html><body><p>Tea is grown in Assam.</p><script>bad()</script></body></html>",
        "t.html",
        MB,
    )
    assert "Tea is grown in Assam." in html.text and "bad()" not in html.text
    assert (
        "archive opened in 1921"
        in load_bytes(make_pdf("The archive opened in 1921."), "a.pdf", MB).text
    )
    d = docx.Document()
    d.add_paragraph("The bridge is 400 metres long.")
    d.save(tmp_path / "b.docx")
    assert load_file(tmp_path / "b.docx", MB).text == "The bridge is 400 metres long."
    md = load_bytes(b"# Title\r\n\r\nSome   text.\n", "x.md", MB)
    assert md.text == "Title\nSome text." and md.title == "Title"  # Markdown is parsed


@pytest.mark.parametrize(
    ("data", "name", "fragment"),
    [
        (b"", "empty.txt", "no text"),
        (b"   \n\n  ", "blank.txt", "no text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image.txt", "binary"),
        ("café".encode("latin-1"), "latin.txt", "not valid UTF-8"),
        (b"%PDF-1.4 garbage", "broken.pdf", "broken PDF"),
        (b"PK not a zip", "broken.docx", "not a readable .docx"),
        (b"hello", "sheet.xls", "unsupported type"),
        (b"hello", "sheet.xlsx", "not a readable .xlsx"),
        (b"PK not a zip", "slides.pptx", "not a readable .pptx"),
        (b"a,b\n1,2", "latin.epub", "not a readable .epub"),
        (b"x" * (MB + 1), "big.txt", "over the 1 MB limit"),
    ],
)
def test_bad_input_gets_a_clear_error(data, name, fragment):
    with pytest.raises(DocumentError, match=fragment) as info:
        load_bytes(data, name, MB)
    assert name in str(info.value)


def test_missing_file_and_folder_expansion(tmp_path: Path, docs_dir: Path):
    with pytest.raises(DocumentError, match="no such file"):
        load_file(tmp_path / "nope.txt", MB)
    (docs_dir / "notes.xyz").write_text("ignored in folders")
    assert sorted(p.name for p in iter_files([docs_dir])) == [
        "bees.txt",
        "harbour.html",
        "volcano.md",
    ]


def test_doc_ids_are_stable_and_url_safe():
    assert doc_id_for("My Report (v2).pdf") == doc_id_for("My Report (v2).pdf")
    assert doc_id_for("a.txt") != doc_id_for("b.txt")
    assert doc_id_for("My Report (v2).pdf").startswith("my-report-v2-")
