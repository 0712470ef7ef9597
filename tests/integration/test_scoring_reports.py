"""The secretariat's charts and Excel exports of a scored stage, through the web client.

The stage: 4 proposals, 4 judges, 3 judges a proposal, every aspect of a sheet given the same
score so a sheet's weighted total is that score. Assignments (ASSIGNED):
P0: J0 J1 J2 · P1: J1 J2 J3 · P2: J2 J3 J0 · P3: J3 J0 J1 (12 sheets expected)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kipp.judging.models import Assignment, AssignmentState
from kipp.scoring.aggregation import queue_recompute, recompute_stage
from kipp.scoring.models import ProposalScore, ScoreSheet, SheetStatus
from kipp.scoring.services import update_settings
from tests.conftest import count_queries
from tests.factories import AdminLokalFactory, EvaluatorFactory, SecretariatFactory, UppFactory
from tests.scoring_factories import aspect_keys, fill, scored_stage

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
ASSIGNED = {0: (0, 1, 2), 1: (1, 2, 3), 2: (2, 3, 0), 3: (3, 0, 1)}  # proposal -> judges
# (judge, proposal) -> total; J3's sheet of P1 stays a draft.
SCORES = {
    (0, 0): 60, (0, 2): 70, (0, 3): 65,
    (1, 0): 80, (1, 1): 85, (1, 3): 90,
    (2, 0): 75, (2, 1): 80, (2, 2): 78,
    (3, 2): 72, (3, 3): 74,
}
DRAFT = (3, 1, 50)
# Submission times in UTC; WIB is UTC+7, so 17:30 UTC is already the next day in Jakarta.
SUBMITTED_AT = {
    (0, 0): dt.datetime(2032, 5, 10, 2, 0, tzinfo=UTC),
    (1, 0): dt.datetime(2032, 5, 10, 9, 0, tzinfo=UTC),
    (2, 0): dt.datetime(2032, 5, 10, 16, 30, tzinfo=UTC),   # 23:30 WIB, 10 May
    (0, 2): dt.datetime(2032, 5, 10, 17, 30, tzinfo=UTC),   # 00:30 WIB, 11 May
    (0, 3): dt.datetime(2032, 5, 11, 1, 0, tzinfo=UTC),
    (1, 1): dt.datetime(2032, 5, 11, 3, 0, tzinfo=UTC),
    (1, 3): dt.datetime(2032, 5, 11, 4, 0, tzinfo=UTC),
    (2, 1): dt.datetime(2032, 5, 11, 5, 0, tzinfo=UTC),
    (2, 2): dt.datetime(2032, 5, 13, 1, 0, tzinfo=UTC),
    (3, 2): dt.datetime(2032, 5, 13, 2, 0, tzinfo=UTC),
    (3, 3): dt.datetime(2032, 5, 13, 3, 0, tzinfo=UTC),
}
DEADLINE = dt.datetime(2032, 5, 15, 16, 59, tzinfo=UTC)  # 23:59 WIB


@pytest.fixture()
def stage(db_session):
    # The assignments are laid out here, not left to the factory: the hand computations depend on them.
    stage = scored_stage(proposals=4, judges=4, per_proposal=0)
    for p, judges in ASSIGNED.items():
        for j in judges:
            db_session.add(Assignment(edition_id=stage.edition.id, stage=stage.scheme.stage,
                                      proposal_id=stage.proposals[p].id, member_id=stage.members[j].id,
                                      state=AssignmentState.PUBLISHED, source="test"))
    for index, member in enumerate(stage.members):
        member.user.name = f"Juri {index}"
        member.user.affiliation = f"Universitas {index}"
    db_session.commit()
    for (j, p), score in SCORES.items():
        fill(stage, stage.members[j], stage.proposals[p], score, comment=f"Catatan J{j} P{p}")
    j, p, score = DRAFT
    fill(stage, stage.members[j], stage.proposals[p], score, submit=False, comment="Belum selesai")
    for (j, p), at in SUBMITTED_AT.items():
        sheet = db_session.scalar(sa.select(ScoreSheet).where(
            ScoreSheet.proposal_id == stage.proposals[p].id, ScoreSheet.member_id == stage.members[j].id))
        sheet.submitted_at = at
    # A sheet discarded after a declared conflict is in no chart and no export.
    db_session.add(ScoreSheet(scheme_id=stage.scheme.id, proposal_id=stage.proposals[1].id,
                              member_id=stage.members[0].id, status=SheetStatus.DISCARDED,
                              scores={k: {"value": "99", "comment": "konflik"}
                                      for k in aspect_keys(stage.scheme, stage.proposals[1])}))
    update_settings(None, stage.scheme, deadline=DEADLINE, normalise=True, normalise_min_sheets=2,
                    passing_grade=Decimal("75"))
    db_session.commit()
    run = queue_recompute(stage.scheme)
    db_session.commit()
    recompute_stage(0, run_id=run.id)
    db_session.commit()
    return stage


def _url(stage, what):
    return f"/admin/scoring/{stage.edition.id}/{stage.scheme.stage.value}/{what}"


def _cells(html, attribute, value):
    """The data-col cells of the table row marked ``attribute="value"``."""
    match = re.search(rf'<tr {attribute}="{re.escape(str(value))}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return {col: text.strip() for col, text in re.findall(r'data-col="([^"]+)">(.*?)</td>', match.group(1), re.S)}


def _table(html, testid):
    match = re.search(rf'<table[^>]*data-testid="{testid}">(.*?)</table>', html, re.S)
    assert match, testid
    return match.group(1)


# --- the charts page --------------------------------------------------------------------------------


def test_judges_with_their_count_median_and_flags(client, login, stage):
    login(SecretariatFactory(locale="en"))
    response = client.get(_url(stage, "charts"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    judges = _table(html, "table-judges")
    members = stage.members
    # J0: 60 65 70; J1: 80 85 90; J2: 75 78 80; J3: 72 74 (its draft does not count).
    j0 = _cells(judges, "data-member", members[0].id)
    assert {k: v for k, v in j0.items() if k != "flag"} == {
        "n": "3", "expected": "3", "min": "60.00", "q1": "62.50", "median": "65.00", "q3": "67.50",
        "max": "70.00", "mean": "65.00"}
    assert _cells(judges, "data-member", members[1].id)["median"] == "85.00"
    assert _cells(judges, "data-member", members[1].id)["q1"] == "82.50"
    assert _cells(judges, "data-member", members[2].id)["median"] == "78.00"
    j3 = _cells(judges, "data-member", members[3].id)
    assert (j3["n"], j3["expected"], j3["median"], j3["mean"]) == ("2", "3", "73.00", "73.00")
    # Every submitted total: 60 65 70 72 74 75 78 80 80 85 90; the sixth of eleven is 75.
    assert re.search(r'data-testid="overall-median">75.00<', judges)
    # Judges' medians 65 85 78 73: SD 7.29; J0 (10 below 75) is harsh, J1 (10 above) lenient.
    assert "harsh" in _cells(judges, "data-member", members[0].id)["flag"]
    assert "lenient" in _cells(judges, "data-member", members[1].id)["flag"]
    assert _cells(judges, "data-member", members[2].id)["flag"] == ""
    assert _cells(judges, "data-member", members[3].id)["flag"] == ""
    # Sorted by median, harshest first: J0 (65), J3 (73), J2 (78), J1 (85).
    order = [int(m) for m in re.findall(r'<tr data-member="(\d+)">', judges)]
    assert order == [members[0].id, members[3].id, members[2].id, members[1].id]
    # The chart itself: one box per judge, named for screen readers.
    chart = html.split('data-testid="chart-judges"', 1)[1].split("</figure>", 1)[0]
    assert '<title id="judges-title">Score distribution per judge</title>' in chart
    assert chart.count("<g data-member=") == 4
    assert "Juri 0 (n=3) ▼" in chart and "Juri 1 (n=3) ▲" in chart
    assert "overall median 75.00" in chart
    # The stage's tabs, with the two exports.
    assert _url(stage, "sheets.xlsx") in html and _url(stage, "ranking.xlsx") in html


def test_cluster_and_category_means(client, login, stage):
    login(SecretariatFactory(locale="en"))
    html = client.get(_url(stage, "charts")).get_data(as_text=True)
    # Raw totals: P0 (60 80 75) 71.67, P1 (85 80) 82.50, P2 (70 78 72) 73.33, P3 (65 90 74) 76.33.
    # Kota: P0 and P2; Kabupaten: P1 and P3.
    clusters = _table(html, "table-clusters")
    assert _cells(clusters, "data-row", "kota") == {"n": "2", "mean": "72.50"}
    assert _cells(clusters, "data-row", "kabupaten") == {"n": "2", "mean": "79.42"}  # 158.83 / 2
    assert _cells(clusters, "data-row", "kementerian") == {"n": "0", "mean": "–"}
    categories = _table(html, "table-categories")
    first, second, third = (stage.proposals[i].category_id for i in range(3))
    assert _cells(categories, "data-row", first) == {"n": "2", "mean": "74.00"}  # P0 and P3
    assert _cells(categories, "data-row", second) == {"n": "1", "mean": "82.50"}
    assert _cells(categories, "data-row", third) == {"n": "1", "mean": "73.33"}
    assert 'aria-labelledby="clusters-title clusters-desc"' in html


def test_cumulative_completion_per_wib_day_with_deadline(client, login, stage):
    login(SecretariatFactory(locale="en"))
    html = client.get(_url(stage, "charts")).get_data(as_text=True)
    table = _table(html, "table-completion")
    assert _cells(table, "data-day", "2032-05-10") == {"submitted": "3", "cumulative": "3"}
    assert _cells(table, "data-day", "2032-05-11") == {"submitted": "5", "cumulative": "8"}
    assert _cells(table, "data-day", "2032-05-13") == {"submitted": "3", "cumulative": "11"}
    assert "2032-05-12" not in table
    assert re.search(r'data-testid="expected">12<', table)
    assert "15-05-2032 23:59 WIB" in table
    chart = html.split('data-testid="chart-completion"', 1)[1].split("</figure>", 1)[0]
    assert "<polyline" in chart and "expected: 12" in chart and "deadline 15-05-2032 23:59 WIB" in chart
    assert "11 of 12 expected sheets submitted." in html


def test_charts_page_has_no_inline_script_or_style(client, login, stage):
    login(SecretariatFactory(locale="en"))
    response = client.get(_url(stage, "charts"))
    html = response.get_data(as_text=True)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_charts_of_a_stage_without_sheets(client, login, db_session):
    stage = scored_stage(proposals=2, judges=2, per_proposal=1, year=2033)
    login(SecretariatFactory(locale="en"))
    html = client.get(_url(stage, "charts")).get_data(as_text=True)
    assert "No sheet submitted yet." in html
    assert re.search(r'data-testid="expected">2<', html)


# --- the exports ------------------------------------------------------------------------------------


def _workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def _rows(sheet):
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def test_sheets_export_has_one_row_per_sheet_with_each_aspect(client, login, stage):
    login(SecretariatFactory(locale="en"))
    response = client.get(_url(stage, "sheets.xlsx"))
    assert response.headers["Content-Disposition"] == "attachment; filename=kipp-2032-evaluation-sheets.xlsx"
    workbook = _workbook(response)
    group = stage.proposals[0].group
    assert group.name_en in workbook.sheetnames
    header, rows = _rows(workbook[group.name_en])
    assert header[:11] == ["Number", "Title", "Agency", "Cluster", "Province", "Group", "Category", "Judge",
                           "Affiliation", "Status", "Submitted (WIB)"]
    assert header[-2:] == ["Weighted total", "General comment"]
    aspects = stage.scheme.aspects_of(group.code)
    assert len(header) == 11 + 2 * len(aspects) + 2
    first = aspects[0]
    assert header[11] == f"Score: {first.title_en} ({first.weight.normalize():f}%)"
    assert header[12] == f"Comment: {first.title_en}"
    # 11 submitted sheets and 1 draft; the discarded sheet is left out.
    assert len(rows) == 12
    by_pair = {(row[0], row[7]): row for row in rows}
    assert len(by_pair) == 12
    for (j, p), score in SCORES.items():
        row = by_pair[(stage.proposals[p].number, f"Juri {j}")]
        assert row[9] == "submitted"
        assert row[10] == SUBMITTED_AT[(j, p)].astimezone(dt.timezone(dt.timedelta(hours=7))).replace(tzinfo=None)
        for index in range(len(aspects)):
            assert row[11 + 2 * index] == score
            assert row[12 + 2 * index] == f"Catatan J{j} P{p}"
        assert row[-2] == score
    draft = by_pair[(stage.proposals[1].number, "Juri 3")]
    assert (draft[9], draft[10], draft[11], draft[12]) == ("draft", None, 50, "Belum selesai")
    kota = by_pair[(stage.proposals[0].number, "Juri 0")]
    assert kota[1] == stage.proposals[0].title and kota[3] == "Kota" and kota[4] == "Jawa Timur"
    assert kota[8] == "Universitas 0" and kota[6] == stage.proposals[0].category.name_en


def test_ranking_export_shows_raw_and_normalised_totals_and_how(client, login, stage, db_session):
    login(SecretariatFactory(locale="en"))
    response = client.get(_url(stage, "ranking.xlsx"))
    assert response.headers["Content-Disposition"] == "attachment; filename=kipp-2032-evaluation-ranking.xlsx"
    workbook = _workbook(response)
    assert workbook.sheetnames[0] == "About"
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Ranked by"] == "normalised total"
    assert about["Ranking up to date"] == "Yes"
    assert about["Ranked at"].endswith(" WIB")
    assert about["Normalisation"].startswith("z-score per judge")
    assert about["Fewest sheets of a judge to normalise"] == "2"
    assert about["Passing grade"] == "75"
    assert about["Tie-break (in order)"].endswith("(signifikansi)")

    header, rows = _rows(workbook[stage.proposals[0].group.name_en])
    raw, normalised = header.index("Raw total"), header.index("Normalised total")
    assert normalised == raw + 1
    assert header[:8] == ["Rank", "Number", "Title", "Agency", "Cluster", "Province", "Category", "Sheets"]
    assert "≥ passing grade (75)" in header
    assert header[-1].startswith("Tie-break: ")
    assert len(rows) == 4
    scores = {s.proposal.number: s for s in db_session.scalars(
        sa.select(ProposalScore).where(ProposalScore.scheme_id == stage.scheme.id))}
    expected_raw = {0: Decimal("71.67"), 1: Decimal("82.50"), 2: Decimal("73.33"), 3: Decimal("76.33")}
    for row in rows:
        stored = scores[row[1]]
        assert row[0] == stored.rank
        assert row[7] == stored.sheets
        assert Decimal(str(row[raw])) == stored.raw_total
        assert row[normalised] is not None and Decimal(str(row[normalised])) == stored.normalised_total
        passing = row[header.index("≥ passing grade (75)")]
        assert passing == ("Yes" if stored.normalised_total >= 75 else "No")
        assert Decimal(str(row[-1])) == Decimal(stored.aspect_means["signifikansi"])
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    by_number = {row[1]: row for row in rows}
    for index, total in expected_raw.items():
        assert Decimal(str(by_number[stage.proposals[index].number][raw])) == total
    assert by_number[stage.proposals[1].number][7] == 2


def test_ranking_export_says_when_the_ranking_is_stale(client, login, stage, db_session):
    # Logging in first: the end of a request delivers the queued aggregation tasks in-process.
    login(SecretariatFactory(locale="en"))
    stage.scheme.ranking_stale = True
    db_session.commit()
    workbook = _workbook(client.get(_url(stage, "ranking.xlsx")))
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Ranking up to date"] == "No"
    assert any("recompute" in (row[0] or "") for row in workbook["About"].iter_rows(values_only=True) if row)


# --- who may see them -------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["charts", "sheets.xlsx", "ranking.xlsx"])
def test_only_the_secretariat(client, login, stage, what):
    for user in (EvaluatorFactory(locale="en"), AdminLokalFactory(locale="en"), UppFactory(locale="en"),
                 stage.members[0].user):
        login(user)
        assert client.get(_url(stage, what)).status_code == 404
        login.logout()
    assert client.get(_url(stage, what)).status_code == 302  # to the login form


@pytest.mark.parametrize("what", ["charts", "sheets.xlsx", "ranking.xlsx"])
def test_unknown_stage_edition_or_scheme_is_404(client, login, stage, what):
    login(SecretariatFactory(locale="en"))
    edition = stage.edition.id
    assert client.get(f"/admin/scoring/{edition}/screening/{what}").status_code == 404
    assert client.get(f"/admin/scoring/{edition}/nothing/{what}").status_code == 404
    assert client.get(f"/admin/scoring/{edition + 999}/evaluation/{what}").status_code == 404
    assert client.get(f"/admin/scoring/{edition}/panel_review/{what}").status_code == 404  # no scheme


# --- cost -------------------------------------------------------------------------------------------


def _filled_stage(db_session, *, year, proposals, judges, per_proposal):
    stage = scored_stage(proposals=proposals, judges=judges, per_proposal=per_proposal, year=year)
    for n, proposal in enumerate(stage.proposals):
        for member in stage.judges_of(proposal):
            fill(stage, member, proposal, 60 + (n * 7) % 40)
    run = queue_recompute(stage.scheme)
    db_session.commit()
    recompute_stage(0, run_id=run.id)
    db_session.commit()
    return stage


def _statements(client, db_session, url):
    return count_queries(client, db_session, url)[1]


@pytest.mark.parametrize("what", ["charts", "sheets.xlsx", "ranking.xlsx"])
def test_queries_do_not_grow_with_the_sheets(client, login, db_session, what):
    small = _filled_stage(db_session, year=2034, proposals=2, judges=2, per_proposal=2)
    large = _filled_stage(db_session, year=2035, proposals=9, judges=5, per_proposal=3)
    small_url, large_url = _url(small, what), _url(large, what)
    login(SecretariatFactory(locale="en"))  # its end also runs the queued aggregation tasks
    client.get(small_url)
    few = _statements(client, db_session, small_url)
    many = _statements(client, db_session, large_url)
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 20
