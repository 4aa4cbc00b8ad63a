"""Contradictions shown (rag/grounding/conflicts.py): a passage that gives another value for
what the answer states is found; near-misses (another year, another place, another tower) are
not. The similarity is the real embedding model's."""

from __future__ import annotations

import numpy as np
import pytest

from rag.grounding import conflicts
from rag.grounding.question import parse
from rag.ingest.chunking import chunk_document
from rag.types import Answer, Citation, Sentence

GUIDE = (
    "Welcome to Harrowgate, a mill town on the river Lune.\n"
    "The town hall opened in 1871 and is 40 metres tall.\n"
    "The town's mayor, Ada Finch, opened the new library last spring.\n"
    "In 2019 the council's budget was £2.1 million.\n"
)
REPORT = (
    "Harrowgate council report.\n"
    "Mayor Tobias Wren chairs the council, which meets monthly.\n"
    "According to the latest survey, the town hall stands 46 metres tall.\n"
    "In 2023 the budget rose to £3.4 million.\n"
    "The market cross in the square is 6 metres tall.\n"
)


@pytest.fixture(scope="module")
def context() -> list[Sentence]:
    out: list[Sentence] = []
    for name, text in (("harrowgate_guide.txt", GUIDE), ("harrowgate_report.txt", REPORT)):
        for chunk in chunk_document(name, name, text, 1200, 0):
            out += chunk.sentence_list()
    return out


@pytest.fixture(scope="module")
def similarity(embedder):
    def similar(text: str, others: list[str]) -> list[float]:
        vecs = np.asarray(embedder.embed([text, *others]), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return [float(v) for v in vecs[1:] @ vecs[0]]

    return similar


def _answer(text: str, quote: str, context: list[Sentence]) -> Answer:
    s = next(s for s in context if quote in s.text)
    cite = Citation(1, s.chunk.source, s.chunk.id, s.start, s.end, s.text)
    return Answer(f"{text} [1]", False, [cite])


@pytest.mark.parametrize(
    ("question", "answer", "support", "other"),
    [
        ("How tall is the Harrowgate town hall?", "40 metres", "is 40 metres", "46 metres"),
        ("Who is the mayor of Harrowgate?", "Ada Finch", "Ada Finch", "Tobias Wren"),
    ],
)
def test_a_passage_with_another_value_is_found(
    context, similarity, question, answer, support, other
):
    found = conflicts.other_side(
        parse(question), _answer(answer, support, context), context, similarity
    )
    assert found is not None and other in found.text


@pytest.mark.parametrize(
    ("question", "answer", "support"),
    [
        ("What was the Harrowgate council budget in 2023?", "£3.4 million", "£3.4 million"),
        ("When did the Harrowgate town hall open?", "1871", "opened in 1871"),
    ],
)
def test_values_about_other_things_are_no_conflict(context, similarity, question, answer, support):
    found = conflicts.other_side(
        parse(question), _answer(answer, support, context), context, similarity
    )
    assert found is None, found and found.text


@pytest.mark.parametrize(
    ("one", "other"),
    [("$2,500.00", "charged for $2 500.00"), ("8,400 residents", "8400 people"), ("£6", "£6.00")],
)
def test_one_value_in_two_spellings_is_one_value(one, other):
    assert conflicts._values(one, "number") == conflicts._values(other, "number")


def test_digits_inside_words_and_versions_are_no_values():
    assert conflicts._values("Use it for i18n and l10n in Python 3.11.2.", "number") == set()
