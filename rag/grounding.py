"""System-side grounding: pick the context sentences, then check the model's reply against them.

The model never cites. It answers from a few numbered sentences; this module then decides, for
each sentence of the reply, which context sentences support it (the new words it adds to the
question must appear there, and every number in it must appear there or be the sum or difference
of two numbers there, and every link or address in it must be there verbatim). A sentence
flagged as a planted instruction (rag/injection.py) supports nothing. Unsupported claims are
dropped; a reply with no supported claim, or a
reply that says the sources do not answer, becomes a decline.
Does not: judge paraphrase beyond shared words (no entailment model), or resolve pronouns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rag import dates
from rag.chunking import split_sentences
from rag.counts import QUANTITY_QUESTION, bound, rebind
from rag.text import STOPWORDS, content, numbers, words
from rag.types import Sentence

DECLINE_PATTERNS = re.compile(
    r"not found|not (?:mentioned|specified|provided|stated|given|available|known)|"
    r"(?:do|does|did) not (?:say|mention|state|specify|provide|contain|include|give)|"
    r"no (?:information|mention|data|answer)|cannot (?:be )?(?:determined|answer|find)|"
    r"unable to (?:answer|determine|find)|there is no",
    re.IGNORECASE,
)
DECLINE_TEXT = "The documents don't say."
YES_NO = frozenset({"yes", "no"})
TIME_UNITS = frozenset(
    {"years", "year", "months", "month", "weeks", "week", "days", "day", "hours", "hour", "decades"}
)
# questions that ask for a number computed from two stated ones
ARITHMETIC_CUES = re.compile(
    r"\b(?:total|combined|together|sum|difference|how many more|how much more|how many fewer|"
    r"how many years|how long|between|altogether|in all)\b",
    re.IGNORECASE,
)
MIN_QUESTION_OVERLAP = 1 / 3  # share of the question's words the support must contain
# questions that ask for a name: the reply must name someone or something the question does not
NAME_QUESTION = re.compile(
    r"^\s*(?i:(?:what|which) (?:is|was|are|were) the names?\b|who\b)(?! (?:is|was|are|were) [A-Z])"
)


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


def select_sentences(
    question: str,
    candidates: list[Sentence],
    sentence_vecs: np.ndarray,
    query_vec: np.ndarray,
    limit: int,
) -> list[Sentence]:
    """The `limit` candidates most related to the question (cosine + share of question words,
    a word also shared by its longer forms), most related first: a small model reads the first
    sources most closely (measured on the seed set: more right answers than document order)."""
    q_words = content(question)

    def shared(have: set[str]) -> int:  # "leads" is shared with "leader" (stems lead, leader)
        return sum(q in have or any(_variant(q, h, 4) for h in have) for q in q_words)

    lexical = np.array([shared(content(s.text)) / max(1, len(q_words)) for s in candidates])
    scores = sentence_vecs @ query_vec + 0.5 * lexical
    return [candidates[i] for i in np.argsort(-scores, kind="stable")[:limit]]


@dataclass(frozen=True)
class Claim:
    text: str  # one sentence of the reply
    support: tuple[int, ...]  # indices into the context sentences


def is_decline(reply: str) -> bool:
    return not reply.strip() or bool(DECLINE_PATTERNS.search(reply))


def answers_type(claim: str, question: str) -> bool:
    """Is `claim` the kind of thing the question asks for? A count for "how many/much/old"
    (for "how many X", not only a duration unless X is a time unit), a name for "who …" /
    "what is the name …"; anything for other questions."""
    quantity = QUANTITY_QUESTION.search(question)
    if quantity and not numbers(claim) - numbers(question):
        return False
    counted = set(words(quantity["noun"])) if quantity else set()
    if quantity and "many" in quantity[0].lower() and not counted & TIME_UNITS:
        w = words(claim)
        durations = {
            a for a, b in zip(w, w[1:], strict=False) if a[0].isdigit() and b in TIME_UNITS
        }
        if numbers(claim) - numbers(question) <= durations:
            return False  # "3 years" says how long, not "how many strikes"
    if NAME_QUESTION.search(question):
        named = re.findall(r"\b[A-Z][\w’'-]*", claim)
        return bool({w.lower() for w in named[1:] or named} - set(words(question)) - STOPWORDS)
    return True


def _supports(
    claim: str, question: str, sents: list[Sentence], idx: tuple[int, ...], min_support: float
) -> bool:
    """Do the sentences `idx` together state `claim` as an answer to `question`?"""
    if any(sents[i].flagged for i in idx):
        return False  # an instruction planted in a document is no evidence
    if not answers_type(claim, question):
        return False
    text = " ".join(sents[i].text for i in idx)
    if not _links(claim) <= _links(text):
        return False  # a link or address the support does not give verbatim
    have, q_words = content(text), content(question)
    if q_words and len(q_words & have) / len(q_words) < MIN_QUESTION_OVERLAP:
        return False  # the support is about something else than what was asked
    nums = numbers(claim) - numbers(question)
    derived = {n for n in nums if n not in have}
    arithmetic = bool(ARITHMETIC_CUES.search(question))
    if any(not (arithmetic and _arithmetic(n, numbers(text))) for n in derived):
        return False
    have = have | derived
    if not _named_in(_names(claim) - set(words(question)), words(text)):
        return False  # a name the support does not contain is made up
    if not dates.day_months(claim) <= dates.day_months(text) | dates.day_months(question):
        return False  # "May 20" from "May 2024 ... 20 years"
    if dates.misread(claim, question, [sents[i].text for i in idx]):
        return False  # the date of another event in the same sentence
    new = {w for w in content(claim) - q_words if not any(_variant(w, q) for q in q_words)}
    if not new - YES_NO:  # restates the question: only a yes/no adds anything
        return bool(new & YES_NO)
    new -= YES_NO
    if len(idx) > 1 and not _linked(claim, question, [sents[i].text for i in idx], derived):
        return False
    if not derived and not bound(claim, question, [sents[i].text for i in idx]):
        return False
    return len(new & have) / len(new) >= min_support


LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|xyz|info|biz|ru|co|app|site|online|link)\b",
    re.IGNORECASE,
)


def _links(text: str) -> set[str]:
    """URLs, e-mail addresses and bare domains in `text` ("www.x.com/a" -> "x.com/a")."""
    found = {m.lower().rstrip(".,;:!?") for m in LINK.findall(text)}
    return {re.sub(r"^(?:https?://)?(?:www\.)?", "", m) for m in found}


def _variant(a: str, b: str, shortest: int = 5) -> bool:
    """One word is a longer form of the other ("austria"/"austrian", "tajik"/"tajikistani")."""
    return min(len(a), len(b)) >= shortest and (a.startswith(b) or b.startswith(a))


def _named_in(names: set[str], pool: list[str]) -> bool:
    return all(any(n == w or _variant(n, w) for w in pool) for n in names)


def _names(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]{2,}", text)}


def _linked(claim: str, question: str, texts: list[str], derived: set[str]) -> bool:
    """A combination of sentences is one piece of evidence when every sentence adds to the
    claim, or the sentences name a common entity the question does not (a bridge)."""
    new = content(claim) - content(question)
    adds = all(new & content(t) or (derived and numbers(t)) for t in texts)
    shared = set.intersection(*(_names(t) for t in texts)) - _names(question) - STOPWORDS
    return bool(adds or shared)


def ground(reply: str, question: str, context: list[Sentence], min_support: float) -> list[Claim]:
    """Supported claims of `reply`, each with the context sentences that support it:
    one sentence when one suffices, else the best pair (multi-hop, arithmetic)."""
    claims: list[Claim] = []
    q_words = content(question)
    for start, end in split_sentences(reply):
        claim = reply[start:end].strip()
        if not content(claim) or is_decline(claim):
            continue
        new = content(claim) - q_words

        def score(idx: tuple[int, ...], new: set[str] = new) -> tuple[int, int]:
            have = content(" ".join(context[i].text for i in idx))
            return (len(new & have), len(q_words & have))

        found = _supported_by(claim, question, context, min_support, score)
        for repair in (rebind, prune_list, dates.drop_days, rebind_date):
            if found is None and (fixed := repair(claim, question, context)):
                claim, found = fixed, _supported_by(fixed, question, context, min_support, score)
        if found:
            claims.append(Claim(claim, found))
    return claims


def rebind_date(claim: str, question: str, context: list[Sentence]) -> str | None:
    return dates.rebind(claim, question, [s.text for s in context])


LIST_SEPARATOR = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+")


def prune_list(claim: str, question: str, context: list[Sentence]) -> str | None:
    """A list of names ("Iran, Pakistan, Russia, and Turkey") keeps the items named by the one
    context sentence that names most of them; None when `claim` is no such list or that sentence
    names all or fewer than two."""
    items = [i for i in LIST_SEPARATOR.split(claim.rstrip(".")) if i]
    if len(items) < 3 or any(len(i.split()) > 4 or not re.match(r"[A-Z]", i) for i in items):
        return None
    best: list[str] = []
    for sent in context:
        pool = words(sent.text)
        kept = [
            i for i in items if _named_in({w.lower() for w in re.findall(r"[A-Z]\w+", i)}, pool)
        ]
        best = kept if len(kept) > len(best) else best
    if len(best) < 2 or len(best) == len(items):
        return None
    return f"{', '.join(best[:-1])} and {best[-1]}"


def _supported_by(
    claim: str,
    question: str,
    context: list[Sentence],
    min_support: float,
    score: Callable[[tuple[int, ...]], tuple[int, int]],
) -> tuple[int, ...] | None:
    """The best single sentence that supports `claim`, else the best pair, else None."""
    singles = [(i,) for i in range(len(context))]
    pairs = list(combinations(range(len(context)), 2))
    for group in (singles, pairs):
        ok = [g for g in group if _supports(claim, question, context, g, min_support)]
        if ok:
            return max(ok, key=score)
    return None
