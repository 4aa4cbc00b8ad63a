"""Hand-computed cases for eval.metrics."""

from __future__ import annotations

import pytest

from eval.metrics import (
    abstention_rates,
    answer_match,
    citation_precision,
    citation_recall,
    first_relevant_rank,
    fold,
    hit_at_k,
    mean_defined,
    normalize,
    percentile,
    reciprocal_rank,
    rouge_l,
    summarize_latency,
    supports,
    token_f1,
)

# --- normalize / answer_match ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Taliban, an  Afghan group.", "taliban afghan group"),
        ("“Sayf al-’Adl”", "sayf al adl"),
        ("al-Qaeda's amir / al Qaeda’s amir", "al qaeda amir al qaeda amir"),
        ("$10 million", "10 million"),
        ("$10m", "10 million"),
        ("€2.5bn", "2.5 billion"),
        ("1,200 people", "1200 people"),
        ("three deaths and eight injuries", "3 deaths and 8 injuries"),
        ("a 29-year-old", "29 year old"),
        ("Türkiye", "turkiye"),
        ("15%", "15 percent"),
        ("", ""),
        ("  ...  ", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_fold_keeps_case_and_punctuation() -> None:
    assert fold("Al-Qaeda’s\n“amir”  —  ’Adl") == "Al-Qaeda's \"amir\" - 'Adl"


def test_answer_match_whole_tokens_and_forms() -> None:
    assert answer_match("The attack killed 144 people.", ["144"])
    assert not answer_match("The attack killed 1440 people.", ["144"])
    assert answer_match("A bounty of 10 million dollars.", ["$10 million"])
    assert answer_match("He was Osama bin Laden's bodyguard.", ["Osama bin Ladin", "bin Laden"])
    assert answer_match("Three people died.", ["3"])
    assert answer_match("It was Sayf al-'Adl.", ["Sayf al-’Adl"])
    assert not answer_match("Ghafari", ["Sanaullah Ghafari"])  # answer must be wholly present


def test_answer_match_edge_cases() -> None:
    assert not answer_match("", ["144"])  # empty prediction
    assert not answer_match("144", [])  # no acceptable answers (unanswerable question)
    assert not answer_match("the", ["a"])  # answers that normalize to nothing never match


# --- token_f1 / rouge_l ------------------------------------------------------------------------


def test_token_f1() -> None:
    assert token_f1("Sayf al-Adl", "Sayf al-Adl") == 1.0
    # pred {taliban, leader}, ref {taliban, supreme, leader}: p=1, r=2/3 -> f1=0.8
    assert token_f1("the Taliban leader", "Taliban supreme leader") == pytest.approx(0.8)
    # pred [a, b, b], ref [b, c]: common=1 (clipped count), p=1/3, r=1/2 -> 0.4
    assert token_f1("x y y", "y z") == pytest.approx(0.4)
    assert token_f1("Kabul", "Moscow") == 0.0


def test_token_f1_and_rouge_l_empty_inputs() -> None:
    for metric in (token_f1, rouge_l):
        assert metric("", "") == 1.0
        assert metric("", "Kabul") == 0.0
        assert metric("Kabul", "") == 0.0
        assert metric("the", "Kabul") == 0.0  # prediction of only an article is empty


def test_rouge_l() -> None:
    # tokens: [al, qaeda, leader, is, adl] vs [adl, is, al, qaeda, leader]: lcs=3 -> 2*3/10
    assert rouge_l("al qaeda leader is adl", "adl is al qaeda leader") == pytest.approx(0.6)
    # [w, x, y, z] vs [w, y]: lcs=2, p=2/4, r=1 -> 2/3; order matters unlike token_f1
    assert rouge_l("w x y z", "w y") == pytest.approx(2 / 3)
    assert rouge_l("y w", "w y") == pytest.approx(0.5)
    assert token_f1("y w", "w y") == 1.0
    assert rouge_l("Kerman Iran", "Kerman Iran") == 1.0


# --- retrieval ---------------------------------------------------------------------------------

CHUNKS = [
    "The Taliban controls a country with many militant groups.",
    "the March 22,\n2024, attack on the Crocus City Hall near Moscow that killed 144",
    "Ghamdi is a Saudi national and former Osama bin Ladin bodyguard.",
]


def test_first_relevant_rank_and_friends() -> None:
    evidence = ["attack on the Crocus City Hall near Moscow"]
    assert first_relevant_rank(CHUNKS, evidence) == 2
    assert hit_at_k(CHUNKS, evidence, 2)
    assert not hit_at_k(CHUNKS, evidence, 1)
    assert reciprocal_rank(CHUNKS, evidence) == 0.5


def test_retrieval_folds_whitespace_quotes_and_case() -> None:
    assert first_relevant_rank(CHUNKS, ["March 22, 2024, attack"]) == 2  # chunk has a newline
    assert first_relevant_rank(["Al-Qaeda’s “amir”"], ['al-qaeda\'s "amir"']) == 1


def test_retrieval_any_quote_counts() -> None:
    evidence = ["not in any chunk", "Saudi national"]
    assert first_relevant_rank(CHUNKS, evidence) == 3
    assert reciprocal_rank(CHUNKS, evidence) == pytest.approx(1 / 3)


def test_retrieval_edge_cases() -> None:
    assert first_relevant_rank(CHUNKS, []) is None  # unanswerable: nothing is relevant
    assert not hit_at_k(CHUNKS, [], 3)
    assert reciprocal_rank(CHUNKS, ["absent quote"]) == 0.0
    assert first_relevant_rank([], ["Saudi national"]) is None
    assert not hit_at_k(CHUNKS, ["Saudi national"], 0)
    assert first_relevant_rank(CHUNKS, ["   "]) is None  # blank quotes are ignored


# --- citations ---------------------------------------------------------------------------------

QUOTE = "killed 170 Afghans and 13 US service members at Abbey Gate"  # 10 tokens


def test_supports_rule() -> None:
    chunk = "Abdul Rahman al-Logari, the ISKP suicide bomber who " + QUOTE + " in August 2021."
    assert supports(chunk, QUOTE)  # chunk contains the quote
    assert supports("13 US service members at Abbey Gate", QUOTE)  # 6-token run of 6
    assert supports("He killed 170 Afghans and 13 of them.", QUOTE)  # run of 5 >= 0.5 * 8
    # scattered common words: the longest shared run is 1 token
    assert not supports("Afghans said members of US units killed time at the gate", QUOTE)
    assert supports("killed 170", QUOTE)  # 2-token citation wholly inside the quote
    assert not supports("", QUOTE)


def test_citation_precision_and_recall() -> None:
    evidence = [QUOTE, "the subject of a $10 million Rewards for Justice bounty"]
    cited = [
        "Abdul Rahman al-Logari " + QUOTE,  # supports evidence[0]
        "The Taliban controls a country with many militant groups.",  # supports nothing
    ]
    assert citation_precision(cited, evidence) == 0.5
    assert citation_recall(cited, evidence) == 0.5
    cited.append("Ghafari is the subject of a 10 million dollar Rewards for Justice bounty")
    assert citation_precision(cited, evidence) == pytest.approx(2 / 3)
    assert citation_recall(cited, evidence) == 1.0


def test_citation_edge_cases() -> None:
    assert citation_precision([], [QUOTE]) is None  # no citations: precision undefined
    assert citation_recall([], [QUOTE]) == 0.0  # ...but nothing was recalled
    assert citation_precision(["anything"], []) is None  # no evidence (unanswerable)
    assert citation_recall(["anything"], []) is None
    assert citation_precision([], []) is None


def test_mean_defined_skips_none() -> None:
    assert mean_defined([1.0, None, 0.0, None]) == 0.5
    assert mean_defined([None, None]) is None
    assert mean_defined([]) is None


# --- abstention --------------------------------------------------------------------------------


def test_abstention_rates() -> None:
    records = [
        {"type": "unanswerable", "declined": True},
        {"type": "unanswerable", "declined": True},
        {"type": "unanswerable", "declined": False},
        {"type": "unanswerable", "declined": True},
        {"type": "fact", "declined": False},
        {"type": "number", "declined": True},
        {"type": "multi-hop", "declined": False},
        {"type": "list", "declined": False},
        {"type": "false-premise", "declined": True},  # in neither group
    ]
    assert abstention_rates(records) == {
        "decline_rate_unanswerable": 0.75,
        "false_decline_rate_answerable": 0.25,
        "n_unanswerable": 4,
        "n_answerable": 4,
    }


def test_abstention_all_declined_and_empty_groups() -> None:
    all_declined = [{"type": "fact", "declined": True}, {"type": "list", "declined": True}]
    rates = abstention_rates(all_declined)
    assert rates["false_decline_rate_answerable"] == 1.0
    assert rates["decline_rate_unanswerable"] is None
    assert rates["n_unanswerable"] == 0
    empty = abstention_rates([])
    assert empty["decline_rate_unanswerable"] is None
    assert empty["false_decline_rate_answerable"] is None


# --- latency -----------------------------------------------------------------------------------


def test_percentile_linear_interpolation() -> None:
    xs = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 4.0
    assert percentile(xs, 50) == 2.5  # pos 1.5
    assert percentile(xs, 95) == pytest.approx(3.85)  # pos 2.85 -> 3 + 0.85
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(xs, 101)


def test_summarize_latency() -> None:
    timings = [
        {"retrieval_s": 0.1, "ttft_s": 1.0, "total_s": 3.0, "completion_tokens": 20},  # 10 tok/s
        {"retrieval_s": 0.3, "ttft_s": 2.0, "total_s": 4.0, "completion_tokens": 60},  # 30 tok/s
        {"retrieval_s": 0.2, "ttft_s": 1.0, "total_s": 1.0, "completion_tokens": 0},  # no gen time
    ]
    out = summarize_latency(timings)
    assert out["n"] == 3
    assert out["retrieval_s_p50"] == pytest.approx(0.2)
    assert out["retrieval_s_p95"] == pytest.approx(0.29)  # pos 1.9 over [0.1, 0.2, 0.3]
    assert out["ttft_s_p50"] == 1.0
    assert out["total_s_p50"] == 3.0
    assert out["total_s_p95"] == pytest.approx(3.9)  # pos 1.9 over [1, 3, 4]
    assert out["tokens_per_s_mean"] == pytest.approx(20.0)


def test_the_time_spent_reading_the_answer_back_is_not_generation_time() -> None:
    checked = {"ttft_s": 1.0, "total_s": 3.5, "check_s": 0.5, "completion_tokens": 20}
    out = summarize_latency([checked])
    assert out["tokens_per_s_mean"] == pytest.approx(10.0)  # 20 tokens in 2 s, not in 2.5 s
    assert out["check_s_p50"] == 0.5


def test_summarize_latency_missing_keys_and_empty() -> None:
    out = summarize_latency([{"total_s": 2.0, "completion_tokens": 10}])  # no ttft: from start
    assert out["ttft_s_p50"] is None
    assert out["tokens_per_s_mean"] == 5.0
    empty = summarize_latency([])
    assert empty["n"] == 0
    assert all(v is None for k, v in empty.items() if k != "n")


def test_a_long_reference_accepts_a_short_answer_it_holds_and_rejects_another():
    from eval.harness import candidate_right

    ref = (
        "The government officials opened the Wall in November 1989, and its demolition officially"
        " began on 13 June 1990 and finished in 1992."
    )
    q = {"type": "answerable", "answers": [ref]}
    assert candidate_right(q, "November 1989 [1]")
    assert not candidate_right(q, "The Wall came down in June 1961 after a vote. [1]")
    assert not candidate_right({**q, "type": "unanswerable"}, "November 1989 [1]")
    assert candidate_right({"type": "fact", "answers": ["144"]}, "It killed 144 people. [1]")
