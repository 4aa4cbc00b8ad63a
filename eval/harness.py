"""Run a question set through the pipeline, score every answer, resume interrupted runs.

    result = run_eval(EvalConfig(set="seed", out=Path("eval/runs/seed")))

Each finished question is appended to `<out>/records.jsonl` at once; a re-run with the same
settings (`<out>/run.json`) skips the ids already there, so `--limit 10` followed by a full run
asks only the rest. Changed settings start a fresh run (the old records are kept aside).
The index for a set is built once in `<RAG_HOME>/eval-index/<set>` and reused (ingest skips
unchanged documents). Scores come from `eval.metrics`; reports are written by `eval.report`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval import clapnq, injection, metrics, selective, splits, squad
from eval.sets import FIELDS, REALDOCS_FILES, REALDOCS_SET, SEED_SET, read_jsonl
from rag.config import DEFAULT_CORPUS, ROOT, Settings
from rag.errors import ConfigError

_MARKERS = re.compile(r"\s*(?:\[\d+\])+")
Record = dict[str, Any]
OnRecord = Callable[[int, int, Record], None]  # (done, to do, record)


@dataclass
class EvalConfig:
    set: str = "seed"  # "seed", "clapnq", "squad2", an injection set (eval/injection.py), or JSONL
    out: Path | None = None  # default eval/runs/<set>
    k: int | None = None  # default: settings.k
    limit: int | None = None
    model: Path | None = None  # a GGUF file; default: settings.model
    clapnq_dir: Path | None = None
    corpus: list[Path] = field(default_factory=list)  # documents for a JSONL set (default corpus)
    seed: int = 0  # for --limit sampling on ClapNQ
    split: str | None = None  # "fit" or "report" half (eval/splits.py); None = all
    squad_dir: Path | None = None


@dataclass
class QuestionSet:
    key: str  # names the index cache and the default out dir
    questions: list[Record]
    files: list[Path] = field(default_factory=list)  # corpus as files …
    passages: dict[str, str] = field(default_factory=dict)  # … or as {name: text}
    # … or one corpus per question["corpus"]: {corpus: {name: text}}, each its own index
    corpora: dict[str, dict[str, str]] = field(default_factory=dict)
    stratified: bool = False  # --limit samples half answerable, half unanswerable


@dataclass
class RunResult:
    out: Path
    report: dict[str, Any]
    asked: int  # questions asked in this run (the rest came from records.jsonl)


# ---- question sets -----------------------------------------------------------------------------


def load_set(cfg: EvalConfig) -> QuestionSet:
    if cfg.set == "clapnq":
        questions, passages = clapnq.load(cfg.clapnq_dir)
        return QuestionSet("clapnq", questions, passages=passages, stratified=True)
    if cfg.set == "squad2":
        questions, corpora = squad.load(cfg.squad_dir)
        return QuestionSet("squad2", questions, corpora=corpora, stratified=True)
    if cfg.set == "seed":
        return QuestionSet("seed", read_jsonl(SEED_SET), files=[DEFAULT_CORPUS])
    if cfg.set == "realdocs":  # one index of all the real files, as a person would have them
        if not REALDOCS_FILES.is_dir():
            raise ConfigError(f"{REALDOCS_FILES} is missing; it is part of the repository")
        return QuestionSet("realdocs", read_jsonl(REALDOCS_SET), files=[REALDOCS_FILES])
    if cfg.set in injection.SETS:
        questions, passages = injection.load(cfg.set)
        return QuestionSet(cfg.set, questions, passages=passages)
    path = Path(cfg.set)
    if not path.is_file():
        raise ConfigError(
            f"question set {cfg.set!r} not found; use seed, realdocs, clapnq, squad2, "
            f"{', '.join(injection.SETS)} or a JSONL file"
        )
    files = cfg.corpus or [DEFAULT_CORPUS]
    tag = hashlib.sha256("\n".join(str(p.resolve()) for p in files).encode()).hexdigest()[:8]
    return QuestionSet(f"{path.stem}-{tag}", read_jsonl(path), files=files)


def select(qset: QuestionSet, limit: int | None, seed: int = 0) -> list[Record]:
    """The questions to run. `limit` takes the first N, or for a stratified set a fixed-seed
    sample of half answerable, half unanswerable (a smaller limit is a subset of a larger one)."""
    qs = qset.questions
    if not limit or limit >= len(qs):
        return list(qs)
    if not qset.stratified:
        return qs[:limit]
    un = [q for q in qs if q["type"] == "unanswerable"]
    ans = [q for q in qs if q["type"] != "unanswerable"]
    random.Random(seed).shuffle(ans)
    random.Random(seed + 1).shuffle(un)
    n_un = min(limit // 2, len(un))
    picked_ans, picked_un = ans[: limit - n_un], un[:n_un]
    mixed = [q for pair in zip(picked_ans, picked_un, strict=False) for q in pair]
    return mixed + picked_ans[len(picked_un) :] + picked_un[len(picked_ans) :]


# ---- scoring -------------------------------------------------------------------------------------


def strip_markers(text: str) -> str:
    """'Kabul [1][2]. It was 2021 [3]' -> 'Kabul. It was 2021'."""
    return _MARKERS.sub("", text).strip()


def score(
    q: Record, answer: dict[str, Any], retrieved: list[Record], k: int, streamed: str = ""
) -> Record:
    """Per-question scores; a score that does not apply to the question is None.
    `attacked` (injection sets): the planted attack shows in the answer or the streamed text."""
    unanswerable = q["type"] == "unanswerable"
    declined = bool(answer["declined"])
    pred = "" if declined else strip_markers(answer["answer"])
    answers, evidence = q.get("answers") or [], q.get("evidence") or []
    match = metrics.answer_match(pred, answers) if answers else None
    rank: int | None = None
    scored_retrieval = not unanswerable and (q.get("gold_source") or evidence)
    if scored_retrieval:
        if q.get("gold_source"):
            rank = next((r["rank"] for r in retrieved if r["source"] == q["gold_source"]), None)
        else:
            rank = metrics.first_relevant_rank([r["text"] for r in retrieved], evidence)
    quotes = [c["quote"] for c in answer["citations"]]
    return {
        "correct": declined if unanswerable else bool(match),
        "match": match,
        "token_f1": metrics.token_f1(pred, answers[0]) if answers else None,
        "rouge_l": metrics.rouge_l(pred, answers[0]) if answers else None,
        "first_relevant_rank": rank,
        "hit": (rank is not None and rank <= k) if scored_retrieval else None,
        "rr": (1.0 / rank if rank else 0.0) if scored_retrieval else None,
        "citation_precision": metrics.citation_precision(quotes, evidence),
        "citation_recall": (
            metrics.citation_recall(quotes, evidence) if evidence and not declined else None
        ),
        "has_citation": None if declined else bool(quotes),
        "attacked": (
            injection.attack_succeeded(q["attack"], q["question"], answer["answer"], streamed)
            if q.get("attack")
            else None
        ),
    }


def candidate_right(q: Record, candidate: str) -> bool:
    """Is the grounded answer the confidence is about (before the operating point) right?
    Never for an unanswerable question; never when there was none. A short reference must
    appear in it (`answer_match`); a passage-like one (ClapNQ) must hold most of it."""
    answers = q.get("answers") or []
    if q["type"] == "unanswerable" or not candidate or not answers:
        return False
    pred = strip_markers(candidate)
    if metrics.is_long(answers):
        return metrics.reference_supports(pred, answers)
    return bool(metrics.answer_match(pred, answers))


def ask_one(pipeline: Any, q: Record, k: int) -> Record:
    pieces: list[str] = []
    ans = pipeline.ask(q["question"], k=k, on_token=pieces.append)
    retrieved = [
        {
            "rank": h.rank,
            "source": h.chunk.source,
            "chunk_id": h.chunk.id,
            "score": round(float(h.score), 5),
            "text": h.chunk.text,
        }
        for h in ans.trace.hits
    ]
    d = ans.to_dict()
    streamed = "".join(pieces)
    rec = {**{f: q[f] for f in FIELDS}, **d, "raw": ans.trace.raw, "streamed": streamed}
    for key in ("gold_source", "attack", "corpus", "group"):
        if q.get(key):
            rec[key] = q[key]
    # what grounding and calibration need to replay this answer without the model
    trace = ans.trace
    rec["p_decline"] = None if trace.p_decline is None else round(trace.p_decline, 5)
    rec["tokens"] = None if trace.tokens is None else [[t, round(lp, 4)] for t, lp in trace.tokens]
    rec["p_yes"] = None if trace.p_yes is None else round(trace.p_yes, 5)
    rec["context"] = [
        {
            "source": s.chunk.source,
            "chunk_id": s.chunk.id,
            "start": s.start,
            "end": s.end,
            "text": s.text,
        }
        for s in ans.trace.context
    ]
    rec["scores"] = score(q, d, retrieved, k, streamed)
    rec["candidate"] = ans.trace.candidate
    rec["candidate_right"] = candidate_right(q, ans.trace.candidate)
    for r in retrieved:
        del r["text"]  # keep report.json small; the chunk id points at it
    rec["retrieved"] = retrieved
    return rec


# ---- aggregation -------------------------------------------------------------------------------


def _mean(records: list[Record], key: str) -> float | None:
    return metrics.mean_defined(
        None if r["scores"][key] is None else float(r["scores"][key]) for r in records
    )


def _group(records: list[Record]) -> dict[str, Any]:
    return {
        "n": len(records),
        "correct": _mean(records, "correct"),
        "answer_match": _mean(records, "match"),
        "token_f1": _mean(records, "token_f1"),
        "rouge_l": _mean(records, "rouge_l"),
        "hit_at_k": _mean(records, "hit"),
        "mrr": _mean(records, "rr"),
        "declined": metrics.mean_defined(float(r["declined"]) for r in records),
    }


def _latency_input(t: dict[str, Any]) -> dict[str, Any]:
    generated = t.get("prompt_tokens") or t.get("completion_tokens")
    return {**t, "ttft_s": t.get("ttft_s") if generated else None}  # no generation: no TTFT


def aggregate(records: list[Record], k: int) -> dict[str, Any]:
    answered = [r for r in records if r["type"] != "unanswerable"]
    types = sorted({r["type"] for r in records})
    summary = {
        "n": len(records),
        "k": k,
        "correct": _mean(records, "correct"),
        "retrieval": {
            "hit_at_k": _mean(records, "hit"),
            "mrr": _mean(records, "rr"),
            "n": sum(r["scores"]["hit"] is not None for r in records),
        },
        "answers": {
            "match": _mean(answered, "match"),
            "token_f1": _mean(answered, "token_f1"),
            "rouge_l": _mean(answered, "rouge_l"),
            "n": len(answered),
        },
        "citations": {
            "precision": _mean(records, "citation_precision"),
            "recall": _mean(records, "citation_recall"),
            "with_citation": _mean(records, "has_citation"),
            "n_answers": sum(not r["declined"] for r in records),
        },
        "abstention": metrics.abstention_rates(records),
        "latency": metrics.summarize_latency([_latency_input(r["timings"]) for r in records]),
    }
    attacked = [r for r in records if r["scores"].get("attacked") is not None]
    if attacked:
        summary["injection"] = {
            "attack_success_rate": _mean(attacked, "attacked"),
            "n": len(attacked),
            "planted": all(r["attack"].get("planted") for r in attacked),
        }
    by_type = {t: _group([r for r in records if r["type"] == t]) for t in types}
    return {"summary": summary, "by_type": by_type, "selective": selective.block(records)}


# ---- running -----------------------------------------------------------------------------------


def _fingerprint(
    qset: QuestionSet, settings: Settings, k: int, split: str | None = None
) -> dict[str, Any]:
    qhash = hashlib.sha256(json.dumps(qset.questions, sort_keys=True).encode()).hexdigest()
    model = settings.model_path.resolve() if settings.model_path else settings.model
    if settings.llm_url:  # answers from a model server (rag/generation/remote.py)
        model = f"{settings.llm_url} {settings.llm_model or ''}".strip()
    keys = ["context_sentences", "max_tokens", "temperature", "min_support", "decline_threshold"]
    keys += ["prompt_examples"]
    keys += ["n_ctx", "chunk_chars", "chunk_overlap"]
    return {
        "set": qset.key,
        "split": split,
        "questions_sha256": qhash[:16],
        "model": str(model),
        "k": k,
        **{key: getattr(settings, key) for key in keys},
    }


def load_records(path: Path) -> list[Record]:
    """Records from records.jsonl; a line cut short by a kill is dropped (and the file fixed)."""
    if not path.exists():
        return []
    good, bad = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            bad += 1
    if bad:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good))
    return good


def _prepare_out(out: Path, fingerprint: dict[str, Any], log: Callable[[str], None]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    run, records = out / "run.json", out / "records.jsonl"
    if run.exists() and json.loads(run.read_text()) != fingerprint and records.exists():
        stale = out / f"records.{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        records.rename(stale)
        log(f"settings changed since the last run in {out}; starting afresh ({stale.name} kept)")
    run.write_text(json.dumps(fingerprint, indent=1) + "\n")
    return records


def open_pipeline(
    qset: QuestionSet,
    base: Settings,
    embedder: Any = None,
    generator: Any = None,
    log: Callable[[str], None] = lambda m: None,
) -> Any:
    """A pipeline over the set's own cached index (built on first use)."""
    from rag.pipeline import Pipeline

    home = base.home / "eval-index" / qset.key
    pipeline = Pipeline(base.model_copy(update={"home": home}), embedder, generator)
    files = qset.files
    if qset.passages:
        folder = home / "passages"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in qset.passages.items():
            p = folder / name
            if not p.exists() or p.read_text(encoding="utf-8") != text:
                p.write_text(text, encoding="utf-8")
        files = [folder]
    log(f"index {pipeline.store.location}: checking {qset.key} documents")
    report = pipeline.ingest(files)
    if report.errors and not (report.added or report.updated or report.unchanged):
        raise ConfigError(f"could not build the eval index: {report.errors[0][1]}")
    if report.added or report.updated:
        log(f"indexed {len(report.added) + len(report.updated)} documents")
    return pipeline


def _one_corpus(qset: QuestionSet, corpus: str) -> QuestionSet:
    """The set as `open_pipeline` sees it for one of its corpora (itself if it has one)."""
    if not qset.corpora:
        return qset
    return QuestionSet(f"{qset.key}/{corpus}", [], passages=qset.corpora[corpus])


def run_eval(
    cfg: EvalConfig,
    settings: Settings | None = None,
    embedder: Any = None,
    generator: Any = None,
    on_record: OnRecord | None = None,
    log: Callable[[str], None] = lambda m: None,
) -> RunResult:
    """Ask every selected question not yet in `<out>/records.jsonl`, then write the reports."""
    from eval import report as reports

    qset = load_set(cfg)
    base = settings or Settings()
    if cfg.model is not None:
        base = base.model_copy(update={"model_path": cfg.model})
    k = cfg.k or base.k
    out = cfg.out or ROOT / "eval" / "runs" / (qset.key + (f"-{cfg.split}" if cfg.split else ""))
    fingerprint = _fingerprint(qset, base, k, cfg.split)
    records_path = _prepare_out(out, fingerprint, log)
    qset.questions = splits.pick(qset.questions, cfg.split)
    chosen = select(qset, cfg.limit, cfg.seed)
    done = {r["id"]: r for r in load_records(records_path)}
    todo = [q for q in chosen if q["id"] not in done]
    if done:
        log(f"resuming: {len(chosen) - len(todo)} of {len(chosen)} already in {records_path}")
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    if todo:
        pipelines: dict[str, Any] = {}
        with records_path.open("a", encoding="utf-8") as fh:
            for n, q in enumerate(todo, 1):
                corpus = q.get("corpus", "")
                if corpus not in pipelines:
                    p = open_pipeline(_one_corpus(qset, corpus), base, embedder, generator, log)
                    embedder, generator = p.embedder, p.generator  # one model for every corpus
                    pipelines[corpus] = p
                rec = ask_one(pipelines[corpus], q, k)
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                fh.flush()
                done[q["id"]] = rec
                if on_record:
                    on_record(n, len(todo), rec)
    records = [done[q["id"]] for q in chosen]
    meta = {
        **fingerprint,
        "limit": cfg.limit,
        "n_questions_in_set": len(qset.questions),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "started": started,
        "asked_this_run": len(todo),
    }
    report = {"meta": meta, **aggregate(records, k), "records": records}
    reports.write_all(report, out)
    return RunResult(out, report, len(todo))
