"""The in-process answer model (the default backend of rag/generation/base.py): a GGUF file run by
llama.cpp (llama-cpp-python), streamed token by token.

Prompts are rendered with the model's own chat template (from the GGUF metadata). llama.cpp
keeps the KV cache of the previous call; `keep_prefix` (run by `stream` for the prompts the
caller `expect`s) also keeps the KV state of each kind's fixed prompt prefix (instructions and
examples: the answer prompt, the follow-up rewrite), restores it when another prompt ran in
between, and saves it to disk so the next process loads it
instead of evaluating it again.
The decline gate is a logits processor (`DeclineGate`) on the reply's first token.
Does not: batch requests (callers serialise access; see `lock`).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import ModelMissingError
from rag.generation import selfcheck
from rag.generation.base import NO_WORDS, NOT_WORDS, YES_WORDS, Generation, Generator, Messages

if TYPE_CHECKING:
    from llama_cpp import Llama

PREFIX_MARGIN = 4  # tokens left off the shared prefix: the text after it may merge with them


class DeclineGate:
    """Lets the model decline only when it means it.

    At the reply's first token, the probability of "NOT" (as in NOT FOUND) is read from the
    logits; below `threshold` it is masked so the model answers, and the grounding check decides.
    A small model often picks NOT FOUND with ~0.4 probability while the answer is in front of it.
    """

    def __init__(self, generator: LlamaGenerator, threshold: float) -> None:
        self.ids = generator.first_ids(NOT_WORDS)
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


_PARAMS_LOCK = threading.Lock()


def load_llama(model_path: str, *, repack: bool = False, **kwargs: Any) -> Llama:
    """`llama_cpp.Llama(model_path, **kwargs)` with llama.cpp's weight repacking on or off.

    Repacking (`use_extra_bufts`) copies the weights into the CPU backend's interleaved layouts
    at load. On the AMD EPYC of docs/performance.md it made loading 1.0 s instead of 0.4 s and
    prompt evaluation 2.2 s instead of 1.6 s (232 tokens), for 31 instead of 42 ms per generated
    token, and doubled resident memory; so it is off unless RAG_REPACK=1. llama-cpp-python has
    no argument for it: its default model parameters are swapped for the duration of the load.
    """
    import llama_cpp.llama_cpp as c
    from llama_cpp import Llama

    with _PARAMS_LOCK:
        defaults = c.llama_model_default_params

        def params() -> Any:
            p = defaults()
            p.use_extra_bufts = repack
            return p

        c.llama_model_default_params = params
        try:
            return Llama(model_path=model_path, **kwargs)
        finally:
            c.llama_model_default_params = defaults


class TokenLog:
    """Records each generated token with its log-probability (a logits processor that runs
    after the decline gate, so it sees what the sampler sees). A token's id is known at the
    next step, from the input ids; the last one, with no next step, is taken as the argmax
    (greedy decoding, the default, picks exactly that)."""

    def __init__(self, generator: LlamaGenerator, start: int) -> None:
        self.llm = generator.llm
        self.start = start  # prompt length: input ids beyond it are generated tokens
        self.logprobs: list[float] = []
        self.ids: list[int] = []
        self._last: np.ndarray | None = None
        self.pairs: list[tuple[str, float]] = []
        self._text = ""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._last is not None and len(input_ids) > self.start + len(self.ids):
            self._take(int(input_ids[-1]))
        z = scores - scores.max()
        self._last = z - np.log(np.exp(z).sum())
        return scores

    def _take(self, token: int) -> None:
        assert self._last is not None
        self.ids.append(token)
        self.logprobs.append(float(self._last[token]))
        self._last = None

    def tokens(self) -> list[tuple[str, float]]:
        """(text, log-probability) per token generated so far (the list grows in place); texts
        decoded as a whole (a character split over two tokens belongs to the second)."""
        if self._last is not None:
            self._take(int(self._last.argmax()))
        for i in range(len(self.pairs), len(self.ids)):
            text = self.llm.detokenize(self.ids[: i + 1]).decode("utf-8", "ignore")
            self.pairs.append((text[len(self._text) :], self.logprobs[i]))
            self._text = text
        return self.pairs


class LlamaGenerator(Generator):
    offers_yes = True  # always: the logits are here

    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 2048,
        n_threads: int = 2,
        seed: int = 0,
        repack: bool = False,
    ):
        super().__init__()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not Path(model_path).is_file():
            raise ModelMissingError(f"no model file at {model_path}; run `make models`")
        selfcheck.ensure(Path(model_path))  # a build that crashes on this CPU says so, once
        try:
            self.llm = load_llama(
                str(model_path),
                repack=repack,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelMissingError(f"{model_path} is not a loadable GGUF model ({exc})") from None
        self.path = Path(model_path)
        self.name = self.path.stem
        self._identity: str | None = None
        meta = self.llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ModelMissingError(f"{model_path} has no chat template; use an instruct model")
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._piece(eos),
            bos_token=self._piece(bos),
        )
        self.prefix: list[int] = []  # token ids whose KV state `_state` holds
        self._state = b""
        # every kept prefix (one per prompt kind) and its state; `prefix` is the one in use
        self._kept: dict[tuple[int, ...], bytes] = {}
        self._asked: dict[tuple[str, str, Path | None], int] = {}  # keep_prefix's answers
        self._fixed: dict[tuple[str, str], list[int]] = {}  # fixed_prefix's answers

    def identity(self) -> str:
        if self._identity is None:
            from rag.generation.models import file_sha256

            self._identity = f"gguf sha256:{file_sha256(self.path)}"
        return self._identity

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode(errors="ignore")

    def render(self, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        out = self.formatter(messages=messages)  # type: ignore[arg-type]
        stops = out.stop if isinstance(out.stop, list) else [out.stop] if out.stop else []
        return out.prompt, [s for s in stops if s]

    def tokenize(self, prompt: str) -> list[int]:
        """Token ids of a rendered prompt, as `create_completion` would make them."""
        return self.llm.tokenize(prompt.encode(), add_bos=True, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def count(self, messages: Messages) -> int:
        return self.count_tokens(self.render(messages)[0])

    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    def keep_prefix(self, a: Messages, b: Messages, cache_dir: Path | None = None) -> int:
        """Evaluate the tokens that prompts `a` and `b` share, once, and keep their KV state.

        `a` and `b` are two prompts of one kind that differ only in their variable part; what
        they share is the fixed prefix. With `cache_dir`, the state is loaded from there when a
        previous process saved it (same model file, llama.cpp version and prefix), else
        evaluated and saved. Returns the prefix length in tokens. Hold `lock`."""
        asked = (repr(a), repr(b), cache_dir)
        if asked in self._asked:  # every question asks again: answer from the last time
            return self._asked[asked]
        prefix = self.fixed_prefix(a, b)
        if not prefix:
            return 0
        path = cache_dir / f"prefix-{self._key(prefix)}.kv" if cache_dir else None
        if tuple(prefix) in self._kept:
            self.prefix, self._state = prefix, self._kept[tuple(prefix)]
        elif prefix != self.prefix and not (path and path.is_file() and self._load(path, prefix)):
            self.llm.reset()
            self.llm.eval(prefix)
            self.prefix, self._state = prefix, self._save()
        self._kept[tuple(prefix)] = self._state
        if path is not None and not path.is_file():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_bytes(self._state)
                os.replace(tmp, path)
            except OSError:
                pass  # a read-only home: the prefix is kept in memory only
        self._asked[asked] = len(prefix)
        return len(prefix)

    def fixed_prefix(self, a: Messages, b: Messages) -> list[int]:
        """The tokens two prompts of one kind share (less PREFIX_MARGIN); computed once."""
        key = (repr(a), repr(b))
        if key not in self._fixed:
            ta, tb = (self.tokenize(self.render(m)[0]) for m in (a, b))
            shared = next((i for i, (x, y) in enumerate(zip(ta, tb, strict=False)) if x != y), 0)
            self._fixed[key] = ta[: max(0, shared - PREFIX_MARGIN)]
        return self._fixed[key]

    def _key(self, prefix: list[int]) -> str:
        import llama_cpp

        st = self.path.stat()
        ident = f"{self.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{llama_cpp.__version__}|"
        ident += f"{self.llm.n_ctx()}|{self.llm.model_params.use_extra_bufts}|"  # other kernels
        ident += np.asarray(prefix, np.int32).tobytes().hex()
        return hashlib.sha256(ident.encode()).hexdigest()[:16]

    def _save(self) -> bytes:
        import llama_cpp

        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(ctx, buf, size)
        return ctypes.string_at(buf, n)

    def _load(self, path: Path, prefix: list[int]) -> bool:
        self.prefix, self._state = prefix, path.read_bytes()
        if self.restore_prefix():
            return True
        self.prefix, self._state = [], b""
        path.unlink(missing_ok=True)  # from another llama.cpp build: evaluate afresh
        return False

    def restore_prefix(self) -> bool:
        """Put the kept prefix back into the KV cache (after another prompt replaced it)."""
        import llama_cpp

        llm, n = self.llm, len(self.prefix)
        if not n:
            return False
        buf = (ctypes.c_uint8 * len(self._state)).from_buffer_copy(self._state)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, len(self._state)) != len(buf):
            llm.reset()
            return False
        llm.input_ids[:n] = self.prefix
        llm.n_tokens = n
        llm._requires_eval = True  # logits come from the next decode, not the restored state
        return True

    def _use_prefix_of(self, tokens: list[int]) -> None:
        """Make the longest kept prefix this prompt starts with the one `stream` restores."""
        starts = [kept for kept in self._kept if tuple(tokens[: len(kept)]) == kept]
        if starts:
            best = max(starts, key=len)
            if list(best) != self.prefix:
                self.prefix, self._state = list(best), self._kept[best]

    def yes_probability(self, messages: Messages) -> float | None:
        """P(yes) of the next reply's first token. Evaluates only what the KV cache does not
        hold yet: after `stream`, the cache holds the prompt and the reply, so a question asked
        about the reply in the same chat costs its own few tokens (about 30), not the prompt."""
        llm = self.llm
        tokens = self.tokenize(self.render(messages)[0])
        live = llm.input_ids[: llm.n_tokens].tolist()
        n = next((i for i, (a, b) in enumerate(zip(live, tokens, strict=False)) if a != b), None)
        n = min(len(live) if n is None else n, len(tokens) - 1)  # at least one token to decode
        llm.n_tokens = n  # `eval` drops the cache from here on
        llm.eval(tokens[n:])
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        z = np.exp(logits - logits.max())
        yes, no = (z[self.first_ids(w)].sum() for w in (YES_WORDS, NO_WORDS))
        return float(yes / (yes + no)) if yes + no > 0 else None

    def first_ids(self, variants: tuple[str, ...]) -> list[int]:
        """The first token of each word ("NOT", " Not", …): what one token's logits are read at."""
        return sorted({self.llm.tokenize(w.encode(), add_bos=False)[0] for w in variants})

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 96,
        temperature: float = 0.0,
        stats: Generation | None = None,
        fresh: bool = False,
        decline_below: float | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        """Yield text pieces of the reply. Fills `stats` with token counts as it goes.

        `decline_below`: run the `DeclineGate` at this threshold (`stats.p_decline`). Other
        keyword arguments go to llama-cpp-python's `create_completion`.

        `fresh`: evaluate everything after the kept prefix, as a new process does, even when the
        KV cache still holds more of this prompt from the previous call. Reused and re-evaluated
        tokens differ in the last bits (other batch sizes, other kernels), enough to flip a
        near-tie of the greedy choice: with `fresh`, the reply does not depend on the call before.
        Hold `self.lock` around the whole iteration when several threads share the model.
        """
        prompt, stops = self.render(messages)
        tokens = self.tokenize(prompt)
        for a, b, cache_dir in self.expected:  # the kind this prompt is, the first time it comes
            fixed = self.fixed_prefix(a, b)
            if fixed and tokens[: len(fixed)] == fixed:
                self.keep_prefix(a, b, cache_dir)
        self._use_prefix_of(tokens)
        stats = stats if stats is not None else Generation()
        stats.prompt_tokens = len(tokens)
        n = len(self.prefix)
        live = self.llm.input_ids[: min(n, self.llm.n_tokens)].tolist()
        longer = self.llm.n_tokens > n
        if n and tokens[:n] == self.prefix and (live != self.prefix or (fresh and longer)):
            self.restore_prefix()
        gate = None
        processors: list[Any] = []
        if decline_below is not None:
            gate = DeclineGate(self, decline_below)
            processors.append(gate)
        log = TokenLog(self, len(tokens))
        processors.append(log)
        from llama_cpp import LogitsProcessorList

        kwargs["logits_processor"] = LogitsProcessorList(processors)
        stream = self.llm.create_completion(
            prompt=tokens,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=1 if temperature == 0 else 40,
            stop=stops,
            stream=True,
            **kwargs,
        )
        for part in stream:
            choice: dict[str, Any] = part["choices"][0]  # type: ignore[index,assignment]
            if choice.get("finish_reason") is None:  # the closing chunk carries no token
                stats.completion_tokens += 1
            if gate is not None:
                stats.p_decline = gate.p_decline
            stats.tokens = log.tokens()
            text = choice["text"]
            if text:
                yield text
