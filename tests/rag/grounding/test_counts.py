"""Counts: which number in a sentence the question's words are read with."""

from rag.grounding.counts import bindings, bound
from rag.grounding.question import parse

BOMBING = (
    "The bomber, who killed 170 Afghans and 13 US service members at the gate in August 2021, "
    "had been arrested in 2017; the attack in Kerman, Iran, that killed at least 95 and wounded "
    "more than 200 was in January."
)


def test_a_count_is_read_with_the_question_words_around_it():
    b = bindings(BOMBING, parse("How many US service members were killed at the gate?"))
    assert max(b, key=lambda n: b[n]) == "13"
    assert "2021" not in b and "2017" not in b  # dates are not counts
    b = bindings(BOMBING, parse("How many Afghans died at the gate?"))
    assert max(b, key=lambda n: b[n]) == "170"
    assert bindings(BOMBING, parse("When was the bomber arrested?")) == {}  # not a count


def test_a_count_stops_at_punctuation_and_other_numbers():
    q = parse("How many soldiers were killed?")
    said = "The attack killed 5, soldiers said, and wounded 3 and 4 soldiers."
    # 5 is read with "killed" only (the comma ends it), 3 with nothing (4 stands between)
    assert bindings(said, q) == {"5": 1.0, "3": 0.0, "4": 2.0}
    assert bound("4 soldiers.", q, [said])
    assert not bound("5 soldiers.", q, [said])


def test_the_words_of_a_number_are_not_steps_away_from_it():
    q = parse("How many troops were sent?")
    near = bindings("They sent at least 95 troops.", q)["95"]
    assert near == bindings("They sent 95 troops.", q)["95"] == 1 + 2  # "sent", then "troops"
