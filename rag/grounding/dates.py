"""Dates in replies: which date in a sentence answers "when …?", and days the sources never gave.

A sentence often holds several dates ("the January 3, 2024, attack in Kerman … along with the
March 22, 2024, attack on the Crocus City Hall"); a small model picks the wrong one. `misread`
finds a reply date that the sentence ties to the question's words less than another date
(binding.py scores them), and `rebind` puts that other date in its place. `drop_days` cuts a day
no source gives.
Does not: parse syntax; it reads a few words on each side of a date.
"""

from __future__ import annotations

import re

from rag.grounding.binding import read_with, unique_best
from rag.grounding.question import Question
from rag.text import DATE, DATE_WITH_DAY, content_words, day_months
from rag.types import Sentence

WINDOW = 6  # content words on each side of a date that it is read with
Parts = tuple[str | None, str | None, str | None]  # (month, day, year)


def drop_days(claim: str, q: Question, context: list[Sentence]) -> str | None:
    """ "May 20, 2024" -> "May 2024" when no source or the question gives that day: a small
    model often adds a day to a month the source names. None when nothing is dropped."""
    known = day_months(" ".join(s.text for s in context)) | q.day_months

    def fix(m: re.Match[str]) -> str:
        month = m[1] or m[2]
        return m[0] if day_months(m[0]) <= known else month

    fixed = DATE_WITH_DAY.sub(fix, claim)
    return fixed if fixed != claim else None


def _parts(m: re.Match[str]) -> Parts:
    g = m.groupdict()
    month = next((g[k] for k in ("m1", "m2", "m3", "m4") if g[k]), None)
    day = next((g[k] for k in ("d1", "d2", "d4") if g[k]), None)
    year = next((g[k] for k in ("y1", "y2", "y3", "y5") if g[k]), None)
    return (month.lower() if month else None, day, year)


def _matches(short: Parts, full: Parts) -> bool:
    """Does every part `short` gives agree with `full`? ("March 2024" ~ "March 22, 2024")"""
    return all(a is None or a == b for a, b in zip(short, full, strict=True))


def bindings(sentence: str, q: Question) -> list[tuple[re.Match[str], float]]:
    """Each date mention in `sentence` with how strongly it is read with the question's words
    (content words up to WINDOW on each side, not past another date; nearer counts more)."""
    mentions = list(DATE.finditer(sentence))
    out = []
    for i, m in enumerate(mentions):
        lo = mentions[i - 1].end() if i else 0
        hi = mentions[i + 1].start() if i + 1 < len(mentions) else len(sentence)
        before = reversed(content_words(sentence[lo : m.start()]))
        after = content_words(sentence[m.end() : hi])
        score = read_with(before, after, WINDOW, lambda w, side: float(w in q.words))
        out.append((m, score))
    return out


def rebind(claim: str, q: Question, texts: list[str]) -> str | None:
    """For "when …?": a date of `claim` that one of `texts` ties to the question's words less
    than another date there is replaced by that date (as the text writes it). None when no date
    of the claim is misread."""
    if q.kind != "date":
        return None
    for said in DATE.finditer(claim):
        for text in texts:
            scored = bindings(text, q)
            if len(scored) < 2:
                continue
            mine = [s for m, s in scored if _matches(_parts(said), _parts(m))]
            best, top = max(scored, key=lambda ms: ms[1])
            if mine and max(mine) < top and unique_best([s for _, s in scored]):
                return claim[: said.start()] + best[0] + claim[said.end() :]
    return None


def misread(claim: str, q: Question, texts: list[str]) -> bool:
    """Does one of `texts` tie another date to the question more than the claim's date?"""
    return rebind(claim, q, texts) is not None
