"""Questions answered by the real 135M GGUF through llama.cpp, grounded by the system."""

from dataclasses import replace

import pytest

from rag.errors import BadQuestionError
from rag.pipeline import Pipeline


@pytest.fixture
def essay(pipeline: Pipeline, corpus) -> Pipeline:
    pipeline.ingest([corpus])
    return pipeline


def _check_citations(pipeline: Pipeline, answer) -> None:
    docs = {d.source for d in pipeline.documents()}
    chunks = {c.id: c for c in pipeline.store.generation.chunks}
    for n, c in enumerate(answer.citations, 1):
        assert c.n == n and c.source in docs
        chunk = chunks[c.chunk_id]
        assert chunk.start <= c.start < c.end <= chunk.end
        assert chunk.text[c.start - chunk.start : c.end - chunk.start] == c.quote  # verbatim
        assert f"[{n}]" in answer.answer


def test_answer_is_cited_with_verbatim_quotes(essay: Pipeline, corpus):
    streamed: list[str] = []
    answer = essay.ask(
        "When did Joe Biden give the press conference where he defended his Afghanistan record?",
        on_token=streamed.append,
    )
    assert not answer.declined, answer.trace.raw
    assert "July 2023" in answer.answer
    assert answer.citations and "July 2023" in answer.citations[0].quote
    _check_citations(essay, answer)
    full = corpus.read_text()
    assert all(full[c.start : c.end] == c.quote for c in answer.citations)
    assert "".join(streamed) == answer.answer  # only verified text is streamed, marks and all
    t = answer.timings
    assert 0 < t.retrieval_s <= t.ttft_s <= t.total_s
    assert t.prompt_tokens > 50 and t.completion_tokens > 0


@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of mercury?",
        "Who won the 1998 football World Cup?",
    ],
)
def test_off_topic_question_is_declined(essay: Pipeline, question):
    answer = essay.ask(question)
    assert answer.declined, answer.trace.raw
    assert answer.citations == [] and answer.answer == "The documents don't say."


def test_empty_index_and_bad_questions(pipeline: Pipeline):
    assert pipeline.ask("Anything at all?").declined
    with pytest.raises(BadQuestionError, match="empty"):
        pipeline.ask("   ")
    with pytest.raises(BadQuestionError, match="limit"):
        pipeline.ask("why " * 1000)


def test_only_a_follow_up_is_rewritten_and_the_user_may_keep_their_words(essay: Pipeline):
    """#23: every question after the first was rewritten by the model, "What is ISKP?" into
    another question. A question that stands alone is now searched as typed, with no model
    call; a follow-up is rewritten (`searched`), unless the user asks for their own words."""
    history = [
        {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
        {"role": "assistant", "content": "ISKP attacked the Crocus City Hall near Moscow. [1]"},
    ]

    def ask(question: str, **kw) -> tuple[list[tuple[str, dict]], object]:
        stages: list[tuple[str, dict]] = []
        answer = essay.ask(
            question, history=history, on_stage=lambda s, i: stages.append((s, i)), **kw
        )
        return stages, answer

    stages, answer = ask("Who leads ISKP?")
    assert [s for s, _ in stages][0] == "retrieving", stages  # no "condensing": no rewrite
    assert stages[0][1] == {"question": "Who leads ISKP?", "rewritten": False}
    assert answer.searched is None and answer.to_dict()["searched"] is None
    stages, answer = ask("and how many did it kill?")
    assert stages[0][0] == "condensing" and stages[1][1]["rewritten"], stages
    assert answer.searched and answer.searched != "and how many did it kill?"
    assert answer.searched == stages[1][1]["question"]
    assert 0 < answer.timings.rewrite_s < answer.timings.total_s
    stages, answer = ask("are you sure?")  # the last question again, with its citations
    assert stages[0] == (
        "retrieving",
        {"question": "What happened at Crocus City Hall in March 2024?", "rewritten": True},
    ), stages  # no model call
    stages, answer = ask("and how many did it kill?", rewrite=False)
    assert stages[0] == (
        "retrieving",
        {"question": "and how many did it kill?", "rewritten": False},
    )
    assert answer.searched is None


def test_prompt_examples_are_opt_in_and_cached_on_disk(essay: Pipeline, embedder, small_generator):
    question = "Who is the subject of a $10 million Rewards for Justice bounty?"
    plain = essay.ask(question)
    settings = essay.settings.model_copy(update={"prompt_examples": True})
    with_examples = Pipeline(settings, embedder=embedder, generator=small_generator)
    answer = with_examples.ask(question)
    assert answer.timings.prompt_tokens > plain.timings.prompt_tokens + 200
    assert len(list((settings.home / "cache").glob("prefix-*.kv"))) == 2  # one per prompt kind
    if not answer.declined:
        _check_citations(with_examples, answer)


def test_the_model_reads_its_answer_back_when_the_calibration_weighs_it(essay: Pipeline):
    """With `logit_yes` among the calibration's features the pipeline asks the model, after its
    reply, whether the sources state it; the stream then starts once that is known, and still
    carries exactly the final answer. Without the feature nothing is asked."""
    assert "logit_yes" in essay.calibrator.names
    stages: list[str] = []
    streamed: list[str] = []
    question = "When did Joe Biden give the press conference where he defended his record?"
    answer = essay.ask(question, on_token=streamed.append, on_stage=lambda s, _: stages.append(s))
    assert not answer.declined, answer.trace.raw
    assert answer.trace.p_yes is not None and 0 < answer.trace.p_yes < 1
    assert 0 < answer.timings.check_s < answer.timings.total_s
    assert stages[-2:] == ["writing", "checking"]
    assert "".join(streamed) == answer.answer
    cal = essay.calibrator
    keep = [i for i, n in enumerate(cal.names) if n != "logit_yes"]
    without = replace(
        cal,
        names=tuple(cal.names[i] for i in keep),
        mean=cal.mean[keep],
        scale=cal.scale[keep],
        coef=cal.coef[keep],
    )
    essay._calibration = (without, "")
    stages.clear()
    plain = essay.ask(question, on_stage=lambda s, _: stages.append(s))
    assert plain.trace.p_yes is None and "checking" not in stages and plain.timings.check_s == 0
    assert plain.trace.raw == answer.trace.raw  # asking after the reply changes no reply
