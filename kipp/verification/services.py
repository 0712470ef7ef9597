"""Field verification (verifikasi/observasi lapangan) of confirmed finalists, when the edition holds
it (kipp-domain §1, step 10): the secretariat plans a visit (date, place) and its team from the
stage's pool — at least one panelist (TPI) and one evaluator (TE), none with a hard conflict of
interest — written as published assignments of the FIELD_VERIFICATION stage; after the visit a
member of the team (or the secretariat) records the findings and a score from 0 to 100.

Services flush and audit; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

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
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember, Severity
from kipp.notifications.services import notify
from kipp.progress.stages import require
from kipp.proposals.models import Proposal
from kipp.proposals.states import IN_FINAL_ROUND
from kipp.selection.models import Shortlist, ShortlistKind
from kipp.verification.models import FieldVisit

STAGE = StageKind.FIELD_VERIFICATION
LOCATION_MAX = 255
FINDINGS_MAX = 20000
SCORE_MIN, SCORE_MAX = Decimal(0), Decimal(100)


# --- reading --------------------------------------------------------------------------------------


def finalists_confirmed(edition: Edition) -> bool:
    shortlist = db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id,
                                                             Shortlist.kind == ShortlistKind.FINALISTS))
    return shortlist is not None and shortlist.confirmed_at is not None


def candidates(edition: Edition) -> list[Proposal]:
    """The confirmed finalists still in the final round, by group and number."""
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in IN_FINAL_ROUND]))
        .options(selectinload(Proposal.group), selectinload(Proposal.agency))).all()
    return sorted(proposals, key=lambda p: (p.group.position, p.number or "", p.id))


def pool(edition: Edition) -> list[PoolMember]:
    """The accepted members of the stage's pool, panelists first."""
    members = db.session.scalars(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == STAGE,
        PoolMember.status == InvitationStatus.ACCEPTED).options(selectinload(PoolMember.user))).all()
    return sorted(members, key=lambda m: (m.user.role is not Role.PANELIST, m.user.name))


def visits(edition: Edition) -> list[FieldVisit]:
    return list(db.session.scalars(sa.select(FieldVisit).where(FieldVisit.edition_id == edition.id)
                                   .options(selectinload(FieldVisit.proposal).selectinload(Proposal.agency),
                                            selectinload(FieldVisit.recorded_by))
                                   .order_by(FieldVisit.visit_date, FieldVisit.id)))


def _team_assignments(edition_id: int, proposal_ids: Iterable[int]) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.edition_id == edition_id, Assignment.stage == STAGE,
        Assignment.state == AssignmentState.PUBLISHED, Assignment.member_id.is_not(None),
        Assignment.proposal_id.in_(list(proposal_ids)))
        .options(selectinload(Assignment.member).selectinload(PoolMember.user)).order_by(Assignment.id)))


def teams(edition: Edition) -> dict[int, list[PoolMember]]:
    """Proposal id -> the members of its visiting team."""
    found: dict[int, list[PoolMember]] = {}
    for assignment in _team_assignments(edition.id, [v.proposal_id for v in visits(edition)]):
        found.setdefault(assignment.proposal_id, []).append(assignment.member)
    return found


def team_of(visit: FieldVisit) -> list[PoolMember]:
    return [a.member for a in _team_assignments(visit.edition_id, [visit.proposal_id])]


def _complete(members: Iterable[PoolMember]) -> bool:
    roles = {m.user.role for m in members}
    return Role.PANELIST in roles and Role.EVALUATOR in roles


def incomplete_teams(edition: Edition) -> int:
    """Planned visits whose team lacks a panelist or an evaluator (the stage's open guard)."""
    found = teams(edition)
    return sum(1 for v in visits(edition) if not _complete(found.get(v.proposal_id, [])))


def unrecorded_count(edition: Edition) -> int:
    """Planned visits without their findings and score (the stage's close guard)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(FieldVisit).where(
        FieldVisit.edition_id == edition.id, FieldVisit.recorded_at.is_(None))) or 0


def is_on_team(user: User, visit: FieldVisit) -> bool:
    return any(m.user_id == user.id for m in team_of(visit))


def visits_of(user: User) -> list[FieldVisit]:
    """The visits whose team the user is on, newest edition first."""
    proposal_pairs = sa.select(Assignment.edition_id, Assignment.proposal_id).join(
        PoolMember, PoolMember.id == Assignment.member_id).where(
        PoolMember.user_id == user.id, Assignment.stage == STAGE, Assignment.state == AssignmentState.PUBLISHED)
    pairs = {tuple(row) for row in db.session.execute(proposal_pairs)}
    if not pairs:
        return []
    found = db.session.scalars(sa.select(FieldVisit).where(
        sa.tuple_(FieldVisit.edition_id, FieldVisit.proposal_id).in_(list(pairs)))
        .options(selectinload(FieldVisit.proposal).selectinload(Proposal.agency),
                 selectinload(FieldVisit.edition))).all()
    return sorted(found, key=lambda v: (-v.edition.year, v.visit_date or dt.date.max, v.id))


# --- planning -------------------------------------------------------------------------------------


def _require_plannable(edition: Edition) -> None:
    if not finalists_confirmed(edition):
        raise DomainError(_("The finalists are not confirmed yet: they are confirmed by decree once the objection "
                            "window has ended."), code="not_confirmed")
    require(edition, STAGE, StageStatus.PLANNED, StageStatus.OPEN)


def _clean_where_and_when(visit_date: dt.date | None, location: str | None, *, today: dt.date,
                          old_date: dt.date | None = None) -> tuple[dt.date, str]:
    if visit_date is None:
        raise DomainError(_("Choose the date of the visit."), code="date", field="visit_date")
    if visit_date < today and visit_date != old_date:
        raise DomainError(_("The visit date %(date)s has passed; choose today or a later day.",
                            date=visit_date.strftime("%d-%m-%Y")), code="date_past", field="visit_date")
    place = (location or "").strip()
    if not place:
        raise DomainError(_("Say where the team goes (the address or the service's location)."), code="location",
                          field="location")
    if len(place) > LOCATION_MAX:
        raise DomainError(_("Use at most %(max)s characters.", max=LOCATION_MAX), code="too_long", field="location")
    return visit_date, place


def _team(edition: Edition, proposal: Proposal, member_ids: Iterable[int]) -> list[PoolMember]:
    """The chosen members, checked: in the pool, accepted, a panelist and an evaluator, no hard conflict."""
    wanted = {int(i) for i in member_ids}
    members = [m for m in pool(edition) if m.id in wanted]
    if len(members) != len(wanted):
        raise DomainError(_("Choose the team from the accepted members of the field verification pool."),
                          code="member", field="member_ids")
    if not _complete(members):
        raise DomainError(_("The team needs at least one panelist (Tim Panel Independen) and one evaluator "
                            "(Tim Evaluasi)."), code="team", field="member_ids")
    matrix = conflict_matrix(edition, STAGE, members, [proposal])
    refused = [f"{m.user.name}: " + "; ".join(c.reason for c in matrix[(proposal.id, m.id)])
               for m in members if worst(matrix.get((proposal.id, m.id), [])) is Severity.HARD]
    if refused:
        raise DomainError(_("Conflict of interest: %(reasons)s", reasons=" · ".join(refused)), code="conflict",
                          field="member_ids")
    return members


def _notify_members(visit: FieldVisit, members: Iterable[PoolMember]) -> None:
    proposal = visit.proposal
    notify([m.user for m in members], "field_visit_assigned", link=("field.visit", {"visit_id": visit.id}),
           number=proposal.number, title=proposal.title, agency=proposal.agency.name, edition=visit.edition.name)


def _write_team(actor: User, visit: FieldVisit, members: list[PoolMember]) -> list[PoolMember]:
    """Make the published assignments match ``members``; the newcomers."""
    current = {a.member_id: a for a in _team_assignments(visit.edition_id, [visit.proposal_id])}
    for member_id, assignment in current.items():
        if member_id not in {m.id for m in members}:
            assignment.state = AssignmentState.REMOVED
    added = [m for m in members if m.id not in current]
    for member in added:
        db.session.add(Assignment(edition_id=visit.edition_id, stage=STAGE, proposal_id=visit.proposal_id,
                                  member_id=member.id, pinned=True, source="field_visit",
                                  state=AssignmentState.PUBLISHED, explanation={"reason": "field_visit"}))
    db.session.flush()
    return added


def _snapshot(visit: FieldVisit, members: Iterable[PoolMember]) -> dict[str, Any]:
    return {"visit_date": visit.visit_date.isoformat() if visit.visit_date else None, "location": visit.location,
            "team": sorted(m.user.name for m in members)}


def plan_visit(actor: User, edition: Edition, *, proposal: Proposal, visit_date: dt.date | None,
               location: str | None, member_ids: Iterable[int], now: dt.datetime | None = None) -> FieldVisit:
    """A visit to a confirmed finalist with its team; the team's members are told."""
    now = now or utcnow()
    _require_plannable(edition)
    if proposal.edition_id != edition.id or proposal.status not in IN_FINAL_ROUND:
        raise DomainError(_("Only a confirmed finalist of this edition can be visited."), code="proposal",
                          field="proposal_id")
    if db.session.scalar(sa.select(FieldVisit.id).where(FieldVisit.edition_id == edition.id,
                                                        FieldVisit.proposal_id == proposal.id)) is not None:
        raise DomainError(_("A visit to %(number)s is already planned; change it on its page.",
                            number=proposal.number), code="exists", field="proposal_id")
    day, place = _clean_where_and_when(visit_date, location, today=to_wib(now).date())
    members = _team(edition, proposal, member_ids)
    visit = FieldVisit(edition_id=edition.id, proposal_id=proposal.id, visit_date=day, location=place)
    visit.edition, visit.proposal = edition, proposal
    db.session.add(visit)
    db.session.flush()
    added = _write_team(actor, visit, members)
    _notify_members(visit, added)
    record(actor, "field_visit.planned", visit, after=_snapshot(visit, members),
           label=proposal_label(proposal.number, proposal.title))
    return visit


def update_visit(actor: User, visit: FieldVisit, *, visit_date: dt.date | None, location: str | None,
                 member_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Change the date, place or team; members who join are told."""
    now = now or utcnow()
    edition = visit.edition
    _require_plannable(edition)
    before = _snapshot(visit, team_of(visit))
    day, place = _clean_where_and_when(visit_date, location, today=to_wib(now).date(), old_date=visit.visit_date)
    members = _team(edition, visit.proposal, member_ids)
    visit.visit_date, visit.location = day, place
    added = _write_team(actor, visit, members)
    _notify_members(visit, added)
    record(actor, "field_visit.changed", visit, before=before, after=_snapshot(visit, members),
           label=proposal_label(visit.proposal.number, visit.proposal.title))


def cancel_visit(actor: User, visit: FieldVisit) -> None:
    """Drop a visit not recorded yet, with its team's assignments."""
    _require_plannable(visit.edition)
    if visit.recorded_at is not None:
        raise DomainError(_("The findings of this visit are recorded; it can no longer be cancelled."),
                          code="recorded")
    members = team_of(visit)
    before = _snapshot(visit, members)
    _write_team(actor, visit, [])
    label = proposal_label(visit.proposal.number, visit.proposal.title)
    record(actor, "field_visit.cancelled", visit, before=before, label=label)
    db.session.delete(visit)
    db.session.flush()


# --- findings -------------------------------------------------------------------------------------


def parse_score(value: Any) -> Decimal:
    """A score from 0 to 100 with at most two decimals ("85", "85.5", "85,5")."""
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        raise DomainError(_("Give a score from 0 to 100."), code="score_missing", field="score")
    try:
        score = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("Type a number, e.g. 85 or 85.5."), code="score_nan", field="score") from None
    if not score.is_finite() or not SCORE_MIN <= score <= SCORE_MAX:
        raise DomainError(_("The score must be between 0 and 100."), code="score_range", field="score")
    if score != score.quantize(Decimal("0.01")):
        raise DomainError(_("Use at most two decimals."), code="score_decimals", field="score")
    return score.quantize(Decimal("0.01"))


def record_findings(actor: User, visit: FieldVisit, *, findings: str | None, score: Any,
                    now: dt.datetime | None = None) -> None:
    """The visit's findings and score, by a member of its team or the secretariat, while the stage is
    open; recording again corrects them (audited)."""
    now = now or utcnow()
    if actor.role is not Role.SECRETARIAT and not is_on_team(actor, visit):
        raise NotAllowed(_("Only the visiting team or the secretariat can record this visit."))
    require(visit.edition, STAGE, StageStatus.OPEN)
    text = (findings or "").strip()
    if not text:
        raise DomainError(_("Write down what the team found."), code="findings", field="findings")
    if len(text) > FINDINGS_MAX:
        raise DomainError(_("Use at most %(max)s characters.", max=FINDINGS_MAX), code="too_long", field="findings")
    value = parse_score(score)
    before = {"findings": visit.findings, "score": str(visit.score) if visit.score is not None else None,
              "recorded_by_id": visit.recorded_by_id}
    visit.findings, visit.score = text, value
    visit.recorded_by_id, visit.recorded_at = actor.id, now
    db.session.flush()
    record(actor, "field_visit.recorded", visit, before=before,
           after={"findings": text, "score": str(value), "recorded_by_id": actor.id},
           label=proposal_label(visit.proposal.number, visit.proposal.title))
