"""Multi-turn conversations (eval/questions/conversations.jsonl) replayed turn by turn.

    result = run(EvalConfig(set="conversations", split="report"))

Each conversation goes through `Pipeline.ask` with the history a client would send (its prelude,
then every earlier turn with the answer the system gave), the same call the page, `rag chat`
and `/v1/chat/completions` make. Every turn's reference standalone question is also asked alone
(cached in `<out>/alone.jsonl`, so a second run with the same model asks only the turns).
Per turn: what was searched (the `retrieving` stage), whether it was rewritten, whether it means
the reference standalone question (`means_same`: every group of the turn's `key` is in it), the
answer's scores (eval.harness.score), and the time from the call to the search against the same
for the question alone (`added_s`). The set's format: eval/questions/README.md.
Does not: judge the answer's wording beyond the set's acceptable answers.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from eval import splits, squad
from eval.harness import EvalConfig, QuestionSet, RunResult, load_records, open_pipeline, score
from eval.sets import CONVERSATIONS_SET, TURN_FIELDS, TURN_KINDS, read_conversations
from rag.config import DEFAULT_CORPUS, ROOT, Settings
from rag.errors import ConfigError

WORD = re.compile(r"[\w'-]+")
Record = dict[str, Any]


def corpus_sets(convs: list[Record], squad_dir: Path | None = None) -> dict[str, QuestionSet]:
    """One index per corpus, shared with the single-question sets (same keys, same cache)."""
    out: dict[str, QuestionSet] = {}
    squad_corpora: dict[str, dict[str, str]] | None = None
    for corpus in sorted({c["corpus"] for c in convs}):
        if corpus == "essay":
            out[corpus] = QuestionSet("seed", [], files=[DEFAULT_CORPUS])
            continue
        if squad_corpora is None:
            squad_corpora = squad.load(squad_dir)[1]
        if corpus not in squad_corpora:
            raise ConfigError(f"corpus {corpus!r} is neither 'essay' nor a SQuAD 2.0 article")
        out[corpus] = QuestionSet(f"squad2/{corpus}", [], passages=squad_corpora[corpus])
    return out


def _asked(pipeline: Any, question: str, history: list[dict[str, str]], k: int) -> Record:
    """One call, as a client makes it: the answer, what was searched and how long it took to
    get to the search."""
    t0 = time.perf_counter()
    seen: dict[str, Any] = {}

    def on_stage(name: str, info: dict[str, Any]) -> None:
        if name == "condensing":
            seen["condensed"] = True
        if name == "retrieving" and "searched" not in seen:
            seen["searched"] = info.get("question", "")
            seen["to_search_s"] = time.perf_counter() - t0

    ans = pipeline.ask(question, k=k, history=history or None, on_stage=on_stage)
    d = ans.to_dict()
    hits = ans.trace.hits
    retrieved = [{"rank": h.rank, "source": h.chunk.source, "text": h.chunk.text} for h in hits]
    return {
        "answer": d,
        "searched": seen.get("searched", ""),
        "to_search_s": round(seen.get("to_search_s", 0.0), 4),
        "condensed": bool(seen.get("condensed")),
        "retrieved": retrieved,
    }


def likeness(embed: Callable[[list[str]], np.ndarray], searched: str, standalone: str) -> float:
    """The cosine of the two questions' embeddings (1.0 for the same words): kept for reading,
    not a judge (on the fit half "injured" and "died" in one question scored 0.95, two
    paraphrases 0.69)."""
    a, b = " ".join(searched.lower().split()), " ".join(standalone.lower().split())
    if a.rstrip("?") == b.rstrip("?"):
        return 1.0
    va, vb = embed([searched, standalone])
    return round(float(np.dot(va, vb)), 4)


def meets(text: str, key: list[list[str]]) -> bool:
    """Does `text` mean what the turn's `key` says its standalone question means? Every group
    needs one alternative at the start of a word (or of consecutive words) of `text`."""
    tokens = WORD.findall(text.lower().replace("’", "'"))
    tokens += [part for t in tokens if "-" in t for part in t.split("-") if part]

    def has(alt: str) -> bool:
        parts = alt.lower().split()
        return any(
            all(tokens[i + j].startswith(p) for j, p in enumerate(parts))
            for i in range(len(tokens) - len(parts) + 1)
        )

    return all(any(has(alt) for alt in group) for group in key)


def means_same(rec: Record) -> bool | None:
    """Does the question searched for a turn mean its reference standalone question? (None
    without a key.)"""
    if rec["searched"] == " ".join(rec["question"].split()) and not rec["depends"]:
        return True  # searched as typed, and it stands on its own
    key = rec.get("key")
    return None if not key else meets(rec["searched"], key)


def asker(
    pipeline: Any,
    corpus: str,
    model: str,
    k: int,
    cache: dict[tuple[str, str], Record],
    sink: Callable[[str], Any] = lambda line: None,
) -> Callable[[Record], Record]:
    """What a turn's reference standalone question gets asked alone, with no history: asked
    once per (corpus, question) and kept in `cache` (each new one also goes to `sink` as a
    JSON line, for `<out>/alone.jsonl`)."""

    def alone(turn: Record) -> Record:
        key = (corpus, turn["standalone"])
        if key not in cache:
            call = _asked(pipeline, turn["standalone"], [], k)
            cache[key] = {"corpus": corpus, "question": key[1], "model": model, "k": k}
            cache[key]["call"] = call
            sink(json.dumps(cache[key], ensure_ascii=False) + "\n")
        return _scored(turn, "alone", cache[key]["call"], k)

    return alone


def _scored(turn: Record, tid: str, call: Record, k: int) -> Record:
    q = {**turn, "id": tid}
    s = score(q, call["answer"], call["retrieved"], k)
    return {
        "answer": call["answer"]["answer"],
        "declined": call["answer"]["declined"],
        "searched": call["searched"],
        "to_search_s": call["to_search_s"],
        "condensed": call.get("condensed", False),
        "correct": s["correct"],
        "hit": s["hit"],
    }


def replay(
    pipeline: Any,
    conv: Record,
    k: int,
    alone: Callable[[Record], Record],
    embed: Callable[[list[str]], np.ndarray],
) -> list[Record]:
    """Every turn of one conversation, asked with the history so far."""
    history: list[dict[str, str]] = [dict(m) for m in conv["prelude"]]
    records = []
    for n, turn in enumerate(conv["turns"], 1):
        tid = f"{conv['id']}#{n}"
        asked = pipeline.check_question(turn["question"])
        inside = _scored(turn, tid, _asked(pipeline, turn["question"], history, k), k)
        first = not history and turn["standalone"] == turn["question"]
        by_itself = inside if first else alone(turn)  # a first turn is asked alone already
        searched = inside["searched"]
        alike = likeness(embed, searched, turn["standalone"])
        key = turn.get("key")
        rec = {
            "id": tid,
            "conversation": conv["id"],
            "corpus": conv["corpus"],
            "turn": n,
            "history_messages": len(history),
            **{f: turn[f] for f in TURN_FIELDS},
            "searched": searched,
            "condensed": inside["condensed"],  # the rewrite step ran
            "rewritten": searched != asked,  # and changed the question
            "likeness": alike,
            "key": key,
            "inside": inside,
            "alone": by_itself,
            "same_outcome": (inside["declined"], inside["correct"])
            == (by_itself["declined"], by_itself["correct"]),
            "same_answer": inside["answer"] == by_itself["answer"],
            "added_s": round(inside["to_search_s"] - by_itself["to_search_s"], 4),
        }
        rec["means_same"] = means_same(rec)
        records.append(rec)
        history += [
            {"role": "user", "content": turn["question"]},
            {"role": "assistant", "content": inside["answer"]},
        ]
    return records


# ---- summary -------------------------------------------------------------------------------------


def _rate(records: list[Record], key: Callable[[Record], bool]) -> float | None:
    return round(sum(map(key, records)) / len(records), 3) if records else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _group(records: list[Record]) -> Record:
    answerable = [r for r in records if r["type"] != "unanswerable"]
    return {
        "n": len(records),
        "condensed": _rate(records, lambda r: r["condensed"]),
        "rewritten": _rate(records, lambda r: r["rewritten"]),
        "means_same": _rate(
            [r for r in records if r["means_same"] is not None], lambda r: r["means_same"]
        ),
        "correct": _rate(records, lambda r: r["inside"]["correct"]),
        "correct_alone": _rate(records, lambda r: r["alone"]["correct"]),
        "same_outcome": _rate(records, lambda r: r["same_outcome"]),
        "same_answer": _rate(records, lambda r: r["same_answer"]),
        "false_declines": _rate(answerable, lambda r: r["inside"]["declined"]),
        "false_declines_alone": _rate(answerable, lambda r: r["alone"]["declined"]),
        "added_s_median": _median([r["added_s"] for r in records]),
        "added_s_p90": (
            round(float(np.percentile([r["added_s"] for r in records], 90)), 3) if records else None
        ),
    }


def summarize(records: list[Record]) -> Record:
    """Self-contained turns with a history before them, dependent turns, and each kind."""
    later = [r for r in records if r["history_messages"]]
    own = [r for r in later if not r["depends"]]
    dep = [r for r in records if r["depends"]]
    return {
        "self_contained": _group(own),
        "dependent": _group(dep),
        "by_kind": {k: _group([r for r in records if r["kind"] == k]) for k in TURN_KINDS},
        "decision": {
            "n": len(later),
            "accuracy": _rate(later, lambda r: r["condensed"] == r["depends"]),
            "missed_dependent": sum(r["depends"] and not r["condensed"] for r in later),
            "rewrote_self_contained": sum(not r["depends"] and r["condensed"] for r in later),
        },
        "turns": len(records),
    }


ROWS = (
    ("turns", "n"),
    ("rewrite step ran", "condensed"),
    ("question changed", "rewritten"),
    ("search means the reference", "means_same"),
    ("answer right", "correct"),
    ("answer right, reference asked alone", "correct_alone"),
    ("same outcome as asked alone", "same_outcome"),
    ("same answer text as asked alone", "same_answer"),
    ("false declines", "false_declines"),
    ("false declines, reference alone", "false_declines_alone"),
    ("added latency to the search, median s", "added_s_median"),
    ("added latency to the search, p90 s", "added_s_p90"),
)


def markdown(report: Record) -> str:
    s, meta = report["summary"], report["meta"]
    lines = [
        f"# Conversations: {meta['set']} ({meta['split'] or 'all'} half)",
        "",
        f"{meta['conversations']} conversations, {s['turns']} turns; model {meta['model']}; "
        f"finished {meta['finished']}.",
        "",
        "| | self-contained, after a history | dependent |",
        "|---|---|---|",
    ]
    for label, key in ROWS:
        lines.append(f"| {label} | {s['self_contained'][key]} | {s['dependent'][key]} |")
    d = s["decision"]
    lines += [
        "",
        f"Rewrite decision on {d['n']} later turns: accuracy {d['accuracy']}, "
        f"{d['missed_dependent']} dependent turns searched as typed, "
        f"{d['rewrote_self_contained']} self-contained turns rewritten.",
        "",
        "| kind | n | rewritten | means the reference | right | right alone | false declines |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, g in s["by_kind"].items():
        if g["n"]:
            lines.append(
                f"| {kind} | {g['n']} | {g['rewritten']} | {g['means_same']} | {g['correct']} | "
                f"{g['correct_alone']} | {g['false_declines']} |"
            )
    return "\n".join(lines) + "\n"


# ---- running -------------------------------------------------------------------------------------


def summary_rows(report: Record) -> list[tuple[str, Any]]:
    s = report["summary"]
    rows: list[tuple[str, Any]] = []
    for part, label in (("self_contained", "self-contained"), ("dependent", "dependent")):
        g = s[part]
        rows += [(f"{label}: {name}", g[key]) for name, key in ROWS]
    rows.append(("rewrite decision accuracy", s["decision"]["accuracy"]))
    return rows


def run(
    cfg: EvalConfig,
    settings: Settings | None = None,
    embedder: Any = None,
    generator: Any = None,
    on_conversation: Callable[[int, int], None] | None = None,  # (done, to do)
    log: Callable[[str], None] = lambda m: None,
) -> RunResult:
    """Replay the selected conversations not yet in `<out>/records.jsonl`; write the reports."""
    path = Path(cfg.set) if cfg.set != "conversations" else CONVERSATIONS_SET
    convs = splits.pick(read_conversations(path), cfg.split)
    if cfg.limit:
        convs = convs[: cfg.limit]
    base = settings or Settings()
    if cfg.model is not None:
        base = base.model_copy(update={"model_path": cfg.model})
    k = cfg.k or base.k
    name = "conversations" + (f"-{cfg.split}" if cfg.split else "")
    out = cfg.out or ROOT / "eval" / "runs" / name
    out.mkdir(parents=True, exist_ok=True)
    model = str(base.model_path or base.llm_url or base.model)
    records_path, alone_path = out / "records.jsonl", out / "alone.jsonl"
    done = {r["id"]: r for r in load_records(records_path) if r.get("model") == model}
    cache = {
        (a["corpus"], a["question"]): a
        for a in load_records(alone_path)
        if a.get("model") == model and a.get("k") == k
    }
    replayed = {r["conversation"] for r in done.values()}
    todo = [c for c in convs if c["id"] not in replayed]
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    sets = corpus_sets(convs, cfg.squad_dir)
    pipelines: dict[str, Any] = {}
    with records_path.open("a", encoding="utf-8") as fh, alone_path.open("a") as ah:
        for n, conv in enumerate(todo, 1):
            corpus = conv["corpus"]
            if corpus not in pipelines:
                p = open_pipeline(sets[corpus], base, embedder, generator, log)
                embedder, generator = p.embedder, p.generator
                pipelines[corpus] = p
            pipeline = pipelines[corpus]

            alone = asker(pipeline, corpus, model, k, cache, ah.write)
            embed = pipeline.query_embedder.embed
            for rec in replay(pipeline, conv, k, alone, embed):
                rec["model"] = model
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                done[rec["id"]] = rec
            fh.flush()
            ah.flush()
            if on_conversation:
                on_conversation(n, len(todo))
    chosen = {c["id"]: c for c in convs}
    records = [r for r in done.values() if r["conversation"] in chosen]
    for r in records:  # today's keys judge every record, old ones too
        r["key"] = chosen[r["conversation"]]["turns"][r["turn"] - 1].get("key")
        r["means_same"] = means_same(r)
    meta = {
        "set": "conversations",
        "split": cfg.split,
        "model": model,
        "k": k,
        "conversations": len(convs),
        "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    report = {"meta": meta, "summary": summarize(records), "records": records}
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    (out / "report.md").write_text(markdown(report))
    return RunResult(out, report, sum(len(c["turns"]) for c in todo))
