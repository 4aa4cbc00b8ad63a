"""Plain result types shared by ingestion, retrieval, answering, the API and evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A piece of one document. `start`/`end` are character offsets in the extracted text."""

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, document offsets
    flagged: tuple[int, ...] = ()  # sentences that address the assistant (rag.injection)

    def sentence_list(self) -> list[Sentence]:
        return [
            Sentence(self, self.text[s - self.start : e - self.start], s, e, i in self.flagged)
            for i, (s, e) in enumerate(self.sentences)
        ]


@dataclass(frozen=True)
class Sentence:
    """A sentence inside a chunk; offsets are in the document's extracted text."""

    chunk: Chunk
    text: str
    start: int
    end: int
    flagged: bool = False  # an instruction planted in the document: never context or support


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    chunk_id: str
    start: int
    end: int
    quote: str


@dataclass
class Timings:
    retrieval_s: float = 0.0
    ttft_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Answer:
    answer: str
    declined: bool
    citations: list[Citation] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    hits: list[Hit] = field(default_factory=list)  # what retrieval returned (for eval/debug)
    raw: str = ""  # the model's raw output, before grounding

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of `rag ask --json` and `POST /ask`."""
        return {
            "answer": self.answer,
            "declined": self.declined,
            "citations": [asdict(c) for c in self.citations],
            "timings": asdict(self.timings),
        }


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    source: str
    title: str
    sha256: str
    chars: int
    chunks: int
