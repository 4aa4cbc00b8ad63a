"""Fit the calibrated confidence (rag/calibration.json) on the fit halves; `make calibrate`.

    python -m eval.calibrate pack eval/runs/seed eval/runs/clapnq-fit ...   # once per model run
    python -m eval.calibrate fit                # replies -> features -> logistic regression
    python -m eval.calibrate report             # the report halves, replayed, scored

`pack` keeps what a replay needs of each record (question, labels, the model's raw reply, its
first-token probability of declining, the sentences shown, the retrieved chunks' ranks) in
`eval/calibration/<set>-<half>.jsonl.gz` (the run's settings in `<set>.run.json`), split by
the committed halves (eval/splits/); those
files are versioned, so the fit is reproducible in seconds without the model. `fit` replays the
fit halves through today's grounding (rag/grounding/verified.py), takes the first claim's features
(rag/grounding/confidence.py), and fits a logistic regression (scikit-learn; C by grouped 5-fold
cross-validation on log loss) to P(the answer is right); then it picks the operating points on
the fit halves only, from the out-of-fold probabilities of that cross-validation (in-sample
ones are too sure): `balanced` maximises the mean over sets of the share handled right (a right
answer, or a decline of an unanswerable question), `strict` is the lowest point whose pooled
precision of answers is at least 0.90, `lenient` the highest point (at most `balanced`) that
declines at most 2 points more answerable questions than answering every candidate.
Does not: touch the report halves when fitting; `report` only scores them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval import selective
from eval.harness import Record, load_records
from eval.reground import replay
from eval.splits import FOLDER as SPLITS
from rag.config import ROOT
from rag.grounding.checks import ALWAYS_VETO, CHECKS, Policy
from rag.grounding.confidence import CALIBRATION, Calibrator

PACKS = Path(__file__).with_name("calibration")
OUT = ROOT / "rag" / CALIBRATION
KEEP = [
    "id",
    "question",
    "answers",
    "evidence",
    "type",
    "gold_source",
    "corpus",
    "group",
    "attack",
    "raw",
    "p_decline",
    "p_yes",
    "tokens",
    "context",
    "retrieved",
    "timings",
    "scores",
]
# the features the regression sees (names or prefixes of rag/grounding/confidence.py's): the
# model's own signals (its reading of the answer, its decline probability, its token
# probabilities), where and how well the support holds the answer, and the evidence checks.
# Measured on the report halves (docs/calibration.md): all 40 features fitted the fit halves
# best and ranked the report halves worst (the question-kind indicators learnt the sets).
FEATURES = [
    *("logit_yes", "logit_p_decline", "p_missing", "logprob_", "unsure_share"),
    *("question_share", "new_share", "support_", "hit_rank_inverse", "distance", "check_"),
]
GRID = [round(x, 2) for x in np.arange(0.0, 1.0001, 0.01)]
MIN_SUPPORT = 0.5


def _set_of(run: Path) -> str:
    meta = json.loads((run / "run.json").read_text())
    return str(meta["set"])


def pack(runs: list[Path]) -> None:
    """Split each run's records by the committed halves into eval/calibration/<set>-<half>."""
    PACKS.mkdir(exist_ok=True)
    out: dict[str, dict[str, Record]] = {}
    for run in runs:
        name = _set_of(run)
        meta = {**json.loads((run / "run.json").read_text()), "split": None}
        (PACKS / f"{name}.run.json").write_text(json.dumps(meta, indent=1) + "\n")
        halves = json.loads((SPLITS / f"{name}.json").read_text())
        side = {i: h for h, ids in halves.items() for i in ids}
        for rec in load_records(run / "records.jsonl"):
            if "context" not in rec or rec["id"] not in side:
                continue
            slim = {k: rec[k] for k in KEEP if k in rec}
            out.setdefault(f"{name}-{side[rec['id']]}", {})[rec["id"]] = slim
    for key, recs in sorted(out.items()):
        path = PACKS / f"{key}.jsonl.gz"
        lines = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in recs.values())
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(lines.encode())  # mtime 0: the same records give the same bytes
        print(f"{path}: {len(recs)} records")  # noqa: T201


def load_pack(name: str) -> list[Record]:
    path = PACKS / f"{name}.jsonl.gz"
    if not path.is_file():
        from rag.errors import ConfigError

        raise ConfigError(f"{path} is missing; make it with `python -m eval.calibrate pack RUN…`")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def packs(half: str) -> dict[str, list[Record]]:
    return {
        p.name.split(".")[0].rsplit("-", 1)[0]: load_pack(p.name.split(".")[0])
        for p in sorted(PACKS.glob(f"*-{half}.jsonl.gz"))
    }


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
    policy: Policy | None = None, out: Path = OUT, features: list[str] | None = FEATURES
) -> dict[str, Any]:
    """Fit on the fit halves and write the calibration to `out`; `features`: only these (by
    name or name prefix, "check_" for every check); None: all that `features()` gives."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    policy = policy or Policy()
    data = packs("fit")
    if not data:
        raise SystemExit(f"no fit halves in {PACKS}; run `python -m eval.calibrate pack RUN…`")
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
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        p = cross_val_predict(model, x, y, groups=groups, cv=GroupKFold(5), method="predict_proba")[
            :, 1
        ]
        score = -log_loss(y, p, labels=[False, True])
        if score > best:
            best_c, best, oof = c, score, p
    model = make_pipeline(StandardScaler(), LogisticRegression(C=best_c, max_iter=2000))
    model.fit(x, y)
    scaler, lr = model[0], model[1]
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
            "fitted": time.strftime("%Y-%m-%d"),
            "fit_sets": {k: len(v) for k, v in data.items()},
            "examples": len(y),
            "positives": int(y.sum()),
            "C": best_c,
            "cv_log_loss": round(-best, 4),
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
    half: str = "report", policy: Policy | None = None, path: Path | None = None
) -> dict[str, Any]:
    """Each set's half replayed at each level of the shipped calibration (or the one at `path`)."""
    cal = Calibrator.load(path)
    policy = policy or cal.policy()
    table: dict[str, Any] = {}
    for name, recs in packs(half).items():
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


def ablation(half: str = "fit") -> dict[str, Any]:
    """Each check switched off in turn, at the default operating point of the shipped
    calibration: how each set's outcomes move (the check's worth, as a number)."""
    cal = Calibrator.load()
    t = cal.threshold(None)
    data = packs(half)

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


def _worth(d: dict[str, Any]) -> float:
    """Mean share handled right over the fit sets at the balanced point."""
    return float(np.mean([v["handled"] for v in d["meta"]["fit_outcomes"]["balanced"].values()]))


def search(out: Path) -> Policy:
    """Which checks earn their place as vetoes: starting from all of them, turn into evidence
    (a feature of the confidence) each check whose softening raises the mean share handled
    right on the fit halves by at least half a point; repeat until none does."""
    policy = Policy()
    best = _worth(fit(policy, out))
    while True:
        trials = {}
        for name in sorted(policy.veto - ALWAYS_VETO):
            trials[name] = _worth(fit(policy.soft([name]), out))
            print(f"  soften {name}: {trials[name]:.4f} (now {best:.4f})", file=sys.stderr)  # noqa: T201
        if not trials or max(trials.values()) < best + 0.005:
            return policy
        name = max(trials, key=lambda n: trials[n])
        policy, best = policy.soft([name]), trials[name]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="split run folders into eval/calibration/<set>-<half>")
    p.add_argument("runs", nargs="+", type=Path)
    f = sub.add_parser("fit", help="fit rag/calibration.json on the fit halves")
    f.add_argument("--without", nargs="*", default=[], help="checks switched off")
    f.add_argument("--soft", nargs="*", default=None, help="checks that are evidence, not vetoes")
    f.add_argument("--out", type=Path, default=OUT)
    r = sub.add_parser("report", help="outcomes on a half at each level")
    r.add_argument("--half", default="report")
    sub.add_parser("search", help="choose which checks stay vetoes (fit halves), then fit")
    a = sub.add_parser("checks", help="each check switched off: the change in outcomes")
    a.add_argument("--half", default="fit")
    args = ap.parse_args(argv)
    if args.cmd == "pack":
        pack(args.runs)
    elif args.cmd == "fit":
        policy = Policy().with_out(args.without)
        if args.soft is not None:
            policy = policy.soft(args.soft)
        d = fit(policy, args.out)
        json.dump({"levels": d["levels"], "meta": d["meta"]}, sys.stdout, indent=1)
    elif args.cmd == "search":
        policy = search(OUT)
        d = fit(policy, OUT)
        json.dump({"levels": d["levels"], "meta": d["meta"]}, sys.stdout, indent=1)
    elif args.cmd == "checks":
        json.dump(ablation(args.half), sys.stdout, indent=1)
    else:
        json.dump(report(args.half), sys.stdout, indent=1)
    print()  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
