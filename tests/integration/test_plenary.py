"""The panel plenary: the chair (or the secretariat) records the finalists from the panel's ranking,
with a reason for every departure and the minutes; the rest of the panel reads; nobody else sees it."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.editions.kinds import StageKind, StageStatus
from kipp.innovations.kinds import AwardTier
from kipp.judging.models import PoolMember
from kipp.proposals.states import ProposalStatus
from kipp.scoring import services as scoring
from kipp.scoring.models import ProposalScore, ScoreSheet
from kipp.selection.models import Shortlist, ShortlistKind
from tests.conftest import count_queries
from tests.factories import AdminLokalFactory, EvaluatorFactory, PanelistFactory, UppFactory
from tests.scoring_factories import fill
from tests.selection_factories import set_stages
from tests.shortlist_factories import nominee_scene, panel_scene, settle

pytestmark = pytest.mark.integration


def text(response):
    return html.unescape(response.get_data(as_text=True))


def url(scene, suffix=""):
    return f"/admin/editions/{scene.edition.id}/plenary{suffix}"


def finalists(db_session, scene):
    db_session.expire_all()
    return db_session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition.id,
                                                        Shortlist.kind == ShortlistKind.FINALISTS))


def entries(db_session, scene):
    shortlist = finalists(db_session, scene)
    return {scene.name_of(e.proposal_id): e for e in shortlist.entries}


def row_of(html, proposal):
    match = re.search(r'<tr id="entry-\d+" data-testid="entry" data-proposal="%d".*?</tr>' % proposal.id, html, re.S)
    assert match, f"no row for proposal {proposal.id}"
    return match.group(0)


@pytest.fixture()
def scene(app, db_session):
    return panel_scene(app)


def test_the_chair_records_the_decision_from_the_panels_ranking(client, db_session, scene, login):
    login(scene.chair)
    page = text(client.get(url(scene)))
    assert 'data-testid="chair-name">Ketua Panel<' in page and 'data-testid="build"' in page
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The proposed decision was built" in text(response)
    kept = entries(db_session, scene)
    # Panel totals: K2 90, M1 85, B1 80, K1 70; two finalist places.
    assert sorted(kept) == ["B1", "K1", "K2", "M1"]
    assert [kept[n].rank for n in ("K2", "M1", "B1", "K1")] == [1, 2, 3, 4]
    assert sorted(n for n, e in kept.items() if e.proposed) == ["K2", "M1"]
    assert kept["K2"].components["evaluation"] == "90.00" and str(kept["K2"].score) == "90.00"
    page = text(client.get(url(scene)))
    k2 = row_of(page, scene.proposals["K2"])
    assert 'data-testid="panel-score">90.00<' in k2 and "90.00" in k2
    # Targets: 2 places over the nominees' clusters (kota 2, kabupaten 1, kementerian 1) = kota 1,
    # kabupaten 1 (the larger remainder, ties by name); the proposal has kementerian 1 instead.
    assert re.search(r'data-cluster="kabupaten"><td>Kabupaten</td><td class="text-end">1</td>'
                     r'<td class="text-end">1</td>', page)
    assert 'data-testid="chosen-kementerian">1<' in page
    assert "Below 90% it is marked" in page


def test_departures_from_rank_need_a_reason_and_the_minutes_are_required(client, db_session, scene, login):
    login(scene.chair)
    client.post(url(scene, "/build"))
    kept = entries(db_session, scene)
    response = client.post(url(scene, f"/proposals/{kept['B1'].proposal_id}"), data={"chosen": "1"},
                           follow_redirects=True)
    assert "Give the reason for this departure" in text(response)
    client.post(url(scene, f"/proposals/{kept['B1'].proposal_id}"),
                data={"chosen": "1", "reason": "Komposisi: satu finalis dari daerah 3T."})
    client.post(url(scene, f"/proposals/{kept['M1'].proposal_id}"),
                data={"chosen": "0", "reason": "Digantikan oleh B1 demi komposisi wilayah."})
    response = client.post(url(scene, "/freeze"), follow_redirects=True)
    assert response.status_code == 422 and "Write the minutes (berita acara)" in text(response)
    assert finalists(db_session, scene).frozen_at is None
    client.post(url(scene, "/minutes"), data={"minutes": "Sidang pleno TPI, 15 Juni: disepakati dua finalis."})
    response = client.post(url(scene, "/freeze"), follow_redirects=True)
    assert "The plenary's decision is frozen" in text(response)
    db_session.expire_all()
    assert {n: p.status for n, p in scene.proposals.items() if n in ("K1", "K2", "B1", "M1")} == {
        "K2": ProposalStatus.FINALIST, "B1": ProposalStatus.FINALIST,
        "K1": ProposalStatus.NOT_FINALIST, "M1": ProposalStatus.NOT_FINALIST}
    kept = entries(db_session, scene)
    assert {n: e.tier for n, e in kept.items()} == {"K2": AwardTier.TOP_99, "B1": AwardTier.TOP_99,
                                                   "K1": None, "M1": None}
    assert kept["M1"].reason == "Digantikan oleh B1 demi komposisi wilayah."
    shortlist = finalists(db_session, scene)
    assert shortlist.minutes.startswith("Sidang pleno TPI") and shortlist.frozen_by_id == scene.chair.id
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "shortlist.finalists_frozen"))
    page = text(client.get(url(scene)))
    assert 'data-testid="frozen"' in page and 'data-testid="choice"' not in page


def test_the_decision_needs_the_panel_review_open_and_the_nominees_frozen(app, client, db_session, login):
    scene = nominee_scene(app)
    set_stages(scene.edition, scene.edition.stage(StageKind.EVALUATION).closed_at, open_kind=StageKind.PANEL_REVIEW)
    db_session.commit()
    login(scene.secretariat)
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The nominee list is not frozen yet" in text(response)
    assert finalists(db_session, scene) is None


def test_the_decision_is_refused_outside_the_open_panel_review(client, db_session, scene, login):
    login(scene.secretariat)
    client.post(url(scene, "/build"))
    stage = scene.edition.stage(StageKind.PANEL_REVIEW)
    stage.status = StageStatus.CLOSED
    db_session.commit()
    kept = entries(db_session, scene)
    response = client.post(url(scene, f"/proposals/{kept['K1'].proposal_id}"), data={"chosen": "1", "reason": "x"},
                           follow_redirects=True)
    assert "Not possible now" in text(response)
    response = client.post(url(scene, "/freeze"), data={"minutes": "Berita acara."}, follow_redirects=True)
    assert "Not possible now" in text(response)
    assert finalists(db_session, scene).frozen_at is None


def test_a_stale_panel_ranking_is_refused(client, db_session, scene, login):
    scene.panel.scheme.ranking_stale = True
    db_session.commit()
    login(scene.secretariat)
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The ranking of “Panel review” is out of date" in text(response)
    assert f"/admin/scoring/{scene.edition.id}/panel_review/ranking" in text(client.get(url(scene)))


def test_the_frozen_decision_is_a_snapshot(app, client, db_session, scene, login):
    login(scene.secretariat)
    client.post(url(scene, "/build"))
    client.post(url(scene, "/freeze"), data={"minutes": "Berita acara sidang pleno."})
    before = {n: (str(e.score), e.rank, e.chosen, e.tier) for n, e in entries(db_session, scene).items()}
    member = scene.panel.members[1]
    sheet = db_session.scalar(sa.select(ScoreSheet).where(ScoreSheet.scheme_id == scene.panel.scheme.id,
                                                          ScoreSheet.proposal_id == scene.proposals["K1"].id,
                                                          ScoreSheet.member_id == member.id))
    scoring.reopen(scene.secretariat, sheet, "Dinilai ulang setelah klarifikasi.")
    db_session.commit()
    fill(scene.panel, member, scene.proposals["K1"], 100)
    settle(app)
    score = db_session.scalar(sa.select(ProposalScore).where(ProposalScore.scheme_id == scene.panel.scheme.id,
                                                             ProposalScore.proposal_id == scene.proposals["K1"].id))
    assert str(score.raw_total) == "85.00"
    assert {n: (str(e.score), e.rank, e.chosen, e.tier) for n, e in entries(db_session, scene).items()} == before


def test_the_panel_reads_the_page_but_only_the_chair_records(client, db_session, scene, login):
    login(scene.secretariat)
    client.post(url(scene, "/build"))
    login.logout()
    login(scene.panelist)
    page = client.get(url(scene))
    assert page.status_code == 200
    assert 'data-testid="read-only"' in text(page) and 'data-testid="choice"' not in text(page)
    kept = entries(db_session, scene)
    assert client.post(url(scene, "/build")).status_code == 404
    choice = url(scene, f"/proposals/{kept['K1'].proposal_id}")
    assert client.post(choice, data={"chosen": "1", "reason": "x"}).status_code == 404
    assert client.post(url(scene, "/minutes"), data={"minutes": "x"}).status_code == 404
    assert client.post(url(scene, "/freeze"), data={"minutes": "x"}).status_code == 404
    assert client.post(url(scene, "/chair"), data={"member_id": 0}).status_code == 404
    assert entries(db_session, scene)["K1"].chosen is False
    outsiders = [PanelistFactory(), EvaluatorFactory(), UppFactory(), AdminLokalFactory()]
    for user in outsiders:
        login.logout()
        login(user)
        assert client.get(url(scene)).status_code == 404, user.role
        assert client.post(url(scene, "/build")).status_code == 404, user.role


def test_the_secretariat_names_the_chair(client, db_session, scene, login):
    login(scene.secretariat)
    member = db_session.scalar(sa.select(PoolMember).where(PoolMember.user_id == scene.panelist.id,
                                                           PoolMember.stage == StageKind.PANEL_REVIEW))
    response = client.post(url(scene, "/chair"), data={"member_id": member.id}, follow_redirects=True)
    assert "Anggota Panel chairs the panel's plenary" in text(response)
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "plenary.chair_set"))
    login.logout()
    login(scene.chair)  # no longer the chair: reads only
    assert client.post(url(scene, "/build")).status_code == 404
    login.logout()
    login(scene.panelist)
    assert client.post(url(scene, "/build")).status_code == 302
    assert finalists(db_session, scene) is not None


def test_the_page_runs_a_fixed_number_of_queries(client, db_session, scene, login):
    login(scene.secretariat)
    client.post(url(scene, "/build"))
    target = url(scene)
    response, statements = count_queries(client, db_session, target)
    assert text(response).count('data-testid="entry"') == 4
    # Per proposal nothing: the rows, the summary and the names come in a fixed number of queries.
    assert len(statements) <= 20, statements
