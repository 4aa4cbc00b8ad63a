"""Dates in replies: the date a sentence ties to the question, and days no source gives."""

from rag.grounding.claims import ground
from rag.grounding.dates import rebind
from rag.grounding.question import parse
from rag.types import Chunk

ATTACKS = (
    "The group’s January 3, 2024, attack in Kerman, Iran, that killed at least 95 along with the "
    "March 22, 2024, attack on the Crocus City Hall near Moscow that killed 144 showed its reach."
)


def _sentences(text: str):
    chunk = Chunk("d:4", "d", "d.txt", "", text, 0, len(text), ((0, len(text)),))
    return chunk.sentence_list()


def test_the_date_of_another_event_in_the_sentence_is_replaced():
    crocus = parse("When was the Crocus City Hall attack?")
    claims = ground("It occurred on January 3, 2024.", crocus, _sentences(ATTACKS), 0.5)
    assert [(c.text, c.support) for c in claims] == [("It occurred on March 22, 2024.", (0,))]
    kerman = parse("On what date did the group attack Kerman in Iran?")
    assert [c.text for c in ground("January 3, 2024", kerman, _sentences(ATTACKS), 0.5)] == [
        "January 3, 2024"
    ]  # the right date stays
    assert rebind("March 2024", kerman, [ATTACKS]) == "January 3, 2024"


def test_only_when_questions_and_sentences_with_two_dates_are_rebound():
    assert rebind("January 3, 2024", parse("What happened in Kerman?"), [ATTACKS]) is None
    one = "The attack on the Crocus City Hall was on March 22, 2024."
    crocus = parse("When was the Crocus City Hall attack?")
    assert rebind("January 3, 2024", crocus, [one]) is None
