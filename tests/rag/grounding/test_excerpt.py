"""A cited span with its neighbourhood, rebuilt from chunks (headings between them are gaps)."""

from __future__ import annotations

from rag.grounding.excerpt import GAP, excerpt
from rag.ingest.chunking import chunk_document

TEXT = (
    "Bees\n"
    "A honey bee colony has one queen. Worker bees live for about six weeks in summer.\n"
    "Drones do not have stingers. They mate with the queen.\n"
    "Wasps\n"
    "Wasps build paper nests. A nest lasts one season.\n"
)


def test_the_span_is_exact_and_the_neighbours_are_the_documents_words():
    chunks = chunk_document("d1", "bees.txt", TEXT, 60, 0)
    start = TEXT.index("Drones")
    end = TEXT.index("stingers.") + len("stingers.")
    ex = excerpt(chunks, "d1", start, end, around=1000)
    assert ex.quote == TEXT[start:end]
    # the heading "Bees" is in no chunk; the line break between two chunks shows as a space
    assert ex.before == TEXT[TEXT.index("A honey") : start].replace("\n", " ")
    assert ex.after.startswith(" They mate with the queen.")
    assert ex.after.count(GAP) == 1 and "Wasps build paper nests." in ex.after
    assert "Wasps\n" not in ex.after  # a heading no chunk holds is a paragraph break


def test_words_are_not_cut_and_other_documents_are_ignored():
    chunks = chunk_document("d1", "bees.txt", TEXT, 60, 0)
    chunks += chunk_document("d2", "other.txt", "Completely different words here.", 60, 0)
    start = TEXT.index("Worker")
    ex = excerpt(chunks, "d1", start, start + 6, around=13)
    assert ex.quote == "Worker"
    assert TEXT[start - 13 : start] == "s one queen. "  # 12 characters back is mid-word
    assert ex.before == "one queen. " and ex.after == " bees live"  # whole words only
    assert "different" not in ex.before + ex.after
