"""The grounding checks, one unit each, in a registry by name.

Every check has one signature — `(claim, question, support, min_support) -> Verdict` — where
`support` is the candidate support `Sentence`s (their texts, flags, spans); a `Verdict` says yes
or no and why. `claims.py` runs them on each candidate support of a reply sentence:
a check in `Policy.veto` rejects the candidate; any other active check is evidence, recorded on
the claim and turned into a feature of the calibrated confidence (rag/grounding/confidence.py).
`rag eval --reground RUN --without CHECK` replays a run with a check switched off, so each
check's effect on every set is a number (docs/calibration.md has the table).
Does not: decide alone whether an answer is shown; that is the calibrated confidence's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from rag.grounding.counts import bound
from rag.grounding.dates import misread
from rag.grounding.question import Question
from rag.text import STOPWORDS, content, day_months, names, numbers, words
from rag.types import Sentence

MIN_QUESTION_OVERLAP = 1 / 3  # share of the question's words the support must contain
YES_NO = frozenset({"yes", "no"})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


PASS = Verdict(True)
CheckFn = Callable[[str, Question, list[Sentence], float], Verdict]


def variant(a: str, b: str, shortest: int = 5) -> bool:
    """One word is a longer form of the other ("austria"/"austrian", "tajik"/"tajikistani")."""
    return min(len(a), len(b)) >= shortest and (a.startswith(b) or b.startswith(a))


def named_in(names: set[str], pool: list[str]) -> bool:
    return all(any(n == w or variant(n, w) for w in pool) for n in names)


def new_words(claim: str, q: Question) -> set[str]:
    """The claim's content words the question does not already have (nor a form of them)."""
    return {w for w in content(claim) - q.words if not any(variant(w, x) for x in q.words)}


def _adds_nothing(claim: str, q: Question) -> bool:
    """Only "yes"/"no" is new: checks about what the claim adds do not apply."""
    return not new_words(claim, q) - YES_NO


LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|xyz|info|biz|ru|co|app|site|online|link)\b",
    re.IGNORECASE,
)


def links(text: str) -> set[str]:
    """URLs, e-mail addresses and bare domains in `text` ("www.x.com/a" -> "x.com/a")."""
    found = {m.lower().rstrip(".,;:!?") for m in LINK.findall(text)}
    return {re.sub(r"^(?:https?://)?(?:www\.)?", "", m) for m in found}


def _arithmetic(value: str, pool: set[str]) -> bool:
    """Is `value` the sum or difference of two numbers in `pool`? (for "how many in total")"""
    try:
        target = float(value)
        nums = [float(p) for p in pool]
    except ValueError:
        return False
    return any(
        abs(a + b - target) < 1e-9 or abs(abs(a - b) - target) < 1e-9
        for a, b in combinations(nums, 2)
    )


def derived_numbers(claim: str, q: Question, text: str) -> set[str]:
    """Numbers of the claim that neither the question nor the support states."""
    return {n for n in numbers(claim) - q.numbers if n not in content(text)}


# ---- the checks ----------------------------------------------------------------------------
def planted(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    if any(s.flagged for s in sup):
        return Verdict(False, "an instruction planted in a document is no evidence")
    return PASS


def links_verbatim(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    if not links(claim) <= links(" ".join(texts)):
        return Verdict(False, "a link or address the support does not give verbatim")
    return PASS


def topic(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    """The support holds a third of the question's words, or every word of its names (a
    question can carry instructions — "If multiple, record all values" — that no answer
    repeats)."""
    texts = [s.text for s in sup]
    have = content(" ".join(texts))
    if q.words and len(q.words & have) / len(q.words) < MIN_QUESTION_OVERLAP:
        named = q.name_words
        if not named or not named <= set(words(" ".join(texts))):
            return Verdict(False, "the support is about something else than what was asked")
    return PASS


def stated_numbers(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    text = " ".join(texts)
    pool = numbers(text)
    if any(not (q.arithmetic and _arithmetic(n, pool)) for n in derived_numbers(claim, q, text)):
        return Verdict(False, "a number the support neither states nor adds up to")
    return PASS


def names_given(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    if not named_in(names(claim) - q.tokens, words(" ".join(texts))):
        return Verdict(False, "a name the support does not contain")
    return PASS


def day_month(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    if not day_months(claim) <= day_months(" ".join(texts)) | q.day_months:
        return Verdict(False, "a day of a month no source gives")
    return PASS


def date_event(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    if misread(claim, q, texts):
        return Verdict(False, "the date of another event in the same sentence")
    return PASS


def adds(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    new = new_words(claim, q)
    if not new - YES_NO and not new & YES_NO:
        return Verdict(False, "the reply restates the question")
    return PASS


def linked(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    """A combination of sentences is one piece of evidence when every sentence adds to the
    claim, or the sentences name a common entity the question does not (a bridge)."""
    texts = [s.text for s in sup]
    if len(texts) < 2 or _adds_nothing(claim, q):
        return PASS
    new = content(claim) - q.words
    derived = derived_numbers(claim, q, " ".join(texts))
    each = all(new & content(t) or (derived and numbers(t)) for t in texts)
    bridge = set.intersection(*(names(t) for t in texts)) - q.names - STOPWORDS
    if not (each or bridge):
        return Verdict(False, "two sentences that do not make one piece of evidence")
    return PASS


def count_bound(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    texts = [s.text for s in sup]
    if _adds_nothing(claim, q) or derived_numbers(claim, q, " ".join(texts)):
        return PASS
    if not bound(claim, q, texts):
        return Verdict(False, "another count in the sentence is tied to the question's words")
    return PASS


def coverage(claim: str, q: Question, sup: list[Sentence], ms: float) -> Verdict:
    """The words the claim adds to the question are in the support (`ms` = the share needed)."""
    texts = [s.text for s in sup]
    new = new_words(claim, q) - YES_NO
    if not new:
        return PASS
    have = content(" ".join(texts)) | derived_numbers(claim, q, " ".join(texts))
    share = len(new & have) / len(new)
    if share < ms:
        return Verdict(False, f"{share:.0%} of the reply's new words are in the support")
    return PASS


# In the order they run (the cheap and the decisive first). Every one is a veto today: each was
# measured as evidence for the calibrated confidence instead (docs/calibration.md), see VETO.
CHECKS: dict[str, CheckFn] = {
    "planted": planted,
    "links": links_verbatim,
    "topic": topic,
    "numbers": stated_numbers,
    "names": names_given,
    "day_month": day_month,
    "date_event": date_event,
    "adds": adds,
    "linked": linked,
    "bound": count_bound,
    "coverage": coverage,
}
# the citation guarantee: a claim's new words, numbers, names and links are in its quoted support,
# and a planted instruction supports nothing
ALWAYS_VETO = frozenset({"planted", "links", "coverage", "numbers", "names"})


@dataclass(frozen=True)
class Policy:
    """Which checks run, and which of them reject a candidate support outright."""

    veto: frozenset[str] = frozenset(CHECKS)
    without: frozenset[str] = frozenset()

    def active(self) -> list[tuple[str, CheckFn]]:
        return [(n, f) for n, f in CHECKS.items() if n not in self.without]

    def with_out(self, names: list[str] | tuple[str, ...]) -> Policy:
        unknown = sorted(set(names) - set(CHECKS))
        if unknown:
            from rag.errors import ConfigError

            raise ConfigError(
                f"no check named {', '.join(unknown)}; the checks are: {', '.join(CHECKS)}"
            )
        return Policy(self.veto, self.without | frozenset(names))

    def soft(self, names: list[str] | tuple[str, ...]) -> Policy:
        """These checks become evidence (never the citation guarantee in ALWAYS_VETO)."""
        self.with_out(names)  # the same check of the names
        return Policy(self.veto - (frozenset(names) - ALWAYS_VETO), self.without)
