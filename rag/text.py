"""Words as the grounding checks compare them (lower case, number words as digits, stemmed), and
sentences as ingest and grounding cut them (`split_sentences`, sentencex).

content("The attacks killed three people") == {"attack", "kill", "3", "peopl"}
"""

from __future__ import annotations

import re

import sentencex
import Stemmer

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "over",
        "after",
        "before",
        "between",
        "and",
        "or",
        "but",
        "not",
        "no",
        "nor",
        "so",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "it's",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "him",
        "we",
        "us",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "very",
        "just",
        "also",
        "one",
        "ones",
        "s",
        "t",
        "according",
        "source",
        "sources",
        "answer",
        "question",
        "text",
        "passage",
        # name particles ("al-Qaeda", "van Gogh") carry no meaning of their own
        "al",
        "el",
        "de",
        "la",
        "van",
        "von",
        "der",
    ]
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}


BREAK = "|"  # a mark `words(..., breaks=True)` puts for punctuation a phrase does not cross


def words(text: str, breaks: bool = False) -> list[str]:
    """Lower-case word and number tokens; number words become digits, 1,000 becomes 1000, and
    a number is written as its value ("12,500.00" and "12500" are both 12500). With `breaks`,
    BREAK stands for each , ; : ( ) or quote (what a count is read with stops there).

    >>> words("Killed 1,000 (one thousand) people's", breaks=True)
    ['killed', '1000', '|', '1', 'thousand', '|', 'people']"""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    marks = r"|[,;:()\"“”]" if breaks else ""
    tokens = re.findall(r"\d+(?:\.\d+)?|[a-z]+" + marks, re.sub(r"'s\b", "", text))
    return [
        BREAK
        if not t[0].isalnum()
        else NUMBER_WORDS.get(t, t.rstrip("0").rstrip(".") if "." in t else t)
        for t in tokens
    ]


stem = Stemmer.Stemmer("english").stemWord
MONTHS = (  # in calendar order
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
)


def content(text: str) -> set[str]:
    """Stemmed content words ("stoned", "stoning" -> "stone")."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def content_words(text: str) -> list[str]:
    """Stemmed content words of `text` in order, numbers left out (what a date is read with)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and not w[0].isdigit()]


def numbers(text: str) -> set[str]:
    return {w for w in words(text) if w[0].isdigit()}


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence, lower-cased.

    >>> sorted(names("The attack in Kabul killed Afghans. Then ISIS-K claimed it."))
    ['afghans', 'kabul']"""
    return {w.lower() for w in re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]{2,}", text)}


YEAR = r"(?:19|20)\d{2}"  # a year, wherever one is read (1900-2099)


def is_year(token: str) -> bool:
    return re.fullmatch(YEAR, token) is not None


_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DAY_MONTH = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})\b|\b(\d{{1,2}})\s+({_MONTH})")
DATE_WITH_DAY = re.compile(  # "May 20, 2024" or "20 May 2024", the year not included
    rf"\b({_MONTH})\s+\d{{1,2}},?(?=\s+\d{{4}}\b)|\b\d{{1,2}}\s+({_MONTH})(?=\s+\d{{4}}\b)"
)
_FULL_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTHS) + ")"
# one date mention: "March 22, 2024", "22 March 2024", "March 2024", "March 22", "2024"
DATE = re.compile(
    rf"\b(?P<m1>{_FULL_MONTH})\s+(?P<d1>\d{{1,2}}),?\s+(?P<y1>\d{{4}})\b"
    rf"|\b(?P<d2>\d{{1,2}})\s+(?P<m2>{_FULL_MONTH})\s+(?P<y2>\d{{4}})\b"
    rf"|\b(?P<m3>{_FULL_MONTH})\s+(?P<y3>\d{{4}})\b"
    rf"|\b(?P<m4>{_FULL_MONTH})\s+(?P<d4>\d{{1,2}})\b"
    rf"|(?<!\d-)\b(?P<y5>{YEAR})\b(?!-\d)"  # not the year of an ISO date (2023-06-10)
)


def day_months(text: str) -> set[tuple[str, str]]:
    """(month, day) pairs written as dates.

    >>> sorted(day_months("on March 22 and 3 Jan."))
    [('jan', '3'), ('mar', '22')]"""
    return {((m[0] or m[3])[:3].lower(), m[1] or m[2]) for m in DAY_MONTH.findall(text)}


Span = tuple[int, int]


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans (document offsets, surrounding blanks trimmed) of one paragraph.

    sentencex (rule-based, compiled) agrees with pysbd on the default corpus and is ~500x faster."""
    spans: list[Span] = []
    for piece in sentencex.get_sentence_boundaries("en", text):
        start, end = piece["start_index"], piece["end_index"]
        s = text[start:end]
        stripped = s.rstrip()
        lead = len(s) - len(s.lstrip())
        if stripped.strip():
            spans.append((offset + start + lead, offset + start + len(stripped)))
    return spans


def first_sentence(text: str) -> str:
    """The first sentence of `text` ("" when it has none)."""
    spans = split_sentences(text)
    return text[spans[0][0] : spans[0][1]] if spans else ""
