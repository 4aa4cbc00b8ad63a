"""Grounded, offline question answering over local documents.

The core loop lives in `rag.pipeline`; `rag.cli` is the command line; `api/` and
`eval/` call the same `Pipeline`.
"""

from rag.types import Answer, Citation, Timings

__all__ = ["Answer", "Citation", "Timings"]
