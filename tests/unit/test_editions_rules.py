"""Pure rules of edition settings and the 2023 template (no app, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kipp.editions import rules
from kipp.editions.kinds import GroupCode, StageKind
from kipp.editions.template_2023 import TEMPLATE_2023

pytestmark = pytest.mark.unit

UTC = dt.timezone.utc


def _group(*weights: object) -> SimpleNamespace:
    return SimpleNamespace(sections=[SimpleNamespace(weight=w) for w in weights])


# --- Weights ------------------------------------------------------------------------

def test_weight_problems_none_when_weights_sum_to_100() -> None:
    assert rules.weight_problems(_group(Decimal("0"), Decimal("10"), Decimal("15.50"), Decimal("74.50"))) == []


def test_weight_problems_warns_when_sum_is_not_100() -> None:
    assert rules.weight_problems(_group(Decimal("10"), Decimal("80"))) == ["sum_not_100"]
    assert rules.weight_problems(_group(Decimal("60"), Decimal("60"))) == ["sum_not_100"]


def test_weight_problems_accepts_plain_weights() -> None:
    assert rules.weight_problems([50, "50"]) == []
    assert rules.weight_problems([Decimal("99.99")]) == ["sum_not_100"]


def test_weight_problems_for_an_empty_or_weightless_group() -> None:
    assert rules.weight_problems(_group()) == ["no_sections"]
    assert rules.weight_problems(_group(Decimal("0"), Decimal("0"))) == ["no_weight"]


def test_weight_total_adds_decimals_exactly() -> None:
    assert rules.weight_total([Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]) == Decimal("100")


@pytest.mark.parametrize(
    ("weight", "problem"),
    [
        (Decimal("0"), None),
        (Decimal("100"), None),
        (Decimal("12.5"), None),
        ("30", None),
        (Decimal("-0.01"), "weight_range"),
        (Decimal("100.01"), "weight_range"),
        (Decimal("12.345"), "weight_precision"),
        ("abc", "weight_not_number"),
        (None, "weight_not_number"),
        ("NaN", "weight_not_number"),
    ],
)
def test_weight_problem(weight: object, problem: str | None) -> None:
    assert rules.weight_problem(weight) == problem


# --- Keys, years, counts -------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("latar_belakang", None),
        ("sdg17", None),
        ("", "key_empty"),
        ("Latar", "key_format"),
        ("1abc", "key_format"),
        ("a-b", "key_format"),
        ("dua kata", "key_format"),
        ("a" * 81, "key_too_long"),
    ],
)
def test_key_problem(key: str, problem: str | None) -> None:
    assert rules.key_problem(key) == problem


def test_year_problem() -> None:
    assert rules.year_problem(2023) is None
    assert rules.year_problem(2013) == "year_range"
    assert rules.year_problem(2101) == "year_range"


@pytest.mark.parametrize(
    ("tiers", "problems"),
    [
        ((198, 99, 45), []),
        ((0, 0, 0), []),
        ((99, 99, 99), []),
        ((10, 20, 5), ["nominees_below_finalists"]),
        ((30, 15, 16), ["finalists_below_winners"]),
        ((5, 10, 20), ["nominees_below_finalists", "finalists_below_winners"]),
        ((5, 3, -1), ["tier_negative"]),
    ],
)
def test_tier_problems(tiers: tuple[int, int, int], problems: list[str]) -> None:
    assert rules.tier_problems(*tiers) == problems


def test_quota_empty_means_no_quota_and_cannot_be_negative() -> None:
    assert rules.quota_problem(None) is None
    assert rules.quota_problem(0) is None
    assert rules.quota_problem(10) is None
    assert rules.quota_problem(-1) == "quota_negative"


def test_min_age_and_word_limit() -> None:
    assert rules.min_age_problem(0) is None
    assert rules.min_age_problem(-1) == "min_age_negative"
    assert rules.word_limit_problem(None) is None
    assert rules.word_limit_problem(200) is None
    assert rules.word_limit_problem(0) == "word_limit_not_positive"


# --- Dates ------------------------------------------------------------------------------

def test_shift_years_keeps_the_wall_clock_time() -> None:
    assert rules.shift_years(dt.datetime(2023, 5, 6, 23, 59), 1) == dt.datetime(2024, 5, 6, 23, 59)
    assert rules.shift_years(dt.datetime(2023, 5, 6, 23, 59), -2) == dt.datetime(2021, 5, 6, 23, 59)
    aware = dt.datetime(2023, 1, 2, 3, 4, tzinfo=UTC)
    assert rules.shift_years(aware, 3) == dt.datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_shift_years_from_29_february_to_a_common_year_gives_28_february() -> None:
    assert rules.shift_years(dt.datetime(2024, 2, 29, 12, 0), 1) == dt.datetime(2025, 2, 28, 12, 0)
    assert rules.shift_years(dt.datetime(2024, 2, 29, 12, 0), -1) == dt.datetime(2023, 2, 28, 12, 0)


def test_shift_years_from_29_february_to_a_leap_year_stays_29_february() -> None:
    assert rules.shift_years(dt.datetime(2024, 2, 29), 4) == dt.datetime(2028, 2, 29)


def test_shift_window_never_collapses_on_29_february() -> None:
    opens, closes = dt.datetime(2024, 2, 28, 10, 0), dt.datetime(2024, 2, 29, 0, 0)
    new_opens, new_closes = rules.shift_window(opens, closes, 1)
    assert new_opens == dt.datetime(2025, 2, 28, 10, 0)
    assert new_closes == new_opens + (closes - opens)
    assert new_closes > new_opens


def test_shift_window_keeps_ordinary_windows() -> None:
    assert rules.shift_window(dt.datetime(2023, 6, 26), dt.datetime(2023, 7, 17, 23, 59), 1) == (
        dt.datetime(2024, 6, 26), dt.datetime(2024, 7, 17, 23, 59)
    )


def test_window_problem() -> None:
    t = dt.datetime(2023, 5, 1, tzinfo=UTC)
    assert rules.window_problem(t, t + dt.timedelta(minutes=1)) is None
    assert rules.window_problem(t, t) == "closes_before_opens"
    assert rules.window_problem(t, t - dt.timedelta(days=1)) == "closes_before_opens"


def test_stage_status_includes_opening_and_excludes_closing_instant() -> None:
    opens = dt.datetime(2023, 5, 1, tzinfo=UTC)
    closes = dt.datetime(2023, 5, 6, tzinfo=UTC)
    assert rules.stage_status(opens, closes, opens - dt.timedelta(seconds=1)) == "upcoming"
    assert rules.stage_status(opens, closes, opens) == "open"
    assert rules.stage_status(opens, closes, closes - dt.timedelta(seconds=1)) == "open"
    assert rules.stage_status(opens, closes, closes) == "closed"


def test_stage_order_problems_flag_a_stage_opening_before_an_earlier_one() -> None:
    stages = [
        SimpleNamespace(kind=StageKind.SUBMISSION, opens_at=dt.datetime(2023, 3, 1)),
        SimpleNamespace(kind=StageKind.SCREENING, opens_at=dt.datetime(2023, 2, 1)),
        SimpleNamespace(kind=StageKind.EVALUATION, opens_at=dt.datetime(2023, 5, 1)),
    ]
    assert rules.stage_order_problems(stages) == [StageKind.SCREENING]
    stages[1].opens_at = dt.datetime(2023, 4, 1)
    assert rules.stage_order_problems(stages) == []


# --- Small helpers ----------------------------------------------------------------------------

def test_group_codes_text_is_sorted_unique_and_empty_for_all() -> None:
    assert rules.group_codes_text(["umum", "khusus", "umum", " "]) == "khusus,umum"
    assert rules.group_codes_text([]) == ""


def test_replace_year_for_the_name_of_a_copy() -> None:
    assert rules.replace_year("Kompetisi Inovasi Pelayanan Publik 2023", 2023, 2024) == (
        "Kompetisi Inovasi Pelayanan Publik 2024"
    )
    assert rules.replace_year("KIPP", 2023, 2024) == "KIPP 2024"


# --- The 2023 template -------------------------------------------------------------------------

UMUM_2023 = {
    # key: (weight, word limit, evidence required) — kipp-domain §3, limits from the NTT clone
    "ringkasan": (Decimal("0"), 200, False),
    "latar_belakang": (Decimal("10"), 300, True),
    "kebaruan": (Decimal("15"), 200, True),
    "implementasi": (Decimal("5"), 200, True),
    "signifikansi": (Decimal("30"), 600, True),
    "adaptabilitas": (Decimal("20"), 300, True),
    "sumber_daya": (Decimal("5"), 200, True),
    "keberlanjutan": (Decimal("15"), 500, True),
}


def test_template_2023_umum_sections_match_the_domain_table() -> None:
    umum = next(g for g in TEMPLATE_2023.groups if g.code is GroupCode.UMUM)
    assert [s.key for s in umum.sections] == list(UMUM_2023)
    assert {s.key: (s.weight, s.word_limit, s.evidence_required) for s in umum.sections} == UMUM_2023
    assert rules.weight_problems([s.weight for s in umum.sections]) == []
    assert all(s.title_id and s.title_en and s.guidance_id and s.guidance_en for s in umum.sections)


def test_template_2023_groups_tiers_and_eligibility() -> None:
    groups = {g.code: g for g in TEMPLATE_2023.groups}
    assert set(groups) == {GroupCode.UMUM, GroupCode.KHUSUS}  # no replikasi in 2023
    umum, khusus = groups[GroupCode.UMUM], groups[GroupCode.KHUSUS]
    assert (umum.nominee_count, umum.finalist_count, umum.winner_count) == (198, 99, 45)
    assert (khusus.nominee_count, khusus.finalist_count, khusus.winner_count) == (30, 15, 5)
    assert umum.winner_title == "Top 45 Inovasi Pelayanan Publik Terpuji"
    assert khusus.winner_title == "Outstanding Achievement of Public Service Innovation"
    assert (umum.min_age_months, umum.quota_per_agency, umum.by_invitation) == (24, 10, False)
    assert (khusus.min_age_months, khusus.quota_per_agency, khusus.by_invitation) == (24, None, True)
    for group in (umum, khusus):
        assert rules.tier_problems(group.nominee_count, group.finalist_count, group.winner_count) == []


def test_template_2023_khusus_sections_are_valid_and_sum_to_100() -> None:
    khusus = next(g for g in TEMPLATE_2023.groups if g.code is GroupCode.KHUSUS)
    keys = [s.key for s in khusus.sections]
    assert set(UMUM_2023) <= set(keys)
    assert {"pembaruan", "penguatan_keberlanjutan", "evaluasi"} <= set(keys)
    assert len(keys) == len(set(keys))
    assert rules.weight_problems([s.weight for s in khusus.sections]) == []
    assert all(rules.weight_problem(s.weight) is None for s in khusus.sections)


def test_template_2023_keys_have_the_key_format() -> None:
    keys = [s.key for g in TEMPLATE_2023.groups for s in g.sections]
    keys += [c.code for c in TEMPLATE_2023.categories] + [d.key for d in TEMPLATE_2023.documents]
    assert [k for k in keys if rules.key_problem(k) is not None] == []


def test_template_2023_has_one_valid_stage_of_every_kind() -> None:
    kinds = [s.kind for s in TEMPLATE_2023.stages]
    assert sorted(kinds, key=list(StageKind).index) == list(StageKind)
    assert all(rules.window_problem(s.opens_at, s.closes_at) is None for s in TEMPLATE_2023.stages)
    assert rules.stage_order_problems(TEMPLATE_2023.stages) == []
    by_kind = {s.kind: s for s in TEMPLATE_2023.stages}
    assert by_kind[StageKind.SUBMISSION].closes_at == dt.datetime(2023, 5, 6, 23, 59)  # extended deadline
    assert by_kind[StageKind.EVALUATION].closes_at.date() == dt.date(2023, 6, 9)  # TE consolidation
    assert by_kind[StageKind.PANEL_REVIEW].closes_at.date() == dt.date(2023, 6, 15)  # TPI plenary
    assert by_kind[StageKind.PRESENTATION].opens_at.date() == dt.date(2023, 6, 26)
    assert by_kind[StageKind.PRESENTATION].closes_at.date() == dt.date(2023, 7, 17)
    assert by_kind[StageKind.ANNOUNCEMENT].opens_at.date() == dt.date(2023, 7, 31)


def test_template_2023_categories_and_documents() -> None:
    assert len(TEMPLATE_2023.categories) == 10
    assert len({c.code for c in TEMPLATE_2023.categories}) == 10
    documents = {d.key: d for d in TEMPLATE_2023.documents}
    assert documents["sk_inovator"].group_codes == () and documents["sk_inovator"].mandatory
    assert documents["surat_undangan"].group_codes == (GroupCode.KHUSUS,)
    assert all(d.mandatory for d in TEMPLATE_2023.documents)
