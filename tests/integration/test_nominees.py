"""The nominee list: settings, building from the evaluation ranking, adjusting, freezing, through
the secretariat's page."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.editions.kinds import GroupCode, PlacesMode, StageKind
from kipp.proposals.states import ProposalStatus
from kipp.scoring import services as scoring
from kipp.scoring.models import ScoreSheet
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from tests.conftest import count_queries
from tests.factories import EvaluatorFactory, PanelistFactory, SecretariatFactory
from tests.scoring_factories import fill
from tests.selection_factories import set_stages
from tests.shortlist_factories import nominee_scene, settle

pytestmark = pytest.mark.integration


def text(response):
    return html.unescape(response.get_data(as_text=True))


def url(scene, suffix=""):
    return f"/admin/editions/{scene.edition.id}/nominees{suffix}"


def settings_data(scene, *, count=4, mode="manual", places=None, min_3t=0):
    group = scene.edition.group(GroupCode.UMUM)
    places = places or {}
    data = {f"g{group.id}-nominee_count": count, f"g{group.id}-places_mode": mode, f"g{group.id}-min_3t": min_3t}
    for cluster in ("kementerian", "lembaga", "provinsi", "kabupaten", "kota", "bumn_bumd"):
        data[f"g{group.id}-places_{cluster}"] = places.get(cluster, 0)
    return data


def post_settings(client, scene, **kwargs):
    group = scene.edition.group(GroupCode.UMUM)
    return client.post(url(scene, f"/settings/{group.id}"), data=settings_data(scene, **kwargs))


def entries(db_session, scene):
    db_session.expire_all()
    shortlist = db_session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition.id,
                                                             Shortlist.kind == ShortlistKind.NOMINEES))
    return {scene.name_of(e.proposal_id): e for e in shortlist.entries if e.proposal_id in
            {p.id for p in scene.proposals.values()}}


def chosen_names(db_session, scene):
    return sorted(name for name, e in entries(db_session, scene).items() if e.chosen)


def row_of(html, proposal):
    match = re.search(r'<tr id="entry-\d+" data-testid="entry" data-proposal="%d".*?</tr>' % proposal.id, html, re.S)
    assert match, f"no row for proposal {proposal.id}"
    return match.group(0)


@pytest.fixture()
def scene(app, db_session, login):
    scene = nominee_scene(app)
    login(scene.secretariat)
    return scene


def test_without_places_the_list_is_the_top_of_the_ranking(client, db_session, scene):
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The proposed nominee list was built" in text(response)
    assert chosen_names(db_session, scene) == ["B1", "K1", "K2", "K3"]
    page = text(client.get(url(scene)))
    assert 'data-testid="no-cost"' in page
    # Every ranked candidate is kept, chosen or not, with the score it had.
    kept = entries(db_session, scene)
    assert sorted(kept) == ["B1", "K1", "K2", "K3", "K4", "M1"]
    assert [kept[n].rank for n in ("K1", "K2", "K3", "B1", "K4", "M1")] == [1, 2, 3, 4, 5, 6]
    assert str(kept["K2"].score) == "90.00" and kept["M1"].proposed is False


def test_cluster_places_choose_a_different_list_and_show_who_displaced_whom(client, db_session, scene):
    response = post_settings(client, scene, places={"kota": 2, "kabupaten": 1, "kementerian": 1})
    assert response.status_code == 302
    client.post(url(scene, "/build"))
    # The plain top (K1 K2 K3 B1) would leave the kementerian place empty: M1 takes it from K3.
    assert chosen_names(db_session, scene) == ["B1", "K1", "K2", "M1"]
    kept = entries(db_session, scene)
    assert kept["M1"].entered_by == "cluster:kementerian"
    assert kept["M1"].displaced_proposal_id == scene.proposals["K3"].id
    page = text(client.get(url(scene)))
    m1 = row_of(page, scene.proposals["M1"])
    assert "entered by a place of Kementerian" in m1 and scene.proposals["K3"].number in m1
    k3 = row_of(page, scene.proposals["K3"])
    assert "displaced by" in k3 and scene.proposals["M1"].number in k3
    assert 'data-testid="cost-cluster:kementerian">28.00<' in page  # 88 - 60
    assert 'data-testid="chosen-kementerian">1<' in page and 'data-testid="chosen-kota">2<' in page


def test_a_3t_minimum_takes_the_best_3t_proposal_in(client, db_session, scene):
    post_settings(client, scene, count=4, mode="none", min_3t=1)
    client.post(url(scene, "/build"))
    assert chosen_names(db_session, scene) == ["B1", "K1", "K2", "K3"]  # B1 is 3T and in anyway: nothing lost
    post_settings(client, scene, count=3, mode="none", min_3t=1)
    client.post(url(scene, "/build"))
    # The plain top 3 is K1 K2 K3; the 3T minimum takes B1 in place of K3.
    assert chosen_names(db_session, scene) == ["B1", "K1", "K2"]
    assert entries(db_session, scene)["B1"].entered_by == "3t"


def test_proportional_places_follow_the_proposals_that_passed(client, db_session, scene):
    post_settings(client, scene, count=3, mode="proportional")
    client.post(url(scene, "/build"))
    # 4 kota, 1 kabupaten, 1 kementerian passed: 3 places by largest remainder = kota 2, and one more
    # for the larger remainder of kabupaten/kementerian (0.5 each: by name, kabupaten).
    db_session.expire_all()
    shortlist = db_session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition.id))
    assert shortlist.report["umum"]["places"]["kota"] == 2 and shortlist.report["umum"]["places"]["kabupaten"] == 1
    assert chosen_names(db_session, scene) == ["B1", "K1", "K2"]


def test_unstable_places_at_the_cut_are_flagged(client, db_session, scene):
    post_settings(client, scene, places={"kota": 2, "kabupaten": 1, "kementerian": 1})
    client.post(url(scene, "/build"))
    kept = entries(db_session, scene)
    # K2's judges gave 75, 95, 100: in about a quarter of the resamples it falls below K3 (88, 88, 88).
    assert 0.6 < float(kept["K2"].stability) < 0.9 and 0.1 < float(kept["K3"].stability) < 0.4
    assert float(kept["K1"].stability) == 1.0 and float(kept["K4"].stability) == 0.0
    page = text(client.get(url(scene)))
    assert 'data-testid="unstable"' in row_of(page, scene.proposals["K2"])
    assert 'data-testid="unstable"' in row_of(page, scene.proposals["K3"])
    assert 'data-testid="unstable"' not in row_of(page, scene.proposals["K1"])
    assert "Below 90% it is marked" in page
    only = text(client.get(url(scene, "?show=unstable")))
    assert only.count('data-testid="entry"') == 2


def test_settings_are_checked(client, db_session, scene):
    response = post_settings(client, scene, count=4, places={"kota": 2, "kabupaten": 1})
    assert response.status_code == 422
    assert "add up to 3; they must add up to the number of nominees (4)" in text(response)
    response = post_settings(client, scene, count=1, mode="none")
    assert response.status_code == 422 and "needs at least 2 nominees" in text(response)
    response = post_settings(client, scene, count=4, mode="none", min_3t=5)
    assert response.status_code == 422 and "The 3T minimum must be between 0 and" in text(response)
    db_session.expire_all()
    group = scene.edition.group(GroupCode.UMUM)
    assert (group.nominee_count, group.places_mode, group.min_3t) == (4, PlacesMode.NONE, 0)
    assert post_settings(client, scene, count=4, places={"kota": 3, "kementerian": 1}).status_code == 302
    db_session.expire_all()
    assert group.cluster_places["kota"] == 3 and group.places_mode is PlacesMode.MANUAL
    audit = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "selection.nominee_settings"))
    assert audit.after["cluster_places"]["kota"] == 3


def test_impossible_rules_are_explained(client, db_session, scene):
    post_settings(client, scene, count=2, places={"kota": 2}, min_3t=1)
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "No nominee list of “Kelompok Umum” keeps all its rules at once" in text(response)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ShortlistEntry)) == 0


def test_building_needs_the_evaluation_closed_and_the_panel_not_started(client, db_session, scene):
    set_stages(scene.edition, scene.edition.stage(StageKind.EVALUATION).opened_at, open_kind=StageKind.EVALUATION)
    db_session.commit()
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "Not possible now" in text(response) and "is open" in text(response)
    assert 'data-testid="stage-problems"' in text(client.get(url(scene)))
    set_stages(scene.edition, scene.edition.stage(StageKind.EVALUATION).opened_at, open_kind=StageKind.PANEL_REVIEW)
    db_session.commit()
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "Not possible now" in text(response)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Shortlist)) == 0


def test_a_stale_ranking_is_refused_with_a_link_to_recompute_it(app, client, db_session, scene):
    scheme = scene.evaluation.scheme
    scheme.ranking_stale = True
    db_session.commit()
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The ranking of “Evaluation” is out of date" in text(response)
    page = text(client.get(url(scene)))
    assert 'data-testid="stale"' in page
    assert f'/admin/scoring/{scene.edition.id}/evaluation/ranking' in page
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Shortlist)) == 0


def test_departures_need_a_reason_and_freezing_moves_the_proposals(client, db_session, scene):
    post_settings(client, scene, places={"kota": 2, "kabupaten": 1, "kementerian": 1})
    client.post(url(scene, "/build"))
    kept = entries(db_session, scene)
    k3, m1 = kept["K3"], kept["M1"]
    response = client.post(url(scene, f"/proposals/{k3.proposal_id}"), data={"chosen": "1", "reason": "  "},
                           follow_redirects=True)
    assert "Give the reason for this departure" in text(response)
    assert entries(db_session, scene)["K3"].chosen is False
    client.post(url(scene, f"/proposals/{k3.proposal_id}"),
                data={"chosen": "1", "reason": "Replikasi luas di 12 daerah."})
    client.post(url(scene, f"/proposals/{m1.proposal_id}"),
                data={"chosen": "0", "reason": "Tempat kementerian tidak diisi."})
    kept = entries(db_session, scene)
    assert kept["K3"].chosen and kept["K3"].reason == "Replikasi luas di 12 daerah."
    assert not kept["M1"].chosen and kept["M1"].reason == "Tempat kementerian tidak diisi."
    page = text(client.get(url(scene)))
    assert 'data-testid="count-departures">2<' in page
    # Back to what the rules proposed needs no reason, and clears it.
    client.post(url(scene, f"/proposals/{m1.proposal_id}"), data={"chosen": "1"})
    assert entries(db_session, scene)["M1"].reason is None and entries(db_session, scene)["M1"].chosen
    response = client.post(url(scene, "/freeze"), follow_redirects=True)
    assert "The nominee list is frozen" in text(response)
    db_session.expire_all()
    statuses = {name: p.status for name, p in scene.proposals.items()}
    assert statuses == {"K1": ProposalStatus.NOMINATED, "K2": ProposalStatus.NOMINATED,
                        "K3": ProposalStatus.NOMINATED, "B1": ProposalStatus.NOMINATED,
                        "M1": ProposalStatus.NOMINATED, "K4": ProposalStatus.NOT_NOMINATED}
    assert 'data-testid="frozen"' in text(client.get(url(scene)))
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "shortlist.nominees_frozen"))
    # Frozen: no more changes, no rebuild.
    response = client.post(url(scene, f"/proposals/{k3.proposal_id}"), data={"chosen": "0"}, follow_redirects=True)
    assert "a frozen list does not change" in text(response)
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "Not possible now" in text(response) or "frozen" in text(response)


def test_freezing_refuses_a_draft_built_before_the_settings_or_the_ranking_changed(app, client, db_session, scene):
    client.post(url(scene, "/build"))
    post_settings(client, scene, count=3, mode="none")
    response = client.post(url(scene, "/freeze"), follow_redirects=True)
    assert "changed after the list was built" in text(response)
    client.post(url(scene, "/build"))
    sheet = db_session.scalar(sa.select(ScoreSheet).where(ScoreSheet.scheme_id == scene.evaluation.scheme.id,
                                                          ScoreSheet.proposal_id == scene.proposals["K4"].id))
    scoring.reopen(scene.secretariat, sheet, "Salah ketik.")
    db_session.commit()
    fill(scene.evaluation, sheet.member, scene.proposals["K4"], 99)
    settle(app)
    response = client.post(url(scene, "/freeze"), follow_redirects=True)
    assert "out of date" in text(response) or "The ranking changed after this list was built" in text(response)
    assert all(p.status is ProposalStatus.ADMIN_PASSED for p in scene.proposals.values())


def test_a_frozen_list_is_a_snapshot(app, client, db_session, scene):
    post_settings(client, scene, places={"kota": 2, "kabupaten": 1, "kementerian": 1})
    client.post(url(scene, "/build"))
    client.post(url(scene, "/freeze"))
    before = {name: (str(e.score), e.rank, e.chosen, e.proposed, e.stability) for name, e in
              entries(db_session, scene).items()}
    # K4 is rescored far above everyone after the freeze, and the ranking recomputed.
    for member in scene.evaluation.members:
        sheet = db_session.scalar(sa.select(ScoreSheet).where(
            ScoreSheet.scheme_id == scene.evaluation.scheme.id, ScoreSheet.proposal_id == scene.proposals["K4"].id,
            ScoreSheet.member_id == member.id))
        scoring.reopen(scene.secretariat, sheet, "Dinilai ulang.")
        db_session.commit()
        fill(scene.evaluation, member, scene.proposals["K4"], 99)
    settle(app)
    db_session.expire_all()
    assert scene.evaluation.scheme.ranking_stale is False
    from kipp.scoring.models import ProposalScore
    k4 = db_session.scalar(sa.select(ProposalScore).where(ProposalScore.scheme_id == scene.evaluation.scheme.id,
                                                          ProposalScore.proposal_id == scene.proposals["K4"].id))
    assert k4.rank == 1 and str(k4.raw_total) == "99.00"
    after = {name: (str(e.score), e.rank, e.chosen, e.proposed, e.stability) for name, e in
             entries(db_session, scene).items()}
    assert after == before
    assert scene.proposals["K4"].status is ProposalStatus.NOT_NOMINATED


def test_only_the_secretariat_opens_the_page(client, db_session, scene, login):
    client.post(url(scene, "/build"))
    for user in (EvaluatorFactory(), PanelistFactory()):
        login.logout()
        login(user)
        assert client.get(url(scene)).status_code == 404
        assert client.post(url(scene, "/build")).status_code == 404
    login.logout()
    assert client.get(url(scene)).status_code == 302  # to the login form


def test_the_page_runs_the_same_queries_for_many_proposals(app, client, db_session, login):
    small = nominee_scene(app, year=2024)
    large = nominee_scene(app, year=2025, extra=14, nominee_count=10)
    secretariat = SecretariatFactory()
    for scene in (small, large):
        scene.edition.group(GroupCode.UMUM).places_mode = PlacesMode.PROPORTIONAL
        from kipp.selection import services

        services.build_nominees(secretariat, scene.edition)
    db_session.commit()
    small_url, large_url = url(small), url(large)
    login(secretariat)
    response, few = count_queries(client, db_session, small_url)
    assert text(response).count('data-testid="entry"') == 6
    response, many = count_queries(client, db_session, large_url)
    assert text(response).count('data-testid="entry"') == 20
    assert len(many) == len(few), (len(few), len(many))


def test_a_choice_needs_a_list_and_a_proposal_on_it(client, db_session, scene):
    k1 = scene.proposals["K1"]
    response = client.post(url(scene, f"/proposals/{k1.id}"), data={"chosen": "0", "reason": "x"},
                           follow_redirects=True)
    assert "There is no list yet: build the proposed list first." in text(response)
    client.post(url(scene, "/build"))
    stranger = scene.extra[0].id if scene.extra else 999_999
    assert client.post(url(scene, f"/proposals/{stranger}"), data={"chosen": "1", "reason": "x"}).status_code == 404
    assert client.post(url(scene, f"/proposals/{k1.id}"), data={"chosen": "maybe"}).status_code == 400
