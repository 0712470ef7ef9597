"""The final result: the stage scores combined by the edition's weights, the panel's consensus
adjustments, the decree, and the award history it writes (which next year's eligibility reads)."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, StageKind, StageStatus
from kipp.innovations.kinds import AwardTier
from kipp.innovations.models import Award, Innovation
from kipp.proposals import eligibility
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistKind
from kipp.verification.models import FieldVisit
from tests.factories import EvaluatorFactory, PanelistFactory
from tests.proposal_factories import ProposalFactory
from tests.selection_factories import confirm_finalists, finalists_edition
from tests.shortlist_factories import ranked_scheme

pytestmark = pytest.mark.integration

FINALIST_DECREE = "B/120/PP.00.05/2025"
FINAL_DECREE = "KEP/245/M.PAN-RB/2025"
# name -> (evaluation, panel, presentation); None: no score (did not present).
PLAN = {
    "U1": (80, 90, 70),  # 0.3 x 80 + 0.2 x 90 + 0.5 x 70 = 77.00
    "U2": (90, 60, 70),  # 27 + 12 + 35 = 74.00
    "U3": (70, 50, 86),  # 21 + 10 + 43 = 74.00, the better presentation: before U2
    "U4": (95, 95, None),  # did not present: cannot win
    "S1": (80, 80, 80),  # 80.00
    "S2": (70, 70, 90),  # 21 + 14 + 45 = 80.00, the better presentation: first
}


def text(response):
    return html.unescape(response.get_data(as_text=True))


def url(scene, suffix=""):
    return f"/admin/editions/{scene.edition.id}/final{suffix}"


class FinalScene:
    def __init__(self, rounds):
        self.rounds = rounds
        self.edition = rounds.edition
        self.secretariat = rounds.secretariat
        self.proposals = dict(zip(PLAN, rounds.finalists))

    def name_of(self, proposal_id):
        return next(n for n, p in self.proposals.items() if p.id == proposal_id)


def final_scene(*, year=2025, field_verification=False):
    rounds = finalists_edition(umum=4, khusus=2, not_chosen=2, year=year, open_kind=StageKind.FINAL)
    confirm_finalists(rounds, decree=FINALIST_DECREE)
    edition = rounds.edition
    edition.group(GroupCode.UMUM).winner_count = 2
    edition.group(GroupCode.KHUSUS).winner_count = 1
    scene = FinalScene(rounds)
    for name, proposal in scene.proposals.items():
        proposal.status = ProposalStatus.NO_SHOW if PLAN[name][2] is None else ProposalStatus.PRESENTED
    for position, stage in enumerate((StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION)):
        ranked_scheme(edition, stage, {p.id: Decimal(PLAN[n][position]) for n, p in scene.proposals.items()
                                       if PLAN[n][position] is not None})
    if field_verification:
        edition.field_verification = True
        edition.weight_evaluation, edition.weight_panel = Decimal(25), Decimal(15)
        edition.weight_presentation, edition.weight_field = Decimal(40), Decimal(20)
    return scene


def winners(db_session, scene):
    db_session.expire_all()
    return db_session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition.id,
                                                        Shortlist.kind == ShortlistKind.WINNERS))


def entries(db_session, scene):
    return {scene.name_of(e.proposal_id): e for e in winners(db_session, scene).entries}


def row_of(page, proposal):
    match = re.search(r'<tr id="entry-\d+" data-testid="entry" data-proposal="%d".*?</tr>' % proposal.id, page, re.S)
    assert match, f"no row for proposal {proposal.id}"
    return match.group(0)


def awards_of(db_session, proposal):
    db_session.expire_all()
    return sorted((a.year, a.tier, a.decree_number) for a in db_session.scalars(
        sa.select(Award).where(Award.innovation_id == proposal.innovation_id)))


@pytest.fixture()
def scene(app, db_session, login):
    scene = final_scene()
    db_session.commit()
    login(scene.secretariat)
    return scene


def freeze(client, scene, **data):
    values = {"decree_number": FINAL_DECREE, "decree_date": "2025-07-31"}
    values.update(data)
    return client.post(url(scene, "/freeze"), data=values, follow_redirects=True)


def test_the_proposed_result_follows_the_editions_formula(client, db_session, scene):
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The proposed result was computed" in text(response)
    kept = entries(db_session, scene)
    assert {n: str(e.score) for n, e in kept.items()} == {
        "U1": "77.00", "U2": "74.00", "U3": "74.00", "U4": "95.00", "S1": "80.00", "S2": "80.00"}
    assert sorted(n for n, e in kept.items() if e.proposed) == ["S2", "U1", "U3"]
    assert [kept[n].rank for n in ("U1", "U3", "U2")] == [1, 2, 3]
    assert kept["U4"].components["eligible"] is False and kept["U4"].components["missing"] == ["presentation"]
    page = text(client.get(url(scene)))
    assert "Evaluation 30.00% + Panel review 20.00% + Presentation 50.00%" in page
    assert 'data-testid="not-eligible"' in row_of(page, scene.proposals["U4"])
    assert 'data-testid="choice"' not in row_of(page, scene.proposals["U4"])
    khusus = text(client.get(url(scene, "?group=khusus")))
    assert khusus.index(f'data-proposal="{scene.proposals["S2"].id}"') < khusus.index(
        f'data-proposal="{scene.proposals["S1"].id}"')


def test_a_missing_field_visit_renormalises_the_weights_and_is_flagged(app, client, db_session, login):
    scene = final_scene(year=2024, field_verification=True)
    db_session.add(FieldVisit(edition_id=scene.edition.id, proposal_id=scene.proposals["U1"].id,
                              score=Decimal(60), recorded_at=utcnow()))
    db_session.commit()
    login(scene.secretariat)
    client.post(url(scene, "/build"))
    kept = entries(db_session, scene)
    # U1: (25 x 80 + 15 x 90 + 40 x 70 + 20 x 60) / 100 = 73.50
    # U3, no visit: (25 x 70 + 15 x 50 + 40 x 86) / 80 = 74.25, flagged as partial
    assert str(kept["U1"].score) == "73.50" and not kept["U1"].components["renormalised"]
    assert str(kept["U3"].score) == "74.25" and kept["U3"].components["missing"] == ["field"]
    assert kept["U3"].components["weights"] == {"evaluation": "31.25", "panel": "18.75", "presentation": "50.00"}
    page = text(client.get(url(scene)))
    assert 'data-testid="partial"' in row_of(page, scene.proposals["U3"])
    assert 'data-testid="partial"' not in row_of(page, scene.proposals["U1"])


def test_consensus_adjustments_need_a_reason_and_only_presenters_can_win(client, db_session, scene):
    client.post(url(scene, "/build"))
    kept = entries(db_session, scene)
    def choose(name, **data):
        return client.post(url(scene, f"/proposals/{kept[name].proposal_id}"), data=data, follow_redirects=True)

    assert "Give the reason for this departure" in text(choose("U2", chosen="1"))
    assert "did not present; only a finalist who presented can win" in text(choose("U4", chosen="1", reason="Unggul."))
    choose("U2", chosen="1", reason="Dampak lebih luas.")
    choose("U3", chosen="0", reason="Kesepakatan panel.")
    kept = entries(db_session, scene)
    assert (kept["U2"].chosen, kept["U3"].chosen, kept["U4"].chosen) == (True, False, False)
    assert kept["U3"].reason == "Kesepakatan panel."


def test_freezing_needs_the_minutes_and_the_decree(client, db_session, scene):
    client.post(url(scene, "/build"))
    response = freeze(client, scene)
    assert "Write the minutes (berita acara) of the panel's consensus" in text(response)
    client.post(url(scene, "/minutes"), data={"minutes": "Rapat pleno TPI: Top 45 disepakati."})
    response = freeze(client, scene, decree_number="  ")
    assert response.status_code == 422 and "Give the number of the decree (Kepmen)" in text(response)
    response = freeze(client, scene, decree_date="")
    assert response.status_code == 422 and "Give the date of the decree" in text(response)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert "cannot be in the future" in text(freeze(client, scene, decree_date=tomorrow))
    assert winners(db_session, scene).frozen_at is None
    assert all(p.status in (ProposalStatus.PRESENTED, ProposalStatus.NO_SHOW) for p in scene.proposals.values())


def test_freezing_awards_the_winners_and_writes_the_award_history(client, db_session, scene):
    # U1's innovation is already known, with its Top 99 of this year imported without a decree.
    u1 = scene.proposals["U1"]
    innovation = Innovation(agency_id=u1.agency_id, title=u1.title, start_date=dt.date(2021, 3, 1))
    innovation.awards.append(Award(year=2025, tier=AwardTier.TOP_99, source="import"))
    db_session.add(innovation)
    db_session.flush()
    u1.innovation_id = innovation.id
    db_session.commit()
    client.post(url(scene, "/build"))
    client.post(url(scene, "/minutes"), data={"minutes": "Rapat pleno TPI: hasil akhir disepakati."})
    response = freeze(client, scene)
    assert "The final result is frozen with its decree" in text(response)
    db_session.expire_all()
    statuses = {n: p.status for n, p in scene.proposals.items()}
    assert statuses == {"U1": ProposalStatus.WINNER, "U3": ProposalStatus.WINNER, "S2": ProposalStatus.WINNER,
                        "U2": ProposalStatus.FINALIST_ONLY, "U4": ProposalStatus.FINALIST_ONLY,
                        "S1": ProposalStatus.FINALIST_ONLY}
    shortlist = winners(db_session, scene)
    assert (shortlist.decree_number, shortlist.decree_date) == (FINAL_DECREE, dt.date(2025, 7, 31))
    assert {n: e.tier for n, e in entries(db_session, scene).items()} == {
        "U1": AwardTier.TOP_45, "U3": AwardTier.TOP_45, "S2": AwardTier.OUTSTANDING,
        "U2": None, "U4": None, "S1": None}
    # Every confirmed finalist gets its finalist tier with the finalists' decree, each winner its tier
    # with the final decree; the imported line is kept (its decree filled in), not duplicated.
    assert awards_of(db_session, scene.proposals["U1"]) == [
        (2025, AwardTier.TOP_45, FINAL_DECREE), (2025, AwardTier.TOP_99, FINALIST_DECREE)]
    assert awards_of(db_session, scene.proposals["U3"]) == [
        (2025, AwardTier.TOP_45, FINAL_DECREE), (2025, AwardTier.TOP_99, FINALIST_DECREE)]
    assert awards_of(db_session, scene.proposals["U2"]) == [(2025, AwardTier.TOP_99, FINALIST_DECREE)]
    assert awards_of(db_session, scene.proposals["U4"]) == [(2025, AwardTier.TOP_99, FINALIST_DECREE)]
    assert awards_of(db_session, scene.proposals["S2"]) == [
        (2025, AwardTier.FINALIST_KHUSUS, FINALIST_DECREE), (2025, AwardTier.OUTSTANDING, FINAL_DECREE)]
    assert awards_of(db_session, scene.proposals["S1"]) == [(2025, AwardTier.FINALIST_KHUSUS, FINALIST_DECREE)]
    for proposal in scene.rounds.not_chosen:
        assert proposal.innovation_id is None or awards_of(db_session, proposal) == []
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "shortlist.winners_frozen"))
    page = text(client.get(url(scene)))
    assert 'data-testid="frozen"' in page and FINAL_DECREE in page

    # Next year, the Top 45 winner may not enter kelompok umum; a finalist who did not win still may.
    from kipp.editions.services import create_from_template

    next_year = create_from_template(None, year=2026, name="KIPP 2026")
    umum = next_year.group(GroupCode.UMUM)

    def problems(proposal):
        again = ProposalFactory(edition=next_year, group=umum, unit=proposal.unit, title=proposal.title + " (2026)",
                                innovation_id=proposal.innovation_id, innovation_start_date=dt.date(2021, 3, 1))
        return " ".join(eligibility.eligibility_messages(again, now=utcnow()))

    assert "Kelompok umum is for innovations that have not won before" in problems(scene.proposals["U1"])
    assert "Top 45 (Top Inovasi Terpuji) 2025" in problems(scene.proposals["U3"])
    assert "have not won before" not in problems(scene.proposals["U2"])


def test_the_final_stage_must_be_open(client, db_session, scene):
    scene.edition.stage(StageKind.FINAL).status = StageStatus.PLANNED
    db_session.commit()
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "Not possible now" in text(response)
    assert winners(db_session, scene) is None


def test_a_stale_presentation_ranking_is_refused(client, db_session, scene):
    from kipp.scoring.services import scheme_for

    scheme_for(scene.edition, StageKind.PRESENTATION).ranking_stale = True
    db_session.commit()
    response = client.post(url(scene, "/build"), follow_redirects=True)
    assert "The ranking of “Presentation and interview” is out of date" in text(response)


def test_only_the_secretariat_opens_the_page(client, db_session, scene, login):
    for user in (EvaluatorFactory(), PanelistFactory()):
        login.logout()
        login(user)
        assert client.get(url(scene)).status_code == 404
        assert client.post(url(scene, "/build")).status_code == 404


def test_the_page_runs_a_fixed_number_of_queries(client, db_session, scene):
    from tests.conftest import count_queries

    client.post(url(scene, "/build"))
    target = url(scene)
    response, statements = count_queries(client, db_session, target)
    assert text(response).count('data-testid="entry"') == 4
    assert len(statements) <= 20, statements
