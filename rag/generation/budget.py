"""The token budget: every prompt, with room for its reply, fits the model's context window.

A character limit does not bound tokens (2,000 CJK characters or emoji are 2,000-4,000 tokens),
so prompts are measured with the model's own tokenizer (`count`) and, when too long, parts give
way in this order:
1. chat history (for the follow-up rewrite): first RAG_MAX_HISTORY_CHARS, newest turns kept;
   then oldest turns dropped, then the last one cut; with none left the follow-up is answered
   as it stands;
2. the reply's length, down to `MIN_REPLY` tokens (or what the client asked for, if less);
3. context sentences, the least related (last) first, down to one; then that one is cut;
4. the question is never cut: one that does not fit with one source and `MIN_REPLY` tokens is
   a `BadQuestionError` (HTTP 422) saying how many tokens it is and how many fit.
Does not: summarise what it drops, or count tokens itself (the caller's `count` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.errors import BadQuestionError

Messages = list[dict[str, str]]
Count = Callable[[Messages], int]  # tokens of a rendered chat
MIN_REPLY = 32


def trim_history(history: list[dict[str, str]], max_chars: int) -> list[dict[str, str]]:
    """The newest turns whose text adds up to at most `max_chars` (the oldest kept one cut).

    >>> trim_history([{"role": "user", "content": "a" * 5}, {"role": "user", "content": "bb"}], 4)
    [{'role': 'user', 'content': 'aa'}, {'role': 'user', 'content': 'bb'}]
    """
    kept: list[dict[str, str]] = []
    room = max_chars
    for turn in reversed(history):
        if room <= 0:
            break
        text = turn["content"][:room]
        kept.append({"role": turn["role"], "content": text})
        room -= len(text)
    return kept[::-1]


def fit_history(
    history: list[dict[str, str]],
    build: Callable[[list[dict[str, str]]], Messages],
    count: Count,
    room: int,
) -> list[dict[str, str]]:
    """The longest tail of `history` whose prompt `build(history)` is at most `room` tokens:
    oldest turns dropped first, then the last one halved until it fits ([] if none does)."""
    history = list(history)
    while history and count(build(history)) > room:
        if len(history) > 1:
            history.pop(0)
        else:
            text = history[0]["content"]
            if len(text) < 8:
                return []
            history = [{"role": history[0]["role"], "content": text[: len(text) // 2]}]
    return history


@dataclass
class Fitted:
    sources: list[str]  # the context sentences that fit, most related first
    max_tokens: int  # room left for the reply
    prompt_tokens: int


def fit_answer(
    question: str,
    sources: list[str],
    build: Callable[[str, list[str]], Messages],
    count: Count,
    n_ctx: int,
    max_tokens: int,
) -> Fitted:
    """Drop (then cut) context sentences until `build(question, sources)` leaves room for a
    reply of `min(max_tokens, MIN_REPLY)` tokens in `n_ctx`; raise if the question alone
    cannot."""
    floor = min(max_tokens, MIN_REPLY)
    check_question_fits(question, build, count, n_ctx, floor)
    sources = list(sources)
    used = count(build(question, sources))
    while used + floor > n_ctx and len(sources) > 1:
        sources.pop()
        used = count(build(question, sources))
    while used + floor > n_ctx and sources and len(sources[-1]) > 8:
        sources[-1] = sources[-1][: len(sources[-1]) * 3 // 4]
        used = count(build(question, sources))
    if used + floor > n_ctx:  # cannot happen after check_question_fits, short of a bad count
        raise BadQuestionError("the question leaves no room for any source; shorten it")
    return Fitted(sources, min(max_tokens, n_ctx - used), used)


def check_question_fits(
    question: str,
    build: Callable[[str, list[str]], Messages],
    count: Count,
    n_ctx: int,
    reply: int = MIN_REPLY,
) -> None:
    """Raise `BadQuestionError` when the question, the instructions, a short source and a
    `reply`-token answer do not fit in `n_ctx` tokens."""
    bare = count(build(question, ["…" * 8]))
    if bare + reply > n_ctx:
        q_tokens = bare - count(build("", ["…" * 8]))
        raise BadQuestionError(
            f"the question is about {q_tokens} tokens; with the instructions and room for the "
            f"answer the model's context window ({n_ctx} tokens, RAG_N_CTX) holds about "
            f"{max(0, n_ctx - reply - (bare - q_tokens))}; shorten it"
        )
