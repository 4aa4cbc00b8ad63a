"""Which questions need the conversation before them (rag/conversation.py), read from their
words alone: no model is asked, so a question that stands on its own costs nothing (#23)."""

from __future__ import annotations

import pytest

from rag.conversation import asks_for_support, follow_up, keeps_names, thread


@pytest.mark.parametrize(
    "question",
    [
        "and who leads it?",  # a pronoun with nothing before it to point at
        "How many people did they kill?",
        "where was he born",
        "What did the report say about their funding?",
        "When was that?",
        "what happened there?",
        "and in 2023?",  # words left out
        "what about al-Qaeda?",
        "And the Taliban?",
        "how many?",  # too bare to search
        "who?",
        "why?",  # about the last answer
        "are you sure?",
        "Source?",
        "Did ISKP claim it?",  # a name, but "it" is something else
        "was that ever confirmed?",  # "that" after a verb: a pronoun
        "and how many did the second one kill",  # a choice among things said before
        "which of the latter was older?",
    ],
)
def test_a_follow_up_is_recognised(question):
    assert follow_up(question), question


@pytest.mark.parametrize(
    "question",
    [
        "Who leads ISKP?",
        "What is ISKP?",  # the case: rewritten into another question before
        "What is the capital of Peru?",
        "Who founded ISKP and when did it start?",  # "it" points inside the question
        "How does the Taliban describe its relationship with al-Qaeda?",
        "Who said that the Taliban had changed?",  # "that" opens a clause
        "Were there any attacks in Europe in 2024?",  # "there" is no place
        "What does this essay argue about drones?",  # "this essay": the reader's documents
        "Is it true that ISKP attacked Moscow?",  # "it" points at nothing
        "how many people died in the attack on the Kabul airport",
        "who leads iskp",  # a name typed in lower case is still a subject
        "Did Obama say he would withdraw the troops?",  # "he" opens a clause after a name
        "What did al-Zawahiri do before he moved to Kabul?",  # a name with a particle
        "Why is it hard to count the fighters in Afghanistan?",  # "it" points at nothing
        "what's the Doha agreement's main promise",  # "what's" asks a whole question
        "谁领导伊斯兰国呼罗珊省？",  # not English: searched as typed
    ],
)
def test_a_question_that_stands_alone_is_left_alone(question):
    assert follow_up(question) is None, follow_up(question)


def test_asking_whether_the_last_answer_holds_is_told_apart_from_asking_why():
    for q in ("Are you sure?", "where does it say that", "Source?", "how do you know?"):
        assert asks_for_support(q), q
    for q in ("why?", "Where does ISKP recruit?", "are you sure ISKP did it?"):
        assert not asks_for_support(q), q


def test_a_rewrite_must_keep_what_the_user_named():
    assert keeps_names("What is ISKP?", "What is ISKP, the Islamic State Khorasan Province?")
    assert not keeps_names("What is ISKP?", "What is the acronym for Islamic State of Palestine?")
    assert not keeps_names("and in 2023?", "How many attacks did ISKP carry out in 2022?")
    assert keeps_names("and who leads it?", "Who leads ISKP?")  # nothing named: any rewrite


def _turns(*questions: str) -> list[dict[str, str]]:
    out = []
    for q in questions:
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": "An answer."}]
    return out


def test_the_thread_starts_at_the_last_question_that_stood_alone():
    chinese = _turns(*[f"唐朝的第{n}位皇帝是谁？" for n in range(1, 50)])  # 98 messages
    crocus = _turns("What happened at Crocus City Hall?", "how many did it kill?")
    assert thread(chinese + crocus) == crocus  # the Chinese history is not shown
    assert thread(crocus + _turns("Who leads ISKP?")) == _turns("Who leads ISKP?")
    assert thread(_turns("and then?")) == _turns("and then?")  # none stood alone: from the start
