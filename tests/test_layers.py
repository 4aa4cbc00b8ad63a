"""Layers only look down: `rag/` (the core) never imports the CLI face, the web server or the
harness, `api/` never imports the harness (it adds `rag eval` as a plugin), `embeddings/` never
imports `rag/`; each wing of `rag/` imports only the top of `rag/`; and no module imports itself
through others. Every import statement in every module counts,
also those inside functions and `if TYPE_CHECKING:` blocks; read with `ast`, nothing is run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {  # package -> the packages above it
    "rag": {"api", "eval", "bench"},
    "embeddings": {"rag", "api", "eval", "bench"},
    "api": {"eval", "bench"},  # `rag eval` is a plugin of the CLI (eval/command.py)
}


def imports(path: Path) -> set[str]:
    """The top-level package of every module `path` imports (relative imports resolved)."""
    package = path.relative_to(ROOT).parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found


def test_the_reader_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path):
    assert {"embeddings", "rag", "numpy"} <= imports(ROOT / "rag" / "pipeline.py")
    assert "api" in imports(ROOT / "api" / "cli.py")  # `serve` imports api.main in its body
    assert "eval" in imports(ROOT / "eval" / "command.py")  # its body imports eval.cli


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(package: str):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {
        f"{f.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
        for f in files
        if (bad := imports(f) & FORBIDDEN[package])
    }
    assert not wrong, sorted(wrong)


PACKAGES = ("rag", "embeddings", "api", "eval", "bench")
# each wing of rag/ and what it must not import (its __init__ says the same in two lines)
WINGS = {
    "rag.ingest": ("rag.generation", "rag.grounding", "rag.store", "rag.pipeline", "rag.prompt"),
    "rag.generation": ("rag.ingest", "rag.grounding", "rag.store", "rag.pipeline", "rag.prompt"),
    "rag.grounding": ("rag.ingest", "rag.generation", "rag.store", "rag.pipeline", "rag.prompt"),
    "rag.store": ("rag.generation", "rag.grounding", "rag.pipeline", "rag.prompt"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for f in (ROOT / package).rglob("*.py"):
            parts = f.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


MODULES = _modules()


def module_imports(name: str) -> set[str]:
    """The project modules `name` imports: `from a.b import c` counts as a.b.c when that is a
    module, else a.b; relative imports are resolved. A package's own __init__, which Python runs
    on the way to a submodule, is not counted."""
    path = MODULES[name]
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" for a in node.names]
            targets = [t if t in MODULES else base for t in targets]
        found |= {t for t in targets if t in MODULES and t != name}
    return found


def test_no_module_imports_itself_through_others():
    """No circles: files that import each other, directly or through others (imports inside
    functions count too). Tarjan's strongly connected components over the import graph."""
    graph = {m: module_imports(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        for n in graph[m]:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = []
            while True:
                n = stack.pop()
                component.append(n)
                if n == m:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    assert circles == []


@pytest.mark.parametrize("wing", sorted(WINGS))
def test_each_wing_of_rag_imports_only_what_it_may(wing: str):
    wrong = {
        f"{m} imports {n}"
        for m in MODULES
        if m == wing or m.startswith(wing + ".")
        for n in module_imports(m)
        if any(n == w or n.startswith(w + ".") for w in WINGS[wing])
    }
    assert not wrong, sorted(wrong)
