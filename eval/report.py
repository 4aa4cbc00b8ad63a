"""Write an evaluation report three ways: report.json (everything), report.md (tables) and
report.html (self-contained: tables plus matplotlib plots inlined as base64 PNG).

The numbers come from the report dict (eval/harness.py `aggregate`, eval/selective.py); this
module only formats and draws them. matplotlib is imported when the html is written, not before.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from eval import selective

ROWS = [  # (label, summary path, format)
    ("questions", "n", "d"),
    ("correct (all types; declining counts for unanswerable)", "correct", "%"),
    ("retrieval hit@k", "retrieval.hit_at_k", "%"),
    ("retrieval MRR", "retrieval.mrr", ".3f"),
    ("answer match (normalized)", "answers.match", "%"),
    ("answer token F1", "answers.token_f1", ".3f"),
    ("answer ROUGE-L", "answers.rouge_l", ".3f"),
    ("citation precision", "citations.precision", "%"),
    ("citation recall", "citations.recall", "%"),
    ("answers with >=1 citation", "citations.with_citation", "%"),
    ("decline rate, unanswerable", "abstention.decline_rate_unanswerable", "%"),
    ("false-decline rate, answerable", "abstention.false_decline_rate_answerable", "%"),
    ("retrieval p50 / p95 (s)", "latency.retrieval_s_p50|latency.retrieval_s_p95", ".2f"),
    ("time to first token p50 / p95 (s)", "latency.ttft_s_p50|latency.ttft_s_p95", ".2f"),
    ("total p50 / p95 (s)", "latency.total_s_p50|latency.total_s_p95", ".2f"),
    ("generation tokens/s (mean)", "latency.tokens_per_s_mean", ".1f"),
    ("attack success rate (answer or stream)", "injection.attack_success_rate", "%"),
]
TYPE_COLS = ["n", "correct", "answer_match", "token_f1", "rouge_l", "hit_at_k", "mrr", "declined"]
SELECTIVE_COLS = [  # (header, key in a `selective` group, format)
    ("n", "n", "d"),
    ("with candidate", "n_candidates", "d"),
    ("AURC", "aurc", ".3f"),
    ("optimal", "aurc_optimal", ".3f"),
    ("E-AURC", "e_aurc", ".3f"),
    *((f"acc@{c}%", f"accuracy_at_{c}", "%") for c in selective.COVERAGES),
    ("ECE", "ece", ".3f"),
    ("AUROC", "auroc", ".3f"),
    ("answered", "coverage", "%"),
    ("precision", "precision", "%"),
]


def get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        d = d.get(part) if isinstance(d, dict) else None  # type: ignore[assignment]
    return d


def fmt(value: Any, spec: str = ".3f") -> str:
    if value is None:
        return "–"
    if spec == "%":
        return f"{100 * value:.1f}%"
    return format(value, spec)


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    s = report["summary"]
    return [
        (label, " / ".join(fmt(get(s, p), spec) for p in path.split("|")))
        for label, path, spec in ROWS
        if "injection" in s or not path.startswith("injection")
    ] + selective_summary(report)


def selective_summary(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline selective-prediction rows (all questions) for the summary table."""
    block = selective.of_report(report)
    g = block["groups"].get("all", {})
    point = (
        "answered at the operating point: coverage / precision",
        f"{fmt(g.get('coverage'), '%')} / {fmt(g.get('precision'), '%')}",
    )
    if not block["confidence"]:
        return [("selective prediction", selective.NO_CONFIDENCE), point]
    accs = " / ".join(fmt(g[f"accuracy_at_{c}"], "%") for c in selective.COVERAGES)
    return [
        ("AURC / optimal (lower is better)", f"{fmt(g['aurc'])} / {fmt(g['aurc_optimal'])}"),
        ("selective accuracy at " + " / ".join(map(str, selective.COVERAGES)) + "% coverage", accs),
        (f"expected calibration error ({block['bins']} bins)", fmt(g["ece"])),
        ("AUROC of confidence, right vs wrong candidates", fmt(g.get("auroc"))),
        point,
    ]


def selective_note(report: dict[str, Any]) -> str:
    block = selective.of_report(report)
    if not block["confidence"]:
        return (
            f"{selective.NO_CONFIDENCE.capitalize()}: its records carry no `confidence` (made "
            "before it existed), so only the operating point is shown."
        )
    left = block["n_without_confidence"]
    return (
        "Questions ranked by the confidence of their candidate answer (no candidate: last, "
        "wrong); coverage over all questions of the group; ECE over answers with a candidate."
        + (
            f" {left} records carry no confidence (made before it existed) and are left out."
            if left
            else ""
        )
    )


def selective_rows(report: dict[str, Any]) -> list[list[str]]:
    return [
        [name] + [fmt(g.get(key), spec) for _, key, spec in SELECTIVE_COLS]
        for name, g in selective.of_report(report)["groups"].items()
    ]


def reliability_rows(report: dict[str, Any]) -> list[list[str]]:
    """The reliability bins of all questions with a candidate (none without confidence)."""
    block = selective.of_report(report)
    if not block["confidence"]:
        return []
    return [
        [f"{b['lo']:.1f}–{b['hi']:.1f}", str(b["n"]), fmt(b["confidence"]), fmt(b["accuracy"])]
        for b in block["groups"]["all"]["reliability"]
    ]


def type_rows(report: dict[str, Any]) -> list[list[str]]:
    return [
        [t] + [fmt(g[c], "d" if c == "n" else ".3f") for c in TYPE_COLS]
        for t, g in report["by_type"].items()
    ]


def _title(report: dict[str, Any]) -> str:
    m = report["meta"]
    return f"Evaluation: {m['set']} — {Path(str(m['model'])).name}, k={m['k']}"


def _meta_line(report: dict[str, Any]) -> str:
    m = report["meta"]
    return (
        f"{report['summary']['n']} questions (of {m['n_questions_in_set']}; limit {m['limit']}), "
        f"finished {m['finished']}; context_sentences={m['context_sentences']}, "
        f"max_tokens={m['max_tokens']}, temperature={m['temperature']}"
    )


def _failures(report: dict[str, Any], n: int = 15) -> list[dict[str, Any]]:
    return [r for r in report["records"] if not r["scores"]["correct"]][:n]


def _expected(r: dict[str, Any]) -> str:
    text = "; ".join(r["answers"][:2]) or "(decline)"
    return text if len(text) <= 160 else text[:157] + "..."


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# {_title(report)}",
        "",
        _meta_line(report),
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    lines += [f"| {a} | {b} |" for a, b in summary_rows(report)]
    lines += ["", "## By question type", "", "| type | " + " | ".join(TYPE_COLS) + " |"]
    lines += ["| --- " * (len(TYPE_COLS) + 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in type_rows(report)]
    lines += ["", "## Selective prediction", "", selective_note(report), ""]
    lines += ["| group | " + " | ".join(h for h, _, _ in SELECTIVE_COLS) + " |"]
    lines += ["| --- " * (len(SELECTIVE_COLS) + 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in selective_rows(report)]
    if reliability_rows(report):
        lines += ["", "### Reliability (all answers with a candidate)", ""]
        lines += ["| confidence | n | mean confidence | accuracy |", "| --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(row) + " |" for row in reliability_rows(report)]
    lines += ["", "## Incorrect (first 15)", "", "| id | type | question | answer | expected |"]
    lines += ["| --- | --- | --- | --- | --- |"]
    for r in _failures(report):
        cells = [r["id"], r["type"], r["question"], r["answer"], _expected(r)]
        lines.append(
            "| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines) + "\n"


# ---- plots ---------------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plots(report: dict[str, Any]) -> dict[str, str]:
    """{title: base64 PNG}: accuracy by type, latency distribution, rank of first relevant chunk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    types = list(report["by_type"])
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = range(len(types))
    for shift, key, color in ((-0.2, "correct", "#4a7"), (0.2, "token_f1", "#47a")):
        values = [report["by_type"][t][key] or 0 for t in types]
        ax.bar([x + shift for x in xs], values, width=0.4, color=color, label=key)
    ax.set_xticks(list(xs), types, rotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share correct / mean F1")
    ax.legend(fontsize="small")
    out["Accuracy by question type"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3))
    timings = [r["timings"] for r in report["records"]]
    top = max([t["total_s"] for t in timings] + [1e-3])
    bins = [top * i / 30 for i in range(31)]  # shared bins so the three series line up
    for key, color in (("total_s", "#47a"), ("ttft_s", "#e94"), ("retrieval_s", "#4a7")):
        ax.hist([t[key] for t in timings], bins=bins, alpha=0.6, label=key, color=color)
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.legend()
    out["Latency distribution"] = _png(fig)
    plt.close(fig)

    k = report["summary"]["k"]
    ranks = Counter(
        r["scores"]["first_relevant_rank"]
        for r in report["records"]
        if r["scores"]["hit"] is not None
    )
    labels = [str(i) for i in range(1, k + 1)] + ["none"]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(labels, [ranks.get(i, 0) for i in range(1, k + 1)] + [ranks.get(None, 0)], color="#47a")
    ax.set_xlabel("rank of the first relevant chunk")
    ax.set_ylabel("questions")
    out["Rank of the first relevant chunk"] = _png(fig)
    plt.close(fig)
    return out


def selective_plots(report: dict[str, Any]) -> dict[str, str]:
    """{title: base64 PNG}: the risk-coverage curve (with the perfect ranking's and the run's
    operating point) and the reliability diagram; empty when the run has no confidence."""
    block = selective.of_report(report)
    if not block["confidence"]:
        return {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf, right = selective.labels([r for r in report["records"] if "confidence" in r])
    g = block["groups"]["all"]
    out: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    coverage, risk = selective.risk_coverage(conf, right)
    _, best = selective.risk_coverage(right.astype(float), right)
    ax.plot(coverage, risk, color="#47a", label=f"confidence (AURC {fmt(g['aurc'])})")
    ax.plot(coverage, best, "--", color="#999", label=f"perfect ranking ({fmt(g['aurc_optimal'])})")
    if g["coverage"] and g["precision"] is not None:
        ax.plot([g["coverage"]], [1 - g["precision"]], "o", color="#e94", label="operating point")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("risk (share of answers wrong)")
    ax.legend(fontsize="small")
    out["Risk against coverage"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    bins = [b for b in g["reliability"] if b["n"]]
    ax.bar(
        [(b["lo"] + b["hi"]) / 2 for b in bins],
        [b["accuracy"] for b in bins],
        width=1 / block["bins"],
        edgecolor="white",
        color="#47a",
        label="share right",
    )
    for b in bins:
        ax.annotate(
            str(b["n"]),
            ((b["lo"] + b["hi"]) / 2, b["accuracy"]),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.plot([0, 1], [0, 1], "--", color="#999", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence (bins; count above each bar)")
    ax.set_ylabel("share of candidates right")
    ax.set_title(f"ECE {fmt(g['ece'])}", fontsize="small")
    ax.legend(fontsize="small", loc="upper left")
    out["Reliability diagram"] = _png(fig)
    plt.close(fig)
    return out


def _figures(images: dict[str, str]) -> str:
    return "".join(
        f'<figure><img alt="{html.escape(t)}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for t, b64 in images.items()
    )


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{trs}</table>"


def html_page(report: dict[str, Any]) -> str:
    figures = _figures(plots(report))
    reliability = reliability_rows(report)
    fails = [
        [r["id"], r["type"], r["question"], r["answer"], _expected(r)] for r in _failures(report)
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(_title(report))}</title><style>"
        "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:left;vertical-align:top}figure{display:inline-block;margin:0 1em 1em 0}"
        "</style></head><body>"
        f"<h1>{html.escape(_title(report))}</h1><p>{html.escape(_meta_line(report))}</p>"
        + _table(["metric", "value"], [list(r) for r in summary_rows(report)])
        + "<h2>By question type</h2>"
        + _table(["type", *TYPE_COLS], type_rows(report))
        + f"<h2>Selective prediction</h2><p>{html.escape(selective_note(report))}</p>"
        + _table(["group", *(h for h, _, _ in SELECTIVE_COLS)], selective_rows(report))
        + _figures(selective_plots(report))
        + (
            _table(["confidence", "n", "mean confidence", "accuracy"], reliability)
            if reliability
            else ""
        )
        + f"<h2>Plots</h2>{figures}<h2>Incorrect (first 15)</h2>"
        + _table(["id", "type", "question", "answer", "expected"], fails)
        + "</body></html>\n"
    )


def write_all(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    (out / "report.html").write_text(html_page(report), encoding="utf-8")
