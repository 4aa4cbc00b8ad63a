"""`rag eval`: the evaluation harness's command, added to the `rag` CLI as a plugin (the entry
point `rag.commands` in pyproject.toml names `register`), so the CLI never imports the harness.
Light at import: `rag --help` loads this module; the harness loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

HOST: list[Any] = []  # the CLI's Host (api/cli.py), given to `register`


def eval_command(
    set_: Annotated[
        str,
        typer.Option(
            "--set",
            help="seed, realdocs, conversations, clapnq, squad2, an injection set (bipia, "
            "bipia-clean, bipia-fit, bipia-fit-clean, canary, canary-clean) or a JSONL file",
        ),
    ] = "seed",
    split: Annotated[
        str | None,
        typer.Option("--split", help="fit or report: one fixed half of the set (eval/splits.py)"),
    ] = None,
    model: Annotated[Path | None, typer.Option(help="a GGUF file to answer with")] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="chunks to retrieve")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="questions to ask")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="default eval/runs/<set>")] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="two report.json files or run folders: A B"),
    ] = None,
    clapnq_dir: Annotated[
        Path | None, typer.Option(help="ClapNQ dev files (default ../shared/benchmarks/clapnq)")
    ] = None,
    corpus: Annotated[
        list[Path] | None, typer.Option(help="documents for a JSONL set (default: corpus/)")
    ] = None,
    squad_dir: Annotated[
        Path | None, typer.Option(help="SQuAD 2.0 files (default ../shared/benchmarks/squad2)")
    ] = None,
    reground: Annotated[
        Path | None,
        typer.Option(
            "--reground",
            help="a run folder: replay its stored replies through today's grounding, no model "
            "(--out defaults to <RUN>-reground)",
        ),
    ] = None,
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without", help="with --reground: switch a check off (rag/grounding/checks.py)"
        ),
    ] = None,
) -> None:
    """Score a question set (retrieval, answers, citations, abstention, latency); resumable."""
    from eval import cli as eval_cli
    from eval.harness import EvalConfig

    host = HOST[0]
    with host.errors_to_exit():
        if compare:
            eval_cli.run_compare(compare[0], compare[1], host.out)
            return
        if reground is not None:
            eval_cli.run_reground(
                reground, out_dir, host.settings(), host.out, tuple(without or ())
            )
            return
        cfg = EvalConfig(
            set_,
            out_dir,
            k,
            limit,
            model,
            clapnq_dir,
            list(corpus or []),
            split=split,
            squad_dir=squad_dir,
        )
        eval_cli.run(cfg, host.out, host.err)


def register(app: typer.Typer, host: Any) -> None:
    HOST[:] = [host]
    app.command("eval")(eval_command)
