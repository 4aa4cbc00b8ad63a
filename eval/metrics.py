"""Scoring functions for the evaluation harness: answers, retrieval, citations, abstention, latency.

Pure functions over plain data (strings, lists, dicts); standard library only, so they can be
tested and reused without loading a model or an index.

What this module does NOT do: run the pipeline, read question files, judge paraphrases (matching
is on normalized tokens, no model-as-judge), or aggregate per question type (callers group records
and use `mean_defined`). A metric that is undefined for one question returns None, and
`mean_defined` skips None.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# typographic single quotes, double quotes, dashes and no-break space -> ASCII
_QUOTES = str.maketrans("‘’‚‛′`´“”„‟″‐‑‒–—―−\u00a0", "'" * 7 + '"' * 5 + "-" * 7 + " ")
_ARTICLES = {"a", "an", "the"}
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
fifteen sixteen seventeen eighteen nineteen"
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_UNITS.split())} | {
    w: str(10 * i) for i, w in enumerate(_TENS.split(), 2)
}
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W_]+")  # numbers (with decimals) or runs of letters/digits


def fold(text: str) -> str:
    """Fold typographic quotes/dashes to ASCII and collapse whitespace; keeps case and punctuation.

    >>> fold("al-Qaeda’s  “amir” —\\n")
    'al-Qaeda\\'s "amir" -'
    """
    return " ".join(text.translate(_QUOTES).split())


def tokens(text: str) -> list[str]:
    """Normalized tokens of `text` (see `normalize`)."""
    text = unicodedata.normalize("NFKD", fold(text).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))  # türkiye -> turkiye
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 10,000 -> 10000
    text = re.sub(r"[$€£]\s*(\d+(?:\.\d+)?)\s*(?:mn|m)\b", r"\1 million", text)  # $10m
    text = re.sub(r"[$€£]\s*(\d+(?:\.\d+)?)\s*(?:bn|b)\b", r"\1 billion", text)
    text = re.sub(r"'s\b", "", text.replace("%", " percent "))  # possessive: taliban's -> taliban
    text = text.replace("'", "")  # sa'id -> said, al-'adl -> al-adl
    out = [_NUMBER_WORDS.get(t, t) for t in _TOKEN.findall(text)]
    return [t for t in out if t not in _ARTICLES]


def normalize(text: str) -> str:
    """SQuAD-style normalization: lowercase, drop punctuation and articles, collapse whitespace.

    Also folds curly quotes and accents, drops possessive 's and other apostrophes, splits
    hyphenated words, removes currency symbols and thousands separators, expands "$10m" to
    "10 million", and writes number words up to twenty (and the tens) as digits.

    >>> normalize("The $10 million bounty on Sayf al-’Adl’s head")
    '10 million bounty on sayf al adl head'
    >>> normalize("Three deaths, 1,200 injured")
    '3 deaths 1200 injured'
    """
    return " ".join(tokens(text))


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """True if `needle` occurs in `haystack` as a contiguous token run (and is non-empty)."""
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def answer_match(prediction: str, answers: Iterable[str]) -> bool:
    """True if any acceptable answer appears, as whole tokens, in the normalized prediction.

    >>> answer_match("It killed 144 people.", ["144"]), answer_match("1440", ["144"])
    (True, False)
    """
    pred = tokens(prediction)
    return any(_contains(pred, tokens(a)) for a in answers)


LONG_ANSWER = 12  # tokens: a reference this long is a passage, not a short answer
SUPPORTED_SHARE = 0.7


def reference_supports(prediction: str, answers: Iterable[str]) -> bool:
    """For long, passage-like references (ClapNQ): is most of the prediction (≥ 70% of its
    tokens) in one reference? A short right answer ("November 1989") passes where token F1
    against a whole paragraph would not.

    >>> reference_supports("November 1989", ["The Wall was opened in November 1989 and then ..."])
    True
    """
    pred = tokens(prediction)
    if not pred:
        return False
    for a in answers:
        ref = Counter(tokens(a))
        if sum((Counter(pred) & ref).values()) / len(pred) >= SUPPORTED_SHARE:
            return True
    return False


def is_long(answers: Iterable[str]) -> bool:
    return any(len(tokens(a)) > LONG_ANSWER for a in answers)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two strings. Both empty -> 1.0; exactly one empty -> 0.0.

    >>> token_f1("the Taliban leader", "Taliban supreme leader")  # p=2/2, r=2/3
    0.8
    """
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    return _f1(sum((Counter(pred) & Counter(ref)).values()), len(pred), len(ref))


def _f1(overlap: int, n_pred: int, n_ref: int) -> float:
    """Harmonic mean of precision overlap/n_pred and recall overlap/n_ref (0.0 if no overlap)."""
    return 2 * overlap / (n_pred + n_ref)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (not necessarily contiguous)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (LCS over normalized tokens). Empty-input convention as `token_f1`.

    >>> round(rouge_l("al qaeda leader is adl", "adl is al qaeda leader"), 3)  # lcs=3
    0.6
    """
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    return _f1(_lcs(pred, ref), len(pred), len(ref))


# --- retrieval: a chunk is relevant if it contains an evidence quote (folded, case-insensitive) ---


def first_relevant_rank(ranked_texts: Sequence[str], evidence: Iterable[str]) -> int | None:
    """1-based rank of the first text containing any evidence quote; None if none does.

    Quotes and texts are compared after `fold` and lowercasing, so whitespace, line breaks and
    curly-vs-straight quotes do not matter. A quote split across two chunks matches neither.
    """
    quotes = [fold(q).lower() for q in evidence if q.strip()]
    for rank, text in enumerate(ranked_texts, 1):
        folded = fold(text).lower()
        if any(q in folded for q in quotes):
            return rank
    return None


def hit_at_k(ranked_texts: Sequence[str], evidence: Iterable[str], k: int) -> bool:
    """True if one of the top `k` texts contains an evidence quote (False when evidence is empty:
    skip unanswerable questions rather than scoring them)."""
    return first_relevant_rank(ranked_texts[:k], evidence) is not None


def reciprocal_rank(ranked_texts: Sequence[str], evidence: Iterable[str]) -> float:
    """1 / rank of the first relevant text, 0.0 if none is relevant."""
    rank = first_relevant_rank(ranked_texts, evidence)
    return 0.0 if rank is None else 1.0 / rank


# --- citations ----------------------------------------------------------------------------------


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest contiguous token run shared by `a` and `b`."""
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def supports(cited: str, quote: str) -> bool:
    """Whether a cited passage supports an evidence quote.

    Rule, on normalized tokens: the longest contiguous run shared by the two covers at least half
    of the shorter one (and at least 3 tokens, unless the shorter is shorter than that). So a chunk
    containing the quote, a citation quoting part of the evidence sentence, and a chunk whose
    boundary cut the quote in half all count; scattered common words in an unrelated chunk do not.
    """
    a, b = tokens(cited), tokens(quote)
    shorter = min(len(a), len(b))
    if shorter == 0:
        return False
    run = _longest_common_run(a, b)
    return run >= max(0.5 * shorter, min(3, shorter))


def citation_precision(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of citations (quotes or chunk texts) that support some evidence quote.

    None when undefined: no citations, or no evidence to check them against (unanswerable).
    """
    if not cited or not evidence:
        return None
    good = sum(any(supports(c, q) for q in evidence) for c in cited)
    return good / len(cited)


def citation_recall(cited: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of evidence quotes supported by at least one citation.

    None when there is no evidence; 0.0 when evidence exists but nothing was cited.
    """
    if not evidence:
        return None
    found = sum(any(supports(c, q) for c in cited) for q in evidence)
    return found / len(evidence)


def mean_defined(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


# --- abstention ---------------------------------------------------------------------------------


def abstention_rates(records: Iterable[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """Decline behaviour from records like {"type": "unanswerable", "declined": True}.

    `decline_rate_unanswerable`: declined / unanswerable questions (higher is better).
    `false_decline_rate_answerable`: declined / answerable questions (lower is better).
    Answerable means any type except "unanswerable" and "false-premise"; false-premise questions
    are left out of both (declining and correcting the premise are both acceptable). A rate over
    an empty group is None.
    """
    groups: dict[str, list[bool]] = {"unanswerable": [], "answerable": []}
    for r in records:
        if r["type"] == "false-premise":
            continue
        key = "unanswerable" if r["type"] == "unanswerable" else "answerable"
        groups[key].append(bool(r["declined"]))
    un, ans = groups["unanswerable"], groups["answerable"]
    return {
        "decline_rate_unanswerable": sum(un) / len(un) if un else None,
        "false_decline_rate_answerable": sum(ans) / len(ans) if ans else None,
        "n_unanswerable": len(un),
        "n_answerable": len(ans),
    }


# --- latency ------------------------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0-100), linear interpolation between closest ranks (numpy's default).

    >>> percentile([1, 2, 3, 4], 50), percentile([], 50)
    (2.5, None)
    """
    xs = sorted(values)
    if not xs:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be within 0..100, got {p}")
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize_latency(timings: Sequence[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """p50/p95 of retrieval_s, ttft_s and total_s, and mean generation speed, over timing dicts.

    Keys may be missing or None (skipped). Tokens/s for one answer is
    completion_tokens / (total_s - ttft_s - check_s), counted only when that is positive.
    """
    out: dict[str, float | int | None] = {"n": len(timings)}
    for key in ("retrieval_s", "ttft_s", "total_s", "check_s"):
        vals = [float(t[key]) for t in timings if t.get(key) is not None]
        out[f"{key}_p50"] = percentile(vals, 50)
        out[f"{key}_p95"] = percentile(vals, 95)
    rates = []
    for t in timings:
        total, ttft, n = t.get("total_s"), t.get("ttft_s") or 0.0, t.get("completion_tokens")
        writing = None if total is None else total - ttft - (t.get("check_s") or 0.0)
        if writing is not None and n is not None and writing > 0:
            rates.append(n / writing)
    out["tokens_per_s_mean"] = mean_defined(rates)
    return out
