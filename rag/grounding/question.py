"""A question, parsed once: its kind and the words, numbers and names every check compares.

    q = parse("How many US service members were killed?")
    q.kind == "count";  "servic" in q.words;  q.numbers == frozenset()

The grounding checks (checks.py) and the confidence features (confidence.py) take a `Question`,
not the raw string.
Does not: parse syntax; the kind is read from the first words (a feature, not a verdict).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import STOPWORDS, content, day_months, names, numbers, words

KINDS = ("count", "date", "name", "yesno", "list", "other")
# questions whose answer is a quantity: the number must be the one the support ties to the
# question's words ("killed 170 Afghans and 13 US service members": 13 for "service members")
QUANTITY_QUESTION = re.compile(
    r"^\s*how (?:many|much|old)\s+(?P<noun>[^?]*?)"
    r"(?:\s+(?:were|was|did|does|do|is|are|has|have|had|will|would|could|can)\b|\?|$)",
    re.IGNORECASE,
)
WHEN_QUESTION = re.compile(
    r"^\s*(?:when\b|on what date|in what year|in which year|what (?:year|date|month)\b)",
    re.IGNORECASE,
)
# questions that ask for a name
NAME_QUESTION = re.compile(
    r"^\s*(?i:(?:what|which) (?:is|was|are|were) the names?\b|who\b)(?! (?:is|was|are|were) [A-Z])"
)
YES_NO_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|may)\b",
    re.IGNORECASE,
)
LIST_QUESTION = re.compile(
    r"^\s*(?:(?:what|which) (?:\w+ )?\w+s (?:are|were|have|did|do)\b|(?:list|name) (?:the|all)\b)",
    re.IGNORECASE,
)
# questions that ask for a number computed from two stated ones
ARITHMETIC_CUES = re.compile(
    r"\b(?:total|combined|together|sum|difference|how many more|how much more|how many fewer|"
    r"how many years|how long|between|altogether|in all)\b",
    re.IGNORECASE,
)
TIME_UNITS = frozenset(
    {"years", "year", "months", "month", "weeks", "week", "days", "day", "hours", "hour", "decades"}
)


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # one of KINDS
    words: frozenset[str]  # stemmed content words (rag.text.content)
    tokens: frozenset[str]  # every lower-case word and number (rag.text.words)
    numbers: frozenset[str]
    counted: frozenset[str]  # "how many X": the words of X (empty for other questions)
    arithmetic: bool  # may be answered by a sum or difference of two stated numbers
    names: frozenset[str]  # capitalised words not starting a sentence (rag.text.names)
    name_words: frozenset[str]  # the words of its names, acronyms and camelCase too
    day_months: frozenset[tuple[str, str]]  # the days of months it gives ("March 22")

    @property
    def quantity(self) -> bool:
        return self.kind == "count"

    @property
    def counts_time(self) -> bool:
        """ "how many years …": a duration is the answer, not a wrong reading."""
        return bool(self.counted & TIME_UNITS)


def kind_of(text: str) -> str:
    if QUANTITY_QUESTION.search(text):
        return "count"
    if WHEN_QUESTION.search(text):
        return "date"
    if NAME_QUESTION.search(text):
        return "name"
    if YES_NO_QUESTION.search(text):
        return "yesno"
    if LIST_QUESTION.search(text):
        return "list"
    return "other"


def parse(text: str) -> Question:
    quantity = QUANTITY_QUESTION.search(text)
    return Question(
        text=text,
        kind=kind_of(text),
        words=frozenset(content(text)),
        tokens=frozenset(words(text)),
        numbers=frozenset(numbers(text)),
        counted=frozenset(words(quantity["noun"])) if quantity else frozenset(),
        arithmetic=bool(ARITHMETIC_CUES.search(text)),
        names=frozenset(names(text)),
        name_words=frozenset(name_words(text)),
        day_months=frozenset(day_months(text)),
    )


def name_words(text: str) -> set[str]:
    """The words of the question's names: capitalised tokens that do not start a sentence
    ("Zapier", "AHREFS", "38Avenue" -> 38, avenue), lower-cased, without stopwords."""
    found = re.findall(r"(?<!^)(?<![.!?] )(?<![.!?])\b\w*[A-Z]\w*", text.strip())
    return {w for t in found for w in words(t)} - STOPWORDS


__all__ = ["KINDS", "STOPWORDS", "Question", "kind_of", "name_words", "parse"]
