"""Words, numbers, names and dates as the grounding checks read them, and sentence spans."""

from rag.text import content, day_months, is_year, names, numbers, split_sentences, words


def test_words_normalise_numbers_and_possessives():
    assert words("Adl’s 1,000 men, three ships") == ["adl", "1000", "men", "3", "ships"]
    assert "the" not in content("The attack")


def test_a_number_is_its_value_and_a_year_is_one_definition():
    assert numbers("12,500.00 dollars, 12500 euros, 3.50 and three") == {"12500", "3.5", "3"}
    assert is_year("1999") and is_year("2024") and not is_year("1899") and not is_year("20245")


def test_names_and_days_of_months():
    assert names("Kabul fell. The Taliban took Kabul in August") == {"taliban", "kabul", "august"}
    assert day_months("March 22, 2024, and 3 Jan. but not March 2024") == {
        ("mar", "22"),
        ("jan", "3"),
    }


def test_sentence_spans_are_trimmed():
    text = "Dr. Smith arrived at 5 p.m. on Monday.  He left early. "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith arrived at 5 p.m. on Monday.",
        "He left early.",
    ]


def test_sentence_spans_are_character_offsets_beyond_ascii():
    """Offsets index the Python string (not UTF-8 bytes) past curly quotes, accents and emoji."""
    text = "Prefix 😀 ok. Then “quoted,” she said. Ça va? The U.S. Army met Gen. Miller. End"
    spans = split_sentences(text, offset=100)
    assert [text[s - 100 : e - 100] for s, e in spans] == [
        "Prefix 😀 ok.",
        "Then “quoted,” she said.",
        "Ça va?",
        "The U.S. Army met Gen. Miller.",
        "End",
    ]
