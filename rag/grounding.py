"""System-side grounding: pick the context sentences, then check the model's reply against them.

The model never cites. It answers from a few numbered sentences; this module then decides, for
each sentence of the reply, which context sentences support it (the new words it adds to the
question must appear there, and every number in it must appear there or be the sum or difference
of two numbers there). Unsupported claims are dropped; a reply with no supported claim, or a
reply that says the sources do not answer, becomes a decline.
Does not: judge paraphrase beyond shared words (no entailment model), or resolve pronouns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import Stemmer

from rag.chunking import split_sentences
from rag.types import Sentence

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "over",
        "after",
        "before",
        "between",
        "and",
        "or",
        "but",
        "not",
        "no",
        "nor",
        "so",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "it's",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "him",
        "we",
        "us",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "very",
        "just",
        "also",
        "one",
        "ones",
        "s",
        "t",
        "according",
        "source",
        "sources",
        "answer",
        "question",
        "text",
        "passage",
        # name particles ("al-Qaeda", "van Gogh") carry no meaning of their own
        "al",
        "el",
        "de",
        "la",
        "van",
        "von",
        "der",
    ]
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
DECLINE_PATTERNS = re.compile(
    r"not found|not (?:mentioned|specified|provided|stated|given|available|known)|"
    r"(?:do|does|did) not (?:say|mention|state|specify|provide|contain|include|give)|"
    r"no (?:information|mention|data|answer)|cannot (?:be )?(?:determined|answer|find)|"
    r"unable to (?:answer|determine|find)|there is no",
    re.IGNORECASE,
)
DECLINE_TEXT = "The documents don't say."
YES_NO = frozenset({"yes", "no"})
# questions that ask for a number computed from two stated ones
ARITHMETIC_CUES = re.compile(
    r"\b(?:total|combined|together|sum|difference|how many more|how much more|how many fewer|"
    r"how many years|how long|between|altogether|in all)\b",
    re.IGNORECASE,
)
MIN_QUESTION_OVERLAP = 1 / 3  # share of the question's words the support must contain


def words(text: str) -> list[str]:
    """Lower-case word and number tokens; number words become digits, 1,000 becomes 1000."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    tokens = re.findall(r"\d+(?:\.\d+)?|[a-z]+", re.sub(r"'s\b", "", text))
    return [NUMBER_WORDS.get(t, t) for t in tokens]


_stem = Stemmer.Stemmer("english").stemWord


def content(text: str) -> set[str]:
    """Stemmed content words ("stoned", "stoning" -> "stone")."""
    return {_stem(w) for w in words(text) if w not in STOPWORDS}


def numbers(text: str) -> set[str]:
    return {w for w in words(text) if w[0].isdigit()}


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
    """The `limit` candidates most related to the question (cosine + share of question words),
    most related first: a small model reads the first sources most closely (measured on the
    seed set: more right answers than document order)."""
    q_words = content(question)
    lexical = np.array([len(q_words & content(s.text)) / max(1, len(q_words)) for s in candidates])
    scores = sentence_vecs @ query_vec + 0.5 * lexical
    return [candidates[i] for i in np.argsort(-scores, kind="stable")[:limit]]


@dataclass(frozen=True)
class Claim:
    text: str  # one sentence of the reply
    support: tuple[int, ...]  # indices into the context sentences


def is_decline(reply: str) -> bool:
    return not reply.strip() or bool(DECLINE_PATTERNS.search(reply))


def _supports(
    claim: str, question: str, sents: list[Sentence], idx: tuple[int, ...], min_support: float
) -> bool:
    """Do the sentences `idx` together state `claim` as an answer to `question`?"""
    text = " ".join(sents[i].text for i in idx)
    have, q_words = content(text), content(question)
    if q_words and len(q_words & have) / len(q_words) < MIN_QUESTION_OVERLAP:
        return False  # the support is about something else than what was asked
    nums = numbers(claim) - numbers(question)
    derived = {n for n in nums if n not in have}
    arithmetic = bool(ARITHMETIC_CUES.search(question))
    if any(not (arithmetic and _arithmetic(n, numbers(text))) for n in derived):
        return False
    have = have | derived
    new = content(claim) - q_words
    if not new - YES_NO:  # restates the question: only a yes/no adds anything
        return bool(new & YES_NO)
    new -= YES_NO
    if len(idx) > 1 and not _linked(claim, question, [sents[i].text for i in idx], derived):
        return False
    return len(new & have) / len(new) >= min_support


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

        singles = [(i,) for i in range(len(context))]
        pairs = list(combinations(range(len(context)), 2))
        for group in (singles, pairs):
            ok = [g for g in group if _supports(claim, question, context, g, min_support)]
            if ok:
                claims.append(Claim(claim, max(ok, key=score)))
                break
    return claims
