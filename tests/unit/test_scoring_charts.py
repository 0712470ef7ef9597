"""The pure figures behind the scoring charts: quantiles, the five-number summary, axes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kipp.scoring.charts import Axis, five_numbers, nice_axis, population_sd, quantile

pytestmark = pytest.mark.unit


def test_quantiles_interpolate_between_ranks():
    # Sorted: 60 70 85 90 (n = 4). Position (n - 1) * p:
    # Q1 at 0.75: 60 + 0.75 * (70 - 60) = 67.5; median at 1.5: 70 + 0.5 * 15 = 77.5;
    # Q3 at 2.25: 85 + 0.25 * (90 - 85) = 86.25.
    values = [Decimal("85"), Decimal("60"), Decimal("90"), Decimal("70")]
    assert quantile(values, "0.25") == Decimal("67.5")
    assert quantile(values, "0.5") == Decimal("77.5")
    assert quantile(values, "0.75") == Decimal("86.25")
    assert quantile(values, 0) == Decimal("60")
    assert quantile(values, 1) == Decimal("90")


def test_quantiles_of_an_odd_count_fall_on_values():
    values = [95, 70, 80, 75, 90]
    assert [quantile(values, p) for p in ("0.25", "0.5", "0.75")] == [75, 80, 90]


def test_a_single_value_is_every_quantile():
    assert {quantile([Decimal("82.5")], p) for p in ("0", "0.25", "0.5", "0.75", "1")} == {Decimal("82.5")}


def test_quantile_refuses_nothing_and_shares_outside_zero_to_one():
    with pytest.raises(ValueError):
        quantile([], "0.5")
    with pytest.raises(ValueError):
        quantile([1, 2], "1.5")


def test_five_numbers_with_mean_and_count_to_two_places():
    summary = five_numbers(["85", "60", "90", "70"])
    assert (summary.minimum, summary.q1, summary.median, summary.q3, summary.maximum) == (
        Decimal("60.00"), Decimal("67.50"), Decimal("77.50"), Decimal("86.25"), Decimal("90.00"))
    assert summary.mean == Decimal("76.25")  # 305 / 4
    assert summary.n == 4


def test_population_standard_deviation():
    # Mean 80; squared deviations 100 + 0 + 100 = 200; 200 / 3 = 66.67; its root is 8.165.
    assert population_sd([70, 80, 90]) == Decimal("8.16")
    assert population_sd([75, 75]) == Decimal("0.00")


def test_nice_axis_steps_by_round_numbers():
    axis = nice_axis(0, 100, target_ticks=10)
    assert axis.ticks == tuple(range(0, 101, 10))
    assert nice_axis(0, 7, target_ticks=5, integers=True).ticks == (0, 2, 4, 6, 8)
    assert nice_axis(0, 3, target_ticks=5, integers=True).ticks == (0, 1, 2, 3)


def test_axis_positions_are_proportional_and_clamped():
    axis = Axis(0.0, 100.0, (0.0, 50.0, 100.0))
    assert axis.at(25, 400) == 100
    assert axis.at(25, 400, reverse=True) == 300
    assert axis.at(150, 400) == 400
