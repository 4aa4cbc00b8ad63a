"""The question, parsed once: its kind and the words, numbers, names and days every check reads."""

import pytest

from rag.grounding.question import name_words, parse


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people were killed?", "count"),
        ("When did the attack happen?", "date"),
        ("Who leads ISKP?", "name"),
        ("Is ISKP active in Pakistan?", "yesno"),
        ("Which countries are named in the report?", "list"),
        ("Why did the Taliban refuse?", "other"),
    ],
)
def test_a_question_is_parsed_once_into_its_kind(question, kind):
    assert parse(question).kind == kind


def test_the_parts_every_check_reads_are_parsed_once():
    q = parse("How many US service members were killed in Kabul on August 26, 2021?")
    assert q.quantity and q.counted == {"us", "service", "members"}
    assert {"servic", "kill", "kabul"} <= q.words and q.numbers == {"26", "2021"}
    assert q.names == {"kabul", "august"} and q.day_months == {("aug", "26")}
    assert not q.arithmetic and not q.counts_time
    assert parse("How many years did the war last in total?").counts_time


def test_the_words_of_a_questions_names_include_acronyms_and_camel_case():
    assert name_words("Who leads ISKP? Is it Ghafari?") == {"iskp", "ghafari"}
    assert name_words("What does the parserConfiguration call turn off?") == {"parserconfiguration"}
