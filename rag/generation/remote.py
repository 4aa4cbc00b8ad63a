"""The answer model on a server: any OpenAI-compatible chat endpoint (`RAG_LLM_URL`), streamed.

    gen = OpenAIGenerator("http://127.0.0.1:8080/v1", model="qwen")
Chats go as they are to `POST {url}/chat/completions`; the server applies its model's chat
template. What the pipeline needs beyond the OpenAI API, and where it comes from:
- Token counts for the budget: the server's own tokenizer (`POST /extras/tokenize` of
  llama-cpp-python's server, `POST /tokenize` of llama.cpp's), role and text of each message,
  plus the chat template's own tokens, measured once from `usage.prompt_tokens` of two tiny
  chats (exact for templates that write the role's name, as ChatML and Llama 3 do). A server with
  no tokenizer endpoint gets an estimate of one token per 3 bytes (over-counts English).
- The context window: RAG_LLM_CTX, else `/props` (llama.cpp), else `max_model_len` in
  `/v1/models` (vLLM), else RAG_N_CTX.
- The decline gate: a first (streamed) request of one token with `logprobs` + `top_logprobs`
  reads p(NOT). The reply itself is asked for without logprobs: llama-cpp-python's server
  computes them over the whole vocabulary per token (qwen1.5b: 42 -> ~190 ms per token), so
  the confidence goes without the token log-probabilities here (rag/grounding/confidence.py
  treats them as unknown).
  Below the threshold, when that token would be NOT (or sampling is on), the reply is asked for
  with `logit_bias` -100 on the NOT tokens (their ids from the tokenizer endpoint). The bias holds
  for the whole reply, not its first token only as in this process. A server without logprobs:
  `p_decline` is None and the model's own declines stand; without a tokenizer endpoint, p(NOT)
  is read but cannot be masked.
Failures are a `ModelServerError` (HTTP 503) that names RAG_LLM_URL and says what happened: the
connection refused (nothing listens: the server is down), not accepted within CONNECT_TIMEOUT
seconds (the machine is gone), the server hung up without answering (it died or restarted), sent
nothing for `timeout` seconds, answered an HTTP error, or ended a stream before `[DONE]`.
`probe()` (for /readyz) asks `GET /health` with a short timeout: any answer below 500 means the
server is up (llama.cpp and vLLM answer 200 there; llama-cpp-python's 404 comes at once, and
unlike its /v1 routes does not take the model's lock, which would cut a streaming reply short).
Does not: retry, balance several servers, or keep a prompt prefix (`fresh` is the server's
business: llama.cpp servers reuse the longest cached prompt prefix).
"""

from __future__ import annotations

import http.client
import json
import math
import socket
from collections.abc import Generator as PyGenerator
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from rag.errors import ModelServerError
from rag.generation.base import NO_WORDS, NOT_WORDS, YES_WORDS, Generation, Generator, Messages

TOP_LOGPROBS = 20  # the most the OpenAI API allows
CONNECT_TIMEOUT = 3.0  # seconds to connect (at most `timeout`): a machine that is gone
PROBE_TIMEOUT = 1.5  # seconds `probe` waits for the server's answer (at most `timeout`)
# what a server that accepted the request and then went away raises
HUNG_UP = (
    http.client.RemoteDisconnected,  # closed without a reply (also a ConnectionResetError)
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    http.client.IncompleteRead,
)
BYTES_PER_TOKEN = 3  # the estimate without a tokenizer endpoint (English is ~4.5)
CACHE = 4096  # tokenized texts kept (instructions and examples repeat in every prompt)
# sampling as in this process: no penalties (llama-cpp-python's server defaults to a repeat
# penalty of 1.1, which changes greedy answers; `repeat_penalty` is a llama.cpp/vLLM extra)
SAMPLING = {"repeat_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}


class _HTTPError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


class OpenAIGenerator(Generator):
    def __init__(
        self,
        url: str,
        model: str | None = None,
        api_key: str | None = None,
        n_ctx: int | None = None,
        timeout: float = 120.0,
        fallback_ctx: int = 2048,
    ) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._base = parts.path  # e.g. "/v1"; the tokenizer and /props live at the root
        self._root = self._base.removesuffix("/v1")
        self._model, self._key, self.timeout = model, api_key, timeout
        self.name = model or "remote"
        self._ctx, self._fallback_ctx = n_ctx, fallback_ctx
        self._tokens: dict[str, int] = {}
        self._tokenizer: str | None = None  # "extras", "llama.cpp" or "none", found on first use
        self._bos: list[int] = []  # what llama-cpp-python's tokenizer puts before any text
        self._template: tuple[int, int] | None = None  # (tokens per chat, per message)
        self._not: tuple[list[int], set[str]] | None = None  # NOT token ids and their texts
        self._logprobs = True  # False once the server refused them

    # ---- HTTP ----------------------------------------------------------------------------
    def _open(
        self, path: str, body: Any = None, timeout: float | None = None
    ) -> tuple[http.client.HTTPConnection, Any]:
        """Send a request (POST with a JSON body, else GET); the connection and its response.
        Connecting may take CONNECT_TIMEOUT s, each answer `timeout` s (default: `self.timeout`)."""
        timeout = self.timeout if timeout is None else timeout
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = kind(self._host, self._port, timeout=min(timeout, CONNECT_TIMEOUT))
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        data = None if body is None else json.dumps(body).encode()
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._failure(exc, connecting=True) from None
        try:
            assert conn.sock is not None
            conn.sock.settimeout(timeout)
            conn.request("GET" if body is None else "POST", path, data, headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._failure(exc, timeout=timeout) from None

    def _json(self, path: str, body: Any = None) -> Any:
        conn, resp = self._open(path, body)
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._failure(exc) from None
        finally:
            conn.close()
        if resp.status >= 400:
            raise _HTTPError(resp.status, _detail(data))
        try:
            return json.loads(data)
        except ValueError:
            raise self._failure(ValueError(f"{path} did not answer JSON")) from None

    def _failure(
        self, exc: BaseException, connecting: bool = False, timeout: float | None = None
    ) -> ModelServerError:
        where = f"the model server at {self.url} (RAG_LLM_URL)"
        timeout = self.timeout if timeout is None else timeout
        address = f"{self._host}:{self._port or (443 if self._https else 80)}"
        if isinstance(exc, ConnectionRefusedError):
            return ModelServerError(
                f"{where} cannot be reached: the connection was refused (nothing listens at "
                f"{address}); check that it runs and RAG_LLM_URL points at it"
            )
        if connecting and isinstance(exc, TimeoutError | socket.timeout):
            return ModelServerError(
                f"{where} cannot be reached: connecting to {address} timed out after "
                f"{min(timeout, CONNECT_TIMEOUT):g} s; check that its machine is up and "
                "RAG_LLM_URL points at it"
            )
        if isinstance(exc, TimeoutError | socket.timeout):
            return ModelServerError(
                f"{where} sent nothing for {timeout:g} s (timed out); check that it runs and is "
                "not overloaded, or raise RAG_LLM_TIMEOUT"
            )
        if isinstance(exc, HUNG_UP):
            reason = str(exc) or exc.__class__.__name__
            return ModelServerError(
                f"{where} hung up without answering ({reason}); check that it still runs (its "
                "log says why it stopped)"
            )
        if isinstance(exc, _HTTPError):
            hint = {401: "check RAG_LLM_API_KEY", 403: "check RAG_LLM_API_KEY"}.get(
                exc.status,
                "check RAG_LLM_URL (the base, ending in /v1) and RAG_LLM_MODEL"
                if exc.status in (404, 405)
                else "check the model server's log",
            )
            return ModelServerError(f"{where} answered {exc}; {hint}")
        reason = str(exc) or exc.__class__.__name__
        return ModelServerError(
            f"{where} cannot be reached ({reason}); check that it runs and RAG_LLM_URL points at it"
        )

    def _call(self, path: str, body: Any = None) -> Any:
        """`_json` with HTTP errors as `ModelServerError` too."""
        try:
            return self._json(path, body)
        except _HTTPError as exc:
            raise self._failure(exc) from None

    def probe(self) -> None:
        """`GET /health` with a PROBE_TIMEOUT s wait: a `ModelServerError` when the server is
        down (refused, hung up, silent) or answers 5xx (llama.cpp: 503 while it loads)."""
        timeout = min(self.timeout, PROBE_TIMEOUT)
        conn, resp = self._open(f"{self._root}/health", timeout=timeout)
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._failure(exc, timeout=timeout) from None
        finally:
            conn.close()
        if resp.status >= 500:
            raise self._failure(_HTTPError(resp.status, _detail(data)))

    # ---- what the server knows -----------------------------------------------------------
    def model(self) -> str:
        """RAG_LLM_MODEL, else the first model the server lists."""
        if self._model is None:
            listed = self._call(f"{self._base}/models").get("data") or [{}]
            self._model = str(listed[0].get("id") or "default")
            self.name = self._model
        return self._model

    def identity(self) -> str:
        return f"server {self.model()}"

    def n_ctx(self) -> int:
        if self._ctx is None:
            self._ctx = self._server_ctx() or self._fallback_ctx
        return self._ctx

    def _server_ctx(self) -> int | None:
        try:
            props = self._json(f"{self._root}/props")
            n = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
            if n:
                return int(n)
        except (_HTTPError, ValueError, AttributeError):
            pass
        try:
            for card in self._json(f"{self._base}/models").get("data") or []:
                if card.get("max_model_len"):
                    return int(card["max_model_len"])
        except (_HTTPError, ValueError, AttributeError):
            pass
        return None

    def _tokenize(self, text: str) -> list[int] | None:
        """The server's token ids for `text` (no BOS), or None when it has no tokenizer."""
        if self._tokenizer in (None, "extras"):
            try:
                path = f"{self._root}/extras/tokenize"
                ids = self._json(path, {"input": text})["tokens"]
                if self._tokenizer is None:
                    self._tokenizer = "extras"
                    self._bos = self._json(path, {"input": ""})["tokens"]
                return [int(i) for i in ids[len(self._bos) :]]
            except _HTTPError as exc:
                if exc.status not in (404, 405) or self._tokenizer == "extras":
                    raise self._failure(exc) from None
        if self._tokenizer in (None, "llama.cpp"):
            try:
                body = {"content": text, "add_special": False}
                ids = self._json(f"{self._root}/tokenize", body)["tokens"]
                self._tokenizer = "llama.cpp"
                return [int(i["id"]) if isinstance(i, dict) else int(i) for i in ids]
            except _HTTPError as exc:
                if exc.status not in (404, 405) or self._tokenizer == "llama.cpp":
                    raise self._failure(exc) from None
        self._tokenizer = "none"
        return None

    def _n_tokens(self, text: str) -> int:
        n = self._tokens.get(text)
        if n is None:
            ids = self._tokenize(text)
            n = len(ids) if ids is not None else -(-len(text.encode()) // BYTES_PER_TOKEN)
            if len(self._tokens) >= CACHE:
                self._tokens.clear()
            self._tokens[text] = n
        return n

    def _template_tokens(self) -> tuple[int, int]:
        """(tokens a chat adds, tokens each message adds besides its role and text), from the
        prompt sizes the server reports for two tiny chats."""
        if self._template is None:
            one = [{"role": "system", "content": "Be brief."}]
            two = [*one, {"role": "user", "content": "Hello?"}]
            p1, p2 = (self._prompt_tokens(chat) for chat in (one, two))
            if p1 is None or p2 is None:
                self._template = (8, 8)  # no usage reported: a generous guess
            else:
                per_message = p2 - p1 - self._n_tokens("user") - self._n_tokens("Hello?")
                first = per_message + self._n_tokens("system") + self._n_tokens("Be brief.")
                self._template = (p1 - first, per_message)
        return self._template

    def _prompt_tokens(self, messages: Messages) -> int | None:
        body = {"model": self.model(), "messages": messages, "max_tokens": 1, "temperature": 0}
        usage = self._call(f"{self._base}/chat/completions", body).get("usage") or {}
        return int(usage["prompt_tokens"]) if usage.get("prompt_tokens") else None

    def count(self, messages: Messages) -> int:
        per_chat, per_message = self._template_tokens()
        return per_chat + sum(
            per_message + self._n_tokens(m["role"]) + self._n_tokens(m["content"]) for m in messages
        )

    # ---- the decline gate ----------------------------------------------------------------
    def _not_tokens(self) -> tuple[list[int], set[str]]:
        """The first token of each NOT word: ids (for logit_bias) and texts (to find them in
        top_logprobs)."""
        if self._not is None:
            ids: list[int] = []
            texts = set(NOT_WORDS)
            for word in NOT_WORDS:
                tokens = self._tokenize(word)
                if tokens:
                    ids.append(tokens[0])
                    if len(tokens) > 1:
                        texts.discard(word)
                        texts.add(self._detokenize(tokens[0]) or word)
            self._not = (sorted(set(ids)), texts)
        return self._not

    def _detokenize(self, token: int) -> str | None:
        path, key = (
            ("/extras/detokenize", "text")
            if self._tokenizer == "extras"
            else ("/detokenize", "content")
        )
        try:
            return str(self._json(f"{self._root}{path}", {"tokens": [token]})[key])
        except (_HTTPError, KeyError, TypeError):
            return None

    def _first_token(self, messages: Messages, temperature: float) -> tuple[float, str] | None:
        """(p(NOT), the token the model would write) at the reply's first token; None when the
        server offers no logprobs."""
        first = self._top_logprobs(messages, temperature)
        if first is None:
            return None
        top, token = first
        texts = self._not_tokens()[1]
        p = sum(math.exp(t["logprob"]) for t in top if t.get("token") in texts)
        return min(p, 1.0), token

    @property
    def offers_yes(self) -> bool:
        return self._logprobs  # until the server refuses them

    def yes_probability(self, messages: Messages) -> float | None:
        """P(yes) against no among the first token's top log-probabilities: one request of one
        token (a llama.cpp server reuses the prompt it still holds for the slot)."""
        first = self._top_logprobs(messages, 0.0)
        if first is None:
            return None
        top = first[0]
        yes = sum(math.exp(t["logprob"]) for t in top if t.get("token") in YES_WORDS)
        no = sum(math.exp(t["logprob"]) for t in top if t.get("token") in NO_WORDS)
        return yes / (yes + no) if yes + no > 0 else None

    def _top_logprobs(
        self, messages: Messages, temperature: float
    ) -> tuple[list[dict[str, Any]], str] | None:
        """The first token's top log-probabilities and the token itself; None when the server
        offers no logprobs."""
        if not self._logprobs:
            return None
        body = {
            "model": self.model(),
            "messages": messages,
            "max_tokens": 1,
            "temperature": temperature,
            "logprobs": True,
            "top_logprobs": TOP_LOGPROBS,
            "stream": True,  # llama-cpp-python's non-streamed logprobs convert its whole score
            **SAMPLING,  # buffer (n_ctx x vocabulary): ~5 s for Qwen's 151k tokens, here ~0
        }
        content: list[dict[str, Any]] = []
        events = self._sse(body)
        try:
            for event in events:  # the first chunk with logprobs, then hang up
                choice = (event.get("choices") or [{}])[0]
                content = (choice.get("logprobs") or {}).get("content") or []
                if content or choice.get("finish_reason"):
                    break
        except _HTTPError as exc:
            if exc.status in (400, 422):
                self._logprobs = False  # the server refuses logprobs: no gate from now on
            return None  # else no gate this time; the reply's own request reports the failure
        finally:
            events.close()
        if not content or not content[0].get("top_logprobs"):
            self._logprobs = False
            return None
        return list(content[0]["top_logprobs"]), str(content[0].get("token", ""))

    # ---- generation ----------------------------------------------------------------------
    def stream(
        self,
        messages: Messages,
        max_tokens: int = 96,
        temperature: float = 0.0,
        stats: Generation | None = None,
        fresh: bool = False,
        decline_below: float | None = None,
    ) -> Iterator[str]:
        stats = stats if stats is not None else Generation()
        stats.prompt_tokens = self.count(messages)
        body: dict[str, Any] = {
            "model": self.model(),
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            **SAMPLING,
        }
        if decline_below is not None:
            first = self._first_token(messages, temperature)
            if first is not None:
                stats.p_decline, token = first
                ids, texts = self._not_tokens()
                if ids and stats.p_decline < decline_below and (temperature > 0 or token in texts):
                    body["logit_bias"] = {str(i): -100 for i in ids}
        yield from self._events(body, stats)

    def _events(self, body: dict[str, Any], stats: Generation) -> Iterator[str]:
        finished = False  # a choice said why it ended (stop, length): the reply is whole
        try:
            for event in self._sse(body):
                if (event.get("usage") or {}).get("completion_tokens"):
                    stats.completion_tokens = int(event["usage"]["completion_tokens"])
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    finished = finished or choice.get("finish_reason") is not None
                    if text is not None and choice.get("finish_reason") is None:
                        stats.completion_tokens += 1
                    if text:
                        yield text
        except _HTTPError as exc:
            raise self._failure(exc) from None
        if not finished:  # [DONE] before a finish reason: cut short, not a short answer
            raise ModelServerError(
                f"the model server at {self.url} (RAG_LLM_URL) ended the reply without saying "
                "why (no finish_reason): it was cut short. llama-cpp-python's server does this "
                "when another request arrives unless it runs with --interrupt_requests False, "
                "which a server shared by several replicas or users needs"
            )

    def _sse(self, body: dict[str, Any]) -> PyGenerator[dict[str, Any], None, None]:
        """The events of a streamed chat completion; `_HTTPError` when the server refuses it."""
        conn, resp = self._open(f"{self._base}/chat/completions", body)
        try:
            if resp.status >= 400:
                raise _HTTPError(resp.status, _detail(resp.read()))
            while True:
                line = resp.readline()
                if not line:
                    raise self._cut_off("")
                data = line.strip().removeprefix(b"data:").strip()
                if not line.startswith(b"data:") or not data:
                    continue  # blank lines, comments (pings), other SSE fields
                if data == b"[DONE]":
                    return
                event = json.loads(data)
                if "error" in event:
                    raise ModelServerError(
                        f"the model server at {self.url} (RAG_LLM_URL) failed while writing: "
                        f"{_detail(json.dumps(event['error']).encode())}"
                    )
                yield event
        except TimeoutError as exc:
            raise self._failure(exc) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise self._cut_off(f" ({exc or exc.__class__.__name__})") from None
        finally:
            conn.close()  # also when the caller stops early: the server stops generating

    def _cut_off(self, why: str) -> ModelServerError:
        return ModelServerError(
            f"the model server at {self.url} (RAG_LLM_URL) closed the stream before the reply "
            f"ended{why}; check that it still runs (its log says why)"
        )


def _detail(data: bytes) -> str:
    """The server's error message, short."""
    text = data.decode(errors="replace").strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            inner = obj.get("detail") or obj.get("error") or obj
            if isinstance(inner, dict):
                inner = inner.get("message") or inner
            text = str(inner)
    except ValueError:
        pass
    return text[:300] or "no details"
