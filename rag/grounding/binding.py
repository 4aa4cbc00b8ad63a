"""Which of several values in one sentence the question's words are read with.

A sentence often holds several counts or dates ("killed 170 Afghans and 13 US service members");
a small model picks the wrong one. Counts (counts.py) and dates (dates.py) both score each value
here, by the question's words on either side of it: a word `d` steps away adds weight/d, up to
`window` steps on each side. What a step is, and how far a side reaches, the caller says: a
count steps over every word up to a punctuation mark (4 steps), a date over content words up to
the next date (6 steps; dates stand further from their event: "the January 3, 2024, attack").
Does not: parse syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice

Weigh = Callable[[str, int], float]  # (word, side: -1 before the value, +1 after) -> weight


def read_with(before: Iterable[str], after: Iterable[str], window: int, weigh: Weigh) -> float:
    """How strongly a value is read with the words around it; `before` and `after` run
    outward from the value (nearest first).

    >>> read_with(["killed"], ["service", "members"], 4, lambda w, side: w != "killed")
    1.5"""
    score = 0.0
    for side, seq in ((-1, before), (1, after)):
        for d, word in enumerate(islice(seq, window), 1):
            score += weigh(word, side) / d
    return score


def unique_best(scores: dict[str, float] | list[float]) -> bool:
    """Exactly one value has the top score (otherwise none is the one the question asks for)."""
    values = list(scores.values()) if isinstance(scores, dict) else scores
    return bool(values) and values.count(max(values)) == 1
