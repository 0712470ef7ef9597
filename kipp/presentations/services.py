"""Presentation and interview of the confirmed finalists (kipp-domain §1, step 9).

The secretariat schedules a slot per finalist (a generator lays them out over working days in
WIB; each slot can be edited), the agency's Admin Lokal confirms attendance at least
``edition.confirm_hours`` ahead and sends the slides and the video link, the secretariat records
who presented and who did not come, and the panel scores the presentations in the PRESENTATION
scoring scheme (every panelist of the stage's pool is given every finalist: :func:`assign_panel`).

Services flush and audit; the caller commits. Every action that belongs to the stage asks
:func:`kipp.progress.stages.require` whether the stage allows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import to_wib
from kipp.judging.conflicts import conflict_matrix, proposal_label, worst
from kipp.judging.models import Assignment, AssignmentState, Severity
from kipp.notifications.services import notify
from kipp.presentations import rules
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.progress.stages import require, status_of
from kipp.proposals import uploads
from kipp.proposals.models import Proposal, StoredFile
from kipp.proposals.rules import sniff_content_type
from kipp.proposals.services import _transition
from kipp.proposals.states import IN_FINAL_ROUND, Action, ProposalStatus
from kipp.selection.models import Shortlist, ShortlistKind

STAGE = StageKind.PRESENTATION
# Proposals the schedule lists: the confirmed finalists, also once attendance or the final result
# has moved them on (so the page keeps showing them).
LISTED = IN_FINAL_ROUND | {ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY}
NOTE_MAX = 2000
NAME_MAX = 255

LINK_MESSAGES = {
    "missing": lambda: _("Give the link."),
    "too_long": lambda: _("A link may be at most %(max)s characters.", max=rules.URL_MAX),
    "not_a_link": lambda: _("Give a full web address starting with http:// or https://, e.g. https://zoom.us/j/123."),
}
PLAN_MESSAGES = {
    "lengths": lambda p: _("The presentation needs at least 1 minute and the interview cannot be negative."),
    "too_long": lambda p: _("A slot may be at most %(max)s minutes long.", max=rules.MAX_SLOT_MINUTES),
    "break": lambda p: _("The break must be 0 to %(max)s minutes.", max=rules.MAX_BREAK_MINUTES),
    "day_order": lambda p: _("The daily end must be later than the daily start."),
    "day_too_short": lambda p: _("Not even one slot fits between the daily start and end."),
    "no_room": lambda p: _("Only %(placed)s of %(count)s slots fit in the next %(days)s days: widen the day or "
                           "shorten the slots.", **p),
}


def wib_text(moment: dt.datetime) -> str:
    """A moment as the notifications print it ("… %(when)s WIB")."""
    return to_wib(moment).strftime("%d-%m-%Y %H:%M")


# --- reading --------------------------------------------------------------------------------------


def finalists_shortlist(edition: Edition) -> Shortlist | None:
    return db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id,
                                                        Shortlist.kind == ShortlistKind.FINALISTS))


def finalists_confirmed(edition: Edition) -> bool:
    shortlist = finalists_shortlist(edition)
    return shortlist is not None and shortlist.confirmed_at is not None


def require_confirmed(edition: Edition) -> None:
    if not finalists_confirmed(edition):
        raise DomainError(_("The finalists are not confirmed yet: they are confirmed by decree once the objection "
                            "window has ended."), code="not_confirmed")


def finalists(edition: Edition) -> list[Proposal]:
    """The confirmed finalists, by group and then proposal number (the schedule's order)."""
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.edition_id == edition.id,
                                  Proposal.status.in_([s.value for s in LISTED]))
        .options(selectinload(Proposal.group), selectinload(Proposal.agency), selectinload(Proposal.unit))).all()
    return sorted(proposals, key=lambda p: (p.group.position, p.number or "", p.id))


def slots_of(edition: Edition) -> dict[int, PresentationSlot]:
    """Proposal id -> its slot."""
    slots = db.session.scalars(
        sa.select(PresentationSlot).where(PresentationSlot.edition_id == edition.id)
        .options(selectinload(PresentationSlot.slides), selectinload(PresentationSlot.confirmed_by))).all()
    return {s.proposal_id: s for s in slots}


def slot_of(proposal: Proposal) -> PresentationSlot | None:
    return db.session.scalar(sa.select(PresentationSlot).where(
        PresentationSlot.edition_id == proposal.edition_id, PresentationSlot.proposal_id == proposal.id))


def unrecorded_count(edition: Edition) -> int:
    """Confirmed finalists whose attendance is not recorded yet (the presentation stage's close guard)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status == ProposalStatus.CONFIRMED)) or 0


def confirmation_deadline(slot: PresentationSlot) -> dt.datetime:
    return rules.confirmation_deadline(slot.starts_at, slot.edition.confirm_hours)


def can_confirm(user: User, slot: PresentationSlot) -> bool:
    """The Admin Lokal of the finalist's agency (the UPP reads only)."""
    return user.role is Role.ADMIN_LOKAL and user.agency_id == slot.proposal.agency_id


def agency_people(proposal: Proposal) -> list[User]:
    """The agency's Admin Lokal(s) and the proposal unit's UPP."""
    return list(db.session.scalars(sa.select(User).where(
        User.active, User.agency_id == proposal.agency_id,
        sa.or_(User.role == Role.ADMIN_LOKAL, sa.and_(User.role == Role.UPP, User.unit_id == proposal.unit_id)))
        .order_by(User.id)))


def _link_problem(url: str | None, field_name: str) -> None:
    problem = rules.link_problem(url)
    if problem:
        raise DomainError(LINK_MESSAGES[problem](), code=f"link_{problem}", field=field_name)


def _minutes_text(slot: PresentationSlot) -> str:
    if slot.interview_minutes:
        return f"{slot.presentation_minutes} + {slot.interview_minutes}"
    return str(slot.presentation_minutes)


def _notify_scheduled(slot: PresentationSlot) -> None:
    proposal = slot.proposal
    notify(agency_people(proposal), "presentation_scheduled",
           link=("agency_presentations.slot", {"slot_id": slot.id}),
           number=proposal.number, title=proposal.title, when=wib_text(slot.starts_at),
           minutes=_minutes_text(slot), due=wib_text(confirmation_deadline(slot)))


def _require_schedulable(edition: Edition) -> None:
    require_confirmed(edition)
    require(edition, STAGE, StageStatus.PLANNED, StageStatus.OPEN)


def _live_slots(edition: Edition) -> dict[int, PresentationSlot]:
    """Slots of the listed finalists (a disqualified finalist's slot no longer holds its time)."""
    listed = {p.id for p in finalists(edition)}
    return {proposal_id: s for proposal_id, s in slots_of(edition).items() if proposal_id in listed}


# --- the schedule ---------------------------------------------------------------------------------


def generate_schedule(actor: User, edition: Edition, *, plan: rules.DayPlan, meeting_url: str | None = None,
                      now: dt.datetime | None = None) -> list[PresentationSlot]:
    """A slot for every confirmed finalist without one, in the schedule's order, laid out by
    ``plan`` after the slots that exist, none sooner than ``confirm_hours`` from now."""
    now = now or utcnow()
    _require_schedulable(edition)
    link = (meeting_url or "").strip() or None
    if link is not None:
        _link_problem(link, "meeting_url")
    existing = _live_slots(edition)
    waiting = [p for p in finalists(edition) if p.status is ProposalStatus.CONFIRMED and p.id not in existing]
    if not waiting:
        raise DomainError(_("Every confirmed finalist already has a slot. Edit a slot to move it."), code="nothing")
    try:
        starts = rules.generate_starts(len(waiting), plan, earliest=rules.earliest_start(now, edition.confirm_hours),
                                       busy=[(s.starts_at, s.ends_at) for s in existing.values()])
    except rules.ScheduleProblem as problem:
        raise DomainError(PLAN_MESSAGES[problem.code](problem.params), code=problem.code,
                          field="day_end" if problem.code in ("day_order", "day_too_short") else None) from None
    created = []
    for proposal, starts_at in zip(waiting, starts):
        slot = PresentationSlot(edition_id=edition.id, proposal_id=proposal.id, starts_at=starts_at,
                                presentation_minutes=plan.presentation_minutes,
                                interview_minutes=plan.interview_minutes, meeting_url=link)
        slot.edition, slot.proposal = edition, proposal
        db.session.add(slot)
        created.append(slot)
    db.session.flush()
    for slot in created:
        _notify_scheduled(slot)
    record(actor, "presentation.schedule_generated", object_type="presentation_schedule", object_id=edition.id,
           after={"slots": [{"proposal": s.proposal.number, "starts_at": s.starts_at.isoformat()} for s in created],
                  "plan": {"first_day": plan.first_day.isoformat(), "day_start": plan.day_start.isoformat(),
                           "day_end": plan.day_end.isoformat(), "break_minutes": plan.break_minutes,
                           "skip_weekends": plan.skip_weekends}},
           label=edition.name)
    return created


def update_slot(actor: User, slot: PresentationSlot, *, starts_at: dt.datetime, presentation_minutes: int,
                interview_minutes: int, meeting_url: str | None, notes: str | None,
                now: dt.datetime | None = None) -> bool:
    """Change a slot; True when it moved (new time or length), which clears the agency's
    confirmation and tells the agency."""
    now = now or utcnow()
    edition = slot.edition
    _require_schedulable(edition)
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be aware")
    if presentation_minutes < 1 or interview_minutes < 0:
        raise DomainError(PLAN_MESSAGES["lengths"]({}), code="lengths", field="presentation_minutes")
    if presentation_minutes + interview_minutes > rules.MAX_SLOT_MINUTES:
        raise DomainError(PLAN_MESSAGES["too_long"]({}), code="too_long", field="interview_minutes")
    link = (meeting_url or "").strip() or None
    if link is not None:
        _link_problem(link, "meeting_url")
    text = (notes or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        raise DomainError(_("Use at most %(max)s characters.", max=NOTE_MAX), code="too_long", field="notes")
    moved = (starts_at != slot.starts_at or presentation_minutes != slot.presentation_minutes
             or interview_minutes != slot.interview_minutes)
    # A time in the past records when a session actually took place (moved on the day, by
    # agreement with the agency): no notice to give, nothing to confirm again.
    took_place = starts_at != slot.starts_at and starts_at <= now
    if moved:
        if slot.attendance is not Attendance.SCHEDULED:
            raise DomainError(_("The attendance of this slot is recorded; it can no longer move."), code="recorded")
        earliest = rules.earliest_start(now, edition.confirm_hours)
        if took_place and status_of(edition, StageKind.PRESENTATION) is not StageStatus.OPEN:
            raise DomainError(_("A session that already took place can be recorded only while the presentation "
                                "stage is open."), code="past_not_open", field="starts_at")
        if not took_place and starts_at != slot.starts_at and starts_at < earliest:
            raise DomainError(
                _("The agency needs %(hours)s hours to confirm: choose %(earliest)s WIB or later.",
                  hours=edition.confirm_hours, earliest=wib_text(rules.round_up(earliest))),
                code="too_soon", field="starts_at")
        ends_at = starts_at + dt.timedelta(minutes=presentation_minutes + interview_minutes)
        others = {(s.starts_at, s.ends_at): s for s in _live_slots(edition).values() if s.id != slot.id}
        clash = rules.overlaps(starts_at, ends_at, others)
        if clash is not None:
            other = others[clash]
            raise DomainError(_("This time overlaps the presentation of %(number)s (%(start)s – %(end)s WIB).",
                                number=other.proposal.number, start=wib_text(other.starts_at),
                                end=to_wib(other.ends_at).strftime("%H:%M")), code="overlap", field="starts_at")
    before = _slot_snapshot(slot)
    slot.starts_at, slot.presentation_minutes, slot.interview_minutes = starts_at, presentation_minutes, \
        interview_minutes
    slot.meeting_url, slot.notes = link, text
    if moved and not took_place and slot.confirmed_at is not None:
        slot.confirmed_at, slot.confirmed_by_id = None, None
    db.session.flush()
    if moved and not took_place:
        _notify_scheduled(slot)
    record(actor, "presentation.slot_moved" if moved else "presentation.slot_changed", slot, before=before,
           after=_slot_snapshot(slot), label=slot.proposal.number)
    return moved


def _slot_snapshot(slot: PresentationSlot) -> dict[str, object]:
    return {"starts_at": slot.starts_at.isoformat(), "presentation_minutes": slot.presentation_minutes,
            "interview_minutes": slot.interview_minutes, "meeting_url": slot.meeting_url, "notes": slot.notes,
            "confirmed": slot.confirmed_at is not None, "presenter_name": slot.presenter_name,
            "video_url": slot.video_url, "slides_id": slot.slides_id, "attendance": slot.attendance.value}


# --- the agency -----------------------------------------------------------------------------------


def _require_agency_admin(actor: User, slot: PresentationSlot) -> None:
    if not can_confirm(actor, slot):
        raise NotAllowed(_("Only the Admin Lokal of the finalist's agency can do this."))


def _require_materials_open(slot: PresentationSlot, now: dt.datetime) -> None:
    require(slot.edition, STAGE, StageStatus.PLANNED, StageStatus.OPEN)
    if slot.proposal.status not in IN_FINAL_ROUND:
        raise DomainError(_("This proposal is no longer in the final round."), code="not_finalist")
    if now >= slot.starts_at:
        raise DomainError(_("The presentation started on %(when)s WIB; its materials can no longer change.",
                            when=wib_text(slot.starts_at)), code="started")


def confirm_attendance(actor: User, slot: PresentationSlot, *, presenter_name: str,
                       now: dt.datetime | None = None) -> None:
    """The Admin Lokal confirms the agency will present, naming the presenter, no later than
    ``confirm_hours`` before the start; the secretariat is told."""
    now = now or utcnow()
    _require_agency_admin(actor, slot)
    require(slot.edition, STAGE, StageStatus.PLANNED, StageStatus.OPEN)
    if slot.proposal.status is not ProposalStatus.CONFIRMED:
        raise DomainError(_("This proposal is no longer waiting for its presentation."), code="not_finalist")
    deadline = confirmation_deadline(slot)
    if not rules.may_confirm(now, slot.starts_at, slot.edition.confirm_hours):
        raise DomainError(
            _("Too late to confirm: attendance had to be confirmed by %(deadline)s WIB (%(hours)s hours before the "
              "presentation on %(when)s WIB). Contact the secretariat.", deadline=wib_text(deadline),
              hours=slot.edition.confirm_hours, when=wib_text(slot.starts_at)), code="too_late")
    name = (presenter_name or "").strip()
    if not name:
        raise DomainError(_("Name the person who will present."), code="presenter", field="presenter_name")
    if len(name) > NAME_MAX:
        raise DomainError(_("Use at most %(max)s characters.", max=NAME_MAX), code="too_long",
                          field="presenter_name")
    before = _slot_snapshot(slot)
    slot.presenter_name = name
    slot.confirmed_at, slot.confirmed_by_id = now, actor.id
    db.session.flush()
    proposal = slot.proposal
    secretariat = db.session.scalars(sa.select(User).where(User.role == Role.SECRETARIAT, User.active)
                                     .order_by(User.id)).all()
    notify(secretariat, "presentation_confirmed", link=("presentations.index", {"edition_id": slot.edition_id}),
           agency=proposal.agency.name, title=proposal.title, number=proposal.number, when=wib_text(slot.starts_at))
    record(actor, "presentation.confirmed", slot, before=before, after=_slot_snapshot(slot), label=proposal.number)


def set_video_link(actor: User, slot: PresentationSlot, *, video_url: str | None,
                   now: dt.datetime | None = None) -> None:
    """The video's link (empty removes it)."""
    now = now or utcnow()
    _require_agency_admin(actor, slot)
    _require_materials_open(slot, now)
    link = (video_url or "").strip() or None
    if link is not None:
        _link_problem(link, "video_url")
    if link == slot.video_url:
        return
    before = {"video_url": slot.video_url}
    slot.video_url = link
    db.session.flush()
    record(actor, "presentation.video_link", slot, before=before, after={"video_url": link},
           label=slot.proposal.number)


def upload_slides(actor: User, slot: PresentationSlot, *, filename: str, data: bytes,
                  now: dt.datetime | None = None) -> StoredFile:
    """The presentation's slides, a PDF checked by its content and size; replaces earlier slides
    (their bytes stay on disk, as proposal files do, for an audited history)."""
    now = now or utcnow()
    _require_agency_admin(actor, slot)
    _require_materials_open(slot, now)
    name = (filename or "").strip() or "slides.pdf"
    if not data:
        raise DomainError(_("The file “%(name)s” is empty.", name=name), code="file_empty", field="slides")
    if sniff_content_type(data[:16]) != "application/pdf":
        raise DomainError(_("“%(name)s” is not a PDF file (its content was checked, not its name). Save the slides "
                            "as PDF and upload them again.", name=name), code="file_type", field="slides")
    limit_mb = slot.edition.max_file_mb
    if len(data) > limit_mb * 1024 * 1024:
        raise DomainError(_("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.", name=name,
                            size=f"{len(data) / 1048576:.1f}", limit=limit_mb), code="file_too_large",
                          field="slides")
    stored_name, digest = uploads.store(data, "pdf")
    stored = StoredFile(original_name=name[-255:], stored_name=stored_name, content_type="application/pdf",
                        size_bytes=len(data), sha256=digest, uploaded_by_id=actor.id, uploaded_at=now)
    db.session.add(stored)
    db.session.flush()
    before = {"slides_id": slot.slides_id}
    slot.slides_id = stored.id
    db.session.flush()
    record(actor, "presentation.slides_uploaded", slot, before=before,
           after={"slides_id": stored.id, "file": stored.original_name, "sha256": digest, "size": len(data)},
           label=slot.proposal.number)
    return stored


# --- attendance -----------------------------------------------------------------------------------


def record_attendance(actor: User, slot: PresentationSlot, *, attendance: Attendance, note: str | None = None,
                      now: dt.datetime | None = None) -> None:
    """Presented or no-show, once the slot has started and while the stage is open; correctable."""
    now = now or utcnow()
    if attendance not in (Attendance.PRESENTED, Attendance.NO_SHOW):
        raise DomainError(_("Choose presented or no-show."), code="attendance", field="attendance")
    require(slot.edition, STAGE, StageStatus.OPEN)
    if now < slot.starts_at:
        raise DomainError(_("The presentation starts on %(when)s WIB; record the attendance once it has started.",
                            when=wib_text(slot.starts_at)), code="not_started")
    proposal = slot.proposal
    if proposal.status not in IN_FINAL_ROUND:
        raise DomainError(_("This proposal is no longer in the final round."), code="not_finalist")
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        raise DomainError(_("Use at most %(max)s characters.", max=NOTE_MAX), code="too_long", field="note")
    before = {"attendance": slot.attendance.value, "note": slot.attendance_note}
    slot.attendance, slot.attendance_note = attendance, text
    slot.attendance_by_id, slot.attendance_at = actor.id, now
    action = Action.RECORD_PRESENTED if attendance is Attendance.PRESENTED else Action.RECORD_NO_SHOW
    wanted = ProposalStatus.PRESENTED if attendance is Attendance.PRESENTED else ProposalStatus.NO_SHOW
    if proposal.status is not wanted:
        _transition(proposal, action, actor=actor, comment=text)
    db.session.flush()
    record(actor, "presentation.attendance", slot, before=before,
           after={"attendance": attendance.value, "note": text}, label=proposal.number)


# --- the panel ------------------------------------------------------------------------------------


@dataclass
class PanelAssignment:
    created: int = 0
    published: int = 0
    skipped: list[str] = field(default_factory=list)  # hard conflicts, readable
    warnings: list[str] = field(default_factory=list)  # soft conflicts, assigned anyway


def assign_panel(actor: User, edition: Edition) -> PanelAssignment:
    """Every accepted member of the PRESENTATION pool gets every confirmed finalist (the whole panel
    hears each presentation), except where a hard conflict of interest forbids it; then the
    assignment is published to them as :func:`kipp.assignment.services.publish` does."""
    from kipp.assignment import services as assignment

    _require_schedulable(edition)
    members = assignment.stage_members(edition, STAGE)
    if not members:
        raise DomainError(_("No panelist has accepted the invitation to the presentation pool yet."),
                          code="no_members")
    proposals = [p for p in finalists(edition) if p.status in IN_FINAL_ROUND]
    if not proposals:
        raise DomainError(_("There is no confirmed finalist to assign."), code="no_finalists")
    held = {(a.proposal_id, a.member_id) for a in assignment.live_assignments(edition, STAGE)}
    matrix = conflict_matrix(edition, STAGE, members, proposals)
    result = PanelAssignment()
    for proposal in proposals:
        for member in members:
            if (proposal.id, member.id) in held:
                continue
            found = matrix.get((proposal.id, member.id), [])
            label = proposal_label(proposal.number, proposal.title)
            if worst(found) is Severity.HARD:
                result.skipped.append(f"{member.user.name} – {label}: " + "; ".join(c.reason for c in found))
                continue
            if found:
                result.warnings.append(f"{member.user.name} – {label}: " + "; ".join(c.reason for c in found))
            db.session.add(Assignment(edition_id=edition.id, stage=STAGE, proposal_id=proposal.id,
                                      member_id=member.id, pinned=True, source="whole_panel",
                                      explanation={"reason": "whole_panel",
                                                   "warnings": [c.reason for c in found]}))
            result.created += 1
    db.session.flush()
    drafts = any(a.state is AssignmentState.DRAFT for a in assignment.live_assignments(edition, STAGE))
    if not drafts:
        if result.skipped:
            raise DomainError(_("Every panelist already has every confirmed finalist, except where a conflict of "
                                "interest forbids it: %(pairs)s", pairs=" · ".join(result.skipped)), code="nothing")
        raise DomainError(_("Every panelist already has every confirmed finalist."), code="nothing")
    record(actor, "presentation.panel_assigned", object_type="assignment_stage",
           object_id=f"{edition.id}:{STAGE.value}",
           after={"created": result.created, "skipped": result.skipped, "warnings": result.warnings},
           label=edition.name)
    result.published = assignment.publish(actor, edition, STAGE)
    return result
