"""What the models are shown: the follow-up condenser sees only the thread the follow-up belongs
to, back to the last question that stood on its own (#13.9, #23)."""

from __future__ import annotations

from rag.conversation import thread
from rag.prompt import condense_messages

ISKP = [
    {"role": "user", "content": "Who leads ISKP?"},
    {"role": "assistant", "content": "Abdul Rahman al-Logari led ISKP. [1]"},
]
CROCUS = [
    {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
    {"role": "assistant", "content": "ISKP attacked the Crocus City Hall near Moscow. [1][2]"},
]


def test_the_condenser_sees_the_thread_without_citation_marks():
    shown = condense_messages("And when did it happen?", thread(ISKP + CROCUS))[-1]["content"]
    assert "Crocus City Hall in March 2024?" in shown and "near Moscow." in shown
    assert "al-Logari" not in shown and "Who leads" not in shown  # the older topic is left out
    assert "[1]" not in shown
    assert shown.rstrip().endswith("user: And when did it happen?\n\nRewritten question:")


def test_a_unit_that_does_not_stand_alone_is_shown_with_its_section():
    from rag.prompt import source_text

    assert source_text("Hire two engineers", "item", "Budget 2025") == (
        "(Budget 2025) Hire two engineers"
    )
    # prose (every sentence of a plain-text file such as the default essay) is shown as it is
    assert source_text("Tea is grown in Assam.", "paragraph", "Crops") == "Tea is grown in Assam."
