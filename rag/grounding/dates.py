"""Dates in replies: which date in a sentence answers "when …?", and days the sources never gave.

A sentence often holds several dates ("the January 3, 2024, attack in Kerman … along with the
March 22, 2024, attack on the Crocus City Hall"); a small model picks the wrong one. `misread`
finds a reply date that the sentence ties to the question's words less than another date, and
`rebind` puts that other date in its place. `drop_days` cuts a day no source gives.
Does not: parse syntax; it reads a few words on each side of a date.
"""

from __future__ import annotations

import re

from rag.text import MONTHS, STOPWORDS, YEAR, content, stem, words
from rag.types import Sentence

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DAY_MONTH = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})\b|\b(\d{{1,2}})\s+({_MONTH})")
DATE_WITH_DAY = re.compile(  # "May 20, 2024" or "20 May 2024", the year not included
    rf"\b({_MONTH})\s+\d{{1,2}},?(?=\s+\d{{4}}\b)|\b\d{{1,2}}\s+({_MONTH})(?=\s+\d{{4}}\b)"
)
_FULL_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTHS) + ")"
# one date mention: "March 22, 2024", "22 March 2024", "March 2024", "March 22", "2024"
MENTION = re.compile(
    rf"\b(?P<m1>{_FULL_MONTH})\s+(?P<d1>\d{{1,2}}),?\s+(?P<y1>\d{{4}})\b"
    rf"|\b(?P<d2>\d{{1,2}})\s+(?P<m2>{_FULL_MONTH})\s+(?P<y2>\d{{4}})\b"
    rf"|\b(?P<m3>{_FULL_MONTH})\s+(?P<y3>\d{{4}})\b"
    rf"|\b(?P<m4>{_FULL_MONTH})\s+(?P<d4>\d{{1,2}})\b"
    rf"|(?<!\d-)\b(?P<y5>{YEAR})\b(?!-\d)"  # not the year of an ISO date (2023-06-10)
)
WHEN_QUESTION = re.compile(
    r"^\s*(?:when\b|on what date|in what year|in which year|what (?:year|date|month)\b)",
    re.IGNORECASE,
)
WINDOW = 6  # content words on each side of a date that it is read with
Parts = tuple[str | None, str | None, str | None]  # (month, day, year)


def day_months(text: str) -> set[tuple[str, str]]:
    """(month, day) pairs written as dates: "March 22", "22 March" -> ("mar", "22")."""
    return {((m[0] or m[3])[:3].lower(), m[1] or m[2]) for m in DAY_MONTH.findall(text)}


def drop_days(claim: str, question: str, context: list[Sentence]) -> str | None:
    """ "May 20, 2024" -> "May 2024" when no source or the question gives that day: a small
    model often adds a day to a month the source names. None when nothing is dropped."""
    known = day_months(" ".join(s.text for s in context)) | day_months(question)

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


def bindings(sentence: str, question: str) -> list[tuple[re.Match[str], float]]:
    """Each date mention in `sentence` with how strongly it is read with the question's words
    (content words up to WINDOW on each side, not past another date; nearer counts more)."""
    q_words = content(question)  # stemmed, like _content_words
    mentions = list(MENTION.finditer(sentence))
    out = []
    for i, m in enumerate(mentions):
        lo = mentions[i - 1].end() if i else 0
        hi = mentions[i + 1].start() if i + 1 < len(mentions) else len(sentence)
        before = _content_words(sentence[lo : m.start()])[-WINDOW:]
        after = _content_words(sentence[m.end() : hi])[:WINDOW]
        score = sum((w in q_words) / d for d, w in enumerate(reversed(before), 1))
        score += sum((w in q_words) / d for d, w in enumerate(after, 1))
        out.append((m, score))
    return out


def _content_words(text: str) -> list[str]:
    """Stemmed content words of `text`, in order (numbers left out)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and not w[0].isdigit()]


def rebind(claim: str, question: str, texts: list[str]) -> str | None:
    """For "when …?": a date of `claim` that one of `texts` ties to the question's words less
    than another date there is replaced by that date (as the text writes it). None when no date
    of the claim is misread."""
    if not WHEN_QUESTION.search(question):
        return None
    for said in MENTION.finditer(claim):
        for text in texts:
            scored = bindings(text, question)
            if len(scored) < 2:
                continue
            mine = [s for m, s in scored if _matches(_parts(said), _parts(m))]
            best, top = max(scored, key=lambda ms: ms[1])
            if mine and max(mine) < top and [s for _, s in scored].count(top) == 1:
                return claim[: said.start()] + best[0] + claim[said.end() :]
    return None


def misread(claim: str, question: str, texts: list[str]) -> bool:
    """Does one of `texts` tie another date to the question more than the claim's date?"""
    return rebind(claim, question, texts) is not None
