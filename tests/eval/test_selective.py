"""Hand-computed cases for eval.selective: risk-coverage, AURC, selective accuracy, ECE, groups."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest

from eval import selective
from eval.selective import (
    aurc,
    block,
    ece,
    group_metrics,
    groups,
    labels,
    optimal_aurc,
    reliability,
    risk_coverage,
    selective_accuracy,
)


def test_the_docstring_examples_hold():
    assert doctest.testmod(selective).failed == 0


def test_risk_coverage_and_aurc_by_hand():
    conf = np.array([0.6, 0.9, 0.7, 0.8])  # not sorted: the function ranks
    right = np.array([False, True, True, False])
    coverage, risk = risk_coverage(conf, right)
    assert coverage.tolist() == [0.25, 0.5, 0.75, 1.0]
    # ranked 0.9 right, 0.8 wrong, 0.7 right, 0.6 wrong
    assert risk.tolist() == pytest.approx([0, 1 / 2, 1 / 3, 2 / 4])
    assert aurc(conf, right) == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 2) / 4)
    assert optimal_aurc(right) == pytest.approx((0 + 0 + 1 / 3 + 2 / 4) / 4)


def test_a_perfect_ranking_reaches_the_optimum_and_the_reverse_is_worst():
    right = np.array([True, True, True, False, False])
    perfect = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert aurc(perfect, right) == pytest.approx(optimal_aurc(right))
    reverse = 1 - perfect
    worst = aurc(reverse, right)
    assert worst == pytest.approx((1 + 1 + 2 / 3 + 2 / 4 + 2 / 5) / 5)  # both wrong ones first
    every = [aurc(np.array(p) / 4, right) for p in itertools.permutations(range(5))]
    assert min(every) == pytest.approx(optimal_aurc(right)) and max(every) == pytest.approx(worst)


def test_all_right_and_all_wrong():
    assert aurc(np.array([0.3, 0.6]), np.array([True, True])) == 0.0
    assert aurc(np.array([0.3, 0.6]), np.array([False, False])) == 1.0
    assert optimal_aurc(np.array([False, False])) == 1.0
    assert aurc(np.zeros(0), np.zeros(0, dtype=bool)) is None
    assert selective_accuracy(np.zeros(0), np.zeros(0, dtype=bool), 0.5) is None


def test_ties_are_ranked_in_expectation_not_by_record_order():
    conf = np.array([0.5, 0.5, 0.5, 0.9])
    a = np.array([True, False, False, True])
    b = np.array([False, False, True, True])  # same labels inside the tie, other order
    assert aurc(conf, a) == pytest.approx(aurc(conf, b))
    # after the 0.9 (right): the tie holds 1 right of 3, so each step adds 2/3 of a wrong answer
    assert risk_coverage(conf, a)[1].tolist() == pytest.approx([0, 1 / 3, (4 / 3) / 3, 2 / 4])


def test_selective_accuracy_takes_the_ceiling_of_coverage_times_n():
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    right = np.array([True, True, False, True, False])
    assert selective_accuracy(conf, right, 0.5) == pytest.approx(2 / 3)  # ceil(2.5) = 3
    assert selective_accuracy(conf, right, 0.8) == pytest.approx(3 / 4)  # 4
    assert selective_accuracy(conf, right, 1.0) == pytest.approx(3 / 5)
    assert selective_accuracy(conf, right, 0.1) == 1.0  # at least one
    with pytest.raises(ValueError, match="coverage"):
        selective_accuracy(conf, right, 0)


def _rec(conf, right, declined=False, qtype="fact", correct=None, **extra):
    return {
        "type": qtype,
        "confidence": conf,
        "candidate_right": right,
        "declined": declined,
        "scores": {"correct": right if correct is None else correct},
        **extra,
    }


def test_coverage_is_over_all_questions_not_only_those_with_a_candidate():
    records = [
        _rec(0.9, True),
        _rec(0.8, True),
        _rec(None, False, declined=True),  # the model declined: no candidate
        _rec(None, False, declined=True),
    ]
    g = group_metrics(records)
    assert g["n"] == 4 and g["n_candidates"] == 2
    assert g["accuracy_at_50"] == 1.0
    assert g["accuracy_at_100"] == 0.5  # 1.0 if only the two candidates counted
    assert g["aurc"] == pytest.approx((0 + 0 + 1 / 3 + 2 / 4) / 4)  # 0.0 over candidates only
    assert g["aurc"] == pytest.approx(g["aurc_optimal"]) and g["e_aurc"] == pytest.approx(0)
    assert g["coverage"] == 0.5 and g["precision"] == 1.0 and g["answered"] == 2
    assert g["ece"] == pytest.approx((0.1 + 0.2) / 2)  # over the candidates: none is left out


def test_ece_by_hand_and_its_bins():
    conf = np.array([0.95, 0.95, 0.15, 0.15, 0.55])
    right = np.array([True, False, False, False, True])
    # bins: 0.9-1.0 acc 0.5 conf 0.95; 0.1-0.2 acc 0 conf 0.15; 0.5-0.6 acc 1 conf 0.55
    assert ece(conf, right) == pytest.approx((2 * 0.45 + 2 * 0.15 + 1 * 0.45) / 5)  # 0.33
    bins = reliability(conf, right)
    assert len(bins) == 10 and [b["n"] for b in bins] == [0, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    assert bins[9]["accuracy"] == 0.5 and bins[9]["confidence"] == pytest.approx(0.95)
    assert bins[0]["accuracy"] is None and bins[0]["confidence"] is None


def test_ece_is_zero_when_calibrated_and_bin_edges_are_closed_below():
    assert ece(np.full(4, 0.25), np.array([True, False, False, False])) == pytest.approx(0)
    edges = reliability(np.array([0.0, 0.1, 0.3, 0.7, 1.0]), np.ones(5, dtype=bool))
    assert [b["n"] for b in edges] == [1, 1, 0, 1, 0, 0, 0, 1, 0, 1]  # 1.0 in the last bin
    assert ece(np.zeros(0), np.zeros(0, dtype=bool)) is None


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_a_confidence_outside_0_1_is_an_error_naming_the_record(bad):
    with pytest.raises(ValueError, match="record q7: confidence .* is not within \\[0, 1\\]"):
        labels([_rec(0.5, True), _rec(bad, True, id="q7")])
    with pytest.raises(ValueError, match="within \\[0, 1\\]"):
        aurc(np.array([0.5, bad]), np.array([True, False]))


def test_groups_follow_types_answerability_and_corpora():
    seed = [
        _rec(0.9, True, qtype="fact"),
        _rec(0.8, True, qtype="false-premise"),
        _rec(0.2, False, qtype="unanswerable"),
    ]
    names = list(groups(seed))
    assert names == ["all", "answerable", "unanswerable", "type:fact", "type:false-premise"]
    assert len(groups(seed)["answerable"]) == 1  # false-premise is in neither group
    squad = [
        _rec(0.9, True, qtype="answerable", corpus="Normans"),
        _rec(0.3, False, qtype="unanswerable", corpus="Rhine"),
    ]
    assert list(groups(squad)) == [
        "all",
        "answerable",
        "unanswerable",
        "corpus:Normans",
        "corpus:Rhine",
    ]


def test_a_run_without_confidence_reports_only_the_operating_point():
    records = [
        {"type": "fact", "declined": False, "scores": {"correct": True}},
        {"type": "fact", "declined": False, "scores": {"correct": False}},
        {"type": "unanswerable", "declined": True, "scores": {"correct": True}},
    ]
    b = block(records)
    assert b["confidence"] is False and b["note"] == selective.NO_CONFIDENCE
    assert b["groups"]["all"] == {"n": 3, "answered": 2, "coverage": 2 / 3, "precision": 0.5}
    assert "aurc" not in b["groups"]["all"]


def test_records_without_the_field_in_a_run_with_it_are_left_out_and_counted():
    records = [_rec(0.9, True), _rec(0.1, False), {"type": "fact", "declined": False}]
    b = block(records)
    assert b["confidence"] is True and b["n_without_confidence"] == 1
    assert b["groups"]["all"]["n"] == 2 and b["groups"]["all"]["aurc"] == pytest.approx(0.25)
    assert b["groups"]["all"]["curve"] == {"coverage": [0.5, 1.0], "risk": [0.0, 0.5]}
    assert "curve" not in b["groups"]["type:fact"]
