"""Field verification of confirmed finalists, through the pages: the secretariat plans a visit and its
team (at least a panelist and an evaluator, no conflict of interest), the team's members are told,
see their visits and record the findings and a score; the secretariat can record too."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.i18n import WIB
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.notifications.models import Notification
from kipp.verification import services
from kipp.verification.models import FieldVisit
from tests.factories import EvaluatorFactory, PanelistFactory
from tests.selection_factories import confirm_finalists, finalists_edition, set_stages

pytestmark = pytest.mark.integration


def text(response):
    return html.unescape(response.get_data(as_text=True))


class Team:
    def __init__(self, db_session, rounds):
        edition = rounds.edition
        conflicted_agency = rounds.finalists[0].agency_id

        def member(user, status=InvitationStatus.ACCEPTED):
            row = PoolMember(edition_id=edition.id, stage=StageKind.FIELD_VERIFICATION, user_id=user.id,
                             status=status)
            db_session.add(row)
            return row

        self.panelist = member(PanelistFactory(name="Panelis Lapangan"))
        self.evaluator = member(EvaluatorFactory(name="Evaluator Lapangan"))
        self.other_evaluator = member(EvaluatorFactory(name="Evaluator Kedua"))
        self.conflicted = member(EvaluatorFactory(name="Evaluator Berkonflik", agency_id=conflicted_agency))
        self.invited = member(PanelistFactory(name="Panelis Diundang"), InvitationStatus.INVITED)
        self.outsider = PanelistFactory(name="Panelis Lain")
        db_session.flush()


@pytest.fixture()
def rounds(db_session):
    """Confirmed finalists, an edition that holds a field verification (planned, not open yet)."""
    scene = finalists_edition(open_kind=StageKind.OBJECTION)
    confirm_finalists(scene)
    scene.edition.field_verification = True
    db_session.commit()
    return scene


@pytest.fixture()
def team(db_session, rounds):
    found = Team(db_session, rounds)
    db_session.commit()
    return found


@pytest.fixture()
def secretariat(login, rounds):
    login(rounds.secretariat)
    return rounds.secretariat


def base(rounds):
    return f"/admin/editions/{rounds.edition.id}/field"


def in_days(days):
    return utcnow().astimezone(WIB).date() + dt.timedelta(days=days)


def plan_form(proposal, members, **changes):
    form = {"proposal_id": str(proposal.id), "visit_date": in_days(10).isoformat(),
            "location": "Jl. Sam Ratulangi No. 1, Manado", "member_ids": [str(m.id) for m in members]}
    form.update(changes)
    return form


def visits(db_session, rounds):
    db_session.expire_all()
    return db_session.scalars(sa.select(FieldVisit).where(FieldVisit.edition_id == rounds.edition.id)).all()


def field_assignments(db_session, rounds, proposal):
    return db_session.scalars(sa.select(Assignment).where(
        Assignment.edition_id == rounds.edition.id, Assignment.stage == StageKind.FIELD_VERIFICATION,
        Assignment.proposal_id == proposal.id).order_by(Assignment.id)).all()


def plan(client, rounds, proposal, members, **changes):
    response = client.post(f"{base(rounds)}/plan", data=plan_form(proposal, members, **changes),
                           follow_redirects=True)
    assert response.status_code == 200, text(response)[:3000]
    return response


def open_stage(db_session, rounds):
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.FIELD_VERIFICATION)
    db_session.commit()


# --- planning ---------------------------------------------------------------------------------------


def test_the_secretariat_plans_a_visit_and_its_team_is_assigned_and_told(client, db_session, rounds, team,
                                                                         secretariat):
    proposal = rounds.finalists[1]
    page = text(client.get(base(rounds)))
    assert proposal.number in page and "Panelis Lapangan (panelist" in page and "Panelis Diundang" not in page
    page = text(plan(client, rounds, proposal, [team.panelist, team.evaluator]))
    assert "The visit was planned; its team was told." in page
    [visit] = visits(db_session, rounds)
    assert (visit.proposal_id, visit.visit_date, visit.location) == (proposal.id, in_days(10),
                                                                     "Jl. Sam Ratulangi No. 1, Manado")
    rows = field_assignments(db_session, rounds, proposal)
    assert {a.member_id for a in rows} == {team.panelist.id, team.evaluator.id}
    assert all(a.state is AssignmentState.PUBLISHED for a in rows)
    for member in (team.panelist, team.evaluator):
        [told] = db_session.scalars(sa.select(Notification).where(Notification.user_id == member.user_id,
                                                                  Notification.kind == "field_visit_assigned"))
        assert proposal.number in told.message and proposal.agency.name in told.message
        assert told.link == f"/judge/field/{visit.id}"
    assert services.incomplete_teams(rounds.edition) == 0 and services.unrecorded_count(rounds.edition) == 1
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "field_visit.planned"))


@pytest.mark.parametrize("who, changes, message", [
    (("panelist",), {}, "The team needs at least one panelist (Tim Panel Independen) and one evaluator"),
    (("evaluator", "other_evaluator"), {}, "The team needs at least one panelist"),
    (("panelist", "conflicted"), {}, "Conflict of interest: Evaluator Berkonflik: Works at"),
    (("panelist", "evaluator", "invited"), {}, "Choose the team from the accepted members of the field verification"),
    (("panelist", "evaluator"), {"location": "  "}, "Say where the team goes"),
    (("panelist", "evaluator"), {"visit_date": ""}, "Choose the date of the visit."),
    (("panelist", "evaluator"), {"visit_date": "2020-01-01"}, "The visit date 01-01-2020 has passed"),
    (("panelist", "evaluator"), {"location": "x" * 256}, "Field cannot be longer than 255 characters."),
])
def test_a_visit_is_refused_for_bad_teams_and_bad_input_and_nothing_is_written(
        client, db_session, rounds, team, secretariat, who, changes, message):
    members = [getattr(team, name) for name in who]
    response = client.post(f"{base(rounds)}/plan", data=plan_form(rounds.finalists[0], members, **changes))
    assert response.status_code == 422
    assert message in text(response)
    assert visits(db_session, rounds) == []
    assert field_assignments(db_session, rounds, rounds.finalists[0]) == []


def test_only_a_confirmed_finalist_once_can_be_visited(client, db_session, rounds, team, secretariat):
    not_finalist = rounds.not_chosen[0]
    response = client.post(f"{base(rounds)}/plan", data=plan_form(not_finalist, [team.panelist, team.evaluator]))
    assert response.status_code == 422
    assert "Only a confirmed finalist of this edition can be visited." in text(response)
    elsewhere = finalists_edition(year=2034, open_kind=StageKind.OBJECTION).finalists[0]
    db_session.commit()
    response = client.post(f"{base(rounds)}/plan", data=plan_form(elsewhere, [team.panelist, team.evaluator]))
    assert response.status_code == 404
    proposal = rounds.finalists[0]
    plan(client, rounds, proposal, [team.panelist, team.evaluator])
    response = client.post(f"{base(rounds)}/plan", data=plan_form(proposal, [team.panelist, team.evaluator]))
    assert response.status_code == 422 and f"A visit to {proposal.number} is already planned" in text(response)
    assert len(visits(db_session, rounds)) == 1


def test_planning_needs_the_stage_held_the_finalists_confirmed_and_the_stage_not_closed(
        client, db_session, login):
    scene = finalists_edition(open_kind=StageKind.OBJECTION)
    scene.edition.field_verification = True
    db_session.commit()
    found = Team(db_session, scene)
    db_session.commit()
    login(scene.secretariat)
    form = plan_form(scene.finalists[0], [found.panelist, found.evaluator])
    response = client.post(f"{base(scene)}/plan", data=form)
    assert response.status_code == 422 and "The finalists are not confirmed yet" in text(response)
    confirm_finalists(scene)
    scene.edition.field_verification = False
    db_session.commit()
    page = text(client.get(base(scene)))
    assert 'data-testid="not-held"' in page
    response = client.post(f"{base(scene)}/plan", data=form)
    assert response.status_code == 422
    assert "This edition does not hold the stage “Field verification (optional)”." in text(response)
    scene.edition.field_verification = True
    set_stages(scene.edition, utcnow(), open_kind=StageKind.FINAL)  # the field verification is closed
    db_session.commit()
    response = client.post(f"{base(scene)}/plan", data=form)
    assert response.status_code == 422 and "is closed" in text(response)
    assert visits(db_session, scene) == []


def test_changing_the_team_tells_newcomers_and_takes_the_others_off(client, db_session, rounds, team,
                                                                     secretariat):
    proposal = rounds.finalists[1]
    plan(client, rounds, proposal, [team.panelist, team.evaluator])
    [visit] = visits(db_session, rounds)
    url = f"{base(rounds)}/{visit.id}"
    page = text(client.post(url, data={"visit_date": in_days(12).isoformat(), "location": "Kantor Dinas",
                                       "member_ids": [str(team.panelist.id), str(team.other_evaluator.id)]},
                            follow_redirects=True))
    assert "The visit was saved." in page
    rows = {a.member_id: a.state for a in field_assignments(db_session, rounds, proposal)}
    assert rows == {team.panelist.id: AssignmentState.PUBLISHED, team.evaluator.id: AssignmentState.REMOVED,
                    team.other_evaluator.id: AssignmentState.PUBLISHED}
    told = lambda m: db_session.scalars(sa.select(Notification).where(  # noqa: E731
        Notification.user_id == m.user_id, Notification.kind == "field_visit_assigned")).all()
    assert len(told(team.other_evaluator)) == 1 and len(told(team.panelist)) == 1
    [changed] = visits(db_session, rounds)
    assert (changed.visit_date, changed.location) == (in_days(12), "Kantor Dinas")
    response = client.post(url, data={"visit_date": in_days(12).isoformat(), "location": "Kantor Dinas",
                                      "member_ids": [str(team.panelist.id)]})
    assert response.status_code == 422 and "The team needs at least one panelist" in text(response)


def test_the_guards_count_incomplete_teams_and_unrecorded_visits(client, db_session, rounds, team, secretariat):
    plan(client, rounds, rounds.finalists[0], [team.panelist, team.evaluator])
    # A visit whose team lost its evaluator some other way (e.g. an evaluator left the pool).
    lone = FieldVisit(edition_id=rounds.edition.id, proposal_id=rounds.finalists[1].id, visit_date=in_days(3),
                      location="Balai Kota")
    db_session.add(lone)
    db_session.add(Assignment(edition_id=rounds.edition.id, stage=StageKind.FIELD_VERIFICATION,
                              proposal_id=rounds.finalists[1].id, member_id=team.panelist.id,
                              state=AssignmentState.PUBLISHED, source="test"))
    db_session.commit()
    assert services.incomplete_teams(rounds.edition) == 1
    assert services.unrecorded_count(rounds.edition) == 2
    page = text(client.get(base(rounds)))
    assert "1 team incomplete" in page and "2 visits not recorded" in page and 'data-testid="team-incomplete"' in page


def test_an_unrecorded_visit_can_be_cancelled(client, db_session, rounds, team, secretariat):
    proposal = rounds.finalists[0]
    plan(client, rounds, proposal, [team.panelist, team.evaluator])
    [visit] = visits(db_session, rounds)
    page = text(client.post(f"{base(rounds)}/{visit.id}/cancel", follow_redirects=True))
    assert "The visit was cancelled." in page
    assert visits(db_session, rounds) == []
    assert {a.state for a in field_assignments(db_session, rounds, proposal)} == {AssignmentState.REMOVED}


# --- recording --------------------------------------------------------------------------------------


@pytest.fixture()
def planned(client, db_session, rounds, team, secretariat, login):
    plan(client, rounds, rounds.finalists[0], [team.panelist, team.evaluator])
    login.logout()
    [visit] = visits(db_session, rounds)
    return visit


def test_a_team_member_records_findings_and_a_score_while_the_stage_is_open(client, db_session, rounds, team,
                                                                           planned, login):
    login(team.evaluator.user)
    listing = text(client.get("/judge/field/"))
    assert rounds.finalists[0].number in listing and f'data-testid="my-visit-{planned.id}"' in listing
    url = f"/judge/field/{planned.id}"
    page = text(client.get(url))
    assert "Jl. Sam Ratulangi No. 1, Manado" in page and "Panelis Lapangan" in page
    assert "Findings are recorded while the field verification stage is open." in page
    response = client.post(url, data={"findings": "Layanan berjalan.", "score": "80"}, follow_redirects=True)
    assert "Not possible now" in text(response)
    assert visits(db_session, rounds)[0].recorded_at is None
    open_stage(db_session, rounds)
    page = text(client.post(url, data={"findings": "Layanan berjalan baik; data sesuai proposal.",
                                       "score": "87,5"}, follow_redirects=True))
    assert "The findings and the score were recorded." in page
    [recorded] = visits(db_session, rounds)
    assert recorded.score == Decimal("87.50") and recorded.recorded_by_id == team.evaluator.user_id
    assert recorded.findings == "Layanan berjalan baik; data sesuai proposal."
    assert services.unrecorded_count(rounds.edition) == 0
    # Recorded again by the panelist: a correction, audited.
    login.logout()
    login(team.panelist.user)
    client.post(url, data={"findings": "Dikoreksi setelah diskusi tim.", "score": "85"})
    [corrected] = visits(db_session, rounds)
    assert corrected.score == Decimal("85.00") and corrected.recorded_by_id == team.panelist.user_id
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "field_visit.recorded")).all()
    assert len(events) == 2


@pytest.mark.parametrize("form, message", [
    ({"findings": "Baik.", "score": "abc"}, "Type a number, e.g. 85 or 85.5."),
    ({"findings": "Baik.", "score": "101"}, "The score must be between 0 and 100."),
    ({"findings": "Baik.", "score": "-1"}, "The score must be between 0 and 100."),
    ({"findings": "Baik.", "score": "85.555"}, "Use at most two decimals."),
    ({"findings": "Baik.", "score": "NaN"}, "The score must be between 0 and 100."),
    ({"findings": "Baik.", "score": ""}, "Give a score from 0 to 100."),
    ({"findings": "   ", "score": "80"}, "Write down what the team found."),
])
def test_bad_findings_are_refused_and_what_was_typed_is_kept(client, db_session, rounds, team, planned, login,
                                                             form, message):
    open_stage(db_session, rounds)
    login(team.panelist.user)
    response = client.post(f"/judge/field/{planned.id}", data=form)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    if form["findings"].strip():
        assert form["findings"] in page
    assert visits(db_session, rounds)[0].recorded_at is None


def test_someone_not_on_the_team_gets_404(client, db_session, rounds, team, planned, login):
    open_stage(db_session, rounds)
    for outsider in (team.other_evaluator.user, team.outsider):
        login(outsider)
        assert client.get(f"/judge/field/{planned.id}").status_code == 404
        assert client.post(f"/judge/field/{planned.id}", data={"findings": "X", "score": "50"}).status_code == 404
        assert f"/judge/field/{planned.id}" not in text(client.get("/judge/field/"))
        login.logout()
    login(rounds.admins[rounds.finalists[0].agency_id])
    assert client.get(f"/judge/field/{planned.id}").status_code == 404  # not a judge at all
    assert client.get(base(rounds)).status_code == 404  # nor the secretariat
    assert visits(db_session, rounds)[0].recorded_at is None


def test_the_secretariat_records_too_and_a_recorded_visit_cannot_be_cancelled(client, db_session, rounds, team,
                                                                               planned, login):
    open_stage(db_session, rounds)
    login(rounds.secretariat)
    url = f"{base(rounds)}/{planned.id}"
    page = text(client.post(f"{url}/record", data={"findings": "Dicatat sekretariat dari laporan tim.",
                                                   "score": "90"}, follow_redirects=True))
    assert "The findings and the score were recorded." in page
    [recorded] = visits(db_session, rounds)
    assert recorded.score == Decimal("90.00") and recorded.recorded_by_id == rounds.secretariat.id
    page = text(client.post(f"{url}/cancel", follow_redirects=True))
    assert "it can no longer be cancelled" in page
    assert len(visits(db_session, rounds)) == 1
    listing = text(client.get(base(rounds)))
    assert "90.00" in listing and "0 visits not recorded" in listing


def test_recording_is_refused_once_the_stage_is_closed(client, db_session, rounds, team, planned, login):
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.FINAL)
    db_session.commit()
    login(team.panelist.user)
    response = client.post(f"/judge/field/{planned.id}", data={"findings": "Terlambat.", "score": "70"},
                           follow_redirects=True)
    assert "is closed" in text(response)
    assert visits(db_session, rounds)[0].recorded_at is None
