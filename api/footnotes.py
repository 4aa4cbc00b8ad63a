"""Sources in the message itself, for OpenAI clients that show `content` only (Open WebUI,
LibreChat, simonw/llm, LangChain): the answer, then its citations as a Markdown list.

    Kabul airport was attacked on 26 August 2021. [1]

    **Sources**
    - [1] report.pdf, p. 4, Attacks › 2021: “The attack on Kabul airport on 26 August 2021 …”

Asked for by the server setting RAG_SOURCES_IN_CONTENT=1, a request's `rag_sources: true`, or
a model name ending in SUFFIX (`rag+sources`: what a client that only lets its user pick a model
can send). Without them `content` is the answer alone and clients read `citations`.
Does not: change the answer, `answer`, `citations` or the stream's deltas before the end.
"""

from __future__ import annotations

from typing import Any

SUFFIX = "+sources"


def wanted(setting: bool, field: bool | None, model: str | None) -> bool:
    """Whether this request's `content` carries the sources: the request decides, else its
    model name, else the server setting."""
    if field is not None:
        return field
    if model and model.endswith(SUFFIX):
        return True
    return setting


def footnotes(citations: list[dict[str, Any]]) -> str:
    """The Markdown that follows the answer ('' when nothing is cited)."""
    if not citations:
        return ""
    lines = ["", "", "**Sources**"]
    for c in citations:
        where = [c["source"]]
        if c.get("page"):
            where.append(f"p. {c['page']}")
        if c.get("section"):
            where.append(c["section"])
        quote = " ".join(c["quote"].split())
        lines.append(f"- [{c['n']}] {', '.join(where)}: “{quote}”")
    return "\n".join(lines)
