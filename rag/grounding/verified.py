"""Verified streaming: the model's reply is checked sentence by sentence while it is generated,
and only checked text leaves the pipeline.

    reply = VerifiedReply(question, sentences, min_support, sink=print)
    for piece in model_tokens: reply.feed(piece)      # sink gets each grounded sentence + [n]
    answer = reply.finish(hits, raw)                  # the same text, with citations

A reply sentence is decided once the next one has begun (or the reply has ended): it is grounded
alone (`grounding.ground`), and if supported it is released with its `[n]` marks, numbered as
in the final answer. The final answer is built from the same decisions, so the released text,
joined, is always a prefix of it — a client that only reads the stream never sees a word the
final answer does not carry. A reply whose first sentence declines ("NOT FOUND") releases
nothing and becomes the decline; a later sentence that declines is simply not a claim.
The sink is also called with "" once per generated piece (a tick: a caller may raise there to
stop the generation).
The first supported claim decides the whole answer: `judge(claim, dropped, end)` gives its
calibrated confidence (rag/grounding/confidence.py); below `min_confidence` nothing is released, the
answer becomes a "not sure" decline that shows the passage it rested on (`Answer.passage`), and
the withheld text stays on `Answer.trace.candidate` for evaluation. A reply that declines or has
no grounded claim is a "not stated" decline.
Does not: show the model's unchecked words (`Answer.trace.raw` keeps them for debugging and eval).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from rag.grounding import claims as grounding
from rag.grounding.checks import Policy
from rag.grounding.question import Question
from rag.text import split_sentences
from rag.types import NOT_STATED, NOT_SURE, Answer, Citation, Sentence, Trace

TokenSink = Callable[[str], None]
Judge = Callable[[grounding.Claim, int, int], float]  # (first claim, dropped before, end) -> P


class VerifiedReply:
    def __init__(
        self,
        question: Question,
        context: list[Sentence],
        min_support: float,
        sink: TokenSink | None = None,
        policy: Policy = grounding.DEFAULT_POLICY,
        judge: Judge | None = None,
        min_confidence: float = 0.0,
        hold: bool = False,
    ) -> None:
        self.question = question
        self.hold = hold  # decide nothing before `finish` (the judge reads the whole reply)
        self.policy = policy
        self.judge = judge
        self.min_confidence = min_confidence
        self.confidence: float | None = None
        self.withheld = False  # the first claim's confidence is below the operating point
        self.dropped = 0  # reply sentences before the first claim that grounding dropped
        self.context = context
        self.min_support = min_support
        self.sink = sink
        self.buffer = ""  # the raw reply so far
        self.decided = 0  # offset in `buffer` up to which sentences are decided
        self.parts: list[str] = []  # released claims, "text [n]"
        self.citations: list[Citation] = []
        self._numbered: dict[tuple[str, int], int] = {}
        self.declined = False  # the reply opened with a decline

    def feed(self, piece: str) -> None:
        self.buffer += piece
        if self.sink:
            self.sink("")  # tick
        if not self.hold:
            self._decide(final=False)

    def finish(self, trace: Trace) -> Answer:
        """Decide the last sentence; the verified answer (the authority for the whole reply),
        with `trace` (how it came about) and the grounded text before the operating point."""
        self._decide(final=True)
        confidence = None if self.declined else self.confidence
        trace = replace(trace, candidate=" ".join(self.parts))
        if self.parts and not self.declined and not self.withheld:
            text = " ".join(self.parts)
            return Answer(text, False, self.citations, confidence=confidence, trace=trace)
        unsure = bool(self.parts) and self.withheld and not self.declined
        text = grounding.NOT_SURE_TEXT if unsure else grounding.DECLINE_TEXT
        if self.sink:
            self.sink(text)
        return Answer(
            text,
            True,
            confidence=confidence,
            trace=trace,
            decline=NOT_SURE if unsure else NOT_STATED,
            passage=self.citations[0] if unsure else None,
        )

    @property
    def released(self) -> str:
        return " ".join(self.parts)

    def _decide(self, final: bool) -> None:
        if self.declined:
            return
        rest = self.buffer[self.decided :]
        spans = split_sentences(rest)
        complete = spans if final else spans[:-1]  # the last one may still grow
        for n, (start, end) in enumerate(complete):
            sentence = rest[start:end]
            if not self.parts and self.decided == 0 and n == 0 and grounding.is_decline(sentence):
                self.declined = True
                return
            claims = grounding.ground(
                sentence, self.question, self.context, self.min_support, self.policy
            )
            if not claims and not self.parts and not grounding.is_decline(sentence):
                self.dropped += 1
            lead = len(self.buffer) - len(self.buffer.lstrip())
            for claim in claims:
                self._release(claim, self.decided + end - lead)
        if complete:
            self.decided += spans[len(complete)][0] if len(complete) < len(spans) else len(rest)

    def _release(self, claim: grounding.Claim, end: int) -> None:
        """`end`: where the claim's reply sentence ends (offset in the reply without its
        leading spaces)."""
        if not self.parts and self.judge is not None:
            self.confidence = round(self.judge(claim, self.dropped, end), 4)
            self.withheld = self.confidence < self.min_confidence
        marks = []
        for i in claim.support:
            s = self.context[i]
            key = (s.chunk.doc_id, s.start)
            if key not in self._numbered:
                self._numbered[key] = len(self.citations) + 1
                n = self._numbered[key]
                self.citations.append(
                    Citation(
                        n,
                        s.chunk.source,
                        s.chunk.id,
                        s.start,
                        s.end,
                        s.text,
                        s.page or None,
                        s.chunk.title,
                    )
                )
            marks.append(f"[{self._numbered[key]}]")
        part = f"{claim.text} {''.join(marks)}"
        text = (" " if self.parts else "") + part
        self.parts.append(part)
        if self.sink and not self.withheld:
            for word in re.findall(r"\s*\S+", text):  # word by word, as a model would stream
                self.sink(word)
