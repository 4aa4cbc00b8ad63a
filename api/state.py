"""What the app holds for its lifetime: settings, the pipeline (loaded once) and the model queue."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from api.queue import ModelQueue
from rag.config import Settings
from rag.errors import RagError
from rag.pipeline import Pipeline

log = logging.getLogger("uvicorn.error")  # shown with uvicorn's own lines


def served_model_name(settings: Settings) -> str:
    if settings.llm_url:  # answers come from a model server
        return settings.llm_model or "remote"
    return settings.model_path.stem if settings.model_path else settings.model


@dataclass
class AppState:
    settings: Settings
    pipeline: Pipeline | None = None
    queue: ModelQueue = field(init=False)
    ready: bool = False
    error: str | None = None  # why loading failed

    def __post_init__(self) -> None:
        self.queue = ModelQueue(self.settings.max_queue)
        self.model_name = served_model_name(self.settings)

    def load(self) -> None:
        """Open the index and load the model (slow; runs in a thread at startup)."""
        try:
            pipeline = self.pipeline or Pipeline(self.settings)
            pipeline.generator  # noqa: B018 - load the model now, not on the first question
            self.pipeline = pipeline
            # a model server is asked its name for this: never let it hold up readiness
            threading.Thread(target=self._warn_calibration, args=(pipeline,), daemon=True).start()
            self.ready = True
            log.info(
                "ready: model %s, %d documents in %s",
                self.model_name,
                pipeline.store.counts()[0],
                pipeline.store.location,
            )
        except Exception as exc:
            self.error = str(exc)
            log.error("could not load the index or the model: %s", exc)

    @staticmethod
    def _warn_calibration(pipeline: Pipeline) -> None:
        """One line when the model has no calibration. A model server that does not answer now
        (its name is asked for) is not a reason to stay unready: the first question says so."""
        try:
            note = pipeline.calibration_note
        except RagError:
            return
        if note:
            log.warning("%s", note)
