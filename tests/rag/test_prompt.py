"""What the models are shown: the follow-up condenser sees only the last exchange (#13.9)."""

from __future__ import annotations

import pytest

from rag.prompt import condense_messages, last_exchange

ISKP = [
    {"role": "user", "content": "Who leads ISKP?"},
    {"role": "assistant", "content": "Abdul Rahman al-Logari led ISKP. [1]"},
]
CROCUS = [
    {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
    {"role": "assistant", "content": "ISKP attacked the Crocus City Hall near Moscow. [1][2]"},
]


def test_the_condenser_sees_the_last_exchange_without_citation_marks():
    shown = condense_messages("And when did it happen?", ISKP + CROCUS)[1]["content"]
    assert "Crocus City Hall in March 2024?" in shown and "near Moscow." in shown
    assert "al-Logari" not in shown and "Who leads" not in shown  # the older topic is left out
    assert "[1]" not in shown
    assert shown.rstrip().endswith("user: And when did it happen?\n\nRewritten question:")


def test_last_exchange_is_the_last_question_and_what_followed():
    assert last_exchange(ISKP + CROCUS) == CROCUS
    assert last_exchange(ISKP + CROCUS[:1]) == CROCUS[:1]  # an unanswered question
    assert last_exchange([{"role": "assistant", "content": "Hello."}]) == [
        {"role": "assistant", "content": "Hello."}
    ]


@pytest.mark.slow
def test_default_model_condenses_a_follow_up_about_the_latest_topic(settings, embedder):
    """The conversation from issue #13.9, on the default 1.5B model."""
    from rag.pipeline import Pipeline

    p = Pipeline(settings.model_copy(update={"model": "qwen1.5b"}), embedder=embedder)
    standalone = p.condense("And when did it happen?", ISKP + CROCUS)
    assert "crocus" in standalone.lower(), standalone
    assert "logari" not in standalone.lower() and "lead" not in standalone.lower(), standalone


def test_a_unit_that_does_not_stand_alone_is_shown_with_its_section():
    from rag.prompt import source_text

    assert source_text("Hire two engineers", "item", "Budget 2025") == (
        "(Budget 2025) Hire two engineers"
    )
    # prose (every sentence of a plain-text file such as the default essay) is shown as it is
    assert source_text("Tea is grown in Assam.", "paragraph", "Crops") == "Tea is grown in Assam."
