"""The calibrated confidence: P(the answer is right), from evidence about the first claim.

    cal = Calibrator.load()             # rag/calibrations/qwen1.5b.json (a few kB, versioned)
    x = features(question, context, claim, Evidence(p_decline=0.03, hit_rank=1))
    cal.probability(x)                  # 0.91
    cal.band(0.91)                      # Band("high", 0.8, precision=0.86, answers=97)
    for_model("gguf sha256:1d96…")      # (None, "no calibration for …; run make calibrate …")

The features turn every signal into a number: the model's own reading of its answer (asked after
the reply whether the sources state it: P(yes), `Generator.yes_probability`), its first-token
probability of declining,
how sure it was of each token of the claim (log-probabilities),
where the support sits among the sentences shown and the chunks retrieved, how much of the
question and of the claim's new words the support holds, how close the claim's words stand to
the question's in the support sentence, which repair was needed, the verdicts of the checks that
are evidence rather than vetoes (checks.py), and the question's kind. A logistic regression
fitted on the fit halves of the labelled sets (`make calibrate`, eval/calibrate.py) maps them
to a probability; the pipeline declines below the operating point (RAG_MIN_CONFIDENCE).
A calibration belongs to one model (`meta.model`: the GGUF's sha256, or a server's model name):
`for_model` finds the one fitted for the model in use, and a model without one gets no number
(confidence null) rather than another model's. Its bands (high / medium / low) carry the share
of right answers measured in each on the report halves, so a person can read the number.
Does not: need scikit-learn at run time (the fitted weights are applied with numpy), or judge
claims after the first (the first claim decides, so streaming can start there).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Set
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.grounding.checks import CHECKS, YES_NO, Policy, new_words
from rag.grounding.claims import Claim
from rag.grounding.question import KINDS, Question
from rag.text import STOPWORDS, content, stem, words
from rag.types import Band, Sentence

CALIBRATIONS = "calibrations"  # rag/calibrations/<model>.json, one per calibrated model
DEFAULT_CALIBRATION = "qwen1.5b.json"  # the default model's
LOG_HALF = math.log(0.5)  # a token the model gave less than even odds


@dataclass(frozen=True)
class Evidence:
    """What the pipeline knows beside the claim itself."""

    p_decline: float | None = None  # None where the model server gives no probabilities
    hit_rank: int | None = None  # rank of the support's chunk among the retrieved (1 = first)
    dropped: int = 0  # reply sentences before the claim that grounding dropped
    # log-probabilities of the reply's tokens up to the end of the claim's sentence; None where
    # the model server gives no probabilities
    logprobs: tuple[float, ...] | None = None
    # the model asked, after its reply, whether the sources state it: P(yes); None where it
    # was not asked (a decline, a server without probabilities)
    p_yes: float | None = None


def claim_logprobs(tokens: list[tuple[str, float]] | None, end: int) -> tuple[float, ...] | None:
    """The log-probabilities of the reply's tokens that make its text up to `end` (an offset
    in the reply without leading spaces)."""
    if tokens is None:
        return None
    out: list[float] = []
    text = ""
    for piece, lp in tokens:
        if len(text.lstrip()) >= end:
            break
        text += piece
        out.append(lp)
    return tuple(out)


def _distance(claim: str, q: Question, support: str) -> float:
    """1 / (1 + the fewest words between a word the claim adds and a question word) in the
    support: an answer that stands next to the question's words is more likely the one asked."""
    toks = [stem(w) for w in words(support)]
    new = new_words(claim, q) - YES_NO
    at_new = [i for i, t in enumerate(toks) if t in new]
    at_q = [i for i, t in enumerate(toks) if t in q.words]
    if not at_new or not at_q:
        return 0.0
    return 1.0 / (1 + min(abs(a - b) for a in at_new for b in at_q))


def _missing(wanted: Set[str], have: Set[str]) -> float:
    return len(wanted - have) / len(wanted) if wanted else 0.0


def features(q: Question, context: list[Sentence], claim: Claim, ev: Evidence) -> dict[str, float]:
    """The named features of one claim (a plain dict; `Calibrator` orders them)."""
    support = " ".join(context[i].text for i in claim.support)
    have = content(support)
    new = new_words(claim.text, q) - YES_NO
    said = content(claim.text)
    p = 0.2 if ev.p_decline is None else min(max(ev.p_decline, 1e-4), 1 - 1e-4)
    out = {
        "p_decline": p,
        "logit_p_decline": math.log(p / (1 - p)),
        "p_missing": float(ev.p_decline is None),
        "support_position": min(claim.support) / max(1, len(context) - 1),
        "support_pair": float(len(claim.support) > 1),
        "hit_rank_inverse": 1.0 / ev.hit_rank if ev.hit_rank else 0.0,
        "question_share": len(q.words & have) / max(1, len(q.words)),
        "new_share": len(new & have) / len(new) if new else 1.0,
        "new_words": min(len(new), 12) / 12,
        "claim_words": min(len(words(claim.text)), 40) / 40,
        "restated_share": len(said & q.words) / max(1, len(said)),
        "distance": _distance(claim.text, q, support),
        "yes_no": float(bool(set(words(claim.text)) & YES_NO) and not new),
        "repaired": float(bool(claim.repair)),
        "dropped_before": float(ev.dropped > 0),
        "question_words": min(len(q.words), 12) / 12,
        # a question that looks answerable but asks about something the support lacks
        "question_numbers_missing": _missing(set(q.numbers), have),
        "question_names_missing": _missing(q.names - STOPWORDS, set(words(support))),
        "question_words_nowhere": _missing(
            set(q.words), content(" ".join(s.text for s in context))
        ),
    }
    lps = ev.logprobs
    if lps:  # how sure the model was of the words it wrote; unknown (left out) from a server
        out["logprob_mean"] = sum(lps) / len(lps)
        out["logprob_min"] = max(min(lps), -10.0) / 10
        out["unsure_share"] = sum(lp < LOG_HALF for lp in lps) / len(lps)
    if ev.p_yes is not None:  # the model's own reading of its answer
        y = min(max(ev.p_yes, 1e-4), 1 - 1e-4)
        out["logit_yes"] = math.log(y / (1 - y)) / 10
    passed = dict(claim.evidence)
    for name in CHECKS:
        out[f"check_{name}"] = float(passed.get(name, True))
    for kind in KINDS:
        out[f"kind_{kind}"] = float(q.kind == kind)
    return out


@dataclass(frozen=True)
class Calibrator:
    """A fitted logistic regression over standardised features, plus named operating points."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    levels: dict[str, float]
    default: str
    meta: dict[str, Any]
    bands: tuple[Band, ...] = ()  # highest first

    @property
    def model(self) -> str | None:
        """The identity of the model this was fitted for (`Generator.identity`)."""
        model = self.meta.get("model") or {}
        return str(model["id"]) if "id" in model else None

    def band(self, confidence: float | None) -> Band | None:
        """The band `confidence` falls in (None: no number, or no bands in this calibration)."""
        if confidence is None:
            return None
        return next((b for b in self.bands if confidence >= b.lower), None)

    def probability(self, x: dict[str, float]) -> float:
        """P(right); a feature `x` lacks (unknown, e.g. token probabilities from a model server)
        counts as its mean over the fit data, so it moves nothing."""
        v = np.array([x.get(n, m) for n, m in zip(self.names, self.mean, strict=True)])
        z = float((v - self.mean) / self.scale @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def policy(self) -> Policy:
        """The checks as the calibration was fitted with them: vetoes and evidence."""
        veto = self.meta.get("veto")
        return Policy(
            frozenset(veto) if veto is not None else frozenset(CHECKS),
            frozenset(self.meta.get("without", ())),
        )

    def threshold(self, setting: str | float | None) -> float:
        """The operating point: a level name ("balanced"), a number in [0, 1], or the default."""
        if setting is None or setting == "":
            return self.levels[self.default]
        if isinstance(setting, str) and setting in self.levels:
            return self.levels[setting]
        try:
            value = float(setting)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise ConfigError(
                f"RAG_MIN_CONFIDENCE={setting!r}: give a number from 0 to 1 or one of "
                f"{', '.join(self.levels)}"
            )
        return value

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        return cls(
            names=tuple(d["features"]),
            mean=np.array(d["mean"], dtype=float),
            scale=np.array(d["scale"], dtype=float),
            coef=np.array(d["coef"], dtype=float),
            intercept=float(d["intercept"]),
            levels={k: float(v) for k, v in d["levels"].items()},
            default=d["default"],
            meta=d.get("meta", {}),
            bands=tuple(
                Band(b["name"], float(b["lower"]), b.get("precision"), int(b.get("answers", 0)))
                for b in sorted(d.get("bands", []), key=lambda b: -float(b["lower"]))
            ),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> Calibrator:
        """The file at `path`, or the default model's calibration shipped with the package."""
        try:
            file = path or _shipped().joinpath(DEFAULT_CALIBRATION)
            text = file.read_text()
            return cls.from_dict(json.loads(text))
        except (OSError, KeyError, ValueError) as exc:
            where = path or f"rag/{CALIBRATIONS}/{DEFAULT_CALIBRATION}"
            raise ConfigError(
                f"cannot read the calibration {where}: {exc}; run `make calibrate` to refit it"
            ) from exc


def _shipped() -> Any:
    return resources.files("rag").joinpath(CALIBRATIONS)


def for_model(
    identity: str, path: Path | None = None, name: str = "…"
) -> tuple[Calibrator | None, str]:
    """The calibration fitted for the model `identity`: the file at `path` (RAG_CALIBRATION),
    else the shipped one made for it. Without one: None, and a line that says what to do
    (`name`: what `make calibrate MODEL=` takes for this model)."""
    if path is not None:
        cal = Calibrator.load(path)
        if cal.model == identity:
            return cal, ""
        return None, (
            f"the calibration {path} (RAG_CALIBRATION) was fitted for "
            f"{cal.model or 'an unnamed model'}, "
            f"not for the model in use ({identity}); answers carry no confidence until it is "
            f"calibrated: `make calibrate MODEL={name}` (docs/calibration.md)"
        )
    for entry in sorted(_shipped().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            cal = Calibrator.load(Path(str(entry)))
            if cal.model == identity:
                return cal, ""
    return None, (
        f"no calibration for the model in use ({identity}); answers carry no confidence and "
        f"only the checks gate them until it is calibrated: `make calibrate MODEL={name}` "
        "(docs/calibration.md)"
    )


def judge_with(
    cal: Calibrator | None,
    q: Question,
    context: list[Sentence],
    ranks: dict[str, int],
    p_decline: Callable[[], float | None],
    tokens: Callable[[], list[tuple[str, float]] | None] = lambda: None,
    seen: list[dict[str, float]] | None = None,
    p_yes: Callable[[], float | None] = lambda: None,
) -> Callable[[Claim, int, int], float]:
    """A `judge` for verified.py: the confidence of a first claim. `ranks` maps the retrieved
    chunks' ids to their rank; `seen` (for `make calibrate`) collects the features; without a
    calibrator every claim gets 1.0."""

    def judge(claim: Claim, dropped: int, end: int) -> float:
        found = [ranks[context[i].chunk.id] for i in claim.support if context[i].chunk.id in ranks]
        lps = claim_logprobs(tokens(), end)
        x = features(
            q,
            context,
            claim,
            Evidence(p_decline(), min(found, default=None), dropped, lps, p_yes()),
        )
        if seen is not None:
            seen.append(x)
        return cal.probability(x) if cal else 1.0

    return judge
