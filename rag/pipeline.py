"""The core loop: retrieve -> pick sentences -> prompt -> generate -> ground -> cite.

`Pipeline` is what the CLI, the web API and the evaluation harness all call.
    p = Pipeline(Settings());  p.ingest([Path("corpus")]);  p.ask("Who leads ISKP?")
Text in documents is data: sentences flagged at ingest as instructions to the assistant
(rag/injection.py) are never shown to the model, and only checked text is streamed out.
Does not: keep conversation state (callers pass `history`), or run two generations at once
(the model is shared; `ask` holds its lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import Embedder, make_embedder
from rag import grounding
from rag.chunking import chunk_document
from rag.config import Settings
from rag.documents import LoadedDocument, iter_files, load_bytes, load_file
from rag.errors import BadQuestionError, DocumentError
from rag.generator import Generation, LlamaGenerator
from rag.models import resolve_model
from rag.prompt import EXAMPLES, answer_messages, condense_messages
from rag.retrieval import Retriever
from rag.store import Store, Upsert
from rag.types import Answer, Chunk, DocumentInfo, Hit, Sentence, Timings
from rag.verified import TokenSink, VerifiedReply

Progress = Callable[[str, int, int], None]  # (what is happening, done, total)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)


class DeclineGate:
    """Lets the model decline only when it means it.

    At the reply's first token, the probability of "NOT" (as in NOT FOUND) is read from the
    logits; below `threshold` it is masked so the model answers, and the grounding check decides.
    A small model often picks NOT FOUND with ~0.4 probability while the answer is in front of it.
    """

    def __init__(self, generator: LlamaGenerator, threshold: float) -> None:
        llm = generator.llm
        self.ids = sorted(
            {llm.tokenize(w.encode(), add_bos=False)[0] for w in ("NOT", " NOT", "Not", " Not")}
        )
        self.threshold = threshold
        self.p_decline: float | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.p_decline is None:
            z = np.exp(scores - scores.max())
            self.p_decline = float(z[self.ids].sum() / z.sum())
            if self.p_decline < self.threshold:
                scores = scores.copy()
                scores[self.ids] = -np.inf
        return scores

    def processors(self) -> Any:
        from llama_cpp import LogitsProcessorList

        return LogitsProcessorList([self])


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        generator: LlamaGenerator | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embed_model)
        self._generator = generator
        self._state = threading.Lock()  # guards store/retriever swaps
        self.store = self._open()
        if self.store.needs_upgrade:
            with self.store.locked():
                self.store = self._open_for_write()
        self.retriever = Retriever(self.store, self.embedder)

    def _open(self) -> Store:
        return Store.open(self.settings.index_dir, self.embedder.model_id, self.embedder.dim)

    def _open_for_write(self) -> Store:
        """The live index, upgraded first when it predates stored sentence vectors (embedded
        once and rewritten). Call with the store lock held."""
        store = self._open()
        if store.needs_upgrade:
            store.upgrade(self._embed(store.chunks)[1])
            store.commit()
        return store

    def _embed(
        self, chunks: list[Chunk], progress: Progress | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Chunk vectors and, per chunk, its sentence vectors: one pass over all the chunks."""
        texts = [f"{c.title}\n{c.text}" for c in chunks]
        shifts = [len(c.title) + 1 - c.start for c in chunks]  # document -> embedded text
        spans = [
            [(a + d, b + d) for a, b in c.sentences] for c, d in zip(chunks, shifts, strict=True)
        ]
        done = (lambda n, total: progress("embedding", n, total)) if progress else None
        return self.embedder.embed_spans(texts, spans, done)

    # ---- model ---------------------------------------------------------------------------
    @property
    def generator(self) -> LlamaGenerator:
        if self._generator is None:
            path = self.settings.model_path or resolve_model(self.settings.model)
            s = self.settings
            self._generator = LlamaGenerator(path, n_ctx=s.n_ctx, n_threads=s.n_threads)
        return self._generator

    def _cache_dir(self) -> Path:
        """Where the answer model's prompt-prefix state is kept between processes."""
        return self.settings.home / "cache"

    # ---- documents -----------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return sorted(self.store.docs.values(), key=lambda d: d.source)

    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def ingest(self, paths: list[Path], progress: Progress | None = None) -> IngestReport:
        """Add or update every readable file under `paths`; a bad file is reported, not fatal."""
        report = IngestReport()
        loaded: list[LoadedDocument] = []
        files = list(iter_files(paths))
        for n, path in enumerate(files, 1):
            try:
                loaded.append(load_file(path, self._max_bytes()))
            except DocumentError as exc:
                report.errors.append((str(path), str(exc)))
            if progress:
                progress(f"reading {path.name}", n, len(files))
        self._upsert(loaded, report, progress)
        return report

    def ingest_bytes(self, data: bytes, name: str) -> IngestReport:
        """Ingest one uploaded file; raises `DocumentError` when it cannot be read."""
        report = IngestReport()
        self._upsert([load_bytes(data, name, self._max_bytes())], report)
        return report

    def _upsert(
        self, docs: list[LoadedDocument], report: IngestReport, progress: Progress | None = None
    ) -> None:
        s = self.settings
        with self.store.locked():
            store = self._open_for_write()
            todo: list[tuple[DocumentInfo, list[Chunk]]] = []
            stored: dict[str, list[str]] = {}
            for c in store.chunks:
                stored.setdefault(c.doc_id, []).append(c.id)
            for doc in docs:
                old = store.docs.get(doc.doc_id)
                chunks = chunk_document(
                    doc.doc_id, doc.source, doc.text, s.chunk_chars, s.chunk_overlap
                )
                # unchanged = same text cut the same way (new chunk settings re-chunk it)
                if (
                    old is not None
                    and old.sha256 == doc.sha256
                    and stored.get(doc.doc_id) == [c.id for c in chunks]
                ):
                    report.unchanged.append(doc.source)
                    continue
                info = DocumentInfo(
                    doc.doc_id, doc.source, doc.title, doc.sha256, len(doc.text), len(chunks)
                )
                todo.append((info, chunks))
                (report.updated if old is not None else report.added).append(doc.source)
            # one embedding pass over every new chunk: long, length-sorted batches
            vectors, sentence_vecs = self._embed([c for _, cs in todo for c in cs], progress)
            upserts, row = [], 0
            for info, chunks in todo:
                rows = slice(row, row + len(chunks))
                upserts.append(Upsert(info, chunks, vectors[rows], sentence_vecs[rows]))
                row += len(chunks)
            if upserts:
                store.apply(upserts)
                store.commit()
            self._swap(store)

    def remove(self, doc_id: str) -> DocumentInfo:
        with self.store.locked():
            store = self._open_for_write()
            info = next((d for d in store.docs.values() if doc_id in (d.doc_id, d.source)), None)
            store.apply([], {info.doc_id if info else doc_id})
            store.commit()
            self._swap(store)
        assert info is not None  # apply() raised NotFoundError otherwise
        return info

    def _swap(self, store: Store) -> None:
        retriever = Retriever(store, self.embedder)
        with self._state:
            self.store, self.retriever = store, retriever

    # ---- questions -----------------------------------------------------------------------
    def _check(self, question: str) -> str:
        q = " ".join(question.split())
        if not q:
            raise BadQuestionError("the question is empty; ask something about your documents")
        if len(q) > self.settings.max_question_chars:
            raise BadQuestionError(
                f"the question is {len(q)} characters; the limit is "
                f"{self.settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)"
            )
        return q

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """Turn a follow-up ("and how many did it kill?") into a standalone question."""
        with self.generator.lock:
            out = "".join(self.generator.stream(condense_messages(question, history), 48))
        out = out.strip().strip('"').splitlines()[0].strip() if out.strip() else ""
        return out or question

    def context(self, question: str, k: int) -> tuple[list[Sentence], list[Hit], float]:
        """The sentences shown to the model, the retrieved chunks, and the retrieval time."""
        t0 = time.perf_counter()
        with self._state:
            retriever = self.retriever
        query_vec = self.embedder.embed([question])[0]
        hits = retriever.search(question, k, query_vec)
        seen: set[tuple[str, int]] = set()
        candidates, rows = [], []
        for hit in hits:
            vecs = retriever.sentence_vectors(hit.chunk)
            for sent, vec in zip(hit.chunk.sentence_list(), vecs, strict=True):
                if sent.flagged:
                    continue  # a planted instruction is never shown to the model
                if (sent.chunk.doc_id, sent.start) not in seen:
                    seen.add((sent.chunk.doc_id, sent.start))
                    candidates.append(sent)
                    rows.append(vec)
        chosen: list[Sentence] = []
        if candidates:
            vecs = np.stack(rows)
            chosen = grounding.select_sentences(
                question, candidates, vecs, query_vec, self.settings.context_sentences
            )
        return chosen, hits, time.perf_counter() - t0

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: list[dict[str, str]] | None = None,
        on_token: TokenSink | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Answer:
        """Answer `question` from the index; every claim in the result is cited and checked.

        `on_token` receives only verified text: each reply sentence once it is grounded, with its
        [n] marks (see rag/verified.py); joined, it is the final answer. Timings start after the
        model is loaded (a first call loads it)."""
        question = self._check(question)
        generator = self.generator
        t0 = time.perf_counter()
        if history:
            question = self.condense(question, history)
        sentences, hits, retrieval_s = self.context(question, k or self.settings.k)
        timings = Timings(retrieval_s=round(retrieval_s, 4))
        if not sentences:
            timings.total_s = round(time.perf_counter() - t0, 4)
            if on_token:
                on_token(grounding.DECLINE_TEXT)
            return Answer(grounding.DECLINE_TEXT, True, [], timings, hits)
        examples = EXAMPLES if self.settings.prompt_examples else ()
        messages = answer_messages(question, [s.text for s in sentences], examples)
        stats = Generation()
        gate = DeclineGate(generator, self.settings.decline_threshold)
        verified = VerifiedReply(question, sentences, self.settings.min_support, on_token)
        pieces: list[str] = []
        ttft = None
        with generator.lock:
            generator.keep_prefix(
                answer_messages("A?", ["a."], examples),
                answer_messages("B?", ["b."], examples),
                self._cache_dir(),
            )
            for piece in generator.stream(
                messages,
                max_tokens=max_tokens or self.settings.max_tokens,
                temperature=self.settings.temperature if temperature is None else temperature,
                stats=stats,
                logits_processor=gate.processors(),
            ):
                if ttft is None:
                    ttft = time.perf_counter() - t0
                pieces.append(piece)
                verified.feed(piece)
        reply = "".join(pieces).strip()
        timings.ttft_s = round(ttft if ttft is not None else time.perf_counter() - t0, 4)
        timings.prompt_tokens = stats.prompt_tokens
        timings.completion_tokens = stats.completion_tokens
        answer = verified.finish(hits, reply)
        answer.timings = timings
        timings.total_s = round(time.perf_counter() - t0, 4)
        return answer
