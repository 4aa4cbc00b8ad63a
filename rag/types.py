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
    flagged: tuple[int, ...] = ()  # sentences that address the assistant (rag.ingest.injection)
    kinds: tuple[str, ...] = ()  # per sentence: the block it is from ("paragraph", "row", …)
    pages: tuple[int, ...] = ()  # per sentence: its page (1-based; 0 where a format has none)

    def sentence_list(self) -> list[Sentence]:
        return [
            Sentence(
                self,
                self.text[s - self.start : e - self.start],
                s,
                e,
                i in self.flagged,
                self.kinds[i] if i < len(self.kinds) else "paragraph",
                self.pages[i] if i < len(self.pages) else 0,
            )
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
    kind: str = "paragraph"  # the block it is from: paragraph, item, row, code, caption, …
    page: int = 0  # 1-based page (PDF) or slide (PPTX); 0 where the format has none


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
    page: int | None = None  # the page (PDF) or slide (PPTX) the quote starts on
    section: str = ""  # the path of headings above the quote ("Install › Requirements")


@dataclass
class Timings:
    retrieval_s: float = 0.0
    ttft_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    check_s: float = 0.0  # the model reading its answer back, after the reply (part of total_s)
    rewrite_s: float = 0.0  # deciding whether a follow-up needs rewriting, and rewriting it


@dataclass(frozen=True)
class Trace:
    """How an answer came about, for evaluation and debugging (not part of the public JSON)."""

    hits: list[Hit] = field(default_factory=list)  # what retrieval returned
    context: list[Sentence] = field(default_factory=list)  # the sentences shown to the model
    raw: str = ""  # the model's raw output, before grounding
    p_decline: float | None = None  # the model's first-token probability of declining
    tokens: list[tuple[str, float]] | None = None  # generated tokens and their log-probabilities
    p_yes: float | None = None  # the model's P(yes) that the sources state its reply
    candidate: str = ""  # the grounded answer before the operating point decided


@dataclass(frozen=True)
class Band:
    """A range of confidence a person can read: answers from `lower` up to the next band were
    right `precision` of the time on the report halves (`answers` of them); see
    rag/grounding/confidence.py and docs/calibration.md."""

    name: str  # "high", "medium", "low"
    lower: float
    precision: float | None = None
    answers: int = 0

    @property
    def text(self) -> str:
        """What every interface shows beside the number."""
        if self.precision is None:
            return f"{self.name} confidence"
        return f"{self.name} confidence: {self.precision:.0%} of such answers were right in tests"


NOT_STATED, NOT_SURE = "not_stated", "not_sure"  # the two kinds of decline


@dataclass(frozen=True)
class Answer:
    answer: str
    declined: bool
    citations: list[Citation] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    confidence: float | None = None  # calibrated P(right) of the first claim (None: no claim)
    trace: Trace = field(default_factory=Trace)
    band: Band | None = None  # the confidence's band, for an answer (None: declined, no number)
    # a decline's kind: NOT_STATED (the passages found do not state it) or NOT_SURE (an answer
    # was found but its confidence is below the operating point)
    decline: str | None = None
    passage: Citation | None = None  # NOT_SURE: the passage that answer rested on, to judge
    searched: str | None = None  # a follow-up rewritten to stand alone: what was searched

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of `rag ask --json` and `POST /ask`."""
        band = self.band
        return {
            "answer": self.answer,
            "declined": self.declined,
            "decline": self.decline,
            "confidence": self.confidence,
            "band": band and {"name": band.name, "precision": band.precision, "text": band.text},
            "citations": [asdict(c) for c in self.citations],
            "passage": self.passage and asdict(self.passage),
            "searched": self.searched,
            "timings": asdict(self.timings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        """The inverse of `to_dict` (an answer that came over HTTP); its trace stays empty."""
        band = d.get("band")
        return cls(
            answer=d["answer"],
            declined=d["declined"],
            confidence=d.get("confidence"),
            citations=[Citation(**c) for c in d["citations"]],
            timings=Timings(**d["timings"]),
            band=band and Band(band["name"], 0.0, band.get("precision")),
            decline=d.get("decline"),
            passage=Citation(**d["passage"]) if d.get("passage") else None,
            searched=d.get("searched"),
        )


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    source: str
    title: str
    sha256: str
    chars: int
    chunks: int
    added: str = ""  # when this text was indexed, UTC ISO 8601 ("" in indexes before 0.4)
