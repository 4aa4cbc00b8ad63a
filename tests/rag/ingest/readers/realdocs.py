"""The real files of eval/realdocs (Debian's documentation) as the reader tests load them."""

from __future__ import annotations

from eval.extraction import REALDOCS
from rag.ingest.chunking import chunk_document
from rag.ingest.documents import LoadedDocument, load_file

MB = 1_000_000
FILES = sorted((REALDOCS / "files").iterdir())


def load(name: str) -> LoadedDocument:
    return load_file(REALDOCS / "files" / name, 50 * MB)


def units(doc: LoadedDocument) -> list[tuple[str, str, int, str]]:
    """(text, kind, page, section) of every unit of the document's chunks, in order."""
    out = {}
    for c in chunk_document(doc.doc_id, doc.source, doc.text, parts=doc.parts):
        for s in c.sentence_list():
            out[s.start] = (s.text, s.kind, s.page, c.title)
    return [out[k] for k in sorted(out)]
