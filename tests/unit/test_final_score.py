"""The final result's score and order, on examples computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kipp.selection.final import Finalist, combine, rank_group

D = Decimal
# The 2023-like default: evaluation 30%, panel 20%, presentation 50%, no field verification.
WEIGHTS = {"evaluation": D(30), "panel": D(20), "presentation": D(50), "field": D(0)}


def test_the_total_is_the_weighted_mean_of_the_stage_totals():
    # 0.3 x 80 + 0.2 x 90 + 0.5 x 70 = 24 + 18 + 35 = 77
    result = combine({"evaluation": D(80), "panel": D(90), "presentation": D(70)}, WEIGHTS)
    assert result.total == D("77.00")
    assert result.weights == {"evaluation": D("30.00"), "panel": D("20.00"), "presentation": D("50.00")}
    assert result.missing == () and not result.renormalised


def test_a_stage_with_weight_zero_does_not_count_even_with_a_score():
    result = combine({"evaluation": D(80), "panel": D(90), "presentation": D(70), "field": D(10)}, WEIGHTS)
    assert result.total == D("77.00") and "field" not in result.weights


def test_a_missing_stage_shares_its_weight_among_the_others_and_is_flagged():
    weights = {"evaluation": D(25), "panel": D(15), "presentation": D(40), "field": D(20)}
    # No field visit: (25 x 80 + 15 x 90 + 40 x 70) / 80 = (2000 + 1350 + 2800) / 80 = 76.875 -> 76.88
    result = combine({"evaluation": D(80), "panel": D(90), "presentation": D(70), "field": None}, weights)
    assert result.total == D("76.88")
    assert result.missing == ("field",) and result.renormalised
    # The weights as they were applied: 25/80, 15/80, 40/80 of 100%.
    assert result.weights == {"evaluation": D("31.25"), "panel": D("18.75"), "presentation": D("50.00")}
    # With the visit: (2000 + 1350 + 2800 + 20 x 60) / 100 = 73.50
    assert combine({"evaluation": D(80), "panel": D(90), "presentation": D(70), "field": D(60)},
                   weights).total == D("73.50")


def test_rounding_is_half_up_to_two_places():
    # (1 x 70.005 + 1 x 70.000) / 2 = 70.0025 -> 70.00; (70.01 + 70.00) / 2 = 70.005 -> 70.01
    assert combine({"evaluation": D("70.005"), "panel": D(70)}, {"evaluation": D(1), "panel": D(1)}).total == D("70.00")
    assert combine({"evaluation": D("70.01"), "panel": D(70)}, {"evaluation": D(1), "panel": D(1)}).total == D("70.01")


def test_no_score_at_all_gives_no_total():
    result = combine({"evaluation": None}, WEIGHTS)
    assert result.total is None and not result.renormalised
    assert result.missing == ("evaluation", "panel", "presentation")


def test_negative_weights_are_refused():
    with pytest.raises(ValueError):
        combine({"evaluation": D(80)}, {"evaluation": D(-1)})


def f(id_, evaluation, panel, presentation, *, number=None, eligible=True):
    return Finalist(id_, {"evaluation": D(evaluation) if evaluation is not None else None,
                          "panel": D(panel) if panel is not None else None,
                          "presentation": D(presentation) if presentation is not None else None},
                    number or id_, eligible)


def test_the_group_is_ordered_by_total_and_the_top_are_proposed():
    placed = rank_group([f("a", 80, 80, 80), f("b", 90, 90, 90), f("c", 70, 70, 70)], WEIGHTS, 2)
    assert [(p.finalist.id, p.combined.total, p.rank, p.proposed) for p in placed] == [
        ("b", D("90.00"), 1, True), ("a", D("80.00"), 2, True), ("c", D("70.00"), 3, False)]


def test_equal_totals_go_by_presentation_then_evaluation_then_number():
    # x: 0.3 x 90 + 0.2 x 60 + 0.5 x 70 = 27 + 12 + 35 = 74
    # y: 0.3 x 70 + 0.2 x 50 + 0.5 x 86 = 21 + 10 + 43 = 74 -> the better presentation first
    # z: 0.3 x 80 + 0.2 x 90 + 0.5 x 64 = 24 + 18 + 32 = 74 -> the worst presentation
    # w: the same scores as x -> same rank as x, after it by number
    placed = rank_group([f("x", 90, 60, 70, number="2023-U-2"), f("y", 70, 50, 86, number="2023-U-3"),
                         f("z", 80, 90, 64, number="2023-U-4"), f("w", 90, 60, 70, number="2023-U-1")], WEIGHTS, 2)
    assert {p.combined.total for p in placed} == {D("74.00")}
    assert [(p.finalist.id, p.rank, p.proposed) for p in placed] == [
        ("y", 1, True), ("w", 2, True), ("x", 2, False), ("z", 4, False)]


def test_equal_totals_and_presentations_go_by_evaluation():
    # p: 0.3 x 90 + 0.2 x 70 + 0.5 x 80 = 27 + 14 + 40 = 81; q: 0.3 x 80 + 0.2 x 85 + 0.5 x 80 = 24 + 17 + 40 = 81
    placed = rank_group([f("q", 80, 85, 80, number="1"), f("p", 90, 70, 80, number="2")], WEIGHTS, 1)
    assert [(p.finalist.id, p.rank, p.proposed) for p in placed] == [("p", 1, True), ("q", 2, False)]


def test_finalists_who_did_not_present_are_listed_last_and_never_proposed():
    placed = rank_group([f("gone", 99, 99, None, eligible=False), f("here", 60, 60, 60)], WEIGHTS, 2)
    assert [(p.finalist.id, p.rank, p.proposed) for p in placed] == [("here", 1, True), ("gone", None, False)]
    # The absent one still shows what its total would be on the stages it has: (30 x 99 + 20 x 99) / 50
    assert placed[1].combined.total == D("99.00") and placed[1].combined.missing == ("presentation",)
