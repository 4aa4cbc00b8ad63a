"""Extraction metrics for real documents: how much of a file's text reaches the chunks, and how
many units end mid-sentence.

    python -m eval.extraction eval/realdocs/files/*   # a table per file and per format

- coverage: the share of the document text's non-blank characters that lie in some chunk's text
  or, for headings, in some chunk's section path (what retrieval indexes).
- reference recall: the share of the words of an independent extraction (pdftotext, pandoc;
  `eval/realdocs/reference/<file>.txt`) that are in the chunks' texts and section paths
  (as a multiset, case folded) — it catches text a reader never extracted.
- mid-sentence: the share of prose units (sentences of paragraphs and list items) that
  end without closing punctuation where the document goes on in lower case: the word after
  the unit's last three words in the reference extraction (or, where those are not found
  there, the next unit) starts with a lower-case letter, unless a code block or (after a list
  item) another list item follows.
Does not: judge reading order beyond adjacent units.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.config import ROOT
from rag.ingest.chunking import SECTION_SEP, chunk_document
from rag.ingest.documents import LoadedDocument, load_file
from rag.ingest.readers.blocks import END
from rag.types import Chunk

REALDOCS = ROOT / "eval" / "realdocs"
WORD = re.compile(r"\w+")
NOT_SENTENCES = {"row", "code", "margin", "heading", "caption"}  # titles, not sentences


@dataclass
class Extraction:
    file: str
    format: str
    chars: int
    chunks: int
    coverage: float
    reference_recall: float | None
    mid_sentence: float
    units: int


def covered(doc: LoadedDocument, chunks: list[Chunk]) -> float:
    text = doc.text
    mask = bytearray(len(text))
    for c in chunks:
        mask[c.start : c.end] = b"\x01" * (c.end - c.start)
    titles = {t for c in chunks for t in c.title.split(SECTION_SEP)}
    for p in doc.parts:
        if p.kind == "heading" and text[p.start : p.end] in titles:
            mask[p.start : p.end] = b"\x01" * (p.end - p.start)
    total = sum(1 for ch in text if not ch.isspace())
    inside = sum(1 for ch, m in zip(text, mask, strict=True) if m and not ch.isspace())
    return inside / max(total, 1)


def recall(reference: str, chunks: list[Chunk]) -> float:
    ref = Counter(w.lower() for w in WORD.findall(reference))
    ours = Counter(w.lower() for c in chunks for w in WORD.findall(c.text))
    for title in {c.title for c in chunks}:
        ours.update(w.lower() for w in WORD.findall(title.replace(SECTION_SEP, " ")))
    return sum(min(n, ours[w]) for w, n in ref.items()) / max(sum(ref.values()), 1)


def _following(reference: str) -> dict[tuple[str, ...], str]:
    """For every three consecutive words of the reference, the word after them (first seen)."""
    tokens = reference.split()
    after: dict[tuple[str, ...], str] = {}
    for i in range(len(tokens) - 3):
        after.setdefault(tuple(tokens[i : i + 3]), tokens[i + 3])
    return after


def mid_sentence(chunks: list[Chunk], reference: str = "") -> tuple[float, int]:
    """(share of prose units that end mid-sentence, how many prose units)."""
    after = _following(reference) if reference else {}
    units: dict[tuple[int, int], tuple[str, str]] = {}
    for c in chunks:
        for s in c.sentence_list():
            units[(s.start, s.end)] = (s.text, s.kind)
    ordered = [units[k] for k in sorted(units)]
    prose = 0
    cut = 0
    for (text, kind), nxt in zip(ordered, ordered[1:] + [("", "")], strict=True):
        if kind in NOT_SENTENCES:
            continue
        prose += 1
        if END.search(text) or nxt[1] == "code" or kind == nxt[1] == "item":
            continue  # a label before a code block, or one list item before the next
        goes_on = after.get(tuple(text.split()[-3:]), nxt[0])
        if goes_on[:1].islower():
            cut += 1  # the sentence goes on after this unit
    return cut / max(prose, 1), prose


def measure(path: Path, reference: Path | None = None) -> Extraction:
    doc = load_file(path, 200_000_000)
    chunks = chunk_document(doc.doc_id, doc.source, doc.text, parts=doc.parts)
    ref = reference if reference is not None else REALDOCS / "reference" / f"{path.name}.txt"
    ref_text = ref.read_text(encoding="utf-8") if ref.is_file() else ""
    share, units = mid_sentence(chunks, ref_text)
    return Extraction(
        path.name,
        path.suffix.lower().lstrip("."),
        len(doc.text),
        len(chunks),
        covered(doc, chunks),
        recall(ref_text, chunks) if ref_text else None,
        share,
        units,
    )


def table(rows: list[Extraction]) -> str:
    lines = [
        "| file | format | chars | chunks | coverage | reference words in chunks | "
        "units ending mid-sentence |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        ref = "–" if r.reference_recall is None else f"{r.reference_recall:.1%}"
        lines.append(
            f"| {r.file} | {r.format} | {r.chars:,} | {r.chunks} | {r.coverage:.1%} | {ref} | "
            f"{r.mid_sentence:.1%} of {r.units} |"
        )
    by: dict[str, list[Extraction]] = {}
    for r in rows:
        by.setdefault(r.format, []).append(r)
    lines += ["", "| format | files | worst coverage | mean reference words | mid-sentence |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for fmt, rs in sorted(by.items()):
        refs = [r.reference_recall for r in rs if r.reference_recall is not None]
        units = sum(r.units for r in rs)
        cut = sum(r.mid_sentence * r.units for r in rs)
        mean = f"{sum(refs) / len(refs):.1%}" if refs else "–"
        lines.append(
            f"| {fmt} | {len(rs)} | {min(r.coverage for r in rs):.1%} | {mean} | "
            f"{cut / max(units, 1):.1%} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import json

    paths = [Path(a) for a in argv if not a.startswith("--")] or sorted(
        (REALDOCS / "files").iterdir()
    )
    rows = [measure(p) for p in paths]
    if "--json" in argv:
        print(json.dumps([asdict(r) for r in rows], indent=1))  # noqa: T201
    else:
        print(table(rows))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
