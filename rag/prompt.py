"""What the answer model is shown: fixed instructions (and, if asked for, worked examples),
then the numbered sources and the question.

The instructions and examples are the same for every question, so llama.cpp evaluates them
once (`LlamaGenerator.keep_prefix`) and each question pays only for its sources. The examples
are about made-up towns, not about any corpus: they show the shape of a good reply (the
source's own words, a sum written out, a comparison with both values, NOT FOUND when the
sources are about something else). They are off by default (`RAG_PROMPT_EXAMPLES`): measured,
they buy right answers with declines and citation precision (docs/evaluation.md).
"""

from __future__ import annotations

import re

from rag.text import first_sentence

SYSTEM = (
    "Answer the question in one short sentence, using only the facts in the numbered sources. "
    "If the sources do not contain the answer, reply exactly: NOT FOUND"
)
# (sources, question, reply)
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    (
        "[1] Harbor Point is a small fishing village on the northern coast.\n"
        "[2] The Millbrook Bridge, opened in 1932, is known for its unusual copper-green paint "
        "and its iron lanterns.\n"
        "[3] Its designer, Swiss engineer Anna Keller, also built the Harbor Point lighthouse.",
        "What is the Millbrook Bridge known for?",
        "The Millbrook Bridge is known for its unusual copper-green paint and its iron lanterns.",
    ),
    (
        "[1] The storm destroyed 120 homes in Harlow and damaged more than 300 others.\n"
        "[2] In neighbouring Easton, another 45 homes were destroyed.\n"
        "[3] Repairs are expected to take two years.",
        "How many homes were destroyed in Harlow and Easton in total?",
        "165 homes were destroyed in total (120 + 45).",
    ),
    (
        "[1] The Riverside Clinic opened in March 2019 with 40 beds.\n"
        "[2] A fire in the clinic's kitchen in 2021 forced a two-week closure.\n"
        "[3] The clinic's director, Omar Haddad, plans to add 20 beds.",
        "How many people were injured in the clinic fire?",
        "NOT FOUND",
    ),
    (
        "[1] Maria Lopez won the 2018 prize of $5,000.\n"
        "[2] The 2020 prize, worth $8,000, went to Tom Berg.",
        "Who received the larger prize: the 2018 winner or the 2020 winner?",
        "Tom Berg, the 2020 winner, received the larger prize ($8,000 against $5,000).",
    ),
)
CONDENSE = (
    "Rewrite the last question so it can be understood without the conversation. "
    "Reply with the rewritten question only."
)
CITE_MARK = re.compile(r" ?\[\d+\]")  # the [n] after a cited sentence
# asked after the reply, about it: the model's own reading of its answer. Put to the model as a
# proposal after the question, not as a new turn after its own reply: asked there, it said yes
# to its own wrong answers too (mean gap right − wrong 0.03 against 0.42 on four hand cases)
PROPOSAL_CHARS = 400  # the longest proposal: a first sentence is rarely longer
VERIFY = (
    "Proposed answer: {reply}\nIs the proposed answer correct according to the sources? "
    "Reply yes or no."
)


def source_text(text: str, kind: str, section: str) -> str:
    """A context sentence as the model sees it: a list item, table row, code line or heading
    does not stand alone, so it is led by its section's heading path; prose is shown as is."""
    if kind in ("paragraph", "caption") or not section:
        return text
    return f"({section}) {text}"


def last_exchange(history: list[dict[str, str]]) -> list[dict[str, str]]:
    """The last user turn of `history` and what followed it (its answer)."""
    users = [i for i, m in enumerate(history) if m["role"] == "user"]
    return history[users[-1] :] if users else history[-2:]


def _user(sources: str, question: str) -> dict[str, str]:
    return {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"}


def answer_messages(
    question: str, sources: list[str], examples: tuple[tuple[str, str, str], ...] = ()
) -> list[dict[str, str]]:
    """The chat the model answers: instructions, the worked `examples` (see EXAMPLES), then the
    numbered `sources` (context sentences) and `question`."""
    messages = [{"role": "system", "content": SYSTEM}]
    for numbered, q, reply in examples:
        messages += [_user(numbered, q), {"role": "assistant", "content": reply}]
    numbered = "\n".join(f"[{i}] {text}" for i, text in enumerate(sources, 1))
    return [*messages, _user(numbered, question)]


def condense_messages(question: str, history: list[dict[str, str]]) -> list[dict[str, str]]:
    """A chat that turns a follow-up ("and how many did it kill?") into a standalone question.

    Only the last exchange is shown (the previous question and its answer, without [n] marks):
    with two earlier topics in view a small model resolved "it" to the older one (issue #13.9).
    """
    turns = "\n".join(
        f"{m['role']}: {CITE_MARK.sub('', m['content']).strip()}" for m in last_exchange(history)
    )
    return [
        {"role": "system", "content": CONDENSE},
        {"role": "user", "content": f"{turns}\nuser: {question}\n\nRewritten question:"},
    ]


def verify_messages(answer: list[dict[str, str]], reply: str) -> list[dict[str, str]]:
    """The answer chat with the reply's first sentence (what the confidence is about) proposed
    after the question, asking whether the sources say it: the same tokens as the answer prompt
    up to the question's end, so a backend whose KV cache still holds the prompt evaluates only
    the proposal and the ask (~30 tokens; a 1024-token essay would cost 5 s on its own)."""
    *before, user = answer
    proposal = VERIFY.format(reply=first_sentence(reply)[:PROPOSAL_CHARS] or reply[:PROPOSAL_CHARS])
    return [*before, {**user, "content": f"{user['content']}\n\n{proposal}"}]
