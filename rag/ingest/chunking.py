"""Split a document's text into sentence-aware, overlapping chunks with exact character spans.

The document's structure comes from its reader (`rag.ingest.readers`: headings, paragraphs, list
items, table rows, code lines …, each a line of the text). Headings are not chunk text: the
path of headings above a chunk ("Install › Requirements") is its `title`, which retrieval indexes
with the text; a heading with nothing under it is a unit of its own, so no text is lost.
Paragraphs, list items and captions are split into sentences; a table row or a page margin is
one unit, and so are consecutive lines of a code block (up to `CODE_UNIT` characters).
Consecutive units of one section are packed up to `target` characters; a longer paragraph is
cut between sentences, consecutive pieces sharing `overlap` sentences.
`chunk.text == text[chunk.start:chunk.end]` always holds; each unit keeps its kind and page.
Sentences that address the assistant are marked in `chunk.flagged` (rag/ingest/injection.py).
Does not: split inside a sentence (a single sentence longer than `target` stays whole).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rag.ingest.injection import flag_sentences, verdicts
from rag.ingest.readers.blocks import PROSE, Part
from rag.ingest.readers.text import kind_of
from rag.text import Span, split_sentences
from rag.types import Chunk

SECTION_SEP = " › "
CODE_UNIT = 300  # consecutive lines of a code block form one unit up to this many characters


def line_parts(text: str) -> tuple[Part, ...]:
    """Parts of a text with one block per line (for callers without a reader's structure)."""
    parts, pos = [], 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            kind = kind_of(stripped)
            a, b = start + lead, start + lead + len(stripped)
            parts.append(Part(kind, a, b, 0 if kind == "paragraph" else 1))
    return tuple(parts)


@dataclass
class _Unit:
    title: str
    spans: list[Span]
    kinds: list[str]
    pages: list[int]


def _units(text: str, parts: tuple[Part, ...]) -> list[tuple[str, list[Span], str, int]]:
    """(section title, sentence spans, kind, page) of every part that is chunk text."""
    out: list[tuple[str, list[Span], str, int]] = []
    path: list[tuple[int, str, Part]] = []  # (level, heading, its part)
    bare: Part | None = None  # the last heading, while nothing stands under it
    for part in parts:
        if part.kind == "heading":
            level = part.level or 1
            if bare is not None and level <= (bare.level or 1):
                out.append((_title(path[:-1]), [(bare.start, bare.end)], "heading", bare.page))
            path = [h for h in path if h[0] < level] + [(level, text[part.start : part.end], part)]
            bare = part
            continue
        bare = None
        last = out[-1] if out else None
        if (
            part.kind == "code"
            and last is not None
            and last[2] == "code"
            and last[0] == _title(path)
            and last[1][-1][1] + 1 == part.start
            and part.end - last[1][-1][0] <= CODE_UNIT
        ):  # the next line of the same code block: one unit, so a line keeps its neighbours
            last[1][-1] = (last[1][-1][0], part.end)
            continue
        prose = part.kind in PROSE
        spans = split_sentences(text[part.start : part.end], part.start) if prose else []
        out.append((_title(path), spans or [(part.start, part.end)], part.kind, part.page))
    if bare is not None:
        out.append((_title(path[:-1]), [(bare.start, bare.end)], "heading", bare.page))
    return out


def _title(path: list[tuple[int, str, Part]]) -> str:
    return SECTION_SEP.join(h[1] for h in path)


def _pack(sentences: list[Span], target: int, overlap: int) -> list[list[Span]]:
    """Group consecutive sentences into pieces of about `target` characters."""
    groups: list[list[Span]] = []
    current: list[Span] = []
    for span in sentences:
        if current and span[1] - current[0][0] > target:
            groups.append(current)
            current = current[-overlap:] if overlap else []
            if current and span[1] - current[0][0] > target:
                current = []
        current.append(span)
    if current and (not groups or current[-1] != groups[-1][-1]):
        groups.append(current)
    return groups


def chunk_document(
    doc_id: str,
    source: str,
    text: str,
    target: int = 900,
    overlap: int = 1,
    parts: tuple[Part, ...] = (),
) -> list[Chunk]:
    """Chunks of one document, in order, with stable content-derived ids. `parts` is the
    document's structure from its reader (default: one block per line, `line_parts`)."""
    units: list[_Unit] = []  # packed units: one chunk each
    for title, sentences, kind, page in _units(text, parts or line_parts(text)):
        last = units[-1] if units else None
        if (
            last is not None
            and last.title == title
            and sentences[-1][1] - last.spans[0][0] <= target
            and len(text[last.spans[0][0] : sentences[-1][1]]) <= target
        ):
            last.spans.extend(sentences)
            last.kinds.extend([kind] * len(sentences))
            last.pages.extend([page] * len(sentences))
            continue
        for group in _pack(sentences, target, overlap):
            units.append(_Unit(title, group, [kind] * len(group), [page] * len(group)))
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    reasons = verdicts(text, [span for unit in units for span in unit.spans])
    for unit in units:
        title, spans = unit.title, unit.spans
        start, end = spans[0][0], spans[-1][1]
        body = text[start:end]
        digest = hashlib.sha256(body.encode()).hexdigest()[:10]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
        chunks.append(
            Chunk(
                id=f"{doc_id}:{digest}{suffix}",
                doc_id=doc_id,
                source=source,
                title=title,
                text=body,
                start=start,
                end=end,
                sentences=tuple(spans),
                flagged=flag_sentences(text, spans, reasons),
                kinds=tuple(unit.kinds),
                pages=tuple(unit.pages),
            )
        )
    return chunks
