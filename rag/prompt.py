"""What the answer model is shown: fixed instructions (and, if asked for, worked examples),
then the numbered sources and the question.

The instructions and examples are the same for every question, so llama.cpp evaluates them
once (`LlamaGenerator.keep_prefix`) and each question pays only for its sources. The examples
are about made-up towns, not about any corpus: they show the shape of a good reply (the
source's own words, a sum written out, a comparison with both values, NOT FOUND when the
sources are about something else). They are off by default (`RAG_PROMPT_EXAMPLES`): measured,
they buy right answers with declines and citation precision (docs/evaluation.md).
A follow-up in a conversation is rewritten to stand alone by its own prompt (`condense_messages`,
with four worked rewrites, also kept as a prefix).
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
    "The user's last message is a follow-up in a conversation. Rewrite it as one complete "
    "question that can be understood on its own: keep the user's own words, replace it, he, "
    "she, they, that and there with what they mean, and take the words it leaves out from the "
    "conversation. Do not answer it. Reply with the rewritten question only."
)
# worked rewrites shown before the conversation (topics far from any corpus): without them the
# 1.5B model copied the previous question ("and injured?" -> "How many people died …?"); with
# them 26 of the 42 fit-half follow-ups meant their reference question, against 20 (issue #23)
CONDENSE_EXAMPLES = (
    (
        "user: How many people died in the 2011 Oslo bombing?\nassistant: Eight people died.\n"
        "user: and injured?",
        "How many people were injured in the 2011 Oslo bombing?",
    ),
    (
        "user: Who founded the Red Cross?\nassistant: Henry Dunant founded it.\n"
        "user: when was he born",
        "When was Henry Dunant, the founder of the Red Cross, born?",
    ),
    (
        "user: Which river flows through Vienna?\nassistant: The Danube flows through Vienna.\n"
        "user: what about Prague?",
        "Which river flows through Prague?",
    ),
    (
        "user: Is coffee grown in Kenya?\nassistant: Yes, coffee is grown in the Kenyan "
        "highlands.\nuser: why?",
        "Why is coffee grown in the Kenyan highlands?",
    ),
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


def condense_messages(question: str, thread: list[dict[str, str]]) -> list[dict[str, str]]:
    """A chat that turns a follow-up ("and how many did it kill?") into a standalone question:
    the instructions, the worked CONDENSE_EXAMPLES, then `thread`.

    `thread` is the part of the conversation the follow-up belongs to (rag/conversation.py:
    back to the last question that stood on its own), shown without [n] marks: with an older
    topic in view a small model resolved "it" to the older one (issue #13.9).
    """
    messages = [{"role": "system", "content": CONDENSE}]
    for conversation, rewritten in CONDENSE_EXAMPLES:
        messages += [
            {"role": "user", "content": f"{conversation}\n\nRewritten question:"},
            {"role": "assistant", "content": rewritten},
        ]
    turns = "\n".join(f"{m['role']}: {CITE_MARK.sub('', m['content']).strip()}" for m in thread)
    return [
        *messages,
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
