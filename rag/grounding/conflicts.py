"""Contradictions shown, not resolved silently: when another passage the model was shown gives
a different value for what the answer states (two mayors, two heights, two years), the answer
says so and cites it.

    other = other_side(question, answer, context, similarity)
    # -> the Sentence that disagrees, or None

A context sentence T disagrees with the answer when
- it holds a value of the answer's kind (years for when questions, other numbers for how many /
  how much questions and answers that are numbers, names for who questions) that the question
  does not give, every number the question gives ("in 2023": not the 2019 budget), and
  none of the answer's own values (a cited sentence that holds none of them disagrees too: the
  model cited both and stated one);
- it is about the question's subject: every word of the question's names is in T's chunk, its
  section title or its document's name (the district's population is not the town's); in T
  itself when T is a table row (each row is about its own entity);
- it says the same kind of thing as the cited support: the model cited it too; or, for names,
  T, the support and the question share a word that is not a name (the role: "principal",
  "mayor") and T gives that role to a name within 4 words; for numbers, T holds at least two
  of the question's words that are not names, and no fewer than the support ("opened to
  traffic"), or the embedding similarity of T and the support is at least SIMILAR ("annual
  attendance" beside "visitors a year").
SIMILAR was chosen on the fit half of eval/questions/contradictions.json (its conflicts scored
0.65-0.83, its near-misses at most 0.59: the cottages' height beside the tower's).
Does not: compare values in words ("eight hundred"), reconcile units (38 m vs 125 ft), or judge
which side is right: both are shown, with their citations.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.grounding.question import Question
from rag.text import content, names, numbers, stem, words
from rag.types import Answer, Sentence

SIMILAR = 0.62
NOTE = "Another source says otherwise:"  # followed by that source's sentence, quoted and cited
Similarity = Callable[[str, list[str]], list[float]]
# a number standing alone (not the 18 of "i18n"), thousands grouped by commas or spaces too
NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)(?:\.\d+)?(?![\w]|\.\d)")
YEAR = re.compile(r"1\d{3}|20\d{2}")  # a year of a date question, 1000-2099 (a bridge of 1832)


def is_year(token: str) -> bool:
    return YEAR.fullmatch(token) is not None


def _values(text: str, kind: str) -> set[str]:
    if kind == "name":
        return names(text)
    found = set(NUMBER.findall(text))  # as written: "1,200" students is no year
    if kind == "year":
        return {n for n in found if is_year(n)}
    return {_plain_number(n) for n in found if not is_year(n)}


def _plain_number(token: str) -> str:
    """ "2 500.00", "2,500" -> "2500": one spelling per value."""
    digits = re.sub(r"[,\u00a0\u202f ]", "", token)
    return re.sub(r"\.0+$", "", digits)


def _tokens(text: str) -> list[str]:
    return [w.strip(".,;:!?()\"'“”’").lower() for w in text.split()]


def _named_in_role(text: str, role: set[str], names_: set[str]) -> bool:
    """A name of `names_` within 4 words of a role word, written as the support writes it (a
    plural "s" aside): "the principal, Dr Cedric Onyango", "Mayor Alistair Penhallow" give the
    role to someone; "currently" is not "current", "senior legacy leaders" names nobody."""
    tokens = _tokens(text)
    at_role = [i for i, w in enumerate(tokens) if w.rstrip("s") in role]
    at_name = [i for i, w in enumerate(tokens) if w in names_]
    return any(abs(i - j) <= 4 for i in at_role for j in at_name)


def answer_kind(question: Question, answer: str) -> str | None:
    if question.kind == "date":
        return "year"
    if question.kind == "count":
        return "number"
    if question.kind == "name":
        return "name"
    return "number" if numbers(answer) else None


def other_side(
    question: Question, answer: Answer, context: list[Sentence], similarity: Similarity
) -> Sentence | None:
    """The context sentence that gives another value for what `answer` states, or None."""
    if answer.declined or not answer.citations:
        return None
    text = re.sub(r"\[\d+\]", "", answer.answer)
    kind = answer_kind(question, text)
    if kind is None:
        return None
    asked = _values(question.text, kind)
    given = _values(text, kind) - asked
    if not given:
        return None
    cited = {(c.chunk_id, c.start) for c in answer.citations}
    support = [s for s in context if (s.chunk.id, s.start) in cited]
    stating = [s for s in support if _values(s.text, kind) & given]
    if not stating:
        return None
    first = stating[0]
    asked_words = question.words - {stem(w) for w in question.name_words}  # stems, names out
    role = {w.rstrip("s") for w in _tokens(first.text) if stem(w) in asked_words}
    candidates = []
    for t in context:
        if t in stating or t.flagged:
            continue
        theirs = _values(t.text, kind) - asked
        if not theirs or theirs & given:
            continue
        if not numbers(question.text) <= set(numbers(t.text)):
            continue  # the question's year or figure is not T's: T is about another time
        about = set(words(f"{t.chunk.text} {t.chunk.title} {t.chunk.source.replace('_', ' ')}"))
        if t.kind == "row":  # a table row is about its own entity, not its table's
            about = set(words(t.text))
        if not question.name_words <= about:
            continue
        if kind == "name" and not _named_in_role(t.text, role, theirs):
            continue
        candidates.append(t)
    if not candidates:
        return None
    own = [t for t in candidates if t in support]
    if own or kind == "name":  # the model cited it for this answer, or the same role
        return (own or candidates)[0]
    need = max(2, len(content(first.text) & asked_words))
    for t in candidates:  # it shares more of the question's words than the support does
        if len(content(t.text) & asked_words) >= need:
            return t
    scores = similarity(first.text, [t.text for t in candidates])
    best = max(range(len(candidates)), key=lambda i: scores[i])
    return candidates[best] if scores[best] >= SIMILAR else None
