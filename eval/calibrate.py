"""Fit a model's calibrated confidence (rag/calibrations/<model>.json) on the fit halves.

    python -m eval.calibrate model qwen0.5b     # `make calibrate MODEL=qwen0.5b`: all of it
    python -m eval.calibrate record qwen0.5b    # ask the labelled sets with it, pack the replies
    python -m eval.calibrate search --model M   # which checks stay vetoes, then fit
    python -m eval.calibrate bands --model M    # the bands' precision on the report halves
    python -m eval.calibrate report --model M   # the report halves, replayed, scored

`model` records the sets with the model when its packs are missing (eval/record.py; about 25
minutes for the 0.5B model on 2 cores), then searches, fits, measures the bands and reports; the
default model's packs are versioned, so its `make calibrate` needs no model. `fit` replays the
fit halves through today's grounding (rag/grounding/verified.py), takes the first claim's features
(rag/grounding/confidence.py), and fits a logistic regression (scikit-learn; C by grouped 5-fold
cross-validation on log loss) to P(the answer is right); then it picks the operating points on
the fit halves only, from the out-of-fold probabilities of that cross-validation (in-sample
ones are too sure): `balanced` maximises the mean over sets of the share handled right (a right
answer, or a decline of an unanswerable question), `strict` is the lowest point whose pooled
precision of answers is at least 0.90, `lenient` the highest point (at most `balanced`) that
declines at most 2 points more answerable questions than answering every candidate.
The bands (high / medium / low) are cut on the fit halves too (`cut_bands`: where the answers
above were right 80% of the time, then where those below "high" were right half the time);
`bands` measures each band's precision on the report halves and writes it into the calibration,
for every interface to show.
Does not: touch the report halves when fitting; `report` and `bands` only score them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval import selective
from eval.harness import Record
from eval.packs import DEFAULT_MODEL, identity, load_pack, pack, packs
from eval.reground import replay
from rag.config import ROOT
from rag.grounding.checks import ALWAYS_VETO, CHECKS, Policy
from rag.grounding.confidence import CALIBRATIONS, Calibrator

__all__ = ["fit", "load_pack", "pack", "packs", "report"]

# the signals a calibration may weigh (names or prefixes of rag/grounding/confidence.py's
# features): the model's reading of its answer, its decline probability, its token
# probabilities, where and how well the support holds the answer; the evidence checks always.
# `choose_signals` keeps, per model, those whose removal raises the out-of-fold log loss on the
# fit halves. Measured (docs/calibration.md): all 40 features fitted the fit halves best and
# ranked the report halves worst (the question-kind indicators learnt the sets), so those are
# not candidates.
SIGNALS = {
    "reading": ["logit_yes"],
    "decline": ["logit_p_decline", "p_missing"],
    "tokens": ["logprob_", "unsure_share"],
    "support": ["question_share", "new_share", "support_", "hit_rank_inverse", "distance"],
}
FEATURES = [*(f for fs in SIGNALS.values() for f in fs), "check_"]
GRID = [round(x, 2) for x in np.arange(0.0, 1.0001, 0.01)]
MIN_SUPPORT = 0.5
BANDS = (("high", 0.8), ("medium", 0.5))  # a band starts where answers above were right this often


def out_path(model: str = DEFAULT_MODEL) -> Path:
    """Where the model's calibration is written: rag/calibrations/<model>.json."""
    return ROOT / "rag" / CALIBRATIONS / f"{model}.json"


def examples(
    recs: list[Record], policy: Policy
) -> tuple[list[Record], list[tuple[int, dict[str, float], bool, str]]]:
    """The records replayed without a calibrator (every first claim passes), and (index,
    features, label, group) of each whose reply has a grounded first claim."""
    replayed, out = [], []
    for i, rec in enumerate(recs):
        seen: list[dict[str, float]] = []
        new = replay(rec, MIN_SUPPORT, policy, None, 0.0, seen)
        replayed.append(new)
        if seen:
            out.append(
                (i, seen[0], bool(new["candidate_right"]), str(rec.get("group") or rec["id"]))
            )
    return replayed, out


def outcomes(recs: list[Record], conf: list[float | None], t: float) -> dict[str, float]:
    """Answerable right / false declines / unanswerable declined / precision at threshold t."""
    ans = [i for i, r in enumerate(recs) if r["type"] != "unanswerable"]
    un = [i for i, r in enumerate(recs) if r["type"] == "unanswerable"]

    def answered(i: int) -> bool:
        c = conf[i]
        return c is not None and c >= t

    right = sum(answered(i) and bool(recs[i]["candidate_right"]) for i in ans)
    n_answered = sum(answered(i) for i in range(len(recs)))
    return {
        "answerable_right": right / max(1, len(ans)),
        "false_declines": sum(not answered(i) for i in ans) / max(1, len(ans)),
        "unanswerable_declined": sum(not answered(i) for i in un) / max(1, len(un)),
        "precision": right / max(1, n_answered),
        "coverage": n_answered / max(1, len(recs)),
        "handled": (right + sum(not answered(i) for i in un)) / max(1, len(recs)),
    }


def choose_levels(by_set: dict[str, tuple[list[Record], list[float | None]]]) -> dict[str, float]:
    def pooled(t: float) -> dict[str, float]:
        recs = [r for rs, _ in by_set.values() for r in rs]
        conf = [c for _, cs in by_set.values() for c in cs]
        return outcomes(recs, conf, t)

    handled = {t: np.mean([outcomes(r, c, t)["handled"] for r, c in by_set.values()]) for t in GRID}
    balanced = max(GRID, key=lambda t: (handled[t], -t))
    strict = next((t for t in GRID if pooled(t)["precision"] >= 0.90), GRID[-1])
    base = pooled(0.0)["false_declines"]
    lenient = max(t for t in GRID if pooled(t)["false_declines"] <= base + 0.02)
    return {
        "lenient": min(lenient, balanced),
        "balanced": balanced,
        "strict": max(strict, balanced),
    }


def fit(
    policy: Policy | None = None,
    out: Path | None = None,
    features: list[str] | None = FEATURES,
    model: str = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Fit on the fit halves and write the calibration to `out`; `features`: only these (by
    name or name prefix, "check_" for every check); None: all that `features()` gives."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    policy = policy or Policy()
    out = out or out_path(model)
    data = packs("fit", model)
    if not data:
        raise SystemExit(f"no fit halves for {model}; run `make calibrate MODEL={model}`")
    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    groups: list[str] = []
    where: list[tuple[str, int]] = []
    replayed: dict[str, list[Record]] = {}
    for name, recs in data.items():
        replayed[name], found = examples(recs, policy)
        for i, x_, y_, g in found:
            rows.append(x_)
            labels.append(y_)
            groups.append(f"{name}:{g}")
            where.append((name, i))
    names = sorted(
        n for n in set().union(*rows) if features is None or any(n.startswith(f) for f in features)
    )
    x = np.array([[r.get(n, np.nan) for n in names] for r in rows])
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)  # unknown: the mean, as at run time
    y = np.array(labels)
    best_c, best, oof = 1.0, -np.inf, np.zeros(len(y))
    for c in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        p = cross_val_predict(clf, x, y, groups=groups, cv=GroupKFold(5), method="predict_proba")[
            :, 1
        ]
        score = -log_loss(y, p, labels=[False, True])
        if score > best:
            best_c, best, oof = c, score, p
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=best_c, max_iter=2000))
    clf.fit(x, y)
    scaler, lr = clf[0], clf[1]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    d: dict[str, Any] = {
        "version": 1,
        "features": names,
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "levels": {},
        "default": "balanced",
        "meta": {
            "model": {"id": identity(model), "name": model},
            "fitted": time.strftime("%Y-%m-%d"),
            "fit_sets": {k: len(v) for k, v in data.items()},
            "examples": len(y),
            "positives": int(y.sum()),
            "C": best_c,
            "cv_log_loss": round(-best, 4),
            "signals": sorted(
                g for g, fs in SIGNALS.items() if any(f in (features or FEATURES) for f in fs)
            ),
            "veto": sorted(policy.veto),
            "without": sorted(policy.without),
        },
    }
    # the operating points are chosen on out-of-fold probabilities: in-sample ones are too sure
    conf: dict[str, list[float | None]] = {n: [None] * len(rs) for n, rs in replayed.items()}
    for (name, i), p_right in zip(where, oof, strict=True):
        conf[name][i] = float(p_right)
    by_set = {name: (replayed[name], conf[name]) for name in data}
    d["levels"] = choose_levels(by_set)
    d["bands"] = cut_bands(by_set, d["levels"][d["default"]])
    d["meta"]["fit_outcomes"] = {
        level: {
            name: {k: round(v, 3) for k, v in outcomes(r, c, t).items()}
            for name, (r, c) in by_set.items()
        }
        for level, t in d["levels"].items()
    }
    out.write_text(json.dumps(d, indent=1) + "\n")
    return d


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def report(
    half: str = "report",
    policy: Policy | None = None,
    path: Path | None = None,
    model: str = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Each set's half replayed at each level of the model's calibration (or the one at `path`)."""
    cal = Calibrator.load(path or out_path(model))
    policy = policy or cal.policy()
    table: dict[str, Any] = {}
    for name, recs in packs(half, model).items():
        replayed = [replay(r, MIN_SUPPORT, policy, cal, 0.0) for r in recs]
        conf = [r["confidence"] for r in replayed]
        points = {"every candidate": 0.0, **cal.levels}  # 0: the grounding checks alone decide
        table[name] = {
            level: {k: round(v, 3) for k, v in outcomes(replayed, conf, t).items()}
            for level, t in points.items()
        }
        table[name]["n"] = len(recs)
        table[name]["n_unanswerable"] = sum(r["type"] == "unanswerable" for r in recs)
        c, right = selective.labels(replayed)
        scored = c[[x is not None for x in conf]], right[[x is not None for x in conf]]
        table[name]["ranking"] = {
            "aurc": _round(selective.aurc(c, right)),
            "optimal_aurc": _round(selective.optimal_aurc(right)),
            "ece": _round(selective.ece(*scored)),
            "auroc": _round(selective.auroc(*scored)),  # over the answered candidates
            "median_right": _round(
                float(np.median(scored[0][scored[1]])) if scored[1].any() else None
            ),  # the confidence a right answer typically gets
            **{
                f"accuracy_at_{p}": _round(selective.selective_accuracy(c, right, p / 100))
                for p in selective.COVERAGES
            },
        }
    return table


def ablation(half: str = "fit", model: str = DEFAULT_MODEL) -> dict[str, Any]:
    """Each check switched off in turn, at the default operating point of the model's
    calibration: how each set's outcomes move (the check's worth, as a number)."""
    cal = Calibrator.load(out_path(model))
    t = cal.threshold(None)
    data = packs(half, model)

    def run(policy: Policy) -> dict[str, dict[str, float]]:
        out = {}
        for name, recs in data.items():
            replayed = [replay(r, MIN_SUPPORT, policy, cal, t) for r in recs]
            conf = [r["confidence"] for r in replayed]
            out[name] = outcomes(replayed, conf, t)
        return out

    base = run(cal.policy())
    table: dict[str, Any] = {"all checks": {n: round(v["handled"], 3) for n, v in base.items()}}
    for check in CHECKS:
        got = run(cal.policy().with_out([check]))
        table[f"without {check}"] = {
            n: {
                k: round(got[n][k] - base[n][k], 3)
                for k in ("handled", "false_declines", "unanswerable_declined", "precision")
            }
            for n in got
        }
    return table


def cut_bands(
    by_set: dict[str, tuple[list[Record], list[float | None]]], floor: float
) -> list[dict[str, Any]]:
    """The bands' lower edges, from the fit halves' out-of-fold confidences, pooled over the
    sets: "high" starts at the lowest point (at or above the operating point `floor`) from which
    the answers were right at least 80% of the time; "medium" at the lowest point from which the
    answers below "high" were right at least half the time; "low" takes the rest. A band needs
    10 answers to be cut; without them it is left out."""
    pairs = [
        (c, bool(r["candidate_right"]))
        for recs, conf in by_set.values()
        for r, c in zip(recs, conf, strict=True)
        if c is not None
    ]
    bands: list[dict[str, Any]] = []
    top = 1.01
    for name, share in BANDS:
        for t in (x for x in GRID if floor <= x < top):
            inside = [right for c, right in pairs if t <= c < top]
            if len(inside) >= 10 and np.mean(inside) >= share:
                bands.append({"name": name, "lower": t})
                top = t
                break
    return [*bands, {"name": "low", "lower": 0.0}]


def measure_bands(path: Path, model: str = DEFAULT_MODEL, half: str = "report") -> dict[str, Any]:
    """Each band's precision on the report halves (pooled over the sets, and per set), written
    into the calibration at `path`: the answers at the default operating point whose confidence
    falls in the band, and the share of them that were right."""
    d = json.loads(path.read_text())
    cal = Calibrator.from_dict(d)
    t = cal.threshold(None)
    got: dict[str, dict[str, list[bool]]] = {b.name: {} for b in cal.bands}
    for name, recs in packs(half, model).items():
        for r in (replay(rec, MIN_SUPPORT, cal.policy(), cal, 0.0) for rec in recs):
            band = cal.band(r["confidence"])
            if band is not None and r["confidence"] >= t:
                got[band.name].setdefault(name, []).append(bool(r["candidate_right"]))
    for b in d["bands"]:
        pooled = [x for xs in got[b["name"]].values() for x in xs]
        b["precision"] = round(float(np.mean(pooled)), 3) if pooled else None
        b["answers"] = len(pooled)
        b["per_set"] = {
            name: {"precision": round(float(np.mean(xs)), 3), "answers": len(xs)}
            for name, xs in sorted(got[b["name"]].items())
        }
    path.write_text(json.dumps(d, indent=1) + "\n")
    return {"bands": d["bands"]}


def bands_table(model: str = DEFAULT_MODEL) -> str:
    """The bands of the model's calibration as docs/calibration.md shows them (a test keeps the
    page and the file the same): where each starts, and its measured precision per set."""
    d = json.loads(out_path(model).read_text())
    sets = sorted({n for b in d["bands"] for n in b.get("per_set", {})})
    lines = [
        f"| {model} band | from | report-half answers | right | " + " | ".join(sets) + " |",
        "|---|---|---|---|" + "---|" * len(sets),
    ]
    for b in d["bands"]:
        per = b.get("per_set", {})
        cells = [
            f"{per[n]['precision']:.0%} of {per[n]['answers']}" if n in per else "–" for n in sets
        ]
        right = "–" if b.get("precision") is None else f"{b['precision']:.1%}"
        lines.append(
            f"| {b['name']} | {b['lower']:.2f} | {b.get('answers', 0)} | {right} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def _worth(d: dict[str, Any]) -> float:
    """Mean share handled right over the fit sets at the balanced point."""
    return float(np.mean([v["handled"] for v in d["meta"]["fit_outcomes"]["balanced"].values()]))


def choose_signals(policy: Policy, model: str = DEFAULT_MODEL) -> list[str]:
    """The features of the signals that earn their place for this model: starting from all of
    `SIGNALS`, drop the one whose removal lowers the out-of-fold log loss on the fit halves most
    (or leaves it equal); repeat until every removal raises it. The checks always stay."""
    import tempfile

    def loss(kept: list[str]) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            feats = [f for g in kept for f in SIGNALS[g]] + ["check_"]
            return float(fit(policy, Path(tmp) / "c.json", feats, model)["meta"]["cv_log_loss"])

    kept = list(SIGNALS)
    best = loss(kept)
    while len(kept) > 1:
        trials = {g: loss([k for k in kept if k != g]) for g in kept}
        for g, v in trials.items():
            print(f"  without {g}: {v:.4f} (now {best:.4f})", file=sys.stderr)  # noqa: T201
        drop = min(trials, key=lambda g: trials[g])
        if trials[drop] > best:
            break
        kept.remove(drop)
        best = trials[drop]
    return [f for g in kept for f in SIGNALS[g]] + ["check_"]


def search(out: Path, model: str = DEFAULT_MODEL) -> Policy:
    """Which checks earn their place as vetoes: starting from all of them, turn into evidence
    (a feature of the confidence) each check whose softening raises the mean share handled
    right on the fit halves by at least half a point; repeat until none does."""
    policy = Policy()
    best = _worth(fit(policy, out, model=model))
    while True:
        trials = {}
        for name in sorted(policy.veto - ALWAYS_VETO):
            trials[name] = _worth(fit(policy.soft([name]), out, model=model))
            print(f"  soften {name}: {trials[name]:.4f} (now {best:.4f})", file=sys.stderr)  # noqa: T201
        if not trials or max(trials.values()) < best + 0.005:
            return policy
        name = max(trials, key=lambda n: trials[n])
        policy, best = policy.soft([name]), trials[name]


def calibrate(model: str, limit: int | None = None) -> dict[str, Any]:
    """All of `make calibrate MODEL=…`: record the sets with the model when its packs are
    missing, choose the vetoes, fit, measure the bands; the report halves' table."""
    from eval.packs import folder

    if not any(folder(model).glob("*-fit.jsonl.gz")):
        from eval.record import record

        found, runs = record(model, limit=limit)
        pack(runs, model, found)
    out = out_path(model)
    policy = search(out, model)
    fit(policy, out, choose_signals(policy, model), model=model)
    bands = measure_bands(out, model)
    return {**bands, "report": report(model=model)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("model", help="record (when needed), fit, bands, report: make calibrate")
    m.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    m.add_argument("--limit", type=int, default=None, help="questions per half (a quick check)")
    rec = sub.add_parser("record", help="ask the labelled sets with a model and pack the replies")
    rec.add_argument("model")
    rec.add_argument("--limit", type=int, default=None, help="questions per half")
    p = sub.add_parser("pack", help="split run folders into eval/calibration/<model>/")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument(
        "--identity", default=None, help="the model's identity (default: a named model's sha256)"
    )
    f = sub.add_parser("fit", help="fit rag/calibrations/<model>.json on the fit halves")
    f.add_argument("--without", nargs="*", default=[], help="checks switched off")
    f.add_argument("--soft", nargs="*", default=None, help="checks that are evidence, not vetoes")
    f.add_argument("--out", type=Path, default=None)
    r = sub.add_parser("report", help="outcomes on a half at each level")
    r.add_argument("--half", default="report")
    sub.add_parser("search", help="choose the vetoes and the signals (fit halves), then fit")
    b = sub.add_parser("bands", help="the bands' precision on the report halves, into the file")
    b.add_argument("--table", action="store_true", help="print docs/calibration.md's table")
    a = sub.add_parser("checks", help="each check switched off: the change in outcomes")
    a.add_argument("--half", default="fit")
    for each in sub.choices.values():
        if each not in (m, rec):
            each.add_argument("--model", default=DEFAULT_MODEL, help="whose packs and calibration")
    args = ap.parse_args(argv)
    result: Any
    if args.cmd == "model":
        result = calibrate(args.model, args.limit)
    elif args.cmd == "record":
        from eval.record import record

        found, runs = record(args.model, limit=args.limit)
        pack(runs, args.model, found)
        return 0
    elif args.cmd == "pack":
        from rag.generation.models import manifest

        known = manifest().get(args.model)
        given = args.identity or (f"gguf sha256:{known['sha256']}" if known else None)
        if given is None:
            raise SystemExit(f"{args.model} is not a named model: give its --identity")
        pack(args.runs, args.model, given)
        return 0
    elif args.cmd == "fit":
        policy = Policy().with_out(args.without)
        if args.soft is not None:
            policy = policy.soft(args.soft)
        d = fit(policy, args.out, model=args.model)
        result = {"levels": d["levels"], "bands": d["bands"], "meta": d["meta"]}
    elif args.cmd == "search":
        out = out_path(args.model)
        policy = search(out, args.model)
        d = fit(policy, out, choose_signals(policy, args.model), model=args.model)
        result = {"levels": d["levels"], "bands": d["bands"], "meta": d["meta"]}
    elif args.cmd == "bands" and args.table:
        print(bands_table(args.model))  # noqa: T201
        return 0
    elif args.cmd == "bands":
        result = measure_bands(out_path(args.model), args.model)
    elif args.cmd == "checks":
        result = ablation(args.half, args.model)
    else:
        result = report(args.half, model=args.model)
    json.dump(result, sys.stdout, indent=1)
    print()  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
