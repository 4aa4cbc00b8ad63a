"""`rag eval --compare A B`: selective-prediction deltas (AURC, ECE, selective accuracy, the
operating point) per group, also against a run made before records carried a confidence."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from eval.compare import compare, format_compare, load_report
from tests.eval.handmade import AURC, ECE, OPTIMAL, write_run

# a3 (right, declined by the operating point) ranked first: the ranking becomes perfect
BETTER = {"a3": 0.95}
BETTER_ECE = (0.05 + 0.1 + 0.7 + 0.6 + 0.2) / 5


@pytest.fixture
def runs(tmp_path):
    write_run(tmp_path / "old", confidence=False)
    write_run(tmp_path / "a", confidence=True)
    write_run(tmp_path / "b", confidence=True, changed=BETTER)
    return tmp_path


def _rows(result: dict, group: str) -> dict:
    return {key: (va, vb, d) for key, va, vb, d in result["selective"]["groups"][group]}


def test_compare_gives_selective_deltas_per_group(runs):
    result = compare(load_report(runs / "a"), load_report(runs / "b"))
    assert result["selective"]["confidence"] == (True, True)
    rows = _rows(result, "all")
    assert rows["aurc"] == pytest.approx((AURC, OPTIMAL, OPTIMAL - AURC))
    assert rows["e_aurc"][1] == pytest.approx(0)
    assert rows["ece"] == pytest.approx((ECE, BETTER_ECE, BETTER_ECE - ECE))
    assert rows["accuracy_at_50"] == pytest.approx((1 / 3, 2 / 3, 1 / 3))
    assert rows["accuracy_at_80"] == pytest.approx((2 / 5, 2 / 5, 0))
    assert rows["accuracy_at_100"] == pytest.approx((1 / 3, 1 / 3, 0))
    assert rows["coverage"] == (0.5, 0.5, 0.0)  # same decisions: only the ranking moved
    assert set(result["selective"]["groups"]) == {
        "all",
        "answerable",
        "unanswerable",
        "type:fact",
        "type:number",
    }
    assert _rows(result, "unanswerable")["aurc"][2] == 0  # a3 is answerable
    text = format_compare(result, "A", "B")
    assert "selective prediction (all questions)" in text
    assert f"{OPTIMAL - AURC:+.4g}" in text and f"{BETTER_ECE - ECE:+.4g}" in text
    assert "selective prediction by group, B-A" in text and "type:number" in text


def test_compare_against_a_run_without_confidence_keeps_the_operating_point(runs):
    result = compare(load_report(runs / "old"), load_report(runs / "a"))
    assert result["selective"]["confidence"] == (False, True)
    rows = _rows(result, "all")
    assert rows["aurc"] == (None, pytest.approx(AURC), None)
    assert rows["precision"] == (pytest.approx(1 / 3), pytest.approx(1 / 3), 0)
    assert "A: no confidence in this run" in format_compare(result, "A", "B")


def test_the_command_line_prints_the_deltas(runs):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "eval", "--compare", str(runs / "a"), str(runs / "b")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "selective prediction (all questions)" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.split()[:1] == ["aurc"])
    assert line.split()[-1] == f"{OPTIMAL - AURC:+.4g}"
