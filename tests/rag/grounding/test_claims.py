"""The grounding checks on hand-made replies and context sentences (no model involved)."""

import numpy as np

from rag.grounding.claims import ground, is_decline, prune_list, select_sentences
from rag.grounding.question import parse
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


def test_supported_claim_is_cited_to_the_right_sentence():
    claims = ground(
        "The attack killed 144 people.",
        parse("How many did the Moscow attack kill?"),
        context(),
        0.5,
    )
    assert [c.support for c in claims] == [(0,)]


def test_wrong_number_is_dropped():
    assert (
        ground(
            "The attack killed 150 people.",
            parse("How many did the Moscow attack kill?"),
            context(),
            0.5,
        )
        == []
    )


def test_sum_across_two_sentences_is_accepted():
    claims = ground(
        "Together the bounties total $15 million.",
        parse("What is the total of the bounties for Adl and Ghamdi?"),
        context(),
        0.5,
    )
    assert claims and set(claims[0].support) == {2, 3}


def test_unsupported_words_are_dropped_and_declines_recognised():
    assert (
        ground(
            "The attack was carried out by drones.",
            parse("How was the Moscow attack done?"),
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


def _sentences(text: str):
    chunk = Chunk("d:2", "d", "d.txt", "", text, 0, len(text), ((0, len(text)),))
    return chunk.sentence_list()


BOMBING = (
    "The bomber, who killed 170 Afghans and 13 US service members at the gate in August 2021, "
    "had been arrested in 2017; the attack in Kerman, Iran, that killed at least 95 and wounded "
    "more than 200 was in January."
)


def test_a_bare_count_from_the_wrong_slot_is_corrected_and_cited():
    question = parse("How many people were wounded in Kerman?")
    claims = ground("95", question, _sentences(BOMBING), 0.5)
    assert [(c.text, c.support) for c in claims] == [("more than 200", (0,))]
    claims = ground(
        "170", parse("How many US service members were killed?"), _sentences(BOMBING), 0.5
    )
    assert [c.text for c in claims] == ["13"]


def test_a_right_count_is_kept_and_a_sentence_claim_is_not_rewritten():
    question = parse("How many Afghans were killed at the gate?")
    assert [c.text for c in ground("170", question, _sentences(BOMBING), 0.5)] == ["170"]
    # a claim that says more than the number is checked, never rewritten
    claim = "The bomber killed 13 Afghans."
    assert ground(claim, question, _sentences(BOMBING), 0.5) == []


CONCERT = (
    "Extremists planned to attack a Taylor Swift concert in Austria, and a knife attack hit a "
    "fair in Germany."
)


def test_a_name_the_support_lacks_is_not_supported():
    question = parse("In which Austrian city was the Taylor Swift concert?")
    claim = "The Taylor Swift concert in Austria was scheduled in Vienna."
    assert ground(claim, question, _sentences(CONCERT), 0.5) == []


def test_a_longer_form_of_a_question_word_is_no_answer():
    question = parse("In which German city was the knife attack at the fair?")
    assert ground("The knife attack was in Germany.", question, _sentences(CONCERT), 0.5) == []
    assert ground("Germany", parse("Where was the knife attack?"), _sentences(CONCERT), 0.5)


def test_a_day_read_off_another_number_is_dropped_from_the_date():
    text = "In a May 2024 audio statement he said they had fought for 20 years."
    question = parse("When was the audio statement released?")
    claims = ground("It was released on May 20, 2024.", question, _sentences(text), 0.5)
    assert [c.text for c in claims] == ["It was released on May 2024."]
    assert [c.text for c in ground("20 May 2024", question, _sentences(text), 0.5)] == ["May 2024"]
    assert ground("It was released on May 20.", question, _sentences(text), 0.5) == []  # no year
    assert ground("It was released in June 2024.", question, _sentences(text), 0.5) == []
    stated = "The attack on March 22, 2024, killed 144."
    claims = ground("March 22, 2024", parse("When was the attack?"), _sentences(stated), 0.5)
    assert [c.text for c in claims] == ["March 22, 2024"]  # a day the source gives stays


def test_a_list_keeps_the_items_one_sentence_names():
    text = "A group threatening China might not threaten Russia, Iran, or Pakistan in the same way."
    question = parse(
        "Which countries might a group threatening China not threaten in the same way?"
    )
    claims = ground(
        "Afghanistan, Iran, Pakistan, Russia, and Turkey", question, _sentences(text), 0.5
    )
    assert [c.text for c in claims] == ["Iran, Pakistan and Russia"]
    assert prune_list("Iran, Pakistan and Russia", question, _sentences(text)) is None


def test_names_from_a_lower_case_question_are_not_new():
    text = "Fish caught in the sound in late summer include bonito and false albacore."
    question = parse("what kind of fish can you catch in the long island sound")
    claims = ground("Bonito is caught in the Long Island Sound.", question, _sentences(text), 0.5)
    assert [c.support for c in claims] == [(0,)]


def test_sentence_selection_counts_longer_forms_of_question_words():
    """ "leads" and "leader" stem apart (lead / leader); selection still sees the shared word."""
    text = "ISKP stands out as the exception. Sanaullah Ghafari is the enigmatic ISKP leader."
    chunk = Chunk("d:3", "d", "d.txt", "", text, 0, len(text), ((0, 33), (34, len(text))))
    candidates = chunk.sentence_list()
    flat = np.zeros((2, 4), dtype=np.float32)  # equal cosine: only the shared words decide
    chosen = select_sentences(
        parse("Who leads ISKP?"), candidates, flat, np.zeros(4, np.float32), 1
    )
    assert [s.text for s in chosen] == ["Sanaullah Ghafari is the enigmatic ISKP leader."]


def test_an_amount_is_its_value_however_it_is_written():
    """E-mails write "$12,500.00"; a reply that says "$12,500" or "12,500 dollars" is that."""
    mail = "As agreed we wired $12,500.00 to Acme Logistics on March 3. We paid Tom $800."
    question = parse("What was paid to Acme Logistics?")
    for reply in ("$12,500", "12,500 dollars", "$12,500.00", "Acme Logistics got $12,500."):
        assert [c.support for c in ground(reply, question, _sentences(mail), 0.5)] == [(0,)]
    for wrong in ("$12,000", "$125.00", "$1,250"):
        assert ground(wrong, question, _sentences(mail), 0.5) == [], wrong
