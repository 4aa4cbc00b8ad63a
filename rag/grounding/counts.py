"""Counts: which number in a sentence answers "how many X were Y?".

A sentence often holds several counts ("killed 170 Afghans and 13 US service members"); a small
model picks the wrong one. `bindings` scores each count by the question words around it, so the
grounding check can refuse, or `rebind` can correct, a count read from the wrong place.
Does not: parse syntax; it reads a few words on each side of the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rag.grounding.binding import read_with, unique_best
from rag.grounding.question import Question
from rag.text import BREAK, MONTHS, STOPWORDS, content, is_year, numbers, stem, words
from rag.types import Sentence

_MONTHS = frozenset(MONTHS)
WINDOW = 4  # words on each side of a number that it is read with
# words that belong to the number they precede or follow ("at least 95", "$10 million")
_PARTS = "at least more than less fewer up to over under nearly almost about around roughly some"
NUMBER_PARTS = frozenset(f"{_PARTS} approximately million billion thousand hundred percent".split())
# the words a count is quoted with when it is corrected ("more than 200")
MODIFIER = (
    r"(?:at least|more than|less than|fewer than|up to|over|nearly|almost|about|around|roughly|"
    r"some)"
)


def _steps(outward: Iterable[str]) -> Iterator[str]:
    """The words a count is read with on one side: up to punctuation or another number, the
    words of the number itself ("at least", "million") not counted as steps."""
    for tok in outward:
        if tok == BREAK or tok[0].isdigit():
            return
        if tok not in NUMBER_PARTS:
            yield tok


def bindings(sentence: str, q: Question) -> dict[str, float]:
    """For a quantity question ("how many X were Y"), how strongly each count in `sentence`
    is read with the question's words: the counted noun X after the number weighs double,
    other question words count on either side; nearer words count more. Dates are not counts."""
    if not q.quantity:
        return {}
    noun = {stem(w) for w in q.counted if w not in STOPWORDS}
    rest = q.words - noun - q.numbers

    def weigh(word: str, side: int) -> float:
        if word in STOPWORDS:
            return 0.0
        root = stem(word)
        return 2.0 if side == 1 and root in noun else float(root in noun or root in rest)

    tokens = words(sentence, breaks=True)
    scores: dict[str, float] = {}
    for i, tok in enumerate(tokens):
        near = {tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)}
        if not tok[0].isdigit() or tok in q.numbers or is_year(tok) or near & _MONTHS:
            continue
        score = read_with(_steps(reversed(tokens[:i])), _steps(tokens[i + 1 :]), WINDOW, weigh)
        scores[tok] = max(score, scores.get(tok, 0.0))
    return scores


def _misread(n: str, scores: dict[str, float]) -> bool:
    """Another count in the sentence is read with the question's words more than `n` is."""
    return n in scores and scores[n] < max(scores.values())


def bound(claim: str, q: Question, texts: list[str]) -> bool:
    """For a quantity question: is each number the claim takes from the support the count
    there that is read with the question's words (not another one in the same sentence)?"""
    return not any(
        _misread(n, bindings(text, q)) for n in numbers(claim) - q.numbers for text in texts
    )


def rebind(claim: str, q: Question, context: list[Sentence]) -> str | None:
    """A bare count ("170") taken from a sentence that ties another count to the question's
    words becomes that count, as the sentence words it ("13", "more than 200")."""
    if content(claim) - q.words - numbers(claim) or len(numbers(claim)) != 1:
        return None
    (n,) = numbers(claim)
    for sent in context:
        b = bindings(sent.text, q)
        if _misread(n, b):
            best = max(b, key=lambda k: b[k])
            if unique_best(b):
                phrase = re.search(
                    rf"(?:{MODIFIER}\s+)?\$?"
                    + re.escape(best).replace(r"\.", r"[.,]")
                    + r"(?:\s+(?:million|billion|thousand))?\b",
                    sent.text,
                    re.IGNORECASE,
                )
                return phrase.group(0) if phrase else best
    return None
