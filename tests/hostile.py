"""Hostile files, made on the fly (no binaries in the repository): zip and PDF bombs, broken
and mislabelled files, and names no upload should carry."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator

MB = 1_000_000


def pdf(content: bytes, filters: str = "") -> bytes:
    """A one-page PDF whose page content stream is `content` (already encoded for `filters`,
    e.g. "/Filter /FlateDecode"), with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content), filters.encode())
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def text_pdf(text: str) -> bytes:
    return pdf(b"BT /F1 12 Tf 72 700 Td (%s) Tj ET" % text.encode())


def _deflate(chunks: Iterator[bytes]) -> bytes:
    z = zlib.compressobj(9)
    return b"".join(z.compress(c) for c in chunks) + z.flush()


def _zeros(total: int, step: int = 8 * MB) -> Iterator[bytes]:
    block = b" " * step
    for _ in range(total // step):
        yield block


def pdf_bomb() -> bytes:
    """~100 KB: a content stream that inflates to 100 MB (over pypdf's 75 MB limit)."""
    return pdf(_deflate(_zeros(100 * MB)), "/Filter /FlateDecode")


def pdf_double_bomb() -> bytes:
    """A few KB: deflated twice, 1 GB in the end."""
    once = _deflate(_zeros(1000 * MB))
    return pdf(zlib.compress(once, 9), "/Filter [/FlateDecode /FlateDecode]")


def _docx_with_body(body: str) -> bytes:
    """A real .docx (python-docx's empty one) whose body holds `body` (WordprocessingML)."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                head, _, tail = data.decode().partition("<w:body>")
                data = (head + "<w:body>" + body + tail).encode()
            dst.writestr(info.filename, data)
    return out.getvalue()


def docx_bomb(paragraphs: int = 5_000_000) -> bytes:
    """A real .docx whose body is `paragraphs` empty paragraphs (~75 KB zipped)."""
    return _docx_with_body("<w:p/>" * paragraphs)


WORDS = [
    "harbour",
    "council",
    "bridge",
    "ledger",
    "orchard",
    "survey",
    "tariff",
    "beacon",
    "granary",
    "quarry",
]


def varied_paragraphs(n: int) -> list[str]:
    """`n` different plain sentences (numbered, words rotating), ~60 characters each."""
    return [
        f"Entry {i}: the {WORDS[i % 10]} {WORDS[i // 10 % 10]} report lists "
        f"{WORDS[i // 100 % 10]} item {i * 7 % 1000}."
        for i in range(n)
    ]


def docx_text(paragraphs: list[str]) -> bytes:
    """A real .docx with one Word paragraph per string."""
    return _docx_with_body("".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs))


def docx_text_bomb(paragraphs: int = 100_000) -> bytes:
    """A text bomb under every zip rule: ~6 MB of different paragraphs in ~0.3 MB (a part's
    ratio ~40, under the 200x rule), ~20 characters of text per byte of file."""
    return docx_text(varied_paragraphs(paragraphs))


def hostile_files() -> list[tuple[str, str, bytes]]:
    """(label, file name, bytes) of files that must each get a clear 4xx."""
    good = text_pdf("A harmless page.")
    return [
        ("pdf bomb", "bomb.pdf", pdf_bomb()),
        ("pdf double bomb", "bomb2.pdf", pdf_double_bomb()),
        ("docx zip bomb", "bomb.docx", docx_bomb()),
        ("docx text bomb", "textbomb.docx", docx_text_bomb()),
        ("truncated pdf", "cut.pdf", good[: len(good) // 3]),
        ("png called pdf", "image.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
        ("text called docx", "notes.docx", b"just some words, not a zip"),
        ("empty", "empty.txt", b""),
        ("only spaces", "blank.md", b" \n\t\n " * 100),
        ("utf-16", "wide.txt", "Hello in UTF-16.".encode("utf-16")),
        ("latin-1", "old.txt", "caf\xe9 cr\xe8me".encode("latin-1")),
        ("binary", "blob.txt", bytes(range(256)) * 64),
        ("empty pdf", "empty.pdf", b""),
        ("pdf without text", "blank.pdf", pdf(b"")),
        ("html without text", "blank.html", b"<html><script>x()</script></html>"),
    ]


BAD_NAMES = [
    "../../outside.txt",
    "..\\..\\outside.txt",
    "/etc/passwd.txt",
    "a\x00b.txt",
    "line\nbreak.txt",
    "bell\x07.txt",
    "..",
    "x" * 300 + ".txt",
    "noext",
    "script.exe",
]
