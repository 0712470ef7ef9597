"""Presentations and interviews of the confirmed finalists, through the pages people use: the
secretariat schedules (generator and edits), the Admin Lokal confirms and sends the materials, the
secretariat records attendance, and the whole panel scores each presentation."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
import sqlalchemy as sa

from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.i18n import WIB
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.notifications.models import Notification
from kipp.presentations import services
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.proposals.models import ProposalEvent, StoredFile
from kipp.proposals.states import ProposalStatus
from kipp.scoring.defaults import PRESENTATION_ASPECTS
from kipp.scoring.models import ScoreSheet, ScoringScheme, SheetStatus
from tests.factories import PanelistFactory, SecretariatFactory
from tests.selection_factories import confirm_finalists, finalists_edition, set_stages

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def rounds(db_session):
    """Finalists confirmed by decree; the presentation stage planned (not open yet)."""
    scene = finalists_edition(open_kind=StageKind.OBJECTION)
    confirm_finalists(scene)
    db_session.commit()
    return scene


@pytest.fixture()
def secretariat(login, rounds):
    login(rounds.secretariat)
    return rounds.secretariat


def base(rounds):
    return f"/admin/editions/{rounds.edition.id}/presentations"


def next_monday(days_ahead=3):
    """A Monday (WIB) at least ``days_ahead`` days from now."""
    day = utcnow().astimezone(WIB).date() + dt.timedelta(days=days_ahead)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def generator_form(first_day, **changes):
    form = {"first_day": first_day.isoformat(), "day_start": "08:00", "day_end": "09:00", "break_minutes": "0",
            "presentation_minutes": "7", "interview_minutes": "13", "skip_weekends": "y",
            "meeting_url": "https://zoom.us/j/2033"}
    form.update(changes)
    return form


def slots(db_session, rounds):
    db_session.expire_all()
    return {s.proposal_id: s for s in db_session.scalars(
        sa.select(PresentationSlot).where(PresentationSlot.edition_id == rounds.edition.id))}


def notifications(db_session, user, kind):
    return db_session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.kind == kind)).all()


def schedule(client, rounds, first_day=None):
    response = client.post(f"{base(rounds)}/generate", data=generator_form(first_day or next_monday()),
                           follow_redirects=True)
    assert response.status_code == 200, text(response)[:2000]
    return response


def move_slot(db_session, slot, starts_at):
    """Set the scene: a slot whose start is elsewhere in time than the generator allows."""
    slot.starts_at = starts_at
    db_session.commit()


# --- the schedule -----------------------------------------------------------------------------------


def test_the_generator_lays_out_every_finalist_over_wib_working_days_and_tells_the_agencies(
        client, db_session, rounds, secretariat):
    monday = next_monday()
    page = text(schedule(client, rounds, monday))
    assert "8 slots were scheduled; the agencies were told." in page
    found = slots(db_session, rounds)
    assert set(found) == {p.id for p in rounds.finalists}
    # 20-minute slots from 08:00 to 09:00 WIB, no break: three a day, Monday to Wednesday, in the
    # order of the groups and the proposal numbers (the six umum finalists, then the two khusus).
    ordered = sorted(rounds.finalists, key=lambda p: (p.group.position, p.number))
    starts = [found[p.id].starts_at.astimezone(WIB) for p in ordered]
    expected_days = [monday] * 3 + [monday + dt.timedelta(days=1)] * 3 + [monday + dt.timedelta(days=2)] * 2
    assert [s.date() for s in starts] == expected_days
    assert [s.strftime("%H:%M") for s in starts] == ["08:00", "08:20", "08:40"] * 2 + ["08:00", "08:20"]
    assert all(found[p.id].starts_at >= utcnow() + dt.timedelta(hours=rounds.edition.confirm_hours)
               for p in ordered)
    first = found[ordered[0].id]
    assert (first.presentation_minutes, first.interview_minutes, first.meeting_url) == (7, 13, "https://zoom.us/j/2033")
    # The Admin Lokal and the unit's UPP are told, with the time in WIB and the confirmation deadline.
    proposal = ordered[0]
    for person in (rounds.admins[proposal.agency_id], rounds.upps[proposal.agency_id]):
        told = notifications(db_session, person, "presentation_scheduled")
        assert told, person.role
        message = " ".join(n.message for n in told)
        assert f"{starts[0].strftime('%d-%m-%Y')} 08:00 WIB" in message and "(7 + 13 minutes)" in message
        deadline = starts[0] - dt.timedelta(hours=rounds.edition.confirm_hours)
        assert deadline.strftime("%d-%m-%Y %H:%M") in message
    listing = text(client.get(base(rounds)))
    assert 'data-testid="count-unscheduled">0<' in listing
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "presentation.schedule_generated"))


def test_the_generator_skips_weekends_and_never_starts_within_the_confirmation_notice(
        client, db_session, rounds, secretariat):
    # Asked to start today: the first slot still leaves the agency its 48 hours.
    rounds.edition.confirm_hours = 48
    db_session.commit()
    today = utcnow().astimezone(WIB).date()
    client.post(f"{base(rounds)}/generate", data=generator_form(today, day_start="00:00", day_end="23:59",
                                                                  break_minutes="5"))
    found = slots(db_session, rounds)
    assert len(found) == 8
    earliest = utcnow() + dt.timedelta(hours=48)
    for slot in found.values():
        local = slot.starts_at.astimezone(WIB)
        assert slot.starts_at >= earliest - dt.timedelta(minutes=1)
        assert local.weekday() < 5 and local.minute % 5 == 0
    ordered = sorted(found.values(), key=lambda s: s.starts_at)
    for before, after in zip(ordered, ordered[1:]):
        assert after.starts_at >= before.ends_at + dt.timedelta(minutes=5)


def test_the_generator_needs_confirmed_finalists(client, db_session, login):
    scene = finalists_edition(open_kind=StageKind.OBJECTION)  # chosen, not confirmed yet
    db_session.commit()
    login(scene.secretariat)
    page = text(client.get(base(scene)))
    assert 'data-testid="not-confirmed"' in page and 'data-testid="generator"' not in page
    response = client.post(f"{base(scene)}/generate", data=generator_form(next_monday()))
    assert response.status_code == 422
    assert "The finalists are not confirmed yet" in text(response)
    assert slots(db_session, scene) == {}


def test_the_generator_is_refused_once_the_presentation_stage_is_closed(client, db_session, rounds, secretariat):
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.FIELD_VERIFICATION)  # presentation closed
    db_session.commit()
    response = client.post(f"{base(rounds)}/generate", data=generator_form(next_monday()))
    assert response.status_code == 422
    assert "is closed" in text(response) and "Presentation" in text(response)
    assert slots(db_session, rounds) == {}


@pytest.mark.parametrize("changes, message", [
    ({"day_start": "10:00", "day_end": "09:00"}, "The daily end must be later than the daily start."),
    ({"day_end": "08:10"}, "Not even one slot fits between the daily start and end."),
    ({"meeting_url": "zoom meeting 123"}, "Give a full web address starting with http:// or https://"),
    ({"presentation_minutes": "0"}, "Use 1 to 120 minutes."),
    ({"break_minutes": "-1"}, "Use 0 to 240 minutes."),
    ({"first_day": ""}, "Choose the first day."),
    ({"day_start": "8 o'clock"}, "Not a valid time value."),
])
def test_bad_generator_input_is_refused_with_the_reason_and_keeps_what_was_typed(
        client, db_session, rounds, secretariat, changes, message):
    form = {**generator_form(next_monday()), **changes}
    response = client.post(f"{base(rounds)}/generate", data=form)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'value="https://zoom.us/j/2033"' in page or changes.get("meeting_url") in page
    assert slots(db_session, rounds) == {}


def test_when_every_finalist_has_a_slot_the_generator_says_so(client, db_session, rounds, secretariat):
    schedule(client, rounds)
    response = client.post(f"{base(rounds)}/generate", data=generator_form(next_monday()))
    assert "Every confirmed finalist already has a slot." in text(response)


def test_moving_a_confirmed_slot_clears_the_confirmation_and_tells_the_agency(client, db_session, rounds,
                                                                              secretariat):
    schedule(client, rounds)
    proposal = rounds.finalists[0]
    slot = slots(db_session, rounds)[proposal.id]
    admin = rounds.admins[proposal.agency_id]
    slot.presenter_name, slot.confirmed_at, slot.confirmed_by_id = "Kepala Dinas", utcnow(), admin.id
    db_session.commit()
    before = len(notifications(db_session, admin, "presentation_scheduled"))
    url = f"{base(rounds)}/{slot.id}"
    new_start = (slot.starts_at + dt.timedelta(days=7)).astimezone(WIB)
    form = {"starts_at": new_start.strftime("%Y-%m-%dT%H:%M"), "presentation_minutes": "10",
            "interview_minutes": "15", "meeting_url": "https://meet.google.com/abc-defg-hij", "notes": "Dipindah."}
    page = text(client.post(url, data=form, follow_redirects=True))
    assert "The slot was moved; the agency was told and must confirm again." in page
    moved = slots(db_session, rounds)[proposal.id]
    assert moved.starts_at == new_start.astimezone(dt.timezone.utc)
    assert (moved.presentation_minutes, moved.interview_minutes) == (10, 15)
    assert moved.confirmed_at is None and moved.confirmed_by_id is None
    told = notifications(db_session, admin, "presentation_scheduled")
    assert len(told) == before + 1 and new_start.strftime("%d-%m-%Y %H:%M") in told[-1].message
    assert "(10 + 15 minutes)" in told[-1].message
    # A change of link or notes alone is no move: no new notification, the confirmation stays.
    moved.confirmed_at, moved.confirmed_by_id = utcnow(), admin.id
    db_session.commit()
    page = text(client.post(url, data={**form, "meeting_url": "https://zoom.us/j/999", "notes": ""},
                            follow_redirects=True))
    assert "The slot was saved." in page
    assert slots(db_session, rounds)[proposal.id].confirmed_at is not None
    assert len(notifications(db_session, admin, "presentation_scheduled")) == before + 1


def test_a_slot_cannot_move_within_the_notice_onto_another_slot_or_to_bad_values(client, db_session, rounds,
                                                                                 secretariat):
    schedule(client, rounds)
    found = slots(db_session, rounds)
    first, second = found[rounds.finalists[0].id], found[rounds.finalists[1].id]
    original = first.starts_at
    url = f"{base(rounds)}/{first.id}"
    form = {"presentation_minutes": "7", "interview_minutes": "13", "meeting_url": "", "notes": ""}
    soon = (utcnow() + dt.timedelta(hours=3)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, data={**form, "starts_at": soon})
    assert response.status_code == 422
    assert "The agency needs 24 hours to confirm: choose" in text(response)
    onto = (second.starts_at + dt.timedelta(minutes=5)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, data={**form, "starts_at": onto})
    assert response.status_code == 422
    assert f"This time overlaps the presentation of {rounds.finalists[1].number}" in text(response)
    response = client.post(url, data={**form, "starts_at": "tomorrow"})
    assert response.status_code == 422 and "Not a valid datetime value." in text(response)
    response = client.post(url, data={**form, "starts_at": onto, "meeting_url": "meet"})
    assert response.status_code == 422 and "Give a full web address" in text(response)
    assert slots(db_session, rounds)[rounds.finalists[0].id].starts_at == original


def test_a_session_that_took_place_earlier_is_recorded_at_its_real_time_while_the_stage_is_open(
        client, db_session, rounds, secretariat):
    schedule(client, rounds)
    slot = slots(db_session, rounds)[rounds.finalists[0].id]
    url = f"{base(rounds)}/{slot.id}"
    earlier = (utcnow() - dt.timedelta(hours=2)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    form = {"presentation_minutes": "7", "interview_minutes": "13", "meeting_url": "", "notes": "Maju sehari.",
            "starts_at": earlier}
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert "can be recorded only while the presentation stage is open" in text(response)
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.PRESENTATION)
    db_session.commit()
    admin = rounds.admins[rounds.finalists[0].agency_id]
    told = len(notifications(db_session, admin, "presentation_scheduled"))
    client.post(url, data=form)
    moved = slots(db_session, rounds)[rounds.finalists[0].id]
    assert moved.starts_at.astimezone(WIB).strftime("%Y-%m-%dT%H:%M") == earlier
    # Nothing to confirm or announce for a session that has happened: the agency is not told again.
    assert len(notifications(db_session, admin, "presentation_scheduled")) == told
    client.post(f"{url}/attendance", data={"attendance": "presented"})
    assert slots(db_session, rounds)[rounds.finalists[0].id].attendance is Attendance.PRESENTED


def test_another_editions_slot_is_404(client, db_session, rounds, secretariat):
    schedule(client, rounds)
    other = finalists_edition(year=2034, open_kind=StageKind.OBJECTION)
    db_session.commit()
    slot = next(iter(slots(db_session, rounds).values()))
    assert client.get(f"/admin/editions/{other.edition.id}/presentations/{slot.id}").status_code == 404


# --- the agency ---------------------------------------------------------------------------------------


@pytest.fixture()
def scheduled(client, db_session, rounds, secretariat, login):
    schedule(client, rounds)
    login.logout()
    return slots(db_session, rounds)


def test_the_admin_lokal_confirms_and_the_secretariat_is_told(client, db_session, rounds, scheduled, login):
    proposal = rounds.finalists[0]
    slot = scheduled[proposal.id]
    admin = rounds.admins[proposal.agency_id]
    login(admin)
    listing = text(client.get("/presentations/"))
    assert proposal.number in listing
    others = [p for p in rounds.finalists if p.agency_id != proposal.agency_id]
    assert all(p.number not in listing for p in others)
    detail = text(client.get(f"/proposals/{proposal.id}"))
    assert 'data-testid="presentation-link"' in detail
    page = text(client.get(f"/presentations/{slot.id}"))
    assert slot.starts_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M") in page and "https://zoom.us/j/2033" in page
    response = client.post(f"/presentations/{slot.id}/confirm", data={"presenter_name": ""})
    assert response.status_code == 422 and "Name the person who will present." in text(response)
    page = text(client.post(f"/presentations/{slot.id}/confirm",
                            data={"presenter_name": "Wali Kota, Dr. Andi"}, follow_redirects=True))
    assert "Attendance confirmed. The secretariat was told." in page
    confirmed = slots(db_session, rounds)[proposal.id]
    assert confirmed.presenter_name == "Wali Kota, Dr. Andi" and confirmed.confirmed_by_id == admin.id
    told = notifications(db_session, rounds.secretariat, "presentation_confirmed")
    assert len(told) == 1 and proposal.number in told[0].message and proposal.agency.name in told[0].message


def test_confirmation_after_the_deadline_is_refused_naming_the_deadline_in_wib(client, db_session, rounds,
                                                                                scheduled, login):
    proposal = rounds.finalists[0]
    slot = scheduled[proposal.id]
    move_slot(db_session, slot, utcnow() + dt.timedelta(hours=5))
    login(rounds.admins[proposal.agency_id])
    page = text(client.get(f"/presentations/{slot.id}"))
    assert 'data-testid="too-late"' in page
    response = client.post(f"/presentations/{slot.id}/confirm", data={"presenter_name": "Kepala Dinas"},
                           follow_redirects=True)
    deadline = (slot.starts_at - dt.timedelta(hours=24)).astimezone(WIB).strftime("%d-%m-%Y %H:%M")
    assert f"Too late to confirm: attendance had to be confirmed by {deadline} WIB" in text(response)
    assert slots(db_session, rounds)[proposal.id].confirmed_at is None


def test_the_upp_reads_but_cannot_confirm_or_send_materials_and_other_agencies_get_404(
        client, db_session, rounds, scheduled, login):
    proposal = rounds.finalists[0]
    slot = scheduled[proposal.id]
    upp = rounds.upps[proposal.agency_id]
    login(upp)
    page = text(client.get(f"/presentations/{slot.id}"))
    assert proposal.number in page and 'data-testid="confirm"' not in page
    assert client.post(f"/presentations/{slot.id}/confirm", data={"presenter_name": "X"}).status_code == 404
    assert client.post(f"/presentations/{slot.id}/materials",
                       data={"video_url": "https://youtu.be/x"}).status_code == 404
    login.logout()
    stranger = next(a for agency_id, a in rounds.admins.items() if agency_id != proposal.agency_id)
    login(stranger)
    assert client.get(f"/presentations/{slot.id}").status_code == 404
    assert client.post(f"/presentations/{slot.id}/confirm", data={"presenter_name": "X"}).status_code == 404
    login.logout()
    login(SecretariatFactory())
    assert client.get(f"/presentations/{slot.id}").status_code == 404  # agency pages only
    assert slots(db_session, rounds)[proposal.id].confirmed_at is None


def test_materials_pdf_by_content_size_limit_and_a_refused_file_keeps_the_video_link(
        client, db_session, rounds, scheduled, login):
    proposal = rounds.finalists[0]
    slot = scheduled[proposal.id]
    login(rounds.admins[proposal.agency_id])
    url = f"/presentations/{slot.id}/materials"
    fake = {"slides": (io.BytesIO(b"PK\x03\x04 not a pdf at all"), "paparan.pdf"),
            "video_url": "https://www.youtube.com/watch?v=kipp2033"}
    response = client.post(url, data=fake, content_type="multipart/form-data")
    assert response.status_code == 422
    page = text(response)
    assert "“paparan.pdf” is not a PDF file (its content was checked, not its name)." in page
    assert 'value="https://www.youtube.com/watch?v=kipp2033"' in page and "Saved: the video link." in page
    kept = slots(db_session, rounds)[proposal.id]
    assert kept.video_url == "https://www.youtube.com/watch?v=kipp2033" and kept.slides_id is None
    rounds.edition.max_file_mb = 1
    db_session.commit()
    big = {"slides": (io.BytesIO(PDF + b"0" * (1024 * 1024)), "besar.pdf"), "video_url": kept.video_url}
    response = client.post(url, data=big, content_type="multipart/form-data")
    assert response.status_code == 422 and "a file may be at most 1 MB" in text(response)
    response = client.post(url, data={"video_url": "youtube kipp"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Give a full web address" in text(response)
    good = {"slides": (io.BytesIO(PDF), "paparan.pdf"), "video_url": "https://drive.google.com/file/d/kipp"}
    page = text(client.post(url, data=good, content_type="multipart/form-data", follow_redirects=True))
    assert "Saved: the video link, the slides." in page
    stored = slots(db_session, rounds)[proposal.id]
    assert stored.video_url == "https://drive.google.com/file/d/kipp"
    slides = db_session.get(StoredFile, stored.slides_id)
    assert slides.content_type == "application/pdf" and slides.size_bytes == len(PDF)
    download = client.get(f"/presentations/{slot.id}/slides")
    assert download.status_code == 200 and download.data == PDF
    login.logout()
    login(rounds.secretariat)
    assert client.get(f"{base(rounds)}/{slot.id}/slides").data == PDF
    assert 'data-testid="slides-link"' in text(client.get(f"{base(rounds)}/{slot.id}"))


def test_materials_are_closed_once_the_presentation_has_started(client, db_session, rounds, scheduled, login):
    proposal = rounds.finalists[0]
    slot = scheduled[proposal.id]
    move_slot(db_session, slot, utcnow() - dt.timedelta(minutes=1))
    login(rounds.admins[proposal.agency_id])
    response = client.post(f"/presentations/{slot.id}/materials",
                           data={"video_url": "https://youtu.be/late"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "its materials can no longer change" in text(response)
    assert slots(db_session, rounds)[proposal.id].video_url is None


# --- attendance ------------------------------------------------------------------------------------


def test_attendance_is_recorded_after_the_start_while_the_stage_is_open_and_can_be_corrected(
        client, db_session, rounds, secretariat):
    schedule(client, rounds)
    proposal = rounds.finalists[0]
    slot = slots(db_session, rounds)[proposal.id]
    url = f"{base(rounds)}/{slot.id}/attendance"
    # The stage is not open yet.
    move_slot(db_session, slot, utcnow() - dt.timedelta(minutes=30))
    response = client.post(url, data={"attendance": "presented"}, follow_redirects=True)
    assert "Not possible now" in text(response) and "not started" in text(response)
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.PRESENTATION)
    db_session.commit()
    assert services.unrecorded_count(rounds.edition) == 8
    # Not before the slot starts.
    later = slots(db_session, rounds)[rounds.finalists[1].id]
    response = client.post(f"{base(rounds)}/{later.id}/attendance", data={"attendance": "presented"},
                           follow_redirects=True)
    assert "record the attendance once it has started" in text(response)
    response = client.post(url, data={"attendance": "maybe"})
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    page = text(client.post(url, data={"attendance": "presented", "note": "Dipaparkan oleh Bupati."},
                            follow_redirects=True))
    assert f"The attendance of {proposal.number} was recorded." in page
    db_session.expire_all()
    assert proposal.status is ProposalStatus.PRESENTED
    assert services.unrecorded_count(rounds.edition) == 7
    recorded = slots(db_session, rounds)[proposal.id]
    assert recorded.attendance is Attendance.PRESENTED and recorded.attendance_by_id == rounds.secretariat.id
    # Corrected to a no-show: the proposal moves again, and each move is on its history.
    client.post(url, data={"attendance": "no_show", "note": "Tidak hadir."})
    db_session.expire_all()
    assert proposal.status is ProposalStatus.NO_SHOW
    actions = [e.action for e in db_session.scalars(sa.select(ProposalEvent).where(
        ProposalEvent.proposal_id == proposal.id).order_by(ProposalEvent.id))]
    assert actions[-2:] == ["record_presented", "record_no_show"]
    assert services.unrecorded_count(rounds.edition) == 7
    # A disqualified finalist's attendance is not recorded.
    other = rounds.finalists[2]
    other_slot = slots(db_session, rounds)[other.id]
    other.status = ProposalStatus.DISQUALIFIED
    move_slot(db_session, other_slot, utcnow() - dt.timedelta(minutes=5))
    response = client.post(f"{base(rounds)}/{other_slot.id}/attendance",
                           data={"attendance": "presented"}, follow_redirects=True)
    assert "no longer in the final round" in text(response)


def test_attendance_is_refused_once_the_stage_is_closed(client, db_session, rounds, secretariat):
    schedule(client, rounds)
    slot = slots(db_session, rounds)[rounds.finalists[0].id]
    move_slot(db_session, slot, utcnow() - dt.timedelta(hours=1))
    set_stages(rounds.edition, utcnow(), open_kind=StageKind.FINAL)
    db_session.commit()
    response = client.post(f"{base(rounds)}/{slot.id}/attendance", data={"attendance": "no_show"},
                           follow_redirects=True)
    assert "is closed" in text(response)
    db_session.expire_all()
    assert rounds.finalists[0].status is ProposalStatus.CONFIRMED


# --- the panel ------------------------------------------------------------------------------------


def panel(db_session, rounds, *, conflicted_agency_id=None):
    members = []
    for agency_id in (None, conflicted_agency_id):
        user = PanelistFactory(agency_id=agency_id) if agency_id else PanelistFactory()
        member = PoolMember(edition_id=rounds.edition.id, stage=StageKind.PRESENTATION, user_id=user.id,
                            status=InvitationStatus.ACCEPTED)
        db_session.add(member)
        members.append(member)
    db_session.commit()
    return members


def test_the_whole_panel_gets_every_finalist_except_hard_conflicts_and_is_told(client, db_session, rounds,
                                                                                secretariat):
    conflicted = rounds.finalists[0]
    free, bound = panel(db_session, rounds, conflicted_agency_id=conflicted.agency_id)
    page = text(client.post(f"{base(rounds)}/assign-panel", follow_redirects=True))
    same_agency = [p for p in rounds.finalists if p.agency_id == conflicted.agency_id]
    expected = 2 * len(rounds.finalists) - len(same_agency)
    assert f"{expected} assignments were published to the panel." in page
    assert "Not assigned because of a conflict of interest" in page and bound.user.name in page
    published = db_session.scalars(sa.select(Assignment).where(
        Assignment.edition_id == rounds.edition.id, Assignment.stage == StageKind.PRESENTATION)).all()
    assert len(published) == expected and all(a.state is AssignmentState.PUBLISHED for a in published)
    assert {a.proposal_id for a in published if a.member_id == free.id} == {p.id for p in rounds.finalists}
    assert not {a.proposal_id for a in published if a.member_id == bound.id} & {p.id for p in same_agency}
    for member in (free, bound):
        assert notifications(db_session, member.user, "assignments_published")
    again = text(client.post(f"{base(rounds)}/assign-panel", follow_redirects=True))
    assert "Every panelist already has every confirmed finalist, except where a conflict of interest" in again


def test_assigning_the_panel_needs_a_pool_and_confirmed_finalists(client, db_session, login):
    scene = finalists_edition(open_kind=StageKind.OBJECTION)
    db_session.commit()
    login(scene.secretariat)
    page = text(client.post(f"{base(scene)}/assign-panel", follow_redirects=True))
    assert "The finalists are not confirmed yet" in page
    confirm_finalists(scene)
    db_session.commit()
    page = text(client.post(f"{base(scene)}/assign-panel", follow_redirects=True))
    assert "No panelist has accepted the invitation to the presentation pool yet." in page


def test_panelists_score_the_presentation_beside_its_slot_and_materials(client, db_session, rounds, secretariat,
                                                                        login):
    schedule(client, rounds)
    free, _bound = panel(db_session, rounds)
    client.post(f"{base(rounds)}/assign-panel")
    created = client.post(f"/admin/scoring/{rounds.edition.id}/presentation/create", follow_redirects=True)
    assert "The scoring scheme was created" in text(created)
    scheme = db_session.scalar(sa.select(ScoringScheme).where(ScoringScheme.edition_id == rounds.edition.id,
                                                              ScoringScheme.stage == StageKind.PRESENTATION))
    keys = [key for key, *_rest in PRESENTATION_ASPECTS]
    for group in rounds.edition.groups:
        assert [a.key for a in scheme.aspects_of(group.code)] == keys
        assert sum(a.weight for a in scheme.aspects_of(group.code)) == 100
    proposal = rounds.finalists[0]
    slot = slots(db_session, rounds)[proposal.id]
    stored = StoredFile(original_name="paparan.pdf", stored_name="presentation-test-slides.pdf",
                        content_type="application/pdf", size_bytes=len(PDF), sha256="0" * 64)
    db_session.add(stored)
    db_session.flush()
    from kipp.proposals import uploads

    path = uploads.path_for(stored.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    slot.slides_id, slot.video_url = stored.id, "https://youtu.be/kipp"
    db_session.commit()
    login.logout()
    login(free.user)
    dashboard = text(client.get("/score/"))
    assert "Presentation and interview (Tim Panel Independen)" in dashboard and proposal.number in dashboard
    sheet_url = f"/score/presentation/{proposal.id}"
    sheet = text(client.get(sheet_url))
    assert 'data-testid="presentation-slot"' in sheet
    assert slot.starts_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M") + " WIB" in sheet
    assert "https://zoom.us/j/2033" in sheet and "https://youtu.be/kipp" in sheet
    assert f"/score/presentation/{proposal.id}/slides" in sheet
    assert client.get(f"{sheet_url}/slides").data == PDF
    values = {f"score-{key}": "80" for key in keys}
    submitted = client.post(sheet_url, data={**values, "action": "submit", "version": "0"}, follow_redirects=True)
    assert "Your sheet was submitted (total 80.00)" in text(submitted)
    saved = db_session.scalar(sa.select(ScoreSheet).where(ScoreSheet.scheme_id == scheme.id,
                                                          ScoreSheet.member_id == free.id,
                                                          ScoreSheet.proposal_id == proposal.id))
    assert saved.status is SheetStatus.SUBMITTED
    # A panelist not on the stage's assignment sees neither the sheet nor the slides.
    login.logout()
    login(PanelistFactory())
    assert client.get(sheet_url).status_code == 404
    assert client.get(f"{sheet_url}/slides").status_code == 404


def test_the_secretariat_page_shows_each_slot_with_its_state(client, db_session, rounds, secretariat, login):
    schedule(client, rounds)
    proposal = rounds.finalists[0]
    slot = slots(db_session, rounds)[proposal.id]
    slot.confirmed_at, slot.confirmed_by_id, slot.presenter_name = utcnow(), rounds.admins[proposal.agency_id].id, \
        "Kepala Badan"
    slot.video_url = "https://youtu.be/v"
    db_session.commit()
    page = text(client.get(base(rounds)))
    assert slot.starts_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M") in page
    assert "Kepala Badan" in page and f'data-testid="confirmation-{slot.id}">Confirmed<' in page
    assert 'data-testid="count-agency-confirmed">1<' in page and 'data-testid="count-unrecorded">8<' in page
    # Only the secretariat opens it.
    login.logout()
    login(rounds.admins[proposal.agency_id])
    assert client.get(base(rounds)).status_code == 404
