"""Replicas on one machine: two `rag serve` sharing a RAG_HOME each announce themselves in a
file of their own (`serve-<port>.json`), `rag ask` finds either, and SIGTERM ends each with exit
code 0 and removes its file, not the other's. Real processes on loopback."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

from api import resident
from rag.config import Settings
from tests.api.server import start_server, stop_server


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_two_replicas_on_one_home_keep_separate_serve_files(tmp_path: Path):
    home = tmp_path / "home"
    a = start_server(home, tmp_path / "a.log")  # an empty index: nothing to copy
    b = start_server(home, tmp_path / "b.log")
    try:
        fa, fb = resident.serve_file(home, _port(a.url)), resident.serve_file(home, _port(b.url))
        assert json.loads(fa.read_text())["pid"] == a.proc.pid
        assert json.loads(fb.read_text())["pid"] == b.proc.pid
        assert not (home / resident.FILE).exists()  # the shared name of older versions
        settings = Settings(home=home, model="smollm2")
        assert resident.find_server(settings) in {
            ("127.0.0.1", _port(a.url)),
            ("127.0.0.1", _port(b.url)),
        }

        b.proc.send_signal(signal.SIGTERM)
        assert b.proc.wait(timeout=60) == 0, b.log.read_text()[-2000:]
        assert not fb.exists() and fa.exists()
        assert resident.find_server(settings) == ("127.0.0.1", _port(a.url))

        shutil.copy(fa, tmp_path / "kept.json")  # as an older `rag serve` named it: still read
        fa.rename(home / resident.FILE)
        assert resident.find_server(settings) == ("127.0.0.1", _port(a.url))
        (home / resident.FILE).rename(fa)

        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(timeout=60) == 0, a.log.read_text()[-2000:]
        assert not fa.exists()
        assert resident.find_server(settings) is None
    finally:
        stop_server(a)
        stop_server(b)


def test_a_killed_replicas_file_is_skipped(tmp_path: Path):
    """SIGKILL leaves the file behind: `rag ask` ignores it and finds the live replica."""
    home = tmp_path / "home"
    a = start_server(home, tmp_path / "a.log")
    b = start_server(home, tmp_path / "b.log")
    try:
        b.proc.kill()
        b.proc.wait(timeout=30)
        assert resident.serve_file(home, _port(b.url)).exists()  # newest, but dead
        settings = Settings(home=home, model="smollm2")
        assert resident.find_server(settings) == ("127.0.0.1", _port(a.url))
    finally:
        stop_server(a)
        stop_server(b)
