"""An experiment, not a feature: does the model's internal state tell a right answer from a wrong
one better than the calibration's features do? (Issue 22: Azaria & Mitchell 2023; Kossen et al.
2024.)

    python -m eval.probe record [--model qwen1.5b]   # hidden states of the packed replies (~30 min)
    python -m eval.probe measure [--model qwen1.5b]  # a linear probe: fit halves -> report halves

`record` asks the read-back question of every packed reply that opens with a claim (as
eval/verify.py does) with llama.cpp's embeddings switched on for that pass, and keeps the last
layer's hidden state (after the final norm) at the token where the model answers yes or no: the
same pass as P(yes), so in the pipeline it would cost nothing more. llama.cpp returns only the
last layer this way; a middle layer needs an evaluation callback (not tried).
`measure` fits, on the fit halves only, a logistic regression on the states reduced by PCA (the
dimension and C by grouped cross-validation), and reports AUROC over the answered candidates of
each report half: the probe alone, the shipped calibration, and the calibration refitted with the
probe's out-of-fold log-odds as one more feature.
Does not: change the shipped calibration (docs/calibration.md has the numbers and the verdict).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from eval.packs import DEFAULT_MODEL, folder, load_pack, packs
from rag.config import ROOT
from rag.generation.base import NO_WORDS, YES_WORDS
from rag.prompt import EXAMPLES, answer_messages, verify_messages


def _states_path(model: str) -> Any:
    return ROOT / "eval" / "runs" / f"probe-{model}" / "states.npz"


def record(model: str, limit: int | None = None) -> None:
    import llama_cpp

    from rag.config import Settings
    from rag.generation.factory import make_generator
    from rag.grounding.claims import opens_with_decline

    generator: Any = make_generator(Settings(model=model))
    llm = generator.llm

    def read(chat: list[dict[str, str]]) -> tuple[float, np.ndarray]:
        """P(yes) and the hidden state at the last token; the rest evaluated without outputs
        (embeddings on for a whole batch make llama.cpp compute every token's logits)."""
        tokens = generator.tokenize(generator.render(chat)[0])
        live = llm.input_ids[: llm.n_tokens].tolist()
        n = next((i for i, (a, b) in enumerate(zip(live, tokens, strict=False)) if a != b), None)
        llm.n_tokens = min(len(live) if n is None else n, len(tokens) - 1)
        llm.eval(tokens[llm.n_tokens : -1])
        llama_cpp.llama_set_embeddings(llm._ctx.ctx, True)
        llm.eval(tokens[-1:])
        ptr = llama_cpp.llama_get_embeddings_ith(llm._ctx.ctx, -1)
        state = np.ctypeslib.as_array(ptr, shape=(llm.n_embd(),)).astype(np.float16)
        llama_cpp.llama_set_embeddings(llm._ctx.ctx, False)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        z = np.exp(logits - logits.max())
        yes, no = (z[generator.first_ids(w)].sum() for w in (YES_WORDS, NO_WORDS))
        return float(yes / (yes + no)), state

    ids, names, p_yes, states, drift = [], [], [], [], []
    for path in sorted(folder(model).glob("*.jsonl.gz")):
        name = path.name.split(".")[0]
        run = json.loads((folder(model) / f"{name.rsplit('-', 1)[0]}.run.json").read_text())
        t0, n = time.perf_counter(), 0
        for rec in load_pack(name, model)[:limit]:
            raw = rec.get("raw") or ""
            if opens_with_decline(raw):
                continue
            examples = EXAMPLES if run["prompt_examples"] else ()
            chat = answer_messages(rec["question"], [c["text"] for c in rec["context"]], examples)
            p, state = read(verify_messages(chat, raw))
            states.append(state)
            ids.append(rec["id"])
            names.append(name)
            p_yes.append(p)
            drift.append(abs(p - rec["p_yes"]) if rec.get("p_yes") is not None else 0.0)
            n += 1
        took = time.perf_counter() - t0
        said = f"{name}: {n} states, {took:.0f} s; P(yes) drift max {max(drift, default=0):.4f}"
        print(said, file=sys.stderr)  # noqa: T201
    out = _states_path(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        ids=np.array(ids),
        packs=np.array(names),
        p_yes=np.array(p_yes),
        states=np.stack(states),
    )


def measure(model: str) -> dict[str, Any]:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from eval import selective
    from eval.calibrate import MIN_SUPPORT, out_path
    from eval.reground import replay
    from rag.grounding.confidence import Calibrator

    data = np.load(_states_path(model))
    at = {(p, i): k for k, (p, i) in enumerate(zip(data["packs"], data["ids"], strict=True))}
    cal = Calibrator.load(out_path(model))
    rows: dict[str, list[tuple[np.ndarray, bool, str, dict[str, float], float]]] = {}
    for half in ("fit", "report"):
        for name, recs in packs(half, model).items():
            for rec in recs:
                seen: list[dict[str, float]] = []
                new = replay(rec, MIN_SUPPORT, cal.policy(), cal, 0.0, seen)
                k = at.get((f"{name}-{half}", rec["id"]))
                if not seen or k is None:
                    continue
                group = f"{name}:{rec.get('group') or rec['id']}"
                state = data["states"][k].astype(np.float32)
                row = (state, bool(new["candidate_right"]), group, seen[0], new["confidence"])
                rows.setdefault(f"{name}-{half}", []).append(row)
    fit_rows = [r for n, rs in rows.items() if n.endswith("-fit") for r in rs]
    x = np.stack([r[0] for r in fit_rows])
    y = np.array([r[1] for r in fit_rows])
    groups = [r[2] for r in fit_rows]
    best: tuple[float, Any, np.ndarray] = (np.inf, None, np.zeros(len(y)))
    for dim in (8, 32, 128):
        for c in (0.01, 0.1, 1.0):
            clf = make_pipeline(
                StandardScaler(), PCA(dim, random_state=0), LogisticRegression(C=c, max_iter=3000)
            )
            oof = cross_val_predict(
                clf, x, y, groups=groups, cv=GroupKFold(5), method="predict_proba"
            )
            loss = float(-np.mean(y * np.log(oof[:, 1] + 1e-9) + (~y) * np.log(oof[:, 0] + 1e-9)))
            if loss < best[0]:
                best = (loss, (dim, c), oof[:, 1])
    (dim, c), oof = best[1], best[2]
    probe = make_pipeline(
        StandardScaler(), PCA(dim, random_state=0), LogisticRegression(C=c, max_iter=3000)
    ).fit(x, y)

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-4, 1 - 1e-4)
        return np.asarray(np.log(p / (1 - p)))

    # the calibration's features plus the probe's log-odds (out of fold on the fit halves)
    names = list(cal.names)  # the shipped calibration's own features

    def table(rs: list[Any]) -> np.ndarray:
        m = np.array([[r[3].get(n, np.nan) for n in names] for r in rs])
        return np.asarray(np.where(np.isnan(m), np.nanmean(m, axis=0), m))

    def cv_loss(m: np.ndarray) -> float:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=3000))
        p = cross_val_predict(clf, m, y, groups=groups, cv=GroupKFold(5), method="predict_proba")
        return round(float(-np.mean(np.log(np.where(y, p[:, 1], p[:, 0]) + 1e-9))), 4)

    both = make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=3000))
    both.fit(np.column_stack([table(fit_rows), logit(oof)]), y)
    result: dict[str, Any] = {
        "probe": {"pca": dim, "C": c, "cv_log_loss": round(best[0], 4)},
        # the same examples, out of fold: the calibration's features without and with the probe
        "cv_log_loss_features": cv_loss(table(fit_rows)),
        "cv_log_loss_features_and_probe": cv_loss(np.column_stack([table(fit_rows), logit(oof)])),
    }
    for name, rs in sorted(rows.items()):
        right = np.array([r[1] for r in rs])
        p_probe = probe.predict_proba(np.stack([r[0] for r in rs]))[:, 1]
        p_both = both.predict_proba(np.column_stack([table(rs), logit(p_probe)]))[:, 1]
        shipped = np.array([r[4] for r in rs], dtype=float)
        result[name] = {
            "n": len(rs),
            "right": int(right.sum()),
            "auroc_shipped": round(float(selective.auroc(shipped, right) or 0), 3),
            "auroc_probe": round(float(selective.auroc(p_probe, right) or 0), 3),
            "auroc_with_probe": round(float(selective.auroc(p_both, right) or 0), 3),
            "ece_with_probe": round(float(selective.ece(p_both, right) or 0), 3),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.probe", description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["record", "measure"])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--limit", type=int, default=None, help="records per pack (record)")
    args = ap.parse_args(argv)
    if args.cmd == "record":
        record(args.model, args.limit)
    else:
        json.dump(measure(args.model), sys.stdout, indent=1)
        print()  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
