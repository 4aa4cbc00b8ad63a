"""The bounded queue in front of the one llama.cpp model.

    job = queue.start(lambda on_token, on_stage: pipeline.ask(q, on_token=on_token))
    answer = await job.result(request.is_disconnected)      # or: await job.next(...) per event

At most `limit` requests are admitted at a time (waiting for the model or using it); one more is
refused at once with `QueueFullError` (HTTP 503 + Retry-After), never left hanging. Admitted
work runs in worker threads, one job at a time. Tokens cross from the thread to the event loop
through an asyncio.Queue, and so do progress stages (`("stage", {"stage": "waiting", ...})`
while another request has the model, then whatever the work reports through `on_stage`).
Setting `job.cancel` (the client went away) skips a job still waiting, or makes the next token
or stage raise inside the thread, which ends the generation and frees the model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from api.errors import UnavailableError
from rag.types import Answer

StageSink = Callable[[str, dict[str, Any]], None]
Work = Callable[[Callable[[str], None], StageSink], Answer]  # fn(on_token, on_stage) -> Answer
IsGone = Callable[[], Awaitable[bool]]
# ("token", str) | ("stage", dict) | ("done", Answer) | ("error", Exception) | ("cancelled", None)
Event = tuple[str, Any]


class QueueFullError(UnavailableError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class ClientGoneError(Exception):
    """The client disconnected while its request waited; there is no one to answer."""


class _Cancelled(Exception):
    """Raised from on_token inside the worker thread to stop a generation."""


@dataclass
class QueueStats:
    limit: int
    active: int = 0  # waiting for the model or using it
    completed: int = 0
    failed: int = 0
    cancelled: int = 0  # generations stopped because the client went away
    rejected: int = 0  # refused with 503


class Job:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.cancel = threading.Event()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.outcome = "completed"
        self._loop = loop

    def emit(self, kind: str, value: Any = None) -> None:
        self._loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))

    def on_token(self, piece: str) -> None:  # called in the worker thread
        if self.cancel.is_set():
            raise _Cancelled
        if piece:  # "" is the pipeline's tick per generated token: only a chance to cancel
            self.emit("token", piece)

    def on_stage(self, name: str, info: dict[str, Any]) -> None:  # called in the worker thread
        if self.cancel.is_set():
            raise _Cancelled
        self.emit("stage", {"stage": name, **info})

    async def next(self, is_gone: IsGone | None = None, poll_s: float = 0.5) -> Event:
        """The next event; while waiting, check every `poll_s` whether the client is gone."""
        if is_gone is None:
            return await self.events.get()
        getter = asyncio.ensure_future(self.events.get())
        try:
            while True:
                done, _ = await asyncio.wait({getter}, timeout=poll_s)
                if done:
                    return getter.result()
                if await is_gone():
                    self.cancel.set()
                    raise ClientGoneError
        finally:
            getter.cancel()

    async def result(self, is_gone: IsGone | None = None) -> Answer:
        """Wait for the final answer (tokens and stages are skipped); errors from the thread
        re-raise."""
        while True:
            kind, value = await self.next(is_gone)
            if kind == "done":
                return value
            if kind == "error":
                raise value
            if kind == "cancelled":
                raise ClientGoneError


class ModelQueue:
    def __init__(self, limit: int, retry_after_s: int = 5) -> None:
        self.stats = QueueStats(limit=limit)
        self.retry_after_s = retry_after_s
        self._pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="rag-model")
        self._jobs: set[Job] = set()
        self._turn = threading.Lock()  # the model serves one request at a time

    def start(self, work: Work) -> Job:
        """Admit `work` or raise `QueueFullError`. Call on the event loop (no lock needed)."""
        if self.stats.active >= self.stats.limit:
            self.stats.rejected += 1
            raise QueueFullError(
                f"the model is busy: {self.stats.active} requests are queued, the limit is "
                f"{self.stats.limit} (RAG_MAX_QUEUE); retry in {self.retry_after_s} s",
                self.retry_after_s,
            )
        loop = asyncio.get_running_loop()
        job = Job(loop)
        self.stats.active += 1
        self._jobs.add(job)
        future = loop.run_in_executor(self._pool, self._run, job, work)
        future.add_done_callback(lambda _: self._finished(job))
        return job

    def _run(self, job: Job, work: Work) -> None:
        try:
            if not self._turn.acquire(blocking=False):
                job.on_stage("waiting", {"ahead": max(self.stats.active - 1, 1)})
                self._turn.acquire()
            try:  # one at a time; a job whose client left never reaches the model
                if job.cancel.is_set():
                    raise _Cancelled
                answer = work(job.on_token, job.on_stage)
            finally:
                self._turn.release()
        except _Cancelled:
            job.outcome = "cancelled"
            job.emit("cancelled")
        except Exception as exc:  # handed to the request, which turns it into a status
            job.outcome = "failed"
            job.emit("error", exc)
        else:
            job.emit("done", answer)

    def _finished(self, job: Job) -> None:
        self._jobs.discard(job)
        self.stats.active -= 1
        setattr(self.stats, job.outcome, getattr(self.stats, job.outcome) + 1)

    def snapshot(self) -> dict[str, int]:
        return asdict(self.stats)

    def shutdown(self) -> None:
        for job in list(self._jobs):
            job.cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
