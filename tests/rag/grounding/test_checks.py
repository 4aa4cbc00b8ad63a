"""The grounding checks as units: one signature, a verdict with a reason, a registry by name,
and a policy that switches a check off or makes it evidence instead of a veto."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.grounding import checks
from rag.grounding.checks import CHECKS, Policy, Verdict
from rag.grounding.claims import ground
from rag.grounding.question import parse
from rag.types import Chunk, Sentence

TEXT = "Sanaullah Ghafari, also known as Shahab al-Muhajir, has led ISKP since 2020."


def _context(*texts: str) -> list[Sentence]:
    out, at = [], 0
    for t in texts:
        chunk = Chunk(f"c{at}", "d", "doc.txt", "", t, at, at + len(t), ((at, at + len(t)),))
        out.append(Sentence(chunk, t, at, at + len(t)))
        at += len(t) + 1
    return out


def test_every_check_gives_a_verdict_with_a_reason_when_it_says_no():
    q = parse("Who leads ISKP?")
    ctx = _context(TEXT)
    for name, check in CHECKS.items():
        verdict = check("Abu Bakr leads it.", q, ctx[:1], 0.5)
        assert isinstance(verdict, Verdict), name
        assert verdict.ok or verdict.reason, name
    said = checks.names_given("Abu Bakr leads ISKP.", q, ctx, 0.5)
    assert not said.ok and "name" in said.reason


def test_a_check_switched_off_no_longer_rejects():
    q = parse("Who leads ISKP?")
    ctx = _context(TEXT)
    reply = "Sanaullah Ghafari, with Abu Bakr, leads ISKP."  # "Bakr" is named nowhere
    assert ground(reply, q, ctx, 0.5) == []
    claims = ground(reply, q, ctx, 0.5, Policy().with_out(["names"]))
    assert [c.support for c in claims] == [(0,)]


def test_a_check_that_is_evidence_is_recorded_on_the_claim_instead_of_rejecting():
    soft = Policy(veto=frozenset(CHECKS) - {"names"})
    (claim,) = ground(
        "Sanaullah Ghafari, with Abu Bakr, leads ISKP.",
        parse("Who leads ISKP?"),
        _context(TEXT),
        0.5,
        soft,
    )
    assert dict(claim.evidence) == {"names": False}


def test_an_unknown_check_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="no check named nmes; the checks are: planted"):
        Policy().with_out(["nmes"])


def test_the_topic_is_the_question_s_names_when_it_carries_instructions():
    """E-mail questions come with instructions no answer repeats ("If multiple, record all $
    values paid"): a support that names everything the question names is on topic; one that
    names something else is not."""
    question = parse("Find the $ value paid to Zapier? If multiple, record all $ values paid.")
    on = _context("Your Mercury debit card was charged for $136.97 by ZAPIER.")
    off = _context("Your Mercury debit card was charged for $136.97 by Upwork.")
    claim = "$136.97"
    assert CHECKS["topic"](claim, question, on, 0.5).ok
    verdict = CHECKS["topic"](claim, question, off, 0.5)
    assert not verdict.ok and "something else" in verdict.reason
