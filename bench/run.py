"""Run the benchmarks and write bench/results/<name>.json, bench/results/report.md and the
results table in docs/performance.md (between its bench markers).

    python -m bench.run [--only latency,overhead,ingest,index,cold,cli,llama,pgvector,
                                store-start,stack]
                        [--limit N] [--pg-sizes 100000] [--start-sizes 100000]
                        [--sizes 100000,1000000] [--specs flat,hnsw,ivfsq8,ivfpq]
                        [--overhead-n 16] [--ingest-mb 5] [--cold-runs 3]
                        [--cli-runs 5] [--cli-root PATH]

Each benchmark's JSON is replaced when it runs again (index results are merged by size and
index type), and the
Markdown is rebuilt from every JSON present, so benchmarks can be run one at a time.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from bench import report
from bench.common import machine
from embeddings.faiss_index import SPECS
from rag.config import ROOT

NAMES = (
    "latency",
    "overhead",
    "ingest",
    "index",
    "cold",
    "cli",
    "llama",
    "pgvector",
    "store-start",
    "stack",
)
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(NAMES), help="comma-separated: " + ",".join(NAMES))
    ap.add_argument("--limit", type=int, default=None, help="seed questions for latency (all)")
    ap.add_argument("--sizes", default="100000,1000000", help="vector counts for the index bench")
    ap.add_argument("--specs", default="flat,hnsw,ivfsq8,ivfpq", help="index types to measure")
    ap.add_argument("--pg-sizes", default="100000", help="vector counts for the pgvector bench")
    ap.add_argument("--pg-fusion", type=int, default=20000, help="chunks, SQL vs Python fusion")
    ap.add_argument("--start-sizes", default="100000", help="synthetic chunks, store-start bench")
    ap.add_argument("--overhead-n", type=int, default=16, help="questions for the overhead bench")
    ap.add_argument("--ingest-mb", type=float, default=5.0, help="synthetic corpus size")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=5, help="timed runs per command (median)")
    ap.add_argument(
        "--cli-root", type=Path, default=ROOT, help="checkout whose `rag` the cli bench runs"
    )
    ap.add_argument("--stack-replicas", default="1,2,4", help="replica counts, stack bench")
    ap.add_argument("--stack-model", default="qwen1.5b", help="the model server's model")
    ap.add_argument("--stack-questions", type=int, default=8, help="questions sent at once")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in NAMES]
    if unknown:
        ap.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(NAMES)}")
    return args


def run_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if name == "latency":
        from bench import latency

        return latency.run(limit=args.limit, log=_log)
    if name == "overhead":
        from bench import overhead

        return overhead.run(n=args.overhead_n, log=_log)
    if name == "ingest":
        from bench import ingest

        return ingest.run(int(args.ingest_mb * 1_000_000), log=_log)
    if name == "index":
        from bench import index_scale

        specs = tuple(s.strip() for s in args.specs.split(",") if s.strip())
        return index_scale.run(_ints(args.sizes), specs=specs, log=_log)
    if name == "cli":
        from bench import cli

        return cli.run(runs=args.cli_runs, root=args.cli_root.resolve(), log=_log)
    if name == "llama":
        from bench import llama_speed

        return llama_speed.run(log=_log)
    if name == "pgvector":
        from bench import pgvector_scale

        return pgvector_scale.run(_ints(args.pg_sizes), log=_log, fusion_chunks=args.pg_fusion)
    if name == "stack":
        from bench import stack

        counts = tuple(_ints(args.stack_replicas))
        return stack.run(args.stack_model, counts, n_questions=args.stack_questions, log=_log)
    if name == "store-start":
        from bench import store_start

        return store_start.run(_ints(args.start_sizes), runs=args.cold_runs, log=_log)
    from bench import cold_start

    return cold_start.run(runs=args.cold_runs, log=_log)


def _merge_index(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if not old:
        return new
    """Keep earlier results for other sizes and index types; new ones replace old ones."""
    sizes = {s["n"]: s for s in old["result"].get("sizes", [])}
    for size in new["result"]["sizes"]:
        if size["n"] in sizes:
            fresh = {ix["spec"] for ix in size["indexes"]}
            kept = [ix for ix in sizes[size["n"]]["indexes"] if ix["spec"] not in fresh]
            order = {s: i for i, s in enumerate(SPECS)}
            size["indexes"] = sorted(kept + size["indexes"], key=lambda ix: order[ix["spec"]])
        sizes[size["n"]] = size
    new["result"]["sizes"] = [sizes[n] for n in sorted(sizes)]
    if old.get("command") and old["command"] not in new["command"]:
        new["command"] = f"{old['command']}; {new['command']}"
    return new


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    for name in args.only:
        _log(f"== {name}")
        t0 = time.perf_counter()
        result = run_one(name, args)
        doc = {
            "name": name,
            "command": command,
            "machine": machine(),
            "elapsed_s": round(time.perf_counter() - t0, 1),
            "result": result,
        }
        path = args.out / f"{name}.json"
        if name == "index" and path.exists():
            doc = _merge_index(json.loads(path.read_text()), doc)
        path.write_text(json.dumps(doc, indent=1) + "\n")
        _log(f"== {name} done in {doc['elapsed_s']}s -> {path}")
    docs = {
        n: json.loads((args.out / f"{n}.json").read_text())
        for n in NAMES
        if (args.out / f"{n}.json").exists()
    }
    table = report.markdown(docs)
    (args.out / "report.md").write_text(table)
    if not args.no_doc:
        report.update_doc(DOC, table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
