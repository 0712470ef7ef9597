"""The scoring arithmetic, checked against hand-computed figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kipp.scoring import rules
from kipp.scoring.defaults import default_bands

D = Decimal
# The 2023 weights of kelompok umum (kipp-domain §3).
ASPECTS_2023 = [rules.Aspect("latar_belakang", D(10)), rules.Aspect("kebaruan", D(15)),
                rules.Aspect("implementasi", D(5)), rules.Aspect("signifikansi", D(30)),
                rules.Aspect("adaptabilitas", D(20)), rules.Aspect("sumber_daya", D(5)),
                rules.Aspect("keberlanjutan", D(15))]
SCALE = rules.Scale(0, 100)


def test_weighted_total_uses_the_2023_weights():
    values = {"latar_belakang": D(70), "kebaruan": D(80), "implementasi": D(60), "signifikansi": D(90),
              "adaptabilitas": D(75), "sumber_daya": D(65), "keberlanjutan": D(85)}
    # 7 + 12 + 3 + 27 + 15 + 3.25 + 12.75 = 80
    assert rules.weighted_total(values, ASPECTS_2023) == D("80.00")
    assert rules.weighted_part(D(90), ASPECTS_2023[3], ASPECTS_2023) == D("27.00")


def test_weighted_total_divides_by_the_weights_when_they_do_not_add_up_to_100():
    aspects = [rules.Aspect("a", D(1)), rules.Aspect("b", D(2))]
    assert rules.weighted_total({"a": D(90), "b": D(60)}, aspects) == D("70.00")


def test_an_unscored_aspect_leaves_no_total():
    assert rules.weighted_total({"latar_belakang": D(70)}, ASPECTS_2023) is None


def test_problems_name_each_aspect():
    comments = {"signifikansi": ""}
    raw = {"latar_belakang": "abc", "kebaruan": "101", "signifikansi": "100", "implementasi": "85,5"}
    problems = {p.key: p.code for p in rules.sheet_problems(raw, comments, ASPECTS_2023, SCALE, complete=True)}
    assert problems == {"latar_belakang": "not_a_number", "kebaruan": "out_of_range",
                        "signifikansi": "comment_needed", "adaptabilitas": "missing", "sumber_daya": "missing",
                        "keberlanjutan": "missing"}
    # A draft may be incomplete and keeps extremes without comment for now.
    drafts = {p.key: p.code for p in rules.sheet_problems(raw, comments, ASPECTS_2023, SCALE, complete=False)}
    assert drafts == {"latar_belakang": "not_a_number", "kebaruan": "out_of_range"}
    assert rules.parse_score("85,5") == D("85.5") and rules.parse_score(" ") is None
    assert rules.parse_score("nan") is None and rules.parse_score("inf") is None


def test_summary_mean_spread_population_deviation_and_flag():
    summary = rules.summarise([D(60), D(70), D(95)], threshold=D(10))
    # mean 75; deviations -15, -5, 20; variance (225 + 25 + 400) / 3 = 216.67; sd 14.72
    assert (summary.mean, summary.spread, summary.std_dev, summary.disagreement) == (
        D("75.00"), D("35.00"), D("14.72"), True)
    assert not rules.summarise([D(60), D(70), D(95)], threshold=D(15)).disagreement
    assert rules.summarise([D(80)], threshold=D(0)).disagreement is False
    assert rules.summarise([], threshold=D(10)).mean is None


def test_normalisation_on_a_hand_computed_example():
    # Judge H is harsh (40, 50, 60), judge L lenient (70, 80, 90), judge N has scored too few.
    totals = {("H", 1): D(40), ("H", 2): D(50), ("H", 3): D(60),
              ("L", 1): D(70), ("L", 2): D(80), ("L", 3): D(90), ("N", 1): D(55)}
    result = rules.normalise(totals, min_sheets=3, scale=SCALE)
    # Pooled mean of the seven totals = 445/7 = 63.5714; squared deviations sum to 1835.714,
    # so the pooled (population) sd = sqrt(1835.714 / 7) = 16.1940.
    # H: mean 50, sd 8.1650 -> z = -1.2247, 0, 1.2247 -> 63.5714 -/+ 19.8335 = 43.7379, 83.4049.
    assert result[("H", 1)] == D("43.74") and result[("H", 2)] == D("63.57") and result[("H", 3)] == D("83.40")
    # L has the same shape as H, so after normalisation they agree exactly.
    assert [result[("L", i)] for i in (1, 2, 3)] == [result[("H", i)] for i in (1, 2, 3)]
    assert result[("N", 1)] == D(55)  # too few sheets: raw


def test_normalisation_keeps_a_judge_who_gave_everyone_the_same_score_raw_and_clips_to_the_scale():
    totals = {("same", i): D(70) for i in range(5)} | {("wide", 1): D(0), ("wide", 2): D(100), ("wide", 3): D(100)}
    result = rules.normalise(totals, min_sheets=3, scale=rules.Scale(0, 100))
    assert all(result[("same", i)] == D(70) for i in range(5))
    assert all(D(0) <= v <= D(100) for v in result.values())


def test_ranking_breaks_ties_by_the_configured_aspects_and_shares_exact_ties():
    entries = [
        rules.RankEntry("a", D("80.00"), (D("24.00"),), ("2027-U-00003",)),
        rules.RankEntry("b", D("80.00"), (D("27.00"),), ("2027-U-00002",)),  # higher Signifikansi wins
        rules.RankEntry("c", D("85.00"), (D("20.00"),), ("2027-U-00005",)),
        rules.RankEntry("d", D("80.00"), (D("24.00"),), ("2027-U-00001",)),  # tied with a on everything
        rules.RankEntry("e", None, (), ("2027-U-00004",)),
    ]
    ranked = [(position, entry.item) for position, entry in rules.rank(entries)]
    assert ranked == [(1, "c"), (2, "b"), (3, "d"), (3, "a"), (None, "e")]


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=8))
def test_weighted_total_stays_on_the_scale(values):
    aspects = [rules.Aspect(str(i), D(1 + i)) for i in range(len(values))]
    total = rules.weighted_total({str(i): D(v) for i, v in enumerate(values)}, aspects)
    assert D(min(values)) - D("0.01") <= total <= D(max(values)) + D("0.01")


@pytest.mark.parametrize("visibility, revealed, own, expected", [
    ("blind", False, True, False), ("blind", True, False, True),
    ("after_own", False, False, False), ("after_own", False, True, True),
    ("open", False, False, True),
])
def test_who_sees_the_other_judges_scores(visibility, revealed, own, expected):
    assert rules.others_visible(visibility, revealed=revealed, own_submitted=own) is expected


def test_default_rubric_covers_the_scale_without_gaps():
    for low, high in ((0, 100), (1, 5), (0, 10)):
        bands = default_bands(low, high)
        assert bands[0][1] == high and bands[-1][0] == low
        for upper, lower in zip(bands, bands[1:]):
            assert lower[1] == upper[0] - 1
    assert [b[:2] for b in default_bands(0, 100)] == [(86, 100), (76, 85), (61, 75), (41, 60), (0, 40)]
