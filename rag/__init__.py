"""Grounded, offline question answering over local documents.

The core loop lives in `rag.pipeline`. The command line (`api/cli.py`), the web server (`api/`)
and the evaluation harness (`eval/`) sit above it and call the same `Pipeline`; nothing in
`rag/` imports them (tests/test_layers.py).
"""

from rag.types import Answer, Citation, Timings

__all__ = ["Answer", "Citation", "Timings"]
