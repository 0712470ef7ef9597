"""Stability of places at a cut, by bootstrap over judges, on hand-made pools."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kipp.selection.uncertainty import Candidate, Component, inside_shares, is_unstable


def c(id_, values, pool="umum", order=None, weight=1.0):
    return Candidate(id_, pool, [Component(values, weight)], (id_,) if order is None else order)


def exact_share_above(values, threshold):
    """The true probability that the mean of a resample of ``values`` exceeds ``threshold``."""
    draws = list(product(values, repeat=len(values)))
    return float(Fraction(sum(1 for d in draws if sum(d) / len(d) > threshold), len(draws)))


def test_far_above_the_cut_is_always_in_and_far_below_never():
    pool = [c("top", [96, 98, 99]), c("mid1", [70, 75, 80]), c("mid2", [68, 74, 79]), c("bottom", [10, 12, 15])]
    shares = inside_shares(pool, {"umum": 2}, samples=500)
    assert shares["top"] == 1.0
    assert shares["bottom"] == 0.0
    assert not is_unstable(shares["top"], inside=True)
    assert not is_unstable(shares["bottom"], inside=False)


def test_equal_single_scores_keep_their_order_in_every_resample():
    shares = inside_shares([c("late", [80], order=(2,)), c("early", [80], order=(1,))], {"umum": 1})
    assert shares == {"late": 0.0, "early": 1.0}
    # Equal order too: the id's string decides, as in the real ranking.
    shares = inside_shares([c("b", [80], order=()), c("a", [80], order=())], {"umum": 1})
    assert shares == {"a": 1.0, "b": 0.0}


def test_disagreeing_judges_next_to_the_cut_are_unstable_where_agreeing_ones_are_not():
    # Two pools with the same means and the same margin to the next proposal: only the judges'
    # agreement differs.
    wild = [100, 40, 70]
    candidates = [c("agreed", [70, 70, 70], pool="a"), c("next_a", [66, 66, 66], pool="a"),
                  c("disputed", wild, pool="b"), c("next_b", [66, 66, 66], pool="b")]
    shares = inside_shares(candidates, {"a": 1, "b": 1}, samples=20_000, seed=7)
    assert shares["agreed"] == 1.0 and shares["next_a"] == 0.0
    assert not is_unstable(shares["agreed"], inside=True)
    assert not is_unstable(shares["next_a"], inside=False)
    assert shares["disputed"] == pytest.approx(exact_share_above(wild, 66), abs=0.02)  # 17/27
    assert is_unstable(shares["disputed"], inside=True)
    # Whoever the disputed proposal lets in is unstable on the other side.
    assert shares["next_b"] == pytest.approx(1 - shares["disputed"])
    assert is_unstable(shares["next_b"], inside=False)


def test_pools_are_cut_independently_and_a_pool_without_a_cut_takes_nobody():
    candidates = [c("a1", [90]), c("a2", [85]),
                  c("b1", [60], pool="b"), c("b2", [50], pool="b"), c("b3", [40], pool="b"),
                  c("x1", [99], pool="x")]
    shares = inside_shares(candidates, {"umum": 1, "b": 2})
    assert shares == {"a1": 1.0, "a2": 0.0, "b1": 1.0, "b2": 1.0, "b3": 0.0, "x1": 0.0}


def test_a_cut_larger_than_the_pool_takes_everyone():
    shares = inside_shares([c("p", [10, 90, 50]), c("q", [60, 20])], {"umum": 5}, samples=50)
    assert shares == {"p": 1.0, "q": 1.0}


def test_weights_combine_the_components_renormalised_over_those_with_values():
    # Constant sheets make every resample equal to the actual score, so the result is exact.
    weighted = Candidate("weighted", "w", [Component([80, 80], 3), Component([Decimal("40")], 1)])  # 70
    plain_65 = c("plain_65", [65], pool="w")  # above an unweighted mean (60), below the weighted one
    missing = Candidate("missing", "m", [Component([72, 72], 1), Component([], 5)])  # 72, not 12
    plain_71 = c("plain_71", [Decimal("71.5")], pool="m")
    unweighed = Candidate("unweighed", "z", [Component([100], 0), Component([71], 1)])  # 71, not 85.5
    plain_75 = c("plain_75", [75], pool="z")
    shares = inside_shares([weighted, plain_65, missing, plain_71, unweighed, plain_75], {"w": 1, "m": 1, "z": 1},
                           samples=100)
    assert shares == {"weighted": 1.0, "plain_65": 0.0, "missing": 1.0, "plain_71": 0.0,
                      "unweighed": 0.0, "plain_75": 1.0}


def test_weighted_score_between_two_constants_by_hand():
    # (2 * 90 + 1 * 60) / 3 = 80: above 79.99, below 80.01.
    mixed = Candidate("mixed", "umum", [Component([90, 90, 90], 2), Component([60, 60], 1)])
    assert inside_shares([mixed, c("below", [79.99])], {"umum": 1}) == {"mixed": 1.0, "below": 0.0}
    assert inside_shares([mixed, c("above", [80.01])], {"umum": 1}) == {"mixed": 0.0, "above": 1.0}


def test_same_seed_same_shares_and_another_seed_other_shares():
    candidates = [c(f"p{i}", [50 + i, 30 + 2 * i, 90 - i]) for i in range(12)]
    first = inside_shares(candidates, {"umum": 6}, samples=300, seed=11)
    assert first == inside_shares(candidates, {"umum": 6}, samples=300, seed=11)
    assert first != inside_shares(candidates, {"umum": 6}, samples=300, seed=12)


def test_empty_inputs():
    assert inside_shares([], {}) == {}
    assert inside_shares([], {"umum": 3}) == {}
    assert inside_shares([c("only", [70, 80])], {}) == {"only": 0.0}


def test_proposals_without_values_stay_below_every_scored_one_in_their_actual_order():
    unscored = [Candidate("u2", "umum", [], (2,)), Candidate("u1", "umum", [Component([])], (1,))]
    scored = [c("low", [0, 1, 2], order=(9,)), c("high", [50, 60], order=(8,))]
    everyone = unscored + scored
    assert inside_shares(everyone, {"umum": 2}, samples=200) == {"u2": 0.0, "u1": 0.0, "low": 1.0, "high": 1.0}
    assert inside_shares(everyone, {"umum": 3}, samples=200) == {"u2": 0.0, "u1": 1.0, "low": 1.0, "high": 1.0}
    assert inside_shares(everyone, {"umum": 4}, samples=200) == {"u2": 1.0, "u1": 1.0, "low": 1.0, "high": 1.0}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 100), min_size=0, max_size=4), min_size=1, max_size=12),
       st.integers(0, 14), st.integers(0, 2**32 - 1))
def test_each_resample_puts_exactly_the_cut_inside(sheets, cut, seed):
    candidates = [c(i, values, pool=i % 2) for i, values in enumerate(sheets)]
    shares = inside_shares(candidates, {0: cut, 1: cut}, samples=40, seed=seed)
    assert set(shares) == set(range(len(sheets)))
    for pool in (0, 1):
        size = sum(1 for i in shares if i % 2 == pool)
        assert sum(share for i, share in shares.items() if i % 2 == pool) == pytest.approx(min(cut, size))
    assert all(0.0 <= share <= 1.0 for share in shares.values())


def test_input_order_does_not_change_an_exact_result():
    candidates = [c("a", [90, 90]), c("b", [80]), c("c", [80], order=("c0",)), c("d", [70, 70, 70])]
    expected = inside_shares(candidates, {"umum": 2})
    assert inside_shares(list(reversed(candidates)), {"umum": 2}) == expected
    assert expected == {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}


@pytest.mark.parametrize(("share", "inside", "unstable"), [
    (1.0, True, False), (0.95, True, False), (0.9, True, False), (0.89, True, True), (0.3, True, True),
    (0.0, False, False), (0.05, False, False), (0.1, False, False), (0.11, False, True), (0.7, False, True),
])
def test_unstable_when_the_own_side_holds_in_fewer_than_the_level(share, inside, unstable):
    assert is_unstable(share, inside) is unstable


def test_the_level_can_be_chosen():
    assert is_unstable(0.94, True, level=0.95)
    assert not is_unstable(0.94, True, level=0.9)
    assert is_unstable(0.06, False, level=0.95)
    with pytest.raises(ValueError):
        is_unstable(0.5, True, level=1.5)


@pytest.mark.parametrize(("candidates", "cuts", "samples"), [
    ([c("a", [1]), c("a", [2])], {"umum": 1}, 10),  # the same id twice
    ([c("a", [1])], {"umum": -1}, 10),
    ([c("a", [1])], {"umum": 1}, 0),
    ([c("a", [1], weight=-1)], {"umum": 1}, 10),
    ([c("a", [1, float("nan")])], {"umum": 1}, 10),
])
def test_bad_input_is_refused(candidates, cuts, samples):
    with pytest.raises(ValueError):
        inside_shares(candidates, cuts, samples=samples)
