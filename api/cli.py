"""The `rag` command line: the CLI face over `rag/` (the core) and `api/` (`serve`); other packages
add commands as plugins (`load_plugins`: `eval/command.py` adds `rag eval`). It lives here, above
the core, so `rag/` never imports the web server, and it never imports the harness.
Library errors become one line on stderr and exit code 1.

Each command imports what it uses inside its function: `rag --help` loads typer and rich only,
`rag list` / `rag remove` read the index without torch, sentence-transformers or llama.cpp
(tests/api/test_cli_imports.py), `rag ask` loads the answer model while it loads the rest.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from rag.errors import USER_ERRORS, RagError

T = TypeVar("T")

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.pipeline import Pipeline
    from rag.types import Answer, Citation

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Grounded, cited answers from your own documents, offline.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        try:
            version = metadata.version("rag-grounded")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            version = "unknown"
        out.print(f"rag {version}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Grounded, cited answers from your own documents, offline."""


@contextmanager
def errors_to_exit() -> Iterator[None]:
    from pydantic import ValidationError

    try:
        yield
    except USER_ERRORS as exc:
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


def _settings(model: Path | None = None, **overrides: Any) -> Settings:
    from rag.config import Settings

    if model is not None:
        overrides["model_path"] = model
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _pipeline(model: Path | None = None, **overrides: Any) -> Pipeline:
    from rag.pipeline import Pipeline

    return Pipeline(_settings(model, **overrides))


def where(c: Citation) -> str:
    """ "report.pdf, p. 12, Install › Requirements": the source, its page, its section."""
    return ", ".join(x for x in (c.source, f"p. {c.page}" if c.page else "", c.section) if x)


def _print_answer(answer: Answer) -> None:
    style = "yellow" if answer.declined else "bold"
    out.print(Text(answer.answer, style=style))
    if answer.citations:
        out.print("\n[dim]Sources[/dim]")
        for c in answer.citations:
            out.print(
                f"[cyan][{c.n}][/cyan] {escape(where(c))} [dim]chars {c.start}–{c.end}[/dim]",
                highlight=False,
            )
            out.print(Text(f"    “{c.quote}”", style="dim"))
    if answer.passage is not None:  # a "not sure" decline: the passage it would have rested on
        c = answer.passage
        out.print(f"\n[dim]Closest passage found[/dim] {escape(where(c))}", highlight=False)
        out.print(Text(f"    “{c.quote}”", style="dim"))
    t = answer.timings
    err.print(
        f"[dim]{_trust(answer)}{t.total_s:.1f}s (first token {t.ttft_s:.1f}s, "
        f"{t.prompt_tokens} prompt + {t.completion_tokens} generated tokens)[/dim]",
        highlight=False,
    )


def _trust(answer: Answer) -> str:
    """How sure the answer is, in the band's words, for the status line ("" without a number)."""
    c = answer.confidence
    if c is None:
        return ""
    if answer.declined:  # not sure: the confidence of the answer withheld
        return f"confidence {c:.0%}, below the operating point · "
    if answer.band:
        return f"{answer.band.text} ({c:.0%}) · "
    return f"confidence {c:.0%} · "


def _ask_streaming(pipeline: Any, question: str, **kwargs: Any) -> Answer:
    """Show each reply sentence once it is verified (then the answer with its citations)."""
    if not out.is_terminal:
        return pipeline.ask(question, **kwargs)
    return _live(lambda on_token: pipeline.ask(question, on_token=on_token, **kwargs))


def _live(answer: Callable[[Callable[[str], None]], T]) -> T:
    """Run `answer(on_token)` while the verified text it streams shows, dim, on the terminal."""
    from rich.live import Live

    streamed = Text(style="dim")
    with Live(streamed, console=out, transient=True, refresh_per_second=12) as live:
        live.update(Text("searching…", style="dim"))

        def on_token(piece: str) -> None:  # verified text, or "" while the model writes
            if piece:
                streamed.append(piece)
                live.update(streamed)
            elif not streamed:
                live.update(Text("writing and checking…", style="dim"))

        return answer(on_token)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question; '-' reads it from stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    k: Annotated[int | None, typer.Option("--k", min=1, max=50, help="chunks to retrieve")] = None,
    model: Annotated[Path | None, typer.Option(help="a GGUF file to answer with")] = None,
    local: Annotated[
        bool, typer.Option("--local", help="answer in this process even when `rag serve` runs")
    ] = False,
) -> None:
    """Answer one question from the indexed documents, with checked citations.

    When `rag serve` runs on loopback for the same index and settings, it answers (no model
    loading here); otherwise this process loads the index and the models."""
    with errors_to_exit():
        if question == "-":
            question = sys.stdin.read()
        settings = _settings(model)
        answer = None if local else _ask_resident(settings, question, k, stream=not as_json)
        if answer is None:
            from rag.pipeline import Pipeline

            pipeline = Pipeline(settings)
            _require_documents(pipeline)
            pipeline.warm()  # the GGUF loads in a thread while the embedding model loads here
            _warn_calibration(pipeline)
            if as_json:
                answer = pipeline.ask(question, k=k)
            else:
                answer = _ask_streaming(pipeline, question, k=k)
        if as_json:
            sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        else:
            _print_answer(answer)


def _ask_resident(
    settings: Settings, question: str, k: int | None, stream: bool = False
) -> Answer | None:
    """The answer of a running `rag serve` for the same index and settings (api/resident.py),
    or None when there is none or it cannot take the question now. `stream`: show the verified
    text as it arrives (on a terminal)."""
    from api import resident
    from rag.store import read_documents
    from rag.types import Answer

    address = resident.find_server(settings)
    if address is None or not any(d.chunks for d in read_documents(settings)):
        return None  # an empty index: the in-process path says how to fill it
    try:
        if stream and out.is_terminal:
            obj = _live(
                lambda on_token: resident.ask(address, question, k, settings.api_key, on_token)
            )
        else:
            obj = resident.ask(address, question, k, settings.api_key)
        return Answer.from_dict(obj)
    except resident.Unavailable as exc:
        err.print(f"[dim]rag serve did not answer ({exc}); answering here[/dim]", highlight=False)
        return None


def _warn_calibration(pipeline: Pipeline) -> None:
    """One line when the model in use has no calibration (its answers carry no confidence)."""
    if pipeline.calibration_note:
        err.print(f"[yellow]warning:[/yellow] {escape(pipeline.calibration_note)}", highlight=False)


def _require_documents(pipeline: Any) -> None:
    if not pipeline.store.counts()[1]:
        raise RagError(
            f"the index at {pipeline.store.location} is empty; add documents with "
            "`rag ingest PATH…` first"
        )


@app.command()
def chat(
    k: Annotated[int | None, typer.Option("--k", min=1, max=50)] = None,
    model: Annotated[Path | None, typer.Option(help="a GGUF file to answer with")] = None,
) -> None:
    """Ask several questions; follow-ups are resolved against the conversation.

    A follow-up ("and who leads it?") is rewritten to stand alone before the search and the
    line "searched: …" says how; type ! to ask it again with your own words."""
    with errors_to_exit():
        pipeline = _pipeline(model)
        _require_documents(pipeline)
        pipeline.warm()
        _warn_calibration(pipeline)
        history: list[dict[str, str]] = []
        last = ""  # the last question, for "!"
        err.print(
            "[dim]Ask about your documents. ! asks the last follow-up again as typed. "
            "An empty line or Ctrl-D ends.[/dim]"
        )
        while True:
            try:
                question = input("you> ").strip()
            except EOFError:
                break
            if question in {"", "exit", "quit"}:
                break
            rewrite = None
            if question == "!":
                if not last:
                    err.print("[dim]! asks the last question again, as typed: none yet[/dim]")
                    continue
                question, rewrite, history = last, False, history[:-2]
            try:
                answer = _ask_streaming(pipeline, question, k=k, history=history, rewrite=rewrite)
            except USER_ERRORS as exc:
                err.print(f"[red]error:[/red] {exc}", highlight=False)
                continue
            if answer.searched:
                err.print(
                    Text(f"searched: {answer.searched}  (! searches your own words)", style="dim")
                )
            _print_answer(answer)
            last = question
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
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from rag.ingest.documents import iter_files

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
        documents, chunks = pipeline.store.counts()
        out.print(
            f"index: {documents} documents, {chunks} chunks in {pipeline.store.location}",
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
    from rag.generation.models import fetch

    with errors_to_exit():
        folder = _settings().models_dir
        for name in names or ["qwen1.5b", "smollm2"]:
            fetch(name, folder, log=lambda m: err.print(m, highlight=False))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the chat page and the HTTP API (OpenAI-compatible) on the default index and model.

    Ctrl-C or SIGTERM stops it after the requests in flight, with exit code 0.

    RAG_STORE=postgresql://user:pass@host:port/db: one PostgreSQL + pgvector index for replicas.

    RAG_LLM_URL=http://host:port/v1: the answers come from an OpenAI-compatible model server.

    `rag stack up` starts both, N replicas and a load balancer here (docs/scaling.md)."""
    with errors_to_exit():
        import uvicorn

        from api import resident
        from api.http11 import Http11
        from api.main import create_app
        from api.security import serve_warnings

        settings = _settings()
        if host not in settings.allowed_hosts and host not in ("0.0.0.0", "::"):
            settings.allowed_hosts = [*settings.allowed_hosts, host]  # the name it listens on
        for note in serve_warnings(settings, host):
            err.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
        err.print(f"[dim]serving http://{host}:{port}/ (API docs at /docs)[/dim]", highlight=False)
        app = create_app(settings)
        announced = None
        _exit_on_sigterm()
        try:
            announced = resident.announce(settings, host, port)  # `rag ask` finds this server
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="info",
                http=Http11,  # 431 for oversized headers, words for unreadable requests
                h11_max_incomplete_event_size=settings.max_header_bytes,
            )
        finally:
            resident.withdraw(announced)


def _exit_on_sigterm() -> None:
    """Make SIGTERM (`kill`, systemd, `docker stop`) end `rag serve` with exit code 0 and its
    `finally` blocks run. uvicorn catches the signal itself, finishes the requests in flight,
    then raises it again with the handler it found: Python's default would kill the process
    there (exit 143, `<RAG_HOME>/serve.json` left behind). SIGINT (Ctrl-C) already ended this
    way (`uvicorn.run` swallows the KeyboardInterrupt it raises again) and is left alone."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise typer.Exit(0)

    signal.signal(signal.SIGTERM, stop)


@dataclass(frozen=True)
class Host:
    """What a plugin's commands get from the CLI: its consoles, its error edge (a user error is
    one line and exit 1) and its settings (`settings(model=None, **overrides)`)."""

    out: Console
    err: Console
    errors_to_exit: Callable[[], AbstractContextManager[None]]
    settings: Callable[..., Settings]


def load_plugins() -> None:
    """Commands other packages add, the way simonw/llm plugins add theirs: each entry point of
    the group `rag.commands` is a `register(app, host)` (`eval` adds `rag eval` this way, so the
    CLI never imports the harness). A plugin that fails to load is named and skipped."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="rag.commands"):
        try:
            ep.load()(app, Host(out, err, errors_to_exit, _settings))
        except Exception as exc:  # a broken plugin must not take the CLI down
            err.print(f"[yellow]warning:[/yellow] plugin {ep.name} not loaded: {exc}")


def _add_stack() -> None:
    """`rag stack up | down | status` (api/stack.py; its heavy imports are in its commands)."""
    from api import stack

    stack.register(app, Host(out, err, errors_to_exit, _settings))


_add_stack()
load_plugins()

if __name__ == "__main__":
    app()
