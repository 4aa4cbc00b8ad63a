"""Counts: which number in a sentence answers "how many X were Y?".

A sentence often holds several counts ("killed 170 Afghans and 13 US service members"); a small
model picks the wrong one. `bindings` scores each count by the question words around it, so the
grounding check can refuse, or `rebind` can correct, a count read from the wrong place.
Does not: parse syntax; it reads a few words on each side of the number.
"""

from __future__ import annotations

import re

from rag.text import MONTHS, NUMBER_WORDS, STOPWORDS, content, is_year, numbers, stem
from rag.types import Sentence

# questions whose answer is a quantity: the number must be the one the support ties to the
# question's words ("killed 170 Afghans and 13 US service members": 13 for "service members")
QUANTITY_QUESTION = re.compile(
    r"^\s*how (?:many|much|old)\s+(?P<noun>[^?]*?)"
    r"(?:\s+(?:were|was|did|does|do|is|are|has|have|had|will|would|could|can)\b|\?|$)",
    re.IGNORECASE,
)
_MONTHS = frozenset(MONTHS)
BINDING_WINDOW = 4  # words on each side of a number that it is read with
# words that belong to the number they precede or follow ("at least 95", "$10 million")
_PARTS = "at least more than less fewer up to over under nearly almost about around roughly some"
NUMBER_PARTS = frozenset(f"{_PARTS} approximately million billion thousand hundred percent".split())
# the words a count is quoted with when it is corrected ("more than 200")
MODIFIER = (
    r"(?:at least|more than|less than|fewer than|up to|over|nearly|almost|about|around|roughly|"
    r"some)"
)


def _binding_tokens(sentence: str) -> list[str]:
    """Words and numbers of `sentence`, with "|" for punctuation a phrase does not cross."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", sentence.lower().replace("’", "'"))
    tokens = re.findall(r"\d+(?:\.\d+)?|[a-z]+|[,;:()\"“”]", re.sub(r"'s\b", "", text))
    return ["|" if not t[0].isalnum() else NUMBER_WORDS.get(t, t) for t in tokens]


def bindings(sentence: str, question: str) -> dict[str, float]:
    """For a quantity question ("how many X were Y"), how strongly each count in `sentence`
    is read with the question's words: the counted noun X after the number weighs double,
    other question words count on either side; nearer words count more. Dates are not counts."""
    match = QUANTITY_QUESTION.search(question)
    if not match:
        return {}
    noun = content(match["noun"])
    asked = numbers(question)
    rest = content(question) - noun - asked
    tokens = _binding_tokens(sentence)
    scores: dict[str, float] = {}
    for i, tok in enumerate(tokens):
        near = {tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)}
        year = is_year(tok)
        if not tok[0].isdigit() or tok in asked or year or near & _MONTHS:
            continue
        score = 0.0
        for step in (-1, 1):
            d = 0
            j = i
            while d < BINDING_WINDOW:
                j += step
                if not 0 <= j < len(tokens) or tokens[j] == "|" or tokens[j][0].isdigit():
                    break
                if tokens[j] in NUMBER_PARTS:
                    continue
                d += 1
                if tokens[j] in STOPWORDS:
                    continue
                root = stem(tokens[j])
                if step == 1 and root in noun:
                    score += 2 / d
                elif root in noun or root in rest:
                    score += 1 / d
        scores[tok] = max(score, scores.get(tok, 0.0))
    return scores


def _misread(n: str, scores: dict[str, float]) -> bool:
    """Another count in the sentence is read with the question's words more than `n` is."""
    return n in scores and scores[n] < max(scores.values())


def bound(claim: str, question: str, texts: list[str]) -> bool:
    """For a quantity question: is each number the claim takes from the support the count
    there that is read with the question's words (not another one in the same sentence)?"""
    asked = numbers(question)
    return not any(
        _misread(n, bindings(text, question)) for n in numbers(claim) - asked for text in texts
    )


def rebind(claim: str, question: str, context: list[Sentence]) -> str | None:
    """A bare count ("170") taken from a sentence that ties another count to the question's
    words becomes that count, as the sentence words it ("13", "more than 200")."""
    if content(claim) - content(question) - numbers(claim) or len(numbers(claim)) != 1:
        return None
    (n,) = numbers(claim)
    for sent in context:
        b = bindings(sent.text, question)
        if _misread(n, b):
            best = max(b, key=lambda k: b[k])
            if list(b.values()).count(b[best]) == 1:
                phrase = re.search(
                    rf"(?:{MODIFIER}\s+)?\$?"
                    + re.escape(best).replace(r"\.", r"[.,]")
                    + r"(?:\s+(?:million|billion|thousand))?\b",
                    sent.text,
                    re.IGNORECASE,
                )
                return phrase.group(0) if phrase else best
    return None
