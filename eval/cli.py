"""What `rag eval` does (the typer command in api/cli.py only parses options and calls this)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from eval.harness import EvalConfig, Record, run_eval
from eval.report import summary_rows
from rag.config import Settings

COLUMNS = (
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TextColumn("eta"),
    TimeRemainingColumn(),
)


def run_compare(a: Path, b: Path, out: Console) -> None:
    from eval.compare import compare, format_compare, load_report

    out.print(
        format_compare(compare(load_report(a), load_report(b)), str(a), str(b)),
        highlight=False,
        markup=False,
    )


def run_reground(
    run: Path, to: Path | None, settings: Settings, out: Console, without: tuple[str, ...] = ()
) -> None:
    from eval.reground import reground

    result = reground(
        run,
        to or run.with_name(run.name + "-reground"),
        settings.min_support,
        without,
        settings.min_confidence,
        settings.calibration,
    )
    for label, value in summary_rows(result.report):
        out.print(f"{label:<56} {value}", highlight=False)
    left = result.report["meta"]["left_out"]
    out.print(
        f"reports: {result.out}/report.{{json,md,html}} (replayed, no model"
        + (f"; {left} records without context left out" if left else "")
        + ")",
        highlight=False,
    )


def run_conversations(cfg: EvalConfig, out: Console, err: Console) -> None:
    from eval import conversations

    with Progress(*COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task("conversations", total=None)
        result = conversations.run(
            cfg,
            on_conversation=lambda done, total: bar.update(task, completed=done, total=total),
            log=lambda m: err.print(m, highlight=False),
        )
    for label, value in conversations.summary_rows(result.report):
        out.print(f"{label:<56} {value}", highlight=False)
    out.print(
        f"reports: {result.out}/report.{{json,md}} ({result.asked} turns asked this run)",
        highlight=False,
    )


def run(cfg: EvalConfig, out: Console, err: Console) -> None:
    if cfg.set == "conversations":
        run_conversations(cfg, out, err)
        return
    if cfg.set == "clapnq":  # fail fast, before loading any model
        from eval.clapnq import check_dir, default_dir

        check_dir(cfg.clapnq_dir or default_dir())
    if cfg.set.startswith("bipia"):
        from eval import injection

        injection.check_dir(injection.default_dir())
    with Progress(*COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task("asking", total=None)
        correct = [0]

        def on_record(done: int, total: int, rec: Record) -> None:
            correct[0] += bool(rec["scores"]["correct"])
            bar.update(
                task,
                completed=done,
                total=total,
                description=f"asking ({correct[0]}/{done} correct)",
            )

        result = run_eval(cfg, on_record=on_record, log=lambda m: err.print(m, highlight=False))
    for label, value in summary_rows(result.report):
        out.print(f"{label:<56} {value}", highlight=False)
    out.print(
        f"reports: {result.out}/report.{{json,md,html}} ({result.asked} asked this run)",
        highlight=False,
    )
