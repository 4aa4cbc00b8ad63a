"""EPUB as blocks: the chapters in the order of the book's spine (its OPF package file), each
read by `rag.ingest.readers.html`. Reads the zip with the standard library; no ebook library needed.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from xml.etree import ElementTree

from rag.errors import DocumentError
from rag.ingest.readers import html
from rag.ingest.readers.blocks import Block

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
}


def _spine(book: zipfile.ZipFile, name: str) -> list[str]:
    try:
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        rootfile = container.find(".//c:rootfile", NS)
        opf_path = rootfile.get("full-path", "") if rootfile is not None else ""
        opf = ElementTree.fromstring(book.read(opf_path))
    except (KeyError, ElementTree.ParseError) as exc:
        raise DocumentError(f"{name}: not a readable EPUB ({exc}); re-export it") from None
    base = posixpath.dirname(opf_path)
    items = {i.get("id"): i.get("href", "") for i in opf.iterfind(".//opf:manifest/opf:item", NS)}
    return [
        posixpath.normpath(posixpath.join(base, items[ref.get("idref")]))
        for ref in opf.iterfind(".//opf:spine/opf:itemref", NS)
        if ref.get("idref") in items
    ]


def read(data: bytes, name: str) -> list[Block]:
    book = zipfile.ZipFile(io.BytesIO(data))
    blocks: list[Block] = []
    for path in _spine(book, name):
        try:
            page = book.read(path).decode("utf-8", "replace")
        except KeyError:
            continue  # a spine entry the zip lacks: the rest of the book still reads
        blocks.extend(html.html_blocks(page)[1])
    return blocks
