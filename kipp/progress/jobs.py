"""Telling the people concerned that a stage opened or closed (an outbox job, after the step's commit).

The job adds its notifications in the outbox delivery's own transaction, so a delivery that
fails half-way leaves nothing and a redelivery sends each notice once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.i18n import localized, wib_datetime
from kipp.judging.models import Assignment, AssignmentState, PoolMember
from kipp.notifications.services import notify
from kipp.outbox.registry import handles
from kipp.progress.services import NOTIFY_STAGE_MOVE, Move, shortlist_of, stage_members
from kipp.proposals.models import Proposal
from kipp.proposals.states import CHOSEN_AS_FINALIST, ProposalStatus
from kipp.publication import disclosure
from kipp.selection.models import ShortlistKind

JUDGED = (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION, StageKind.FINAL)


@handles(NOTIFY_STAGE_MOVE)
def notify_stage_move(outbox_id: int, *, edition_id: int, stage: str, move: str) -> None:
    edition = db.session.get(Edition, edition_id)
    kind = StageKind(stage)
    row = edition.stage(kind) if edition else None
    if row is None:
        return
    opened = Move(move) is Move.OPEN
    if kind is StageKind.OBJECTION and opened:
        _announce_finalists(edition, row)
        return
    people, detail = _audience(edition, kind, opened)
    for person in people:
        # Each person reads the stage's name and the detail in their own language.
        with force_locale(person.locale):
            notify([person], "stage_opened" if opened else "stage_closed", link=("home.index", {}),
                   stage=localized(row, "name"), edition=edition.name, detail=detail(row))


def _audience(edition: Edition, kind: StageKind, opened: bool) -> tuple[list[User], Any]:
    if kind is StageKind.SUBMISSION:
        admins = list(db.session.scalars(sa.select(User).join(Agency, Agency.id == User.agency_id).where(
            User.role == Role.ADMIN_LOKAL, User.active, Agency.active)))
        if opened:
            return admins, lambda row: _("Units can draft their proposals; the Admin Lokal submits them by %(when)s.",
                                         when=wib_datetime(row.closes_at))
        return admins, lambda row: _("No more proposals can be submitted; the administrative screening follows.")
    if kind is StageKind.FIELD_VERIFICATION:
        return _field_team(edition), lambda row: _("Your visits are on your home page; record the findings and "
                                                   "a score after each visit.")
    if kind in JUDGED:
        pool = StageKind.PANEL_REVIEW if kind is StageKind.FINAL else kind
        members = stage_members(edition, pool)
        if kind is StageKind.FINAL:
            return members, lambda row: _("The panel agrees the final result in its plenary.")
        if opened:
            return members, lambda row: _("Your proposals to score are on your home page.")
        return members, lambda row: _("Scoring is closed; thank you. Scores can no longer change.")
    return [], None


def _field_team(edition: Edition) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).join(PoolMember, PoolMember.user_id == User.id)
        .join(Assignment, Assignment.member_id == PoolMember.id).where(
            Assignment.edition_id == edition.id, Assignment.stage == StageKind.FIELD_VERIFICATION,
            Assignment.state == AssignmentState.PUBLISHED, User.active).distinct()))


def _announce_finalists(edition: Edition, row: Any) -> None:
    """The finalist list is public: each nominee's agency learns whether it is on it."""
    shortlist = shortlist_of(edition, ShortlistKind.FINALISTS)
    if shortlist is None:
        return
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.edition_id == edition.id,
        Proposal.status.in_([s.value for s in CHOSEN_AS_FINALIST | {ProposalStatus.NOT_FINALIST}]))
        .order_by(Proposal.number)).all()
    people = agency_people([(p.agency_id, p.unit_id) for p in proposals])
    for proposal in proposals:
        # Sent as the stage opens, when the list is public; a notice tells no more than the pages.
        shown = disclosure.shown_to_agency(proposal)
        if shown.masked:
            continue
        chosen = shown.status in CHOSEN_AS_FINALIST
        params = {"title": proposal.title, "number": proposal.number, "edition": edition.name}
        if chosen:
            params["until"] = wib_datetime(row.closes_at)
        notify(people.get((proposal.agency_id, proposal.unit_id), []),
               "finalist_announced" if chosen else "not_finalist",
               link=("agency_proposals.detail", {"proposal_id": proposal.id}), **params)


def agency_people(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], list[User]]:
    """(agency id, unit id) -> the agency's Admin Lokal and the unit's UPP, in one query."""
    agency_ids = {a for a, _u in pairs}
    users = db.session.scalars(sa.select(User).where(
        User.agency_id.in_(agency_ids), User.active, User.role.in_([Role.ADMIN_LOKAL, Role.UPP]))).all()
    by_agency: dict[int, list[User]] = {}
    for user in users:
        by_agency.setdefault(user.agency_id, []).append(user)
    return {(agency_id, unit_id): [u for u in by_agency.get(agency_id, [])
                                   if u.role is Role.ADMIN_LOKAL or u.unit_id == unit_id]
            for agency_id, unit_id in pairs}
