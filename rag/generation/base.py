"""The answer model's contract: what `Pipeline` needs from a generator (`factory.py` makes one).

Two backends, one module each, chosen by one setting:
    rag/generation/llama.py   `LlamaGenerator`: a GGUF file run in this process (default)
    rag/generation/remote.py  `OpenAIGenerator`: any OpenAI-compatible server, `RAG_LLM_URL`
The pipeline hands a generator chats (lists of `{"role", "content"}` messages); each backend
renders them with the model's own chat template (in this process, or on the server).
    gen = make_generator(Settings());  gen.count(chat) + 96 <= gen.n_ctx()
    with gen.lock:  text = "".join(gen.stream(chat, max_tokens=96, decline_below=0.5))
Does not: pick prompts, check answers or retry (rag/prompt.py, rag/grounding/claims.py; a failing
model server is a `ModelServerError`, HTTP 503).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

Messages = list[dict[str, str]]
# A decline ("NOT FOUND") starts with one of these; the decline gate reads their probability at
# the reply's first token (the first token of each word, as the model's tokenizer cuts it).
NOT_WORDS = ("NOT", " NOT", "Not", " Not")
YES_WORDS, NO_WORDS = ("yes", "Yes", " yes", " Yes"), ("no", "No", " no", " No")


@dataclass
class Generation:
    """What one `stream` call reports besides the text."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    p_decline: float | None = None  # first-token probability of NOT_WORDS; None: not offered
    # each generated token's text and the log-probability the model gave it (after the decline
    # gate); None where the backend offers no probabilities
    tokens: list[tuple[str, float]] | None = None
    p_yes: float | None = None  # `yes_probability` of the verification question, when asked


class Generator(ABC):
    """One answer model. Callers hold `lock` around `stream` (one reply at a time per
    generator; more at once means more processes or more model servers)."""

    name: str  # what the API reports as its model

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # what the prompts will look like (`expect`); a backend may keep their shared prefixes
        self.expected: list[tuple[Messages, Messages, Path | None]] = []

    def expect(self, a: Messages, b: Messages, cache_dir: Path | None = None) -> None:
        """Say what one kind of prompt looks like (the answer prompt, the follow-up rewrite):
        `a` and `b` are two of them that differ only in their variable part (question,
        sources). A backend that can keep the evaluated state of the prefix they share does
        so from the next `stream` on, in `cache_dir` too. Each kind is said once."""
        if (a, b, cache_dir) not in self.expected:
            self.expected.append((a, b, cache_dir))

    @abstractmethod
    def n_ctx(self) -> int:
        """The context window in tokens: prompt and reply together fit in it."""

    @abstractmethod
    def count(self, messages: Messages) -> int:
        """Tokens of `messages` as the model sees them (chat template and reply opening
        included); what the token budget (rag/generation/budget.py) measures prompts with."""

    @abstractmethod
    def identity(self) -> str:
        """Which model this is, for the calibration fitted to it (rag/grounding/confidence.py):
        `gguf sha256:<hex>` for a file run here, `server <model name>` for a model server."""

    @property
    def offers_yes(self) -> bool:
        """`yes_probability` gives a number (the backend offers token probabilities)."""
        return False

    def probe(self) -> None:
        """Raise `ModelServerError` when the model cannot answer now (its server is down);
        cheap, needs no `lock`. A model in this process always can: a no-op."""
        return None

    def yes_probability(self, messages: Messages) -> float | None:
        """P(the next reply to `messages` opens with yes rather than no), from the
        probabilities of its first token; None where the backend offers none. Hold `lock`."""
        return None

    @abstractmethod
    def stream(
        self,
        messages: Messages,
        max_tokens: int = 96,
        temperature: float = 0.0,
        stats: Generation | None = None,
        fresh: bool = False,
        decline_below: float | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text pieces; fill `stats` as it goes.

        `decline_below`: the decline gate. At the reply's first token, the probability of
        NOT_WORDS is read into `stats.p_decline`; below this threshold those tokens are
        forbidden there, so the model answers and the grounding check decides.
        `fresh`: the reply must not depend on the call before (see each backend)."""
