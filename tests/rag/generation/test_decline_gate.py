"""The decline gate reads the first-token probability of "NOT" (FOUND) from real logits."""

import numpy as np

from rag.generation.llama import DeclineGate


def _scores(gate: DeclineGate, vocab: int, p_not: float) -> np.ndarray:
    """Logits where the NOT tokens share `p_not` and one other token has the rest."""
    scores = np.full(vocab, -50.0, dtype=np.float32)
    other = next(i for i in range(vocab) if i not in gate.ids)
    scores[other] = 0.0
    scores[gate.ids] = np.log(p_not / len(gate.ids)) - np.log(1 - p_not)
    return scores


def test_unsure_decline_is_masked_and_a_sure_one_kept(small_generator):
    vocab = small_generator.llm.n_vocab()
    gate = DeclineGate(small_generator, threshold=0.5)
    assert gate.ids and all(
        small_generator.llm.detokenize([i]).decode().strip().upper() == "NOT" for i in gate.ids
    )
    out = gate(None, _scores(gate, vocab, 0.3))
    assert abs(gate.p_decline - 0.3) < 0.01
    assert np.isneginf(out[gate.ids]).all()
    assert gate(None, _scores(gate, vocab, 0.3))[gate.ids[0]] > -np.inf  # only the first token

    sure = DeclineGate(small_generator, threshold=0.5)
    kept = sure(None, _scores(sure, vocab, 0.8))
    assert abs(sure.p_decline - 0.8) < 0.01 and not np.isneginf(kept[sure.ids]).any()
