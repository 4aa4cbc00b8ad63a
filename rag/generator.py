"""The answer model: a GGUF file run by llama.cpp (llama-cpp-python), streamed token by token.

Prompts are rendered with the model's own chat template (from the GGUF metadata). llama.cpp
keeps the KV cache of the previous call, so a fixed prompt prefix is evaluated once per process.
Does not: batch requests (callers serialise access; see `lock`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ModelMissingError


@dataclass
class Generation:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LlamaGenerator:
    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int = 2, seed: int = 0):
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not Path(model_path).is_file():
            raise ModelMissingError(f"no model file at {model_path}; run `make models`")
        try:
            self.llm = Llama(
                model_path=str(model_path),
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
        self.lock = threading.Lock()

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode(errors="ignore")

    def render(self, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        out = self.formatter(messages=messages)  # type: ignore[arg-type]
        stops = out.stop if isinstance(out.stop, list) else [out.stop] if out.stop else []
        return out.prompt, [s for s in stops if s]

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 96,
        temperature: float = 0.0,
        stats: Generation | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        """Yield text pieces of the reply. Fills `stats` with token counts as it goes.

        Hold `self.lock` around the whole iteration when several threads share the model.
        """
        prompt, stops = self.render(messages)
        stats = stats if stats is not None else Generation()
        stats.prompt_tokens = self.count_tokens(prompt)
        stream = self.llm.create_completion(
            prompt=prompt,
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
            text = choice["text"]
            if text:
                yield text
