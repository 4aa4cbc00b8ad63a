"""The `rag` command line. Library errors become one line on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Grounded, cited answers from your own documents, offline.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    try:
        yield
    except RagError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        msg = first["msg"].removeprefix("Value error, ")
        err.print(f"[red]error:[/red] bad setting {where}: {msg}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _pipeline(model: Path | None = None, **overrides: Any):  # -> Pipeline
    from rag.pipeline import Pipeline

    if model is not None:
        overrides["model_path"] = model
    return Pipeline(Settings(**{k: v for k, v in overrides.items() if v is not None}))


def _print_answer(answer: Answer) -> None:
    style = "yellow" if answer.declined else "bold"
    out.print(Text(answer.answer, style=style))
    if answer.citations:
        out.print("\n[dim]Sources[/dim]")
        for c in answer.citations:
            out.print(
                f"[cyan][{c.n}][/cyan] {c.source} [dim]chars {c.start}–{c.end}[/dim]",
                highlight=False,
            )
            out.print(Text(f"    “{c.quote}”", style="dim"))
    t = answer.timings
    err.print(
        f"[dim]{t.total_s:.1f}s (first token {t.ttft_s:.1f}s, {t.prompt_tokens} prompt + "
        f"{t.completion_tokens} generated tokens)[/dim]",
        highlight=False,
    )


def _ask_streaming(pipeline: Any, question: str, **kwargs: Any) -> Answer:
    """Show each reply sentence once it is verified (then the answer with its citations)."""
    if not out.is_terminal:
        return pipeline.ask(question, **kwargs)
    streamed = Text(style="dim")
    with Live(streamed, console=out, transient=True, refresh_per_second=12) as live:
        live.update(Text("searching…", style="dim"))

        def on_token(piece: str) -> None:  # verified text, or "" while the model writes
            if piece:
                streamed.append(piece)
                live.update(streamed)
            elif not streamed:
                live.update(Text("writing and checking…", style="dim"))

        return pipeline.ask(question, on_token=on_token, **kwargs)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question; '-' reads it from stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="chunks to retrieve")] = None,
    model: Annotated[Path | None, typer.Option(help="a GGUF file to answer with")] = None,
) -> None:
    """Answer one question from the indexed documents, with checked citations."""
    with errors_to_exit():
        if question == "-":
            question = sys.stdin.read()
        pipeline = _pipeline(model)
        _require_documents(pipeline)
        if as_json:
            answer = pipeline.ask(question, k=k)
            sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        else:
            _print_answer(_ask_streaming(pipeline, question, k=k))


def _require_documents(pipeline: Any) -> None:
    if not pipeline.store.chunks:
        raise RagError(
            f"the index at {pipeline.settings.index_dir} is empty; add documents with "
            "`rag ingest PATH…` first"
        )


@app.command()
def chat(
    k: Annotated[int | None, typer.Option("--k", min=1, max=50)] = None,
    model: Annotated[Path | None, typer.Option(help="a GGUF file to answer with")] = None,
) -> None:
    """Ask several questions; follow-ups are resolved against the conversation."""
    with errors_to_exit():
        pipeline = _pipeline(model)
        _require_documents(pipeline)
        history: list[dict[str, str]] = []
        err.print("[dim]Ask about your documents. An empty line or Ctrl-D ends.[/dim]")
        while True:
            try:
                question = input("you> ").strip()
            except EOFError:
                break
            if question in {"", "exit", "quit"}:
                break
            try:
                answer = _ask_streaming(pipeline, question, k=k, history=history)
            except RagError as exc:
                err.print(f"[red]error:[/red] {exc}", highlight=False)
                continue
            _print_answer(answer)
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer.answer},
            ]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders")],
) -> None:
    """Add or update documents (.txt .md .html .pdf .docx). Unchanged files are skipped."""
    with errors_to_exit():
        pipeline = _pipeline()
        from rag.documents import iter_files

        total = sum(1 for _ in iter_files(paths))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("reading", total=total)

            def update(what: str, n: int, of: int) -> None:
                bar.update(task, completed=n, total=of, description=what[:38])

            report = pipeline.ingest(paths, progress=update)
        for label, names in (
            ("added", report.added),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
        ):
            if names:
                out.print(
                    f"{label}: {len(names)}  [dim]{', '.join(names[:5])}"
                    f"{' …' if len(names) > 5 else ''}[/dim]",
                    highlight=False,
                )
        for _source, message in report.errors:
            err.print(f"[red]skipped[/red] {message}", highlight=False)
        out.print(
            f"index: {len(pipeline.store.docs)} documents, {len(pipeline.store.chunks)} "
            f"chunks in {pipeline.settings.index_dir}",
            highlight=False,
        )
        if report.errors and not (report.added or report.updated or report.unchanged):
            raise typer.Exit(1)


@app.command("list")
def list_documents(
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the indexed documents."""
    with errors_to_exit():
        docs = _pipeline().documents()
        if as_json:
            sys.stdout.write(json.dumps([d.__dict__ for d in docs]) + "\n")
            return
        if not docs:
            err.print("no documents; add some with `rag ingest PATH…`")
        for d in docs:
            out.print(
                f"{d.doc_id}  {d.source}  [dim]{d.chunks} chunks, {d.chars:,} chars[/dim]",
                highlight=False,
            )


@app.command()
def remove(doc: Annotated[str, typer.Argument(help="a document id or source name")]) -> None:
    """Remove one document from the index."""
    with errors_to_exit():
        info = _pipeline().remove(doc)
        out.print(f"removed {info.doc_id} ({info.source}, {info.chunks} chunks)", highlight=False)


@app.command()
def models(names: Annotated[list[str] | None, typer.Argument()] = None) -> None:
    """Assemble and verify model files (default: the answer model and the test model)."""
    from rag.models import fetch

    with errors_to_exit():
        for name in names or ["qwen1.5b", "smollm2"]:
            fetch(name, log=lambda m: err.print(m, highlight=False))


@app.command("eval")
def eval_command(
    set_: Annotated[
        str,
        typer.Option(
            "--set",
            help="seed, clapnq, an injection set (bipia, bipia-clean, bipia-fit, "
            "bipia-fit-clean, canary, canary-clean) or a JSONL question file",
        ),
    ] = "seed",
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
) -> None:
    """Score a question set (retrieval, answers, citations, abstention, latency); resumable."""
    from eval import cli as eval_cli
    from eval.harness import EvalConfig

    with errors_to_exit():
        if compare:
            eval_cli.run_compare(compare[0], compare[1], out)
            return
        cfg = EvalConfig(set_, out_dir, k, limit, model, clapnq_dir, list(corpus or []))
        eval_cli.run(cfg, out, err)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the chat page and the HTTP API (OpenAI-compatible) on the default index and model."""
    with errors_to_exit():
        import uvicorn

        from api.main import create_app

        settings = Settings()
        err.print(f"[dim]serving http://{host}:{port}/ (API docs at /docs)[/dim]", highlight=False)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


if __name__ == "__main__":
    app()
