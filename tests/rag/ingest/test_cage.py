"""The parser cage (rag/ingest/cage.py): a file that needs too much memory or CPU is that file's
error, and an ingest batch with bombs in it goes on with the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.ingest.cage import Limits, read_caged
from tests.hostile import docx_bomb, pdf_bomb, text_pdf

PARAGRAPHS = b"<html><body>" + b"<p>a</p>" * 2_500_000 + b"</body></html>"  # 20 MB of tags


def test_a_reader_past_its_memory_or_cpu_limit_is_stopped():
    with pytest.raises(DocumentError, match=r"more than 256 MB of memory \(RAG_PARSER_MEMORY_MB"):
        read_caged(PARAGRAPHS, "tags.html", Limits(memory_mb=256))
    with pytest.raises(DocumentError, match=r"more than 1 s of CPU \(RAG_PARSER_SECONDS"):
        read_caged(PARAGRAPHS, "tags.html", Limits(seconds=1))
    blocks = read_caged(text_pdf("It opened in 1921."), "ok.pdf", Limits())
    assert [(b.kind, b.text, b.page) for b in blocks] == [("paragraph", "It opened in 1921.", 1)]


def test_an_ingest_batch_with_bombs_goes_on(pipeline, docs_dir: Path):
    (docs_dir / "bomb.docx").write_bytes(docx_bomb())
    (docs_dir / "bomb.pdf").write_bytes(pdf_bomb())
    (docs_dir / "pier.pdf").write_bytes(text_pdf("The pier at Ellen Bay is 40 metres long."))
    report = pipeline.ingest([docs_dir])
    assert sorted(report.added) == ["bees.txt", "harbour.html", "pier.pdf", "volcano.md"]
    reasons = dict((Path(source).name, message) for source, message in report.errors)
    assert "zip bomb" in reasons["bomb.docx"] and "decompress" in reasons["bomb.pdf"]


def test_the_reader_is_this_project_s_whatever_folder_it_is_called_from(tmp_path, monkeypatch):
    """`python -m rag.ingest.cage` put the caller's folder first on the path: a `rag/` package there
    (another project, or a planted one) was imported as the reader."""
    planted = tmp_path / "rag"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "cage.py").write_text(
        'import sys\nsys.stdout.write(\'OK\\n[["paragraph", "planted", 0, 0]]\')\n'
    )
    monkeypatch.chdir(tmp_path)
    blocks = read_caged(b"<p>Real text.</p>", "page.html", Limits())
    assert [b.text for b in blocks] == ["Real text."]


def test_a_text_bomb_under_every_zip_rule_is_refused_while_it_is_read():
    """Issue 24, row 1: a .docx of different paragraphs (ratio ~40, under the 200x rule, ~20
    characters per byte) was read whole; 2afc696 returned all 6 million characters."""
    from rag.ingest.documents import load_bytes
    from tests.hostile import docx_text_bomb

    with pytest.raises(DocumentError, match=r"over 5,000,000 characters \(RAG_MAX_DOC_CHARS"):
        load_bytes(docx_text_bomb(), "textbomb.docx", 10**9, Limits())


def test_the_text_a_file_may_yield_is_bounded_by_its_size_and_the_setting():
    from rag.ingest import readers

    header = ",".join(f"a rather long column name number {i}" for i in range(50))
    wide = (header + "\n" + "\n".join(",".join("1" * 50) for _ in range(2500))).encode()
    assert len(wide) < 400_000  # ~1,800 characters of text per 150-byte row
    with pytest.raises(DocumentError, match=r"10 characters per byte of this [\d,]+-byte file"):
        readers.read(wide, "wide.csv", 10**9)
    assert readers.read(wide[:20_000], "wide.csv", 10**9)  # a small file may yield 1M
    page = text_pdf("The pier at Ellen Bay is forty metres long. " * 60)
    with pytest.raises(DocumentError, match=r"over 2,000 characters \(RAG_MAX_DOC_CHARS"):
        read_caged(page, "pier.pdf", Limits(max_chars=2000))
    assert read_caged(page, "pier.pdf", Limits(max_chars=20_000))
