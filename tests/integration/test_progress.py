"""The edition's progress: one explicit step at a time, each with its guards, audited and announced.

Each guard is tried through the progress page as the secretariat uses it: the step is refused
with what it needs, then taken once the need is met (or overridden with a reason where allowed)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.notifications.models import Notification
from kipp.proposals.models import DeadlineExtension
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistKind
from tests.factories import AdminLokalFactory, SecretariatFactory, UnitFactory
from tests.proposal_factories import ProposalFactory
from tests.scoring_factories import fill, scored_stage
from tests.selection_factories import confirm_finalists, finalists_edition, set_stages

pytestmark = pytest.mark.integration


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def secretariat(login):
    user = SecretariatFactory(locale="en")
    login(user)
    return user


def new_edition(year=2034):
    from kipp.editions.services import create_from_template

    return create_from_template(None, year=year, name=f"KIPP {year}")


def stage(edition, kind):
    return edition.stage(kind)


def take(client, edition, kind, move, **extra):
    return client.post(f"/admin/progress/{edition.id}/step",
                       data={"stage_id": stage(edition, kind).id, "move": move, **extra}, follow_redirects=True)


def status(db_session, edition, kind):
    db_session.expire_all()
    return db_session.get(Edition, edition.id).stage(kind).status


def schedule(edition, kind, *, opens, closes):
    row = stage(edition, kind)
    row.opens_at, row.closes_at = opens, closes


# --- the page ------------------------------------------------------------------------------------

def test_the_page_shows_where_the_edition_stands_and_what_the_next_step_needs(client, secretariat, db_session):
    edition = new_edition()
    now = utcnow()
    schedule(edition, StageKind.SUBMISSION, opens=now - dt.timedelta(days=1), closes=now + dt.timedelta(days=9))
    db_session.commit()
    page = text(client.get(f"/admin/progress/{edition.id}"))
    assert 'data-testid="next-step"' in page
    assert "open “Proposal submission”" in page
    assert 'data-check="groups" data-ok="yes"' in page
    assert 'data-check="window" data-ok="yes"' in page
    # Every held stage is listed as not started; the field verification is not held by default.
    assert page.count('data-status="planned"') == 8
    assert 'data-stage="field_verification" data-status="skipped"' in page
    home = text(client.get("/"))
    assert 'data-testid="home-next-step"' in home


def test_only_the_next_step_can_be_taken(client, secretariat, db_session):
    edition = new_edition()
    db_session.commit()
    page = text(take(client, edition, StageKind.EVALUATION, "open"))
    assert "This is not the edition's next step" in page
    assert status(db_session, edition, StageKind.EVALUATION) is StageStatus.PLANNED


def test_submission_opens_only_before_its_deadline_and_tells_the_admin_lokal(client, secretariat, db_session):
    edition = new_edition()
    admin = AdminLokalFactory(locale="en")
    now = utcnow()
    schedule(edition, StageKind.SUBMISSION, opens=now - dt.timedelta(days=10), closes=now - dt.timedelta(hours=1))
    db_session.commit()
    page = text(take(client, edition, StageKind.SUBMISSION, "open"))
    assert "The submission deadline" in page and "has passed" in page
    assert status(db_session, edition, StageKind.SUBMISSION) is StageStatus.PLANNED

    schedule(edition, StageKind.SUBMISSION, opens=now - dt.timedelta(days=1), closes=now + dt.timedelta(days=5))
    db_session.commit()
    page = text(take(client, edition, StageKind.SUBMISSION, "open"))
    assert "is open" in page
    assert status(db_session, edition, StageKind.SUBMISSION) is StageStatus.OPEN
    notes = db_session.scalars(sa.select(Notification).where(Notification.user_id == admin.id)).all()
    assert [n.kind for n in notes] == ["stage_opened"]
    assert "Proposal submission" in notes[0].message and "submits them by" in notes[0].message
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "stage.open"))
    assert event is not None and event.actor_id == secretariat.id


def test_submission_closes_after_the_latest_extension_and_closes_the_forgotten_drafts(client, secretariat,
                                                                                       db_session):
    edition = new_edition()
    now = utcnow()
    set_stages(edition, now, open_kind=StageKind.SUBMISSION)
    schedule(edition, StageKind.SUBMISSION, opens=now - dt.timedelta(days=30), closes=now - dt.timedelta(hours=2))
    late = ProposalFactory(edition=edition, unit=UnitFactory(), status=ProposalStatus.DRAFT)
    extension = DeadlineExtension(edition_id=edition.id, agency_id=None, closes_at=now + dt.timedelta(hours=3),
                                  reason="Gangguan sistem", created_by_id=secretariat.id)
    db_session.add(extension)
    db_session.commit()
    page = text(take(client, edition, StageKind.SUBMISSION, "close"))
    assert "Agencies may submit until" in page
    assert status(db_session, edition, StageKind.SUBMISSION) is StageStatus.OPEN

    extension.closes_at = now - dt.timedelta(minutes=1)
    db_session.commit()
    take(client, edition, StageKind.SUBMISSION, "close")
    assert status(db_session, edition, StageKind.SUBMISSION) is StageStatus.CLOSED
    db_session.expire_all()
    assert late.status is ProposalStatus.NOT_SUBMITTED


def test_screening_closes_when_every_proposal_is_decided_and_the_announcement_may_be_overridden(
        client, secretariat, db_session):
    edition = new_edition()
    set_stages(edition, utcnow(), open_kind=StageKind.SCREENING)
    pending = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED)
    db_session.commit()
    page = text(take(client, edition, StageKind.SCREENING, "close"))
    assert "1 proposal is still waiting for its screening decision." in page
    pending.status = ProposalStatus.ADMIN_PASSED
    db_session.commit()
    # Only the (overridable) announcement is missing now: a reason is asked for.
    page = text(take(client, edition, StageKind.SCREENING, "close"))
    assert "give the reason" in page
    assert 'name="force_reason"' in page
    take(client, edition, StageKind.SCREENING, "close", force_reason="short")
    assert status(db_session, edition, StageKind.SCREENING) is StageStatus.OPEN
    reason = "Pengumuman diterbitkan manual di situs kementerian."
    take(client, edition, StageKind.SCREENING, "close", force_reason=reason)
    assert status(db_session, edition, StageKind.SCREENING) is StageStatus.CLOSED
    db_session.expire_all()
    assert stage(edition, StageKind.SCREENING).forced_reason == reason
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "stage.close"))
    assert event.after["forced"] == reason and event.after["overridden"] == ["announcement"]


def test_scoring_opens_with_scheme_and_assignment_and_closes_only_when_forced_with_sheets_left(
        client, secretariat, db_session):
    scored = scored_stage(proposals=2, judges=3, per_proposal=2, year=2035)
    edition = scored.edition
    set_stages(edition, utcnow(), open_kind=None)
    for kind in (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.OBJECTION, StageKind.PRESENTATION,
                 StageKind.FINAL, StageKind.ANNOUNCEMENT):
        stage(edition, kind).status = StageStatus.PLANNED
    db_session.commit()
    page = text(take(client, edition, StageKind.EVALUATION, "open"))
    assert "is open" in page
    judge = scored.members[0]
    notes = db_session.scalars(sa.select(Notification).where(Notification.user_id == judge.user_id)).all()
    assert any(n.kind == "stage_opened" for n in notes)

    fill(scored, scored.judges_of(scored.proposals[0])[0], scored.proposals[0], 80)
    page = text(take(client, edition, StageKind.EVALUATION, "close"))
    assert "3 score sheets are not submitted." in page
    assert status(db_session, edition, StageKind.EVALUATION) is StageStatus.OPEN
    take(client, edition, StageKind.EVALUATION, "close", force_reason="Batas waktu TE sudah lewat; rapat pleno.")
    assert status(db_session, edition, StageKind.EVALUATION) is StageStatus.CLOSED
    db_session.expire_all()
    assert scored.scheme.closed is True
    # The judges can no longer save.
    from kipp.scoring import services as scoring

    with pytest.raises(Exception):
        fill(scored, scored.judges_of(scored.proposals[1])[0], scored.proposals[1], 70)
    assert scoring.scheme_for(edition, StageKind.EVALUATION).closed


def test_the_panel_opens_only_on_a_frozen_nominee_list(client, secretariat, db_session):
    edition = new_edition(2036)
    set_stages(edition, utcnow(), open_kind=None)
    for kind in (StageKind.PANEL_REVIEW, StageKind.OBJECTION, StageKind.PRESENTATION, StageKind.FINAL,
                 StageKind.ANNOUNCEMENT):
        stage(edition, kind).status = StageStatus.PLANNED
    db_session.commit()
    page = text(take(client, edition, StageKind.PANEL_REVIEW, "open"))
    assert "Build and freeze the nominee list" in page
    assert 'data-check="nominees" data-ok="no"' in page
    assert status(db_session, edition, StageKind.PANEL_REVIEW) is StageStatus.PLANNED
    db_session.add(Shortlist(edition_id=edition.id, kind=ShortlistKind.NOMINEES, frozen_at=utcnow(),
                             frozen_by_id=secretariat.id))
    db_session.commit()
    page = text(client.get(f"/admin/progress/{edition.id}"))
    assert 'data-check="nominees" data-ok="yes"' in page
    assert 'data-check="scheme" data-ok="no"' in page  # the panel's own scheme is still missing


def test_the_objection_window_announces_the_finalists_and_closes_once_they_are_confirmed(
        client, secretariat, db_session):
    rounds = finalists_edition(open_kind=None)
    edition = rounds.edition
    now = utcnow()
    for kind in (StageKind.OBJECTION, StageKind.PRESENTATION, StageKind.FINAL, StageKind.ANNOUNCEMENT):
        stage(edition, kind).status = StageStatus.PLANNED
    schedule(edition, StageKind.OBJECTION, opens=now - dt.timedelta(hours=1), closes=now - dt.timedelta(minutes=1))
    db_session.commit()
    page = text(take(client, edition, StageKind.OBJECTION, "open"))
    assert "The objection window ended" in page
    schedule(edition, StageKind.OBJECTION, opens=now, closes=now + dt.timedelta(days=5))
    db_session.commit()
    take(client, edition, StageKind.OBJECTION, "open")
    assert status(db_session, edition, StageKind.OBJECTION) is StageStatus.OPEN
    finalist, passed_over = rounds.finalists[0], rounds.not_chosen[0]
    for proposal, kind in ((finalist, "finalist_announced"), (passed_over, "not_finalist")):
        admin = rounds.admins[proposal.agency_id]
        kinds = db_session.scalars(sa.select(Notification.kind).where(Notification.user_id == admin.id)).all()
        assert kind in kinds

    page = text(take(client, edition, StageKind.OBJECTION, "close"))
    assert "confirm the finalists" in page
    confirm_finalists(rounds)
    db_session.commit()
    take(client, edition, StageKind.OBJECTION, "close")
    assert status(db_session, edition, StageKind.OBJECTION) is StageStatus.CLOSED


def test_presentations_close_when_every_attendance_is_recorded_then_the_final_follows_without_field_visits(
        client, secretariat, db_session):
    rounds = finalists_edition(open_kind=StageKind.PRESENTATION)
    confirm_finalists(rounds)
    edition = rounds.edition
    db_session.commit()
    page = text(take(client, edition, StageKind.PRESENTATION, "close"))
    assert "8 finalists' attendance is not recorded." in page
    for proposal in rounds.finalists:
        proposal.status = ProposalStatus.PRESENTED
    db_session.commit()
    page = text(take(client, edition, StageKind.PRESENTATION, "close"))
    assert "This stage has no scoring scheme." in page
    from kipp.scoring import services as scoring

    scoring.create_scheme(None, edition, StageKind.PRESENTATION)
    db_session.commit()
    take(client, edition, StageKind.PRESENTATION, "close")
    assert status(db_session, edition, StageKind.PRESENTATION) is StageStatus.CLOSED
    # No field verification this edition: the final comes next.
    page = text(client.get(f"/admin/progress/{edition.id}"))
    assert "open “Score recap and final decision”" in page


def test_a_held_field_verification_needs_complete_teams(client, secretariat, db_session):
    rounds = finalists_edition(open_kind=None)
    edition = rounds.edition
    edition.field_verification = True
    for kind in (StageKind.FIELD_VERIFICATION, StageKind.FINAL, StageKind.ANNOUNCEMENT):
        stage(edition, kind).status = StageStatus.PLANNED
    db_session.commit()
    page = text(take(client, edition, StageKind.FIELD_VERIFICATION, "open"))
    assert "Plan the field visits first." in page
    from kipp.verification.models import FieldVisit

    db_session.add(FieldVisit(edition_id=edition.id, proposal_id=rounds.finalists[0].id))
    db_session.commit()
    page = text(take(client, edition, StageKind.FIELD_VERIFICATION, "open"))
    assert "1 visit lacks a panelist or an evaluator." in page
    assert status(db_session, edition, StageKind.FIELD_VERIFICATION) is StageStatus.PLANNED


def test_the_final_closes_on_frozen_winners_and_the_announcement_on_published_results(client, secretariat,
                                                                                       db_session):
    rounds = finalists_edition(open_kind=StageKind.FINAL)
    edition = rounds.edition
    db_session.commit()
    page = text(take(client, edition, StageKind.FINAL, "close"))
    assert "freeze it with the decree number" in page
    winners = Shortlist(edition_id=edition.id, kind=ShortlistKind.WINNERS, frozen_at=utcnow(),
                        frozen_by_id=secretariat.id, decree_number="B/45/2033")
    db_session.add(winners)
    db_session.commit()
    take(client, edition, StageKind.FINAL, "close")
    take(client, edition, StageKind.ANNOUNCEMENT, "open")
    assert status(db_session, edition, StageKind.ANNOUNCEMENT) is StageStatus.OPEN
    page = text(take(client, edition, StageKind.ANNOUNCEMENT, "close"))
    assert "Publish the results first." in page
    winners.published_at, winners.published_by_id = utcnow(), secretariat.id
    db_session.commit()
    page = text(take(client, edition, StageKind.ANNOUNCEMENT, "close"))
    assert 'data-testid="edition-done"' in page


def test_an_opened_stage_cannot_be_deleted(client, secretariat, db_session):
    edition = new_edition(2037)
    set_stages(edition, utcnow(), open_kind=StageKind.SCREENING)
    db_session.commit()
    row = stage(edition, StageKind.SUBMISSION)
    page = text(client.post(f"/admin/editions/{edition.id}/stages/{row.id}/delete", follow_redirects=True))
    assert "can no longer be deleted" in page
    db_session.expire_all()
    assert db_session.get(Edition, edition.id).stage(StageKind.SUBMISSION) is not None


def test_selection_settings_weights_add_up_and_field_weight_needs_the_visit(client, secretariat, db_session):
    edition = new_edition(2038)
    db_session.commit()
    url = f"/admin/editions/{edition.id}/selection"
    form = {"weight_evaluation": "40", "weight_panel": "20", "weight_presentation": "30", "weight_field": "0",
            "presentation_minutes": "10", "interview_minutes": "15", "confirm_hours": "48",
            "bootstrap_samples": "500"}
    page = text(client.post(url, data=form))
    assert "must add up to 100% (now 90%)" in page
    assert 'value="10"' in page  # nothing typed is lost
    page = text(client.post(url, data={**form, "weight_presentation": "30", "weight_field": "10"}))
    assert "holds none" in page
    client.post(url, data={**form, "weight_presentation": "30", "weight_field": "10", "field_verification": "y"})
    db_session.expire_all()
    saved = db_session.get(Edition, edition.id)
    assert (saved.weight_field, saved.field_verification, saved.presentation_minutes, saved.confirm_hours) == (
        10, True, 10, 48)
