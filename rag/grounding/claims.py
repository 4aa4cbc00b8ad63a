"""System-side grounding: pick the context sentences, then check the model's reply against them.

The model never cites. It answers from a few numbered sentences; this module then decides, for
each sentence of the reply, which context sentences support it (the new words it adds to the
question must appear there, and every number in it must appear there or be the sum or difference
of two numbers there, and every link or address in it must be there verbatim). A sentence
flagged as a planted instruction (rag/ingest/injection.py) supports nothing. Unsupported claims are
dropped; a reply with no supported claim, or a
reply that says the sources do not answer, becomes a decline.
Each check is one unit in checks.py; `Policy` says which of them reject a support and which
are only evidence for the calibrated confidence (confidence.py). Repairs (rebinding a count or
a date, pruning a list, dropping a day) are in `REPAIRS`, tried in order on an unsupported claim.
Does not: judge paraphrase beyond shared words (no entailment model), or resolve pronouns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rag.grounding import dates
from rag.grounding.checks import Policy, named_in, variant
from rag.grounding.counts import rebind
from rag.grounding.question import Question
from rag.text import content, first_sentence, split_sentences, words
from rag.types import Sentence

DECLINE_PATTERNS = re.compile(
    r"not found|not (?:mentioned|specified|provided|stated|given|available|known)|"
    r"(?:do|does|did) not (?:say|mention|state|specify|provide|contain|include|give)|"
    r"no (?:information|mention|data|answer)|cannot (?:be )?(?:determined|answer|find)|"
    r"unable to (?:answer|determine|find)|there is no",
    re.IGNORECASE,
)
DECLINE_TEXT = "The documents don't say."
NOT_SURE_TEXT = "I'm not sure enough to answer from the documents."
DEFAULT_POLICY = Policy()


def select_sentences(
    q: Question,
    candidates: list[Sentence],
    sentence_vecs: np.ndarray,
    query_vec: np.ndarray,
    limit: int,
) -> list[Sentence]:
    """The `limit` candidates most related to the question (cosine + share of question words,
    a word also shared by its longer forms), most related first: a small model reads the first
    sources most closely (measured on the seed set: more right answers than document order)."""
    q_words = q.words

    def shared(have: set[str]) -> int:  # "leads" is shared with "leader" (stems lead, leader)
        return sum(w in have or any(variant(w, h, 4) for h in have) for w in q_words)

    lexical = np.array([shared(content(s.text)) / max(1, len(q_words)) for s in candidates])
    scores = sentence_vecs @ query_vec + 0.5 * lexical
    return [candidates[i] for i in np.argsort(-scores, kind="stable")[:limit]]


@dataclass(frozen=True)
class Claim:
    text: str  # one sentence of the reply
    support: tuple[int, ...]  # indices into the context sentences
    evidence: tuple[tuple[str, bool], ...] = ()  # the checks that are not vetoes: (name, passed)
    repair: str = ""  # the repair that made the claim supported ("" for none)


def is_decline(reply: str) -> bool:
    return not reply.strip() or bool(DECLINE_PATTERNS.search(reply))


def opens_with_decline(reply: str) -> bool:
    """The reply's first sentence declines: it claims nothing (and nothing is read back)."""
    return is_decline(first_sentence(reply))


def ground(
    reply: str,
    q: Question,
    context: list[Sentence],
    min_support: float,
    policy: Policy = DEFAULT_POLICY,
) -> list[Claim]:
    """Supported claims of `reply`, each with the context sentences that support it:
    one sentence when one suffices, else the best pair (multi-hop, arithmetic)."""
    claims: list[Claim] = []
    for start, end in split_sentences(reply):
        claim = reply[start:end].strip()
        if not content(claim) or is_decline(claim):
            continue
        found = _supported_by(claim, q, context, min_support, policy)
        repair = ""
        for name, fix in REPAIRS.items():
            if found is None and (fixed := fix(claim, q, context)):
                claim, found = fixed, _supported_by(fixed, q, context, min_support, policy)
                repair = name
        if found:
            claims.append(Claim(claim, found[0], found[1], repair if found else ""))
    return claims


def rebind_date(claim: str, q: Question, context: list[Sentence]) -> str | None:
    return dates.rebind(claim, q, [s.text for s in context])


LIST_SEPARATOR = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+")


def prune_list(claim: str, q: Question, context: list[Sentence]) -> str | None:
    """A list of names ("Iran, Pakistan, Russia, and Turkey") keeps the items named by the one
    context sentence that names most of them; None when `claim` is no such list or that sentence
    names all or fewer than two."""
    items = [i for i in LIST_SEPARATOR.split(claim.rstrip(".")) if i]
    if len(items) < 3 or any(len(i.split()) > 4 or not re.match(r"[A-Z]", i) for i in items):
        return None
    best: list[str] = []
    for sent in context:
        pool = words(sent.text)
        kept = [i for i in items if named_in({w.lower() for w in re.findall(r"[A-Z]\w+", i)}, pool)]
        best = kept if len(kept) > len(best) else best
    if len(best) < 2 or len(best) == len(items):
        return None
    return f"{', '.join(best[:-1])} and {best[-1]}"


def _judge(
    claim: str,
    q: Question,
    context: list[Sentence],
    idx: tuple[int, ...],
    min_support: float,
    policy: Policy,
) -> tuple[tuple[str, bool], ...] | None:
    """None when a veto check rejects the sentences `idx` as support for `claim`, else the
    verdicts of the other active checks (evidence)."""
    sup = [context[i] for i in idx]
    evidence = []
    for name, check in policy.active():
        ok = check(claim, q, sup, min_support).ok
        if name in policy.veto:
            if not ok:
                return None
        else:
            evidence.append((name, ok))
    return tuple(evidence)


def _supported_by(
    claim: str, q: Question, context: list[Sentence], min_support: float, policy: Policy
) -> tuple[tuple[int, ...], tuple[tuple[str, bool], ...]] | None:
    """The best single sentence that supports `claim`, else the best pair, else None; best =
    passes most evidence checks, then shares most of the claim's new words and the question's."""
    new = content(claim) - q.words

    def rank(item: tuple[tuple[int, ...], tuple[tuple[str, bool], ...]]) -> tuple[int, int, int]:
        idx, evidence = item
        have = content(" ".join(context[i].text for i in idx))
        return (sum(ok for _, ok in evidence), len(new & have), len(q.words & have))

    singles = [(i,) for i in range(len(context))]
    pairs = list(combinations(range(len(context)), 2))
    for group in (singles, pairs):
        ok = [
            (g, ev)
            for g in group
            if (ev := _judge(claim, q, context, g, min_support, policy)) is not None
        ]
        if ok:
            return max(ok, key=rank)
    return None


# tried in order on a claim no support passes; the name is recorded on the claim
REPAIRS = {
    "rebind_count": rebind,
    "prune_list": prune_list,
    "drop_days": dates.drop_days,
    "rebind_date": rebind_date,
}
