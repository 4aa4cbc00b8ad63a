"""Selective prediction: how well the answers' confidence ranks them (risk against coverage, AURC)
and how honest it is as a probability (reliability bins, expected calibration error).

Each eval record carries `confidence` (the calibrated P(right) of the candidate answer, None when
there was no candidate), `candidate_right` (False without a candidate and for every unanswerable
question) and the final `declined`. A question without a candidate ranks last, as confidence 0
and wrong; coverage is the share of *all* questions answered, risk the share wrong among them.

    >>> conf, right = np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, True, False])
    >>> risk_coverage(conf, right)[1].round(3).tolist()  # answering the k = 1..4 most confident
    [0.0, 0.5, 0.333, 0.5]
    >>> round(aurc(conf, right), 4), round(optimal_aurc(right), 4)
    (0.3333, 0.2083)

What this module does NOT do: fit or apply a calibrator, choose the operating point (the run's
`declined` is taken as it is), or draw (eval/report.py plots). Pure functions, numpy only; a
metric over no questions is None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

COVERAGES = (50, 80, 100)  # percent; `accuracy_at_<c>` in every group
N_BINS = 10
NO_CONFIDENCE = "no confidence in this run"
Record = Mapping[str, Any]


def labels(records: Iterable[Record]) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, right) arrays, (n,) float and (n,) bool; no candidate -> (0.0, False)."""
    conf, right = [], []
    for r in records:
        c = r.get("confidence")
        if c is not None and not 0 <= float(c) <= 1:  # NaN too
            raise ValueError(f"record {r.get('id', '?')}: confidence {c} is not within [0, 1]")
        conf.append(0.0 if c is None else float(c))
        right.append(c is not None and bool(r.get("candidate_right")))
    return np.array(conf, dtype=float), np.array(right, dtype=bool)


def _checked(conf: np.ndarray) -> np.ndarray:
    bad = conf[~((conf >= 0) & (conf <= 1))]  # NaN fails both comparisons
    if bad.size:
        raise ValueError(f"confidence must be within [0, 1], got {float(bad[0])}")
    return conf


def risk_coverage(conf: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coverage, risk), each (n,): answering the k = 1..n most confident questions, coverage is
    k/n and risk the share of them that is wrong. Tied confidences are ranked in expectation (as
    if shuffled), so the curve does not depend on the records' order.

    >>> risk_coverage(np.array([0.5, 0.5]), np.array([True, False]))[1].tolist()
    [0.5, 0.5]
    """
    conf, right = _checked(np.asarray(conf, dtype=float)), np.asarray(right, dtype=bool)
    n = len(conf)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(-conf, kind="stable")
    c, wrong = conf[order], (~right[order]).astype(float)
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])  # first index of each tie block
    sizes = np.diff(np.r_[starts, n])
    block_wrong = np.add.reduceat(wrong, starts)
    before = np.cumsum(block_wrong) - block_wrong  # wrong answers ranked above each block
    block = np.repeat(np.arange(len(starts)), sizes)
    j = np.arange(n) - starts[block] + 1  # 1-based place inside its block
    expected_wrong = before[block] + j * block_wrong[block] / sizes[block]
    k = np.arange(1, n + 1)
    return k / n, expected_wrong / k


def aurc(conf: np.ndarray, right: np.ndarray) -> float | None:
    """Area under the risk-coverage curve: the mean risk over k = 1..n (lower is better)."""
    _, risk = risk_coverage(conf, right)
    return float(risk.mean()) if risk.size else None


def optimal_aurc(right: np.ndarray) -> float | None:
    """The AURC of a perfect ranking (every right answer above every wrong one) of the same
    labels: the floor any confidence can reach given how many answers are right."""
    right = np.asarray(right, dtype=bool)
    return aurc(right.astype(float), right)


def selective_accuracy(conf: np.ndarray, right: np.ndarray, coverage: float) -> float | None:
    """Share right among the ceil(coverage * n) most confident questions (at least one).

    >>> selective_accuracy(np.array([0.9, 0.2, 0.1]), np.array([True, False, True]), 0.5)
    0.5
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be within (0, 1], got {coverage}")
    _, risk = risk_coverage(conf, right)
    if not risk.size:
        return None
    k = min(max(math.ceil(coverage * risk.size - 1e-9), 1), risk.size)
    return float(1 - risk[k - 1])


def reliability(
    conf: np.ndarray, right: np.ndarray, n_bins: int = N_BINS
) -> list[dict[str, float | int | None]]:
    """Equal-width bins over [0, 1] (the last one closed): [{lo, hi, n, confidence, accuracy}],
    confidence and accuracy the bin's means (None for an empty bin)."""
    conf, right = _checked(np.asarray(conf, dtype=float)), np.asarray(right, dtype=bool)
    index = np.minimum(np.floor(conf * n_bins), n_bins - 1).astype(int)
    out: list[dict[str, float | int | None]] = []
    for b in range(n_bins):
        inside = index == b
        n = int(inside.sum())
        out.append(
            {
                "lo": b / n_bins,
                "hi": (b + 1) / n_bins,
                "n": n,
                "confidence": float(conf[inside].mean()) if n else None,
                "accuracy": float(right[inside].mean()) if n else None,
            }
        )
    return out


def auroc(conf: np.ndarray, right: np.ndarray) -> float | None:
    """How well the confidence tells right answers from wrong ones: the chance that a right
    answer's confidence is above a wrong one's (ties count half); None without both kinds.

    >>> auroc(np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, True, False]))
    0.75
    """
    pos, neg = _checked(conf)[right], conf[~right]
    if not pos.size or not neg.size:
        return None
    above = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    return float(above)


def ece(conf: np.ndarray, right: np.ndarray, n_bins: int = N_BINS) -> float | None:
    """Expected calibration error: sum over bins of n_b / n * |accuracy_b - confidence_b|.

    >>> round(ece(np.array([0.95, 0.95, 0.15, 0.15]), np.array([True, True, False, True])), 3)
    0.2
    """
    bins = reliability(conf, right, n_bins)
    total = sum(int(b["n"] or 0) for b in bins)
    if not total:
        return None
    gaps = (
        int(b["n"] or 0) * abs(float(b["accuracy"] or 0) - float(b["confidence"] or 0))
        for b in bins
        if b["n"]
    )
    return sum(gaps) / total


def operating_point(records: Sequence[Record]) -> dict[str, float | int | None]:
    """The run's own decision: answered = not declined; coverage = answered / all questions;
    precision = share of the answers scored correct (`scores.correct`)."""
    answered = [r for r in records if not r["declined"]]
    good = sum(bool(r["scores"]["correct"]) for r in answered)
    return {
        "answered": len(answered),
        "coverage": len(answered) / len(records) if records else None,
        "precision": good / len(answered) if answered else None,
    }


def group_metrics(records: Sequence[Record], curve: bool = False) -> dict[str, Any]:
    """Every selective-prediction number for one group of records that carry `confidence`."""
    conf, right = labels(records)
    candidates = np.array([r.get("confidence") is not None for r in records], dtype=bool)
    cc, cr = conf[candidates], right[candidates]  # over answers with a candidate only
    best, area = optimal_aurc(right), aurc(conf, right)
    out: dict[str, Any] = {
        "n": len(records),
        "n_candidates": int(sum(candidates)),
        "aurc": area,
        "aurc_optimal": best,
        "e_aurc": None if area is None or best is None else area - best,
        **{f"accuracy_at_{c}": selective_accuracy(conf, right, c / 100) for c in COVERAGES},
        "ece": ece(cc, cr),
        "auroc": auroc(cc, cr),
        "mean_confidence": float(cc.mean()) if cc.size else None,
        "candidate_accuracy": float(cr.mean()) if cr.size else None,
        **operating_point(records),
        "reliability": reliability(cc, cr),
    }
    if curve:
        coverage, risk = risk_coverage(conf, right)
        out["curve"] = {
            "coverage": [round(float(x), 4) for x in coverage],
            "risk": [round(float(x), 4) for x in risk],
        }
    return out


def groups(records: Sequence[Record]) -> dict[str, list[Record]]:
    """{name: records}: "all", "answerable" (not unanswerable, not false-premise, as in
    `metrics.abstention_rates`), "unanswerable", "type:<t>" for the other types, and
    "corpus:<c>" when the set has more than one corpus (SQuAD articles). Empty groups left out."""
    out: dict[str, list[Record]] = {
        "all": list(records),
        "answerable": [r for r in records if r["type"] not in ("unanswerable", "false-premise")],
        "unanswerable": [r for r in records if r["type"] == "unanswerable"],
    }
    for t in sorted({r["type"] for r in records} - {"answerable", "unanswerable"}):
        out[f"type:{t}"] = [r for r in records if r["type"] == t]
    corpora = sorted({r["corpus"] for r in records if r.get("corpus")})
    if len(corpora) > 1:
        for c in corpora:
            out[f"corpus:{c}"] = [r for r in records if r.get("corpus") == c]
    return {name: rs for name, rs in out.items() if rs}


def of_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """A report's `selective` block, computed from its records for reports made before it."""
    return dict(report.get("selective") or block(report["records"]))


def block(records: Sequence[Record]) -> dict[str, Any]:
    """The report's `selective` block: per group, every number above, or only the operating point
    when the records carry no confidence (runs made before it existed). Records without the
    field in a run where others have it are left out and counted (`n_without_confidence`)."""
    scored = [r for r in records if "confidence" in r]
    if not scored:
        return {
            "confidence": False,
            "note": NO_CONFIDENCE,
            "groups": {
                name: {"n": len(rs), **operating_point(rs)} for name, rs in groups(records).items()
            },
        }
    return {
        "confidence": True,
        "n_without_confidence": len(records) - len(scored),
        "coverages": list(COVERAGES),
        "bins": N_BINS,
        "groups": {
            name: group_metrics(rs, curve=name == "all") for name, rs in groups(scored).items()
        },
    }
