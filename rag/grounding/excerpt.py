"""A cited span in its neighbourhood, rebuilt from the stored chunks of its document.

    excerpt(store.chunks, doc_id, 1200, 1260, around=400)
      -> Excerpt(before="…the text before", quote="the cited sentence", after="the text after…")

The index keeps chunks, not whole files: `chunk.text == text[chunk.start:chunk.end]`, so any
stretch that a chunk covers is exact. Does not: restore what no chunk holds (section headings,
blank lines) — such a gap is shown as a paragraph break, a one-character gap as a space — or
read the original file again.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.types import Chunk

GAP = "\n\n"  # what a run of uncovered text is shown as; one uncovered character is a space


@dataclass(frozen=True)
class Excerpt:
    before: str  # text ahead of the span (gaps shown as GAP)
    quote: str  # the text of [start, end) exactly as indexed
    after: str
    start: int
    end: int


def _gap(n: int) -> str:
    return " " if n == 1 else GAP  # between two sentences, or a heading and blank lines


def _text(chunks: list[Chunk], a: int, b: int, lead: bool, trail: bool) -> str:
    """The document's text in [a, b), from `chunks` (sorted by start); an uncovered run is
    shown by `_gap` between covered text, and at the ends only when `lead` / `trail`."""
    out: list[str] = []
    pos = a
    for c in chunks:
        if c.end <= pos or c.start >= b:
            continue
        if c.start > pos and (out or lead):
            out.append(_gap(c.start - pos))
        pos = max(pos, c.start)
        stop = min(c.end, b)
        out.append(c.text[pos - c.start : stop - c.start])
        pos = stop
        if pos >= b:
            break
    if pos < b and out and trail:
        out.append(_gap(b - pos))
    return "".join(out)


def excerpt(chunks: list[Chunk], doc_id: str, start: int, end: int, around: int) -> Excerpt:
    """The span [start, end) of document `doc_id` with up to `around` characters each side,
    cut at spaces so no word is split."""
    mine = sorted((c for c in chunks if c.doc_id == doc_id), key=lambda c: c.start)
    lo, hi = max(0, start - around), end + around
    before = _text(mine, lo, start, lead=False, trail=True)
    after = _text(mine, end, hi, lead=True, trail=False)
    if lo > 0 and " " in before:
        before = before[before.index(" ") + 1 :]
    if " " in after and hi < max((c.end for c in mine), default=0):
        after = after[: after.rindex(" ")]
    return Excerpt(before, _text(mine, start, end, True, True), after, start, end)
