"""The paired comparison of two modes on the same questions: gain, interval, sign test."""

import pytest

from MoE.eval.paired import paired_gain, sign_test


def test_sign_test_on_hand_computed_cases():
    assert sign_test(0, 0) == 1.0
    assert sign_test(5, 5) == 1.0
    assert sign_test(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096)   # 0.0386
    assert sign_test(2, 10) == sign_test(10, 2)
    assert sign_test(6, 0) == pytest.approx(2 / 64)


def test_gain_counts_only_questions_both_modes_answered():
    baseline = {i: i < 20 for i in range(40)}               # right on 0-19
    mode = {i: i < 18 or 20 <= i < 30 for i in range(40)}   # loses 18, 19; wins 20-29
    mode[99] = True                                          # answered by one mode only: ignored
    g = paired_gain(baseline, mode)
    assert (g.n, g.wins, g.losses) == (40, 10, 2)
    assert g.gain == pytest.approx(20.0)
    spread = 1.96 * ((12 / 40 - 0.04) / 40) ** 0.5 * 100
    assert (g.low, g.high) == (pytest.approx(20 - spread), pytest.approx(20 + spread))
    assert g.p_value == pytest.approx(0.0386, abs=1e-4)


def test_identical_modes_gain_nothing_and_no_shared_questions_give_none():
    same = {1: True, 2: False}
    g = paired_gain(same, dict(same))
    assert (g.gain, g.low, g.high, g.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert paired_gain({1: True}, {2: True}) is None
