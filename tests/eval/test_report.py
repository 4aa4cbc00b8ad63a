"""The selective-prediction sections of report.json / .md / .html, written from a records file
(tests/eval/handmade.py: no model is run), and the same report for a run made before records
carried a confidence."""

from __future__ import annotations

import json

import pytest

from eval import report as reports
from tests.eval.handmade import AURC, AUROC, ECE, OPTIMAL, images, write_run


def test_a_run_with_confidence_reports_risk_coverage_and_calibration(tmp_path):
    write_run(tmp_path / "run", confidence=True)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    sel = report["selective"]
    assert sel["confidence"] is True and sel["n_without_confidence"] == 0
    assert list(sel["groups"]) == [
        "all",
        "answerable",
        "unanswerable",
        "type:fact",
        "type:number",
    ]  # no "type:unanswerable": the same records as "unanswerable"
    g = sel["groups"]["all"]
    assert g["aurc"] == pytest.approx(AURC) and g["aurc_optimal"] == pytest.approx(OPTIMAL)
    assert g["accuracy_at_50"] == pytest.approx(1 / 3)  # top 3: 0.9 right, 0.7 and 0.6 wrong
    assert g["accuracy_at_80"] == pytest.approx(2 / 5) and g["accuracy_at_100"] == pytest.approx(
        2 / 6
    )
    assert g["ece"] == pytest.approx(ECE) and g["n_candidates"] == 5
    assert g["auroc"] == pytest.approx(AUROC)
    assert (g["answered"], g["coverage"], g["precision"]) == (3, 0.5, pytest.approx(1 / 3))
    assert len(g["curve"]["risk"]) == 6
    un = sel["groups"]["unanswerable"]
    assert un["accuracy_at_100"] == 0.0 and un["ece"] == pytest.approx((0.6 + 0.2) / 2)
    assert sel["groups"]["answerable"]["aurc"] == pytest.approx((0 + 1 / 2 + 1 / 3 + 2 / 4) / 4)

    md = (tmp_path / "run" / "report.md").read_text()
    assert "## Selective prediction" in md and "### Reliability" in md
    assert "| group | n | with candidate | AURC | optimal | E-AURC | acc@50% |" in md
    assert f"| all | 6 | 5 | {AURC:.3f} | {OPTIMAL:.3f} | {AURC - OPTIMAL:.3f} | 33.3% |" in md
    assert f"| {ECE:.3f} | {AUROC:.3f} | 50.0% | 33.3% |" in md  # ECE, AUROC, answered, precision
    assert "| 0.9–1.0 | 1 | 0.900 | 1.000 |" in md

    page = (tmp_path / "run" / "report.html").read_text()
    found = images(page)
    assert {"Risk against coverage", "Reliability diagram"} <= set(found)
    assert len(found) == 5  # and the three plots every report has
    assert all(png.startswith(b"\x89PNG") for png in found.values())
    assert "<h2>Selective prediction</h2>" in page and f"<td>{AURC:.3f}</td>" in page


def test_the_summary_lines_the_cli_prints_carry_the_headline_numbers(tmp_path):
    rows = dict(reports.summary_rows(write_run(tmp_path / "run", confidence=True)))
    assert rows["AURC / optimal (lower is better)"] == f"{AURC:.3f} / {OPTIMAL:.3f}"
    assert rows["selective accuracy at 50 / 80 / 100% coverage"] == "33.3% / 40.0% / 33.3%"
    assert rows["expected calibration error (10 bins)"] == f"{ECE:.3f}"
    assert rows["answered at the operating point: coverage / precision"] == "50.0% / 33.3%"


def test_a_run_made_before_confidence_still_reports(tmp_path):
    report = write_run(tmp_path / "old", confidence=False)
    sel = json.loads((tmp_path / "old" / "report.json").read_text())["selective"]
    assert sel["confidence"] is False and sel["note"] == "no confidence in this run"
    assert sel["groups"]["all"] == {"n": 6, "answered": 3, "coverage": 0.5, "precision": 1 / 3}
    md = (tmp_path / "old" / "report.md").read_text()
    assert "No confidence in this run" in md and "| all | 6 | – | – |" in md
    assert "### Reliability" not in md
    page = (tmp_path / "old" / "report.html").read_text()
    assert len(images(page)) == 3 and "Reliability diagram" not in page
    assert "No confidence in this run" in page
    rows = dict(reports.summary_rows(report))
    assert rows["selective prediction"] == "no confidence in this run"
    # a report.json written before the block existed is reported from its records
    del report["selective"]
    assert "No confidence in this run" in reports.markdown(report)
