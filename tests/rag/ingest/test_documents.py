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


@pytest.mark.parametrize(
    ("name", "data", "title"),
    [
        ("harbour.txt", b"Harbour notes\nThe lighthouse was built in 1832.\n", "Harbour notes"),
        (
            "field_notes-2024.txt",
            b"It rained all day. We stayed in.\nMore rain.\n",
            "Field notes 2024",
        ),
        ("memo.txt", b"Dear all:\nThe office is closed on Friday.\n", "Memo"),  # ends in :
        ("one.txt", b"Only a title\n", "One"),  # nothing after it: not a title
        ("long.txt", b"A heading " + b"x" * 100 + b"\nText.\n", "Long"),  # over 100 characters
        (
            "velmora-lighthouse.txt",
            b"# The Velmora Lighthouse\n\nIt stands.\n",
            "The Velmora Lighthouse",
        ),
        (
            "velmora-lighthouse.md",
            b"# The Velmora Lighthouse\n\nIt stands.\n",
            "The Velmora Lighthouse",
        ),
        ("closed.md", b"## Keepers ##\n\nThree of them.\n", "Keepers"),
        ("intro.md", b"Some words first, then.\n\n# Later heading\n", "Later heading"),
        ("page.html", b"<p>Only a paragraph here, then.</p><p>More.</p>", "Page"),
    ],
)
def test_a_title_is_a_heading_a_title_like_first_line_or_the_file_name(name, data, title):
    assert load_bytes(data, name, MB).title == title


def test_real_files_get_readable_titles(tmp_path: Path):
    """The default essay's first line is a sentence: its title is its file name, in words; a
    Markdown file's title is its heading without the # marks."""
    from rag.config import DEFAULT_CORPUS

    assert load_file(DEFAULT_CORPUS, 50 * MB).title == "Afghanistan counterterrorism mei 2024"
    md = tmp_path / "velmora-lighthouse.md"
    md.write_text("# The Velmora Lighthouse\n\nThe lighthouse stands on a rock.\n\n## History\n")
    assert load_file(md, MB).title == "The Velmora Lighthouse"
