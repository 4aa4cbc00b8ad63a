"""The core loop: retrieve -> pick sentences -> prompt -> generate -> ground -> cite.

`Pipeline` is what the CLI, the web API and the evaluation harness all call.
    p = Pipeline(Settings());  p.ingest([Path("corpus")]);  p.ask("Who leads ISKP?")
Opening a pipeline reads the index only: the embedding model, the search indexes and the
answer model load on first use (`rag list` never loads them); `warm()` loads them at once, the
answer model in a background thread so the rest loads meanwhile.
Text in documents is data: sentences flagged at ingest as instructions to the assistant
(rag/ingest/injection.py) are never shown to the model, and only checked text is streamed out.
Does not: keep conversation state (callers pass `history`), or run two generations at once
(the model is shared; `ask` holds its lock).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import Embedder, export_query_embedder, make_embedder, make_query_embedder
from rag.config import Settings
from rag.conversation import asks_for_support, follow_up, keeps_names, thread
from rag.errors import BadQuestionError, CancelledError, DocumentError
from rag.generation.base import Generation, Generator
from rag.generation.budget import (
    Messages,
    check_question_fits,
    fit_answer,
    fit_history,
    trim_history,
)
from rag.generation.factory import make_generator
from rag.grounding import claims as grounding
from rag.grounding import conflicts
from rag.grounding.confidence import Calibrator, for_model, judge_with
from rag.grounding.question import Question, parse
from rag.grounding.verified import Judge, TokenSink, VerifiedReply
from rag.ingest.cage import Limits
from rag.ingest.chunking import chunk_document
from rag.ingest.documents import LoadedDocument, iter_files, load_bytes, load_file
from rag.prompt import (
    EXAMPLES,
    answer_messages,
    condense_messages,
    source_text,
    verify_messages,
)
from rag.store import Store, Upsert, open_store
from rag.types import (
    NOT_STATED,
    Answer,
    Chunk,
    Citation,
    DocumentInfo,
    Hit,
    Sentence,
    Timings,
    Trace,
)

Progress = Callable[[str, int, int], None]  # (what is happening, done, total)
CONDENSE_TOKENS = 48  # the rewritten question's length
# (stage, details): "condensing" {"reason"}, "retrieving" {"question", "rewritten"},
# "reading" {"passages"}, "writing" {}, "checking" {}
StageSink = Callable[[str, dict[str, Any]], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        query_embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embed_model)
        self._generator = self._expecting(generator) if generator else None
        self._loading_generator = threading.Lock()
        self.store: Store = open_store(
            settings,
            self.embedder.model_id,
            self.embedder.dim,
            reembed=lambda chunks: self._embed(chunks)[1],
        )
        self._query_embedder = query_embedder
        self._calibration: tuple[Calibrator | None, str] | None = None

    @property
    def calibrator(self) -> Calibrator | None:
        """The confidence model fitted for the answer model in use (rag/calibrations/, or
        RAG_CALIBRATION when it was made for this model); None when there is none
        (`calibration_note` says what to do): answers then carry no confidence."""
        if self._calibration is None:
            s = self.settings
            name = "server" if s.llm_url else "…" if s.model_path else s.model
            self._calibration = for_model(self.generator.identity(), s.calibration, name)
        return self._calibration[0]

    @property
    def calibration_note(self) -> str:
        """Why answers carry no confidence ("" when they do); loads the answer model."""
        _ = self.calibrator
        assert self._calibration is not None
        return self._calibration[1]

    @staticmethod
    def judge(
        cal: Calibrator, q: Question, context: list[Sentence], hits: list[Hit], stats: Generation
    ) -> Judge:
        """The calibrated confidence of a first claim (see rag/grounding/confidence.py)."""
        ranks = {h.chunk.id: h.rank for h in hits}
        return judge_with(
            cal,
            q,
            context,
            ranks,
            lambda: stats.p_decline,
            lambda: stats.tokens,
            p_yes=lambda: stats.p_yes,
        )

    @property
    def query_embedder(self) -> Embedder:
        """What embeds questions: the ONNX export of the embedding model when ingest made one
        (the same vectors to 1e-4 cosine, without importing torch), else `embedder`."""
        if self._query_embedder is None:
            onnx = self.settings.onnx_queries
            cache = self._onnx_cache()
            self._query_embedder = (
                make_query_embedder(self.embedder, cache) if onnx else self.embedder
            )
        return self._query_embedder

    def warm(self) -> None:
        """Load everything a question needs now: the answer model in a background thread (llama.cpp
        maps and prepares the GGUF outside the GIL) while this thread loads the embedding model
        and builds the search indexes. `generator` waits for the thread; its error surfaces there.
        """
        if self._generator is None:
            threading.Thread(target=self._load_generator, name="load-gguf", daemon=True).start()
        self.query_embedder.embed(["warm up"])
        self.store.warm()

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
    def generator(self) -> Generator:
        if self._generator is None:
            # waits for a load `warm()` started; when that failed, loads again to raise its error
            self._load_generator(quiet=False)
        assert self._generator is not None
        return self._generator

    def _load_generator(self, quiet: bool = True) -> None:
        """Load the answer model once (callers in several threads wait for the first)."""
        with self._loading_generator:
            if self._generator is None:
                try:
                    generator = make_generator(self.settings)
                except Exception:
                    if not quiet:
                        raise
                    return
                self._generator = self._expecting(generator)

    def _expecting(self, generator: Generator) -> Generator:
        """`generator`, told what every answer prompt and every follow-up rewrite starts with
        (instructions, examples)."""
        examples = EXAMPLES if self.settings.prompt_examples else ()
        a, b = (answer_messages(q, [s], examples) for q, s in (("A?", "a."), ("B?", "b.")))
        generator.expect(a, b, self._cache_dir())
        c, d = (condense_messages(q, [{"role": "user", "content": q}]) for q in ("A?", "B?"))
        generator.expect(c, d, self._cache_dir())
        return generator

    def _onnx_cache(self) -> Path:
        """Exports of the embedding model (embeddings/onnx_runtime.py), beside the models."""
        return self.settings.models_dir / "onnx"

    def _cache_dir(self) -> Path:
        """Where the answer model's prompt-prefix state is kept between processes."""
        return self.settings.home / "cache"

    # ---- documents -----------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def _limits(self) -> Limits:
        s = self.settings
        return Limits(s.parser_seconds, s.parser_memory_mb, s.max_extract_mb, s.max_doc_chars)

    def ingest(self, paths: list[Path], progress: Progress | None = None) -> IngestReport:
        """Add or update every readable file under `paths`; a bad file is reported, not fatal.

        Files are read and committed RAG_INGEST_BATCH at a time: a killed ingest keeps every
        batch before the one it was in (the next run skips them as unchanged)."""
        report = IngestReport()
        files = list(iter_files(paths))
        size = self.settings.ingest_batch
        for first in range(0, max(len(files), 1), size):
            loaded: list[LoadedDocument] = []
            for n, path in enumerate(files[first : first + size], first + 1):
                try:
                    loaded.append(load_file(path, self._max_bytes(), self._limits()))
                except DocumentError as exc:
                    report.errors.append((str(path), str(exc)))
                if progress:
                    progress(f"reading {path.name}", n, len(files))
            self._upsert(loaded, report, progress)
        return report

    def ingest_bytes(
        self, data: bytes, name: str, cancelled: Callable[[], bool] | None = None
    ) -> IngestReport:
        """Ingest one uploaded file; raises `DocumentError` when it cannot be read.

        `cancelled` (an upload whose client hung up) is polled while the file is read and
        embedded; once it is true, `CancelledError` is raised and nothing is committed."""
        report = IngestReport()
        doc = load_bytes(data, name, self._max_bytes(), self._limits(), cancelled)
        progress: Progress | None = None
        if cancelled is not None:

            def progress(_what: str, _done: int, _total: int) -> None:
                if cancelled():
                    raise CancelledError(f"{name}: the upload was cancelled; nothing was stored")

            progress("reading", 1, 1)
        self._upsert([doc], report, progress)
        return report

    def _upsert(
        self, docs: list[LoadedDocument], report: IngestReport, progress: Progress | None = None
    ) -> None:
        s = self.settings
        with self.store.writer() as writer:
            todo: list[tuple[DocumentInfo, list[Chunk]]] = []
            stored = writer.stored([doc.doc_id for doc in docs])
            for doc in docs:
                old = stored[doc.doc_id].info if doc.doc_id in stored else None
                chunks = chunk_document(
                    doc.doc_id, doc.source, doc.text, s.chunk_chars, s.chunk_overlap, doc.parts
                )
                # unchanged = same text cut the same way (new chunk settings re-chunk it)
                if (
                    old is not None
                    and old.sha256 == doc.sha256
                    and stored[doc.doc_id].chunk_ids == [c.id for c in chunks]
                ):
                    report.unchanged.append(doc.source)
                    continue
                info = DocumentInfo(
                    doc.doc_id,
                    doc.source,
                    doc.title,
                    doc.sha256,
                    len(doc.text),
                    len(chunks),
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                )
                todo.append((info, chunks))
                (report.updated if old is not None else report.added).append(doc.source)
            # one embedding pass over every new chunk: long, length-sorted batches
            vectors, sentence_vecs = self._embed([c for _, cs in todo for c in cs], progress)
            if progress and todo:
                progress("storing", len(todo), len(todo))  # last chance to cancel: no commit yet
            row = 0
            for info, chunks in todo:  # each document whole or not at all
                rows = slice(row, row + len(chunks))
                writer.put(Upsert(info, chunks, vectors[rows], sentence_vecs[rows]))
                row += len(chunks)
        if todo and self.settings.onnx_queries:  # torch is loaded now: export for questions
            with contextlib.suppress(OSError):  # read-only models/: questions use torch
                export_query_embedder(self.embedder, self._onnx_cache())

    def remove(self, doc_id: str) -> DocumentInfo:
        """Remove a document by id or source name (`NotFoundError` when there is none)."""
        with self.store.writer() as writer:
            return writer.remove(doc_id)

    # ---- questions -----------------------------------------------------------------------
    def check_question(self, question: str) -> str:
        """The question with its spaces normalised, or `BadQuestionError` (empty, too long)."""
        q = " ".join(question.encode("utf-8", "replace").decode().split())  # lone surrogates
        if not q:
            raise BadQuestionError("the question is empty; ask something about your documents")
        if len(q) > self.settings.max_question_chars:
            raise BadQuestionError(
                f"the question is {len(q)} characters; the limit is "
                f"{self.settings.max_question_chars} (RAG_MAX_QUESTION_CHARS)"
            )
        return q

    def check_fits(self, question: str) -> None:
        """`BadQuestionError` when `question` (as `check_question` returns it) cannot fit the
        answer model's context window with the instructions, a short source and a short reply:
        the refusal `ask` would give, given before the question waits for the model.

        Safe while another thread generates with the same model: it only renders the prompt and
        counts its tokens (llama.cpp's tokenizer reads the vocabulary, never the context: "The
        API is thread-safe", llama.h); a model server is asked over its own connection. Does
        not: check the history (it is cut to fit) or take `generator.lock`."""
        examples = EXAMPLES if self.settings.prompt_examples else ()
        check_question_fits(
            question,
            lambda q, sources: answer_messages(q, sources, examples),
            self._count,
            self.generator.n_ctx(),
        )

    def _count(self, messages: Messages) -> int:
        """Tokens of a chat as the answer model sees it."""
        return self.generator.count(messages)

    def condense(self, question: str, history: list[dict[str, str]]) -> str:
        """Turn a follow-up ("and how many did it kill?") into a standalone question.

        The history is cut to fit RAG_MAX_HISTORY_CHARS and the context window
        (rag/generation/budget.py); when none of it fits, the question stays as it is, as it
        does when the rewrite drops a name or number the user typed (it would answer another
        question: "What is ISKP?" came back as "What is the acronym for Islamic State of
        Palestine?")."""
        history = fit_history(
            trim_history(history, self.settings.max_history_chars),
            lambda h: condense_messages(question, h),
            self._count,
            self.generator.n_ctx() - CONDENSE_TOKENS,
        )
        if not history:
            return question
        with self.generator.lock:
            out = "".join(
                self.generator.stream(condense_messages(question, history), CONDENSE_TOKENS)
            )
        out = out.strip().strip('"').splitlines()[0].strip() if out.strip() else ""
        return out if out and keeps_names(question, out) else question

    def searched(
        self, question: str, history: list[dict[str, str]], rewrite: bool | None, stage: StageSink
    ) -> str:
        """The question to search and answer: `question` as typed, unless it is a follow-up
        (rag/conversation.py; `rewrite` True or False overrides) and a rewrite of it with the
        thread it belongs to stands on its own."""
        reason = follow_up(question) if rewrite is None else "asked to" if rewrite else None
        if not reason:
            return question
        users = [i for i, m in enumerate(history) if m["role"] == "user"]
        if rewrite is None and asks_for_support(question) and users:
            # "are you sure?": the last question again, its answer with citations and confidence
            last = users[-1]
            again = " ".join(history[last]["content"].split())
            return self.searched(again, history[:last], None, stage)
        stage("condensing", {"reason": reason})
        return self.condense(question, thread(history))

    def context(self, q: Question, k: int) -> tuple[list[Sentence], list[Hit], float]:
        """The sentences shown to the model, the retrieved chunks, and the retrieval time."""
        t0 = time.perf_counter()
        query_vec = self.query_embedder.embed([q.text])[0]
        hits = self.store.search(q.text, query_vec, k)
        seen: set[tuple[str, int]] = set()
        candidates, rows = [], []
        for hit in hits:
            vecs = self.store.sentence_vectors(hit.chunk)
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
                q, candidates, vecs, query_vec, self.settings.context_sentences
            )
        return chosen, hits, time.perf_counter() - t0

    def _similarity(self, text: str, others: list[str]) -> list[float]:
        vecs = np.asarray(self.query_embedder.embed([text, *others]), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        return [float(v) for v in vecs[1:] @ vecs[0]]

    def _show_other_side(
        self,
        question: Question,
        answer: Answer,
        context: list[Sentence],
        on_token: TokenSink | None,
    ) -> Answer:
        """The answer, and the passage that gives another value for it, cited (conflicts.py):
        a disagreement between the sources is shown, never settled silently."""
        other = conflicts.other_side(question, answer, context, self._similarity)
        if other is None:
            return answer
        known = {(c.chunk_id, c.start): c.n for c in answer.citations}
        n = known.get((other.chunk.id, other.start), len(answer.citations) + 1)
        citations = answer.citations
        if n > len(citations):  # not cited yet
            citations = [
                *citations,
                Citation(
                    n,
                    other.chunk.source,
                    other.chunk.id,
                    other.start,
                    other.end,
                    other.text,
                    other.page or None,
                    other.chunk.title,
                ),
            ]
        note = f" {conflicts.NOTE} “{other.text}” [{n}]"
        if on_token:
            on_token(note)
        return replace(answer, answer=answer.answer + note, citations=citations)

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: list[dict[str, str]] | None = None,
        on_token: TokenSink | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_stage: StageSink | None = None,
        rewrite: bool | None = None,
    ) -> Answer:
        """Answer `question` from the index; every claim in the result is cited and checked.

        `on_token` receives only verified text: each reply sentence once it is grounded, with its
        [n] marks (see rag/grounding/verified.py); joined, it is the final answer. `on_stage`
        hears what is happening (see `StageSink`), for a progress display. With `history`, a
        follow-up is rewritten to stand alone before the search (`searched`); `rewrite` False
        searches the user's own words, True rewrites whatever the question. Timings start after
        the model is loaded (a first call loads it)."""
        stage = on_stage or (lambda name, info: None)
        question = self.check_question(question)
        generator = self.generator
        examples = EXAMPLES if self.settings.prompt_examples else ()

        def build(q: str, sources: list[str]) -> Messages:
            return answer_messages(q, sources, examples)

        check_question_fits(question, build, self._count, generator.n_ctx())
        t0 = time.perf_counter()
        typed = question
        if history:
            history = [
                {"role": m["role"], "content": m["content"].encode("utf-8", "replace").decode()}
                for m in history
            ]
            question = self.searched(question, history, rewrite, stage)
        rewrite_s = time.perf_counter() - t0
        searched = question if question != typed else None
        stage("retrieving", {"question": question, "rewritten": searched is not None})
        parsed = parse(question)  # once, after it is checked and condensed: every step takes it
        sentences, hits, retrieval_s = self.context(parsed, k or self.settings.k)
        stage("reading", {"passages": len(sentences)})
        if not sentences:
            if on_token:
                on_token(grounding.DECLINE_TEXT)
            timings = Timings(
                round(retrieval_s, 4),
                total_s=round(time.perf_counter() - t0, 4),
                rewrite_s=round(rewrite_s, 4),
            )
            return Answer(
                grounding.DECLINE_TEXT,
                True,
                [],
                timings,
                trace=Trace(hits),
                decline=NOT_STATED,
                searched=searched,
            )
        fitted = fit_answer(
            question,
            [source_text(s.text, s.kind, s.chunk.title) for s in sentences],
            build,
            self._count,
            generator.n_ctx(),
            max_tokens or self.settings.max_tokens,
        )
        sentences = sentences[: len(fitted.sources)]  # what the model sees, it may cite
        messages = build(question, fitted.sources)
        stats = Generation()
        cal = self.calibrator
        # the model reads its reply back when the calibration weighs that (a whole reply first)
        read_back = self.settings.read_back
        if read_back is None:
            read_back = cal is not None and "logit_yes" in cal.names
        verify = generator.offers_yes and read_back
        verified = VerifiedReply(
            parsed,
            sentences,
            self.settings.min_support,
            on_token,
            policy=cal.policy() if cal else grounding.DEFAULT_POLICY,
            judge=self.judge(cal, parsed, sentences, hits, stats) if cal else None,
            min_confidence=cal.threshold(self.settings.min_confidence) if cal else 0.0,
            hold=verify,
        )
        pieces: list[str] = []
        ttft = None
        with generator.lock:
            stage("writing", {})
            for piece in generator.stream(
                messages,
                max_tokens=fitted.max_tokens,
                temperature=self.settings.temperature if temperature is None else temperature,
                stats=stats,
                fresh=True,  # the same reply as a new process (`rag ask`) gives
                decline_below=self.settings.decline_threshold,  # the decline gate
            ):
                if ttft is None:
                    ttft = time.perf_counter() - t0
                pieces.append(piece)
                verified.feed(piece)
            reply = "".join(pieces).strip()
            check_s = 0.0
            if verify and not grounding.opens_with_decline(reply):
                stage("checking", {})
                t_check = time.perf_counter()
                stats.p_yes = generator.yes_probability(verify_messages(messages, reply))
                check_s = time.perf_counter() - t_check
        ttft_s = ttft if ttft is not None else time.perf_counter() - t0
        trace = Trace(hits, sentences, reply, stats.p_decline, stats.tokens, stats.p_yes)
        answer = self._show_other_side(parsed, verified.finish(trace), sentences, on_token)
        timings = Timings(
            round(retrieval_s, 4),
            round(ttft_s, 4),
            round(time.perf_counter() - t0, 4),  # grounding the last sentence too
            stats.prompt_tokens,
            stats.completion_tokens,
            round(check_s, 4),
            round(rewrite_s, 4),
        )
        band = cal.band(answer.confidence) if cal and not answer.declined else None
        return replace(answer, timings=timings, band=band, searched=searched)
