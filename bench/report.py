"""Markdown tables from the benchmark JSON documents, and their copy into docs/performance.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _f(v: Any, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    out += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return out + [""]


def _machine(docs: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| benchmark | machine | run | command |", "| --- | --- | --- | --- |"]
    for name, d in docs.items():
        m = d["machine"]
        lines.append(
            f"| {name} | {m['nproc']} × {m['cpu']}, {m['ram_gb']} GB RAM | {m['date']} "
            f"({d['elapsed_s']} s) | `{d['command']}` |"
        )
    return lines + [""]


def _latency(r: dict[str, Any]) -> list[str]:
    lines = [
        f"**Answer latency** — {r['n']} seed questions ({r['n_generated']} generated), "
        f"model `{r['model']}`, share correct {_f(r['correct'], 3)}, "
        f"model load {r['model_load_s']} s",
        "",
    ]
    none = {"p50": None, "p95": None}  # a result from before the key existed
    rows = [
        [name, r.get(key, none)["p50"], r.get(key, none)["p95"]]
        for name, key in (
            ("retrieval (s)", "retrieval_s"),
            ("prompt tokens", "prompt_tokens"),
            ("completion tokens", "completion_tokens"),
            ("time to first token (s)", "ttft_s"),
            ("total (s)", "total_s"),
            ("reading the answer back (s, part of total)", "check_s"),
            ("tokens/s (generation)", "tokens_per_s"),
        )
    ]
    lines += _table(["", "p50", "p95"], rows)
    m = r["meets_targets"]
    lines.append(
        f"Targets: TTFT p50 ≤ 4 s: {_f(m['ttft_p50_s'])}; total p50 ≤ 8 s: {_f(m['total_p50_s'])}."
    )
    return lines + [""]


def _overhead(r: dict[str, Any]) -> list[str]:
    if not r.get("n"):
        return ["**Pipeline overhead** — no question produced a generation.", ""]
    same = [
        f"On the {r.get('same_output', '?')} questions with the same reply text: median paired "
        f"ratio {_f(r.get('same_output_median_paired_ratio'), 3)}, "
        f"{_f(r.get('same_output_paired_ratio_without_retrieval'), 3)} without retrieval; "
        f"the pipeline takes {_f(r.get('same_output_extra_s_p50'), 3)} s more (p50). "
        "Target (≤ 1.05) judged on the same-reply median paired ratio.",
        "",
    ]
    return [
        f"**Pipeline overhead** — {r['n']} questions, `Pipeline.ask` vs `llm.create_completion` "
        f"on the identical prompt (same process, alternating; KV cache reset before each call)",
        "",
        *_table(
            [
                "pipeline p50 (s)",
                "direct p50 (s)",
                "ratio of medians",
                "median paired ratio",
                "same prompt",
                "same reply text",
                "retrieval p50 (s)",
                "(p50 − retrieval) / direct p50",
                "≤ 1.05",
            ],
            [
                [
                    r["pipeline_s_p50"],
                    r["direct_s_p50"],
                    _f(r["ratio_of_medians"], 3),
                    _f(r["median_paired_ratio"], 3),
                    r["same_prompt"],
                    f"{r.get('same_output', '?')}/{r['n']}",
                    r.get("retrieval_s_p50"),
                    _f(r.get("ratio_without_retrieval"), 3),
                    r["meets_target"],
                ]
            ],
        ),
        *same,
    ]


def _ingest(r: dict[str, Any]) -> list[str]:
    st = r["stages_s"]
    return [
        f"**Ingest throughput** — synthetic corpus, {r['files']} files, "
        f"{r['bytes'] / 1e6:.1f} MB, {r['chunks']} chunks",
        "",
        *_table(
            [
                "pipeline (s)",
                "raw encode (s)",
                "pipeline chunks/s",
                "raw chunks/s",
                "ratio",
                "≥ 0.9",
                "read (s)",
                "chunking (s)",
                "store write (s)",
                "embedding + rest (s)",
            ],
            [
                [
                    r["pipeline_s"],
                    r["raw_encode_s"],
                    r["pipeline_chunks_per_s"],
                    r["raw_chunks_per_s"],
                    _f(r["ratio"], 3),
                    r["ratio"] >= r["target_ratio"],
                    st["read_s"],
                    st["chunk_s"],
                    st["store_write_s"],
                    st["embed_and_rest_s"],
                ]
            ],
        ),
    ]


def _index(r: dict[str, Any]) -> list[str]:
    t = r["threads"]
    lines = [
        f"**Index scale** — synthetic clustered unit vectors, d={r['dim']}, "
        f"{r['n_queries']} single queries, recall@{r['k']} vs exact; "
        "★ = `choose_spec` pick",
        "",
    ]
    rows = []
    for size in r["sizes"]:
        for ix in size["indexes"]:
            meets = ix.get("meets_targets")
            probe = f" (nprobe {ix['nprobe']}/{ix['nlist']})" if "nprobe" in ix else ""
            rows.append(
                [
                    f"{size['n']:,}",
                    ("★ " if ix["chosen"] else "") + ix["spec"] + probe,
                    ix["build_s"],
                    f"{ix['memory_bytes'] / 2**20:.0f}",
                    f"{ix['rss_delta_bytes'] / 2**20:.0f}",
                    _f(ix["query_p50_ms_1t"], 3),
                    _f(ix["query_p95_ms_1t"], 3),
                    _f(ix[f"query_p50_ms_{t}t"], 3),
                    _f(ix[f"query_p95_ms_{t}t"], 3),
                    _f(ix["recall_at_10"], 4),
                    "–"
                    if meets is None
                    else (
                        "yes"
                        if all(meets.values())
                        else "**no** " + ", ".join(k for k, ok in meets.items() if not ok)
                    ),
                ]
            )
    lines += _table(
        [
            "n",
            "index",
            "build (s)",
            "size (MiB)",
            "RSS Δ (MiB)",
            "p50 1t (ms)",
            "p95 1t (ms)",
            f"p50 {t}t (ms)",
            f"p95 {t}t (ms)",
            "recall@10",
            "meets p50 ≤ 5 ms, recall ≥ 0.95, ≤ 1 GB",
        ],
        rows,
    )
    sweeps = [(s["n"], ix) for s in r["sizes"] for ix in s["indexes"] if ix.get("nprobe_sweep")]
    if sweeps:
        lines += [
            "IVF nprobe sweep (1 thread): "
            + "; ".join(
                f"{n:,} {ix['spec']}: "
                + ", ".join(
                    f"{p['nprobe']} → {p['query_p50_ms_1t']:.2f} ms / {p['recall_at_10']:.3f}"
                    for p in ix["nprobe_sweep"]
                )
                for n, ix in sweeps
            ),
            "",
        ]
    return lines


def _cold(r: dict[str, Any]) -> list[str]:
    return [
        f'**Cold start** — `rag ask --json "{r["question"]}"` as a new process, '
        f"model `{r['model']}`, {len(r['runs'])} runs",
        "",
        *_table(
            [
                "first run, spawn → exit (s)",
                "p50 spawn → exit (s)",
                "p50 startup (s)",
                "p50 spawn → first token (s)",
            ],
            [
                [
                    r["first_wall_s"],
                    r["wall_s_p50"],
                    r["startup_s_p50"],
                    r["first_token_after_spawn_s_p50"],
                ]
            ],
        ),
    ]


def _llama(r: dict[str, Any]) -> list[str]:
    return [
        f"**llama.cpp build speed** — `{r['model']}`, {r['threads']} threads, median of "
        f"{r['runs']}: {r['prompt_tokens']}-token prompt as one batch, {r['gen_tokens']} "
        "tokens generated one at a time",
        "",
        *_table(
            ["prompt eval (tok/s)", "generation (tok/s)", "compiled CPU features"],
            [[r["prompt_tok_s"], r["gen_tok_s"], r["features"]]],
        ),
    ]


def _cli(r: dict[str, Any]) -> list[str]:
    rows = []
    for key, label in (
        ("help", "`rag --help`"),
        ("list", "`rag list`"),
        ("ask_cold", "`rag ask --json`, cold"),
        ("ask_resident", "`rag ask --json`, `rag serve` running"),
    ):
        if key in r:
            x = r[key]
            over = round(x["wall_s"] - x["ttft_s"], 2) if "ttft_s" in x else None
            server = x.get("server_peak_mib")
            rows.append(
                [
                    label,
                    x["wall_s"],
                    x["cpu_s"],
                    f"{x['peak_mib']:.0f}" + (f" (server {server:.0f})" if server else ""),
                    x.get("ttft_s"),
                    over,
                    x.get("prompt_tokens"),
                    x["load"],
                ]
            )
    return [
        f"**Command line** — whole processes, median of {r['runs']} after a warm-up, "
        f'question "{r["question"]}", code from `{Path(r["root"]).name}`',
        "",
        *_table(
            [
                "command",
                "wall (s)",
                "CPU (s)",
                "peak memory (MiB)",
                "time to first token (s)",
                "wall − first token (s)",
                "prompt tokens",
                "load average",
            ],
            rows,
        ),
    ]


def _pgvector(r: dict[str, Any]) -> list[str]:
    rows = []
    for size in r["sizes"]:
        for f in size["faiss"]:
            label = f["spec"] + (" (files store)" if f["files_store_default"] else "")
            rows.append(
                [
                    f"{size['n']:,}",
                    label,
                    f["build_s"],
                    _mib(f["disk_bytes"]),
                    f["query_p50_ms"],
                    f["query_p95_ms"],
                    f["recall_at_10"],
                ]
            )
        pg = size["pgvector"]
        for ef in pg["ef_search"]:
            rows.append(
                [
                    f"{size['n']:,}",
                    f"{pg['spec']}, ef_search {ef['ef_search']}",
                    pg["build_s"],
                    _mib(pg["disk_bytes"]),
                    ef["query_p50_ms"],
                    ef["query_p95_ms"],
                    ef["recall_at_10"],
                ]
            )
    fusion = []
    if "fusion" in r:
        f = r["fusion"]
        fusion = [
            f"Reciprocal-rank fusion over {f['chunks']:,} chunks (k = {f['k']}, "
            f"{f['n_queries']} questions): in SQL (one statement) p50 {f['sql_p50_ms']} ms / p95 "
            f"{f['sql_p95_ms']} ms; two queries fused in Python p50 {f['python_p50_ms']} ms / "
            f"p95 {f['python_p95_ms']} ms; same top k for {f['same_top_k']:.0%} of questions.",
            "",
        ]
    return [
        f"**pgvector beside FAISS** — {r['dim']}-d clustered unit vectors, {r['n_queries']} "
        f"queries one at a time, recall@{r['k']} against exact search; pgvector's size is table "
        "+ index, its latency includes the round trip over a Unix socket",
        "",
        *_table(
            ["vectors", "index", "build (s)", "on disk (MiB)", "p50 (ms)", "p95 (ms)", "recall@10"],
            rows,
        ),
        *fusion,
    ]


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def _store_start(r: dict[str, Any]) -> list[str]:
    return [
        "**Files store start-up** — a new process opens the index and is ready to search "
        f"(median of {r['runs']}): search indexes loaded from the generation vs rebuilt from the "
        "stored vectors and texts (before format 3)",
        "",
        *_table(
            ["index", "chunks", "loaded (s)", "rebuilt (s)", "load average"],
            [
                [x["index"], f"{x['chunks']:,}", x["loaded_s"], x["rebuilt_s"], x["load_avg"]]
                for x in r["indexes"]
            ],
        ),
    ]


def _stack(r: dict[str, Any]) -> list[str]:
    kinds = ["model server", "replicas", "postgres", "load balancer"]
    return [
        f"**The stack** (`make stack`: Postgres + pgvector, one model server ({r['model']}), "
        f"N replicas, HAProxy): {r['questions']} questions sent at once through the load "
        "balancer; CPU seconds per answer by kind of process",
        "",
        *_table(
            ["replicas", "answers/min", "p50 (s)", "max (s)", "cited", *kinds, "ready (s)", "load"],
            [
                [
                    x["replicas"],
                    x["answers_per_min"],
                    x["latency_p50_s"],
                    x["latency_max_s"],
                    f"{x['cited']}/{r['questions']}",
                    *[x["cpu_s_per_answer"].get(k, "") for k in kinds],
                    x["ready_s"],
                    x["load_avg"],
                ]
                for x in r["runs"]
            ],
        ),
    ]


def markdown(docs: dict[str, dict[str, Any]]) -> str:
    lines = ["### Results", "", *_machine(docs)]
    render = {
        "latency": _latency,
        "overhead": _overhead,
        "ingest": _ingest,
        "index": _index,
        "cold": _cold,
        "cli": _cli,
        "llama": _llama,
        "pgvector": _pgvector,
        "store-start": _store_start,
        "stack": _stack,
    }
    for name, fn in render.items():
        if name in docs:
            lines += fn(docs[name]["result"])
    return "\n".join(lines).rstrip() + "\n"


def update_doc(path: Path, table: str) -> None:
    """Replace the text between the bench markers of `path` (append the markers if missing)."""
    text = path.read_text() if path.exists() else "# Performance\n"
    block = f"{START}\n{table}{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
