"""Compare two evaluation reports: per-metric deltas, selective-prediction deltas per group
(AURC, ECE, selective accuracy, the operating point) and the questions whose correctness flipped.

rag eval --compare eval/runs/before eval/runs/after     # folders or report.json files
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval import selective
from rag.errors import ConfigError

SELECTIVE_KEYS = (  # compared per group of the `selective` block
    "aurc",
    "e_aurc",
    "ece",
    *(f"accuracy_at_{c}" for c in selective.COVERAGES),
    "coverage",
    "precision",
)


def load_report(path: Path) -> dict[str, Any]:
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"{file}: no such report; give a report.json or the run folder")
    try:
        report: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file}: not a JSON report ({exc.msg})") from None
    if "summary" not in report or "records" not in report:
        raise ConfigError(f"{file}: not an evaluation report (no summary/records)")
    return report


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves as {"retrieval.hit_at_k": 0.9, ...} (booleans and None skipped)."""
    out: dict[str, float] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, name + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def compare_selective(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """{"confidence": (a has it, b has it), "groups": {group: [(metric, a, b, b - a)]}} over the
    groups both reports have; a metric missing from one side (no confidence) has delta None."""
    sa, sb = selective.of_report(a), selective.of_report(b)
    groups: dict[str, list[tuple[str, float | None, float | None, float | None]]] = {}
    for name, ga in sa["groups"].items():
        gb = sb["groups"].get(name)
        if gb is None:
            continue
        rows = []
        for key in SELECTIVE_KEYS:
            va, vb = ga.get(key), gb.get(key)
            rows.append((key, va, vb, None if va is None or vb is None else vb - va))
        groups[name] = rows
    return {"confidence": (sa["confidence"], sb["confidence"]), "groups": groups}


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """{"metrics": [(name, a, b, b - a)], "selective": see `compare_selective`,
    "flipped": [{id, question, type, a, b}], "common": n}."""
    fa, fb = flatten(a["summary"]), flatten(b["summary"])
    rows = []
    for name in [*fa, *(n for n in fb if n not in fa)]:
        va, vb = fa.get(name), fb.get(name)
        rows.append((name, va, vb, None if va is None or vb is None else vb - va))
    ra = {r["id"]: r for r in a["records"]}
    flipped, common = [], 0
    for r in b["records"]:
        old = ra.get(r["id"])
        if old is None:
            continue
        common += 1
        was, now = bool(old["scores"]["correct"]), bool(r["scores"]["correct"])
        if was != now:
            flipped.append(
                {
                    "id": r["id"],
                    "type": r["type"],
                    "question": r["question"],
                    "a": old["answer"],
                    "b": r["answer"],
                    "now_correct": now,
                }
            )
    return {
        "metrics": rows,
        "selective": compare_selective(a, b),
        "flipped": flipped,
        "common": common,
    }


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.4g}"


def format_compare(result: dict[str, Any], a_name: str, b_name: str) -> str:
    lines = [f"A = {a_name}", f"B = {b_name}", ""]
    width = max((len(r[0]) for r in result["metrics"]), default=10)
    lines.append(f"{'metric':<{width}}  {'A':>9}  {'B':>9}  {'B-A':>9}")
    for name, va, vb, delta in result["metrics"]:
        d = "–" if delta is None else f"{delta:+.4g}"
        lines.append(f"{name:<{width}}  {_num(va):>9}  {_num(vb):>9}  {d:>9}")
    if "selective" in result:
        lines += ["", *format_selective(result["selective"])]
    gained = [f for f in result["flipped"] if f["now_correct"]]
    lost = [f for f in result["flipped"] if not f["now_correct"]]
    lines += [
        "",
        f"{result['common']} questions in both; {len(gained)} now correct, {len(lost)} now wrong",
    ]
    for label, group in (("now correct", gained), ("now wrong", lost)):
        for f in group:
            lines.append(f"  {label}: {f['id']} [{f['type']}] {f['question']}")
            lines.append(f"      A: {f['a']}")
            lines.append(f"      B: {f['b']}")
    return "\n".join(lines)


def format_selective(sel: dict[str, Any]) -> list[str]:
    """All questions: A, B and B-A of each metric; every other group: B-A only, one line each."""
    lines = ["selective prediction (all questions)"]
    for side, has in zip("AB", sel["confidence"], strict=True):
        if not has:
            lines.append(f"  {side}: {selective.NO_CONFIDENCE} (only the operating point)")
    groups = dict(sel["groups"])
    for key, va, vb, delta in groups.pop("all", []):
        d = "–" if delta is None else f"{delta:+.4g}"
        lines.append(f"  {key:<16}  {_num(va):>9}  {_num(vb):>9}  {d:>9}")
    if groups:
        width = max(len(name) for name in groups)
        lines += ["", "selective prediction by group, B-A"]
        widths = [max(len(k), 8) for k in SELECTIVE_KEYS]
        head = "".join(f"  {k:>{w}}" for k, w in zip(SELECTIVE_KEYS, widths, strict=True))
        lines.append(f"  {'group':<{width}}{head}")
        for name, rows in groups.items():
            deltas = ["–" if d is None else f"{d:+.4g}" for _, _, _, d in rows]
            cells = "".join(f"  {d:>{w}}" for d, w in zip(deltas, widths, strict=True))
            lines.append(f"  {name:<{width}}{cells}")
    return lines
