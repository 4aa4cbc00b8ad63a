"""Does a question need the conversation before it? Read from its words, without a model call.

    follow_up("and who leads it?")            -> "refers back: 'it'"
    follow_up("Who leads ISKP?")              -> None  (searched as typed, never rewritten)
    follow_up("Who founded ISKP and when did it start?") -> None  ('it' is ISKP)

A follow-up refers back (a pronoun or "that"/"there"/"then" with nothing before it in the
question to point at), leaves words out ("and in 2023?", "what about al-Qaeda?"), is too bare
to search ("how many?", "who?"), or asks about the last answer ("why?"; "are you sure?",
"where does it say that?" ask whether it holds: the last question is asked again, and its
answer comes with its citations).
Anything else is taken as it stands: a question that names what it asks about is never
rewritten, however long or foreign the conversation before it (issue #23).
`thread(history)` is the part of the conversation a rewrite needs: back to the last
question that stood on its own.
Does not: read languages other than English (such a question is searched as typed).
"""

from __future__ import annotations

import re

# pronouns that point outside the question unless something before them in it is named
POSSESSIVE = {"its", "their", "theirs", "his", "her", "hers"}
REFLEXIVE = {"itself", "themselves", "himself", "herself"}
SUBJECT = {"they", "he", "she"}  # open a clause: a name before them in the question is theirs
PERSONAL = {"it", "them", "him"}  # "Did ISKP claim it?": point outside unless a clause broke
DEMONSTRATIVE = {"this", "these", "those"}
PLACE_TIME = {"there", "then"}
WH = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how"}
AUX = {
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "has", "have", "had",
    "will", "would", "should", "may", "might", "must", "shall",
}  # fmt: skip
REQUESTS = {
    "tell", "list", "name", "explain", "describe", "give", "show", "define", "summarize",
    "summarise", "compare", "find", "quote", "cite",
}  # fmt: skip
CONJUNCTIONS = {"and", "but", "or", "so", "also", "then", "ok", "okay", "well"}
PREPOSITIONS = {
    "about", "of", "in", "after", "before", "since", "during", "for", "from", "at", "by",
    "on", "with", "like", "to", "than", "until", "besides",
}  # fmt: skip
# "this essay", "these documents": the reader's own documents, not something said earlier
DOCUMENT = {
    "essay", "document", "documents", "text", "texts", "article", "paper", "report", "book",
    "file", "files", "page", "passage", "source", "sources", "author", "authors", "corpus",
}  # fmt: skip
# words that say nothing about what is asked ("how many were there?")
EMPTY = AUX | WH | {
    "many", "much", "long", "old", "often", "far", "the", "a", "an", "of", "in", "on", "at",
    "to", "for", "by", "with", "from", "about", "there", "that", "this", "it", "they", "he",
    "she", "his", "her", "its", "their", "them", "him", "one", "ones", "else", "more", "also",
    "and", "but", "or", "so", "then", "not", "be", "been", "being", "exactly", "again",
    "happen", "happened", "happens", "mean", "means", "meant", "say", "says", "said", "you",
    "your", "me", "i", "we", "us", "our", "any", "all", "some", "other", "others", "like",
    "get", "got", "way", "kind", "sort", "thing", "things", "year", "years", "people",
}  # fmt: skip
# asks whether the last answer holds: answered by asking the last question again, whose
# answer comes with its citations and confidence
SUPPORT = re.compile(
    r"^(?:are you (?:sure|certain)|says who|how do you know|really|sources?|proof|evidence|"
    r"citations?|quote|where does (?:it|the \w+) say(?: (?:that|so|this))?|where is (?:that|this) "
    r"(?:said|written|stated)|is (?:it|that) (?:so|true|right|correct))"
    r"(?:\s+(?:about|of)\s+(?:that|this|it))?\s*[?.!]*$",
    re.IGNORECASE,
)
ABOUT_ANSWER = re.compile(
    r"^(?:how (?:so|come)|why(?: not)?|explain|elaborate|go on|tell me more|more|"
    r"what do you mean)\b",
    re.IGNORECASE,
)
EXPLETIVE_IT = re.compile(  # "is it true that …", "why is it hard to …": "it" points at nothing
    r"\bit (?:is |was |'s |be |been )?(?:true|possible|impossible|likely|unlikely|known|said|"
    r"reported|claimed|believed|thought|clear|hard|easy|difficult|important|necessary|safe|"
    r"wise|fair|right|wrong)\b",
    re.I,
)
# "the first one", "the other ones", "the latter": a choice among things said before
ONE = {"one", "ones"}
CHOOSERS = {"first", "second", "third", "last", "other", "same", "former", "latter", "which"}
TOKEN = re.compile(r"[A-Za-z][\w'’-]*|\d[\d,.]*|[,;:?!]")
BREAKS = {",", ";", ":", "and", "but", "or", "while", "because", "which", "who", "when", "where"}


def _tokens(text: str) -> list[str]:
    """Words and punctuation; "what's" is read as "what is"."""
    text = re.sub(
        r"\b(who|what|where|when|how|why|which)'s\b", r"\1 is", text.replace("’", "'"), flags=re.I
    )
    return TOKEN.findall(text)


def _is_name(token: str, first: bool) -> bool:
    """A capitalised word not opening the question ("Kabul"), an acronym ("ISKP"), a name
    with a lower-case particle ("al-Qaeda", "McChrystal"), or a figure ("2023")."""
    if token[0].isdigit():
        return True
    bare = token.split("'")[0]
    if len(bare) >= 2 and bare.isupper() or any(c.isupper() for c in bare[1:]):
        return True
    return not first and bare[:1].isupper() and bare != "I"


def _strip_opener(tokens: list[str]) -> tuple[list[str], bool]:
    """The question without a leading "and"/"but"/"ok so" (and whether there was one)."""
    n = 0
    while n < len(tokens) and tokens[n].lower() in CONJUNCTIONS | {","}:
        n += 1
    return tokens[n:], n > 0


def _referring(tokens: list[str]) -> str | None:
    """The first word that points outside the question, or None."""
    lower = [t.lower() for t in tokens]
    named_at = [i for i, t in enumerate(tokens) if t[0].isalnum() and _is_name(t, i == 0)]
    for i, w in enumerate(lower):
        before = lower[i - 1] if i else ""
        after = lower[i + 1] if i + 1 < len(lower) else ""
        names_before = [j for j in named_at if j < i]
        if w in POSSESSIVE | REFLEXIVE | SUBJECT:
            if not names_before:
                return w
        elif w in PERSONAL:
            if w == "it" and EXPLETIVE_IT.search(" ".join(lower[i:])):
                continue
            # "Who founded ISKP and when did it start?": a name, then a new clause
            last = names_before[-1] if names_before else i
            if not any(b in BREAKS for b in lower[last + 1 : i]):
                return w
        elif w in DEMONSTRATIVE:
            if after in DOCUMENT or (w == "those" and after in {"who", "that", "which"}):
                continue
            return w
        elif w == "that":
            # "where does it say that?", "was that made public?", "in that year": a pronoun;
            # not "said that the ..."
            ends = i == 0 or after in {"", "?", "!", ",", "."}
            if (ends or before in PREPOSITIONS | AUX) and after not in DOCUMENT:
                return w
        elif w == "there":
            if before not in AUX and after not in AUX | {"be"}:
                return w  # "what happened there?", not "were there any ...?"
        elif w == "then" and i > 0:
            return w
        elif w in ONE and before in CHOOSERS or w in {"former", "latter"}:
            return f"{before} {w}".strip() if w in ONE else w
    return None


def follow_up(question: str) -> str | None:
    """Why `question` needs the conversation before it ("refers back: 'it'", …), or None when
    it can be searched as it stands."""
    text = question.strip()
    letters = [c for c in text if c.isalpha()]
    if sum(c.isascii() for c in letters) < len(letters) / 2:
        return None  # not English: searched as typed
    if asks_for_support(text):
        return "asks where the last answer comes from"
    if ABOUT_ANSWER.match(text) and len(_tokens(text)) <= 6:
        return "asks about the last answer"
    tokens, opened = _strip_opener(_tokens(text))
    lower = [t.lower() for t in tokens]
    if not lower:
        return "says nothing by itself"
    if lower[:2] in (["what", "about"], ["how", "about"], ["what", "of"], ["same", "for"]):
        return f"leaves words out: '{' '.join(lower[:2])}'"
    pointer = _referring(tokens)
    if pointer:
        return f"refers back: '{pointer}'"
    words = [t for t in tokens if t[0].isalnum()]
    named = [t for i, t in enumerate(words) if _is_name(t, i == 0 and not opened)]
    # a name typed in lower case ("iskp") still counts as a subject
    subject = [w for w in lower if w[0].isalpha() and w not in EMPTY and w not in REQUESTS]
    full = bool(lower) and (lower[0] in WH | AUX | REQUESTS)
    if not full and len(words) <= 4 and not (named and len(subject) >= 2):
        return "leaves words out: no question of its own"
    if not named and len(subject) <= 1:
        return "too bare to search on its own"
    return None


def asks_for_support(question: str) -> bool:
    """ "where does it say that?", "are you sure?", "source?": whether the last answer holds."""
    return bool(SUPPORT.match(question.strip()))


def keeps_names(question: str, rewrite: str) -> bool:
    """Does the rewrite still hold every name and figure the user typed ("ISKP", "2023")?"""
    typed = {t.lower().rstrip("?") for i, t in enumerate(_tokens(question)) if _is_name(t, i == 0)}
    kept = {t.lower() for t in _tokens(rewrite)}
    return typed <= kept


def thread(history: list[dict[str, str]]) -> list[dict[str, str]]:
    """The end of `history` a follow-up belongs to: from the last user question that stood
    on its own (by `follow_up`), with what followed it. A long, unrelated conversation before
    that is not shown to the rewrite."""
    users = [i for i, m in enumerate(history) if m["role"] == "user"]
    for i in reversed(users):
        if follow_up(history[i]["content"]) is None:
            return history[i:]
    return history[users[0] :] if users else history[-2:]


__all__ = ["asks_for_support", "follow_up", "keeps_names", "thread"]
