"""The grounding checks on hand-made replies and context sentences (no model involved)."""

from rag.grounding import content, ground, is_decline, words
from rag.types import Chunk

TEXT = (
    "The attack near Moscow killed 144 people. The Kerman attack killed at least 95. "
    "The bounty for Adl is $10 million. The bounty for Ghamdi is $5 million."
)


def context():
    spans, pos = [], 0
    for sent in TEXT.split(". "):
        sent = sent.rstrip(".") + "."
        start = TEXT.index(sent, pos)
        spans.append((start, start + len(sent)))
        pos = start + len(sent)
    chunk = Chunk("d:1", "d", "d.txt", "", TEXT, 0, len(TEXT), tuple(spans))
    return chunk.sentence_list()


def test_words_normalise_numbers_and_possessives():
    assert words("Adl’s 1,000 men, three ships") == ["adl", "1000", "men", "3", "ships"]
    assert "the" not in content("The attack")


def test_supported_claim_is_cited_to_the_right_sentence():
    claims = ground(
        "The attack killed 144 people.", "How many did the Moscow attack kill?", context(), 0.5
    )
    assert [c.support for c in claims] == [(0,)]


def test_wrong_number_is_dropped():
    assert (
        ground(
            "The attack killed 150 people.", "How many did the Moscow attack kill?", context(), 0.5
        )
        == []
    )


def test_sum_across_two_sentences_is_accepted():
    claims = ground(
        "Together the bounties total $15 million.",
        "What is the total of the bounties for Adl and Ghamdi?",
        context(),
        0.5,
    )
    assert claims and set(claims[0].support) == {2, 3}


def test_unsupported_words_are_dropped_and_declines_recognised():
    assert (
        ground(
            "The attack was carried out by drones.",
            "How was the Moscow attack done?",
            context(),
            0.5,
        )
        == []
    )
    for reply in [
        "NOT FOUND",
        "The sources do not mention his birthday.",
        "",
        "There is no information about that.",
    ]:
        assert is_decline(reply)
    assert not is_decline("The attack killed 144 people.")
