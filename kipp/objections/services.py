"""The public objection window (uji publik / masa sanggah, kipp-domain §1 step 7) and its outcome.

Opening the OBJECTION stage (kipp.progress) announces the frozen FINALISTS list; while the stage is
open and its schedule holds the moment, anyone may object to a finalist without an account. The
secretariat rules on every objection (an upheld one disqualifies the finalist) and, once the window
has ended and nothing is pending, confirms the remaining finalists with the decree (Kepmen) number.
Services flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Region
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition, EditionGroup, Section
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import to_wib, wib_datetime
from kipp.notifications.services import notify
from kipp.objections import rules
from kipp.objections.models import Objection, ObjectionStatus
from kipp.progress.stages import require, status_of
from kipp.proposals import rules as file_rules
from kipp.proposals import uploads
from kipp.proposals.models import Proposal, ProposalAnswer, StoredFile
from kipp.proposals.services import _transition
from kipp.proposals.states import Action, ProposalStatus
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind

SUMMARY_SECTION_KEY = "ringkasan"
STATUS_LABELS = {
    ObjectionStatus.PENDING: _l("awaiting a ruling"),
    ObjectionStatus.REJECTED: _l("rejected"),
    ObjectionStatus.UPHELD: _l("upheld"),
}


# --- where the window stands (also for kipp.progress's guards) -----------------------------------------


def finalists_list(edition: Edition) -> Shortlist | None:
    return db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id,
                                                        Shortlist.kind == ShortlistKind.FINALISTS))


def is_announced(edition: Edition) -> bool:
    """The finalist list is public: frozen, and the objection stage opened (open or since closed)."""
    shortlist = finalists_list(edition)
    return (shortlist is not None and shortlist.frozen
            and status_of(edition, StageKind.OBJECTION) in (StageStatus.OPEN, StageStatus.CLOSED))


def window(edition: Edition, now: dt.datetime) -> rules.Window:
    """BEFORE / OPEN / ENDED: the stage's schedule, and ENDED too once the stage is closed."""
    stage = edition.stage(StageKind.OBJECTION)
    if stage is None:
        return rules.Window.ENDED
    status = status_of(edition, StageKind.OBJECTION)
    if status is StageStatus.CLOSED:
        return rules.Window.ENDED
    state = rules.window_state(stage.opens_at, stage.closes_at, now)
    if state is rules.Window.OPEN and status is not StageStatus.OPEN:
        return rules.Window.BEFORE  # scheduled, but not announced yet
    return state


def is_window_open(edition: Edition, now: dt.datetime) -> bool:
    """Objections are accepted: the OBJECTION stage is OPEN and opens_at <= now < closes_at."""
    return window(edition, now) is rules.Window.OPEN


def pending_count(edition: Edition) -> int:
    """Objections of the edition still awaiting a ruling (confirmation waits for none)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Objection).where(
        Objection.edition_id == edition.id, Objection.status == ObjectionStatus.PENDING)) or 0


def window_message(edition: Edition, now: dt.datetime) -> str:
    """One sentence: when objections may be filed, in WIB."""
    stage = edition.stage(StageKind.OBJECTION)
    if stage is None:
        return _("This edition has no objection window.")
    start, end = wib_datetime(stage.opens_at), wib_datetime(stage.closes_at)
    state = window(edition, now)
    if state is rules.Window.OPEN:
        return _("Objections may be filed until %(end)s (the window opened %(start)s).", start=start, end=end)
    if state is rules.Window.BEFORE:
        return _("Objections may be filed from %(start)s until %(end)s; the window has not opened yet.",
                 start=start, end=end)
    return _("The objection window ran from %(start)s until %(end)s and is closed; no more objections are "
             "accepted.", start=start, end=end)


# --- the public list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFinalist:
    proposal: Proposal
    summary: str
    disqualified: bool  # an objection against it was upheld


@dataclass(frozen=True)
class PublicGroup:
    group: EditionGroup
    finalists: list[PublicFinalist]


def _chosen_entries(shortlist: Shortlist) -> list[ShortlistEntry]:
    return list(db.session.scalars(
        sa.select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.chosen)
        .options(selectinload(ShortlistEntry.proposal).options(
            selectinload(Proposal.agency).selectinload(Agency.region).selectinload(Region.parent),
            selectinload(Proposal.category), selectinload(Proposal.group)))))


def upheld_proposal_ids(edition: Edition) -> set[int]:
    return set(db.session.scalars(sa.select(Objection.proposal_id).where(
        Objection.edition_id == edition.id, Objection.status == ObjectionStatus.UPHELD)))


def public_finalists(edition: Edition) -> list[PublicGroup]:
    """The announced finalists by group, in alphabetical order (never by rank: ranks are not public),
    each with its summary. Disqualification is read from the upheld objections only, so that no
    later stage's outcome shows here before it is published."""
    shortlist = finalists_list(edition)
    if shortlist is None or not shortlist.frozen:
        return []
    entries = _chosen_entries(shortlist)
    ids = [e.proposal_id for e in entries]
    summaries: dict[int, str] = {}
    if ids:
        summaries = dict(db.session.execute(
            sa.select(ProposalAnswer.proposal_id, ProposalAnswer.text)
            .join(Section, Section.id == ProposalAnswer.section_id)
            .where(Section.key == SUMMARY_SECTION_KEY, ProposalAnswer.proposal_id.in_(ids))).all())
    upheld = upheld_proposal_ids(edition)
    groups: list[PublicGroup] = []
    for group in edition.groups:
        members = sorted((e.proposal for e in entries if e.proposal.group_id == group.id),
                         key=lambda p: (p.agency.name.casefold(), p.title.casefold()))
        if members:
            groups.append(PublicGroup(group, [PublicFinalist(p, summaries.get(p.id, ""), p.id in upheld)
                                              for p in members]))
    return groups


def public_finalist(edition: Edition, proposal_id: int) -> Proposal | None:
    """A finalist of the announced list, or None (not announced, not on the list, not chosen)."""
    if not is_announced(edition):
        return None
    shortlist = finalists_list(edition)
    return db.session.scalar(
        sa.select(Proposal).join(ShortlistEntry, ShortlistEntry.proposal_id == Proposal.id)
        .where(ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.chosen, Proposal.id == proposal_id,
               Proposal.edition_id == edition.id))


# --- filing ------------------------------------------------------------------------------------------


def file_objection(
    edition: Edition, proposal: Proposal, *, name: str, contact: str, reason: str, client_hash: str,
    evidence_name: str | None = None, evidence_data: bytes | None = None, locale: str = "id",
    now: dt.datetime | None = None,
) -> Objection:
    """Record an objection from the public (no account: the actor is nobody) and tell the secretariat."""
    now = now or utcnow()
    if public_finalist(edition, proposal.id) is None:
        raise NotAllowed(_("This proposal is not on the announced finalist list."))
    if not is_window_open(edition, now):
        raise DomainError(window_message(edition, now), code="window_closed")
    if proposal.status is not ProposalStatus.FINALIST:
        raise DomainError(_("“%(title)s” is no longer among the finalists open to objection.", title=proposal.title),
                          code="not_a_finalist")
    name, reason = name.strip(), reason.strip()
    _check_length(name, rules.NAME_MIN_LENGTH, rules.NAME_MAX_LENGTH, "name")
    normalized_contact = rules.normalize_contact(contact)
    if normalized_contact is None:
        raise DomainError(contact_problem(), code="contact", field="contact")
    _check_length(reason, rules.REASON_MIN_LENGTH, rules.REASON_MAX_LENGTH, "reason")
    evidence = _store_evidence(edition, evidence_name, evidence_data, now) if evidence_data is not None else None

    objection = _insert_with_reference(edition, dict(
        edition_id=edition.id, proposal_id=proposal.id, name=name, contact=normalized_contact, reason=reason,
        evidence_id=evidence.id if evidence else None, client_hash=client_hash, locale=(locale or "id")[:8],
        submitted_at=now, status=ObjectionStatus.PENDING))
    record(None, "objection.filed", objection, label=objection.reference,
           after={"reference": objection.reference, "proposal_id": proposal.id, "evidence": evidence is not None,
                  "client_hash": client_hash})
    notify(_secretariat(), "objection_filed", link=("objections.detail", {"edition_id": edition.id,
                                                                          "objection_id": objection.id}),
           reference=objection.reference, number=proposal.number, title=proposal.title)
    return objection


def contact_problem() -> str:
    return _("Give an email address (name@example.com) or an Indonesian telephone number (08… or +62…).")


def length_message(field: str, problem: str) -> str:
    limits = {"name": (rules.NAME_MIN_LENGTH, rules.NAME_MAX_LENGTH),
              "reason": (rules.REASON_MIN_LENGTH, rules.REASON_MAX_LENGTH),
              "ruling": (rules.RULING_MIN_LENGTH, rules.RULING_MAX_LENGTH)}[field]
    if problem == "short":
        return _("Write at least %(min)s characters.", min=limits[0])
    return _("Write at most %(max)s characters.", max=limits[1])


def _check_length(text: str, minimum: int, maximum: int, field: str) -> None:
    problem = rules.length_problem(text, minimum, maximum)
    if problem:
        raise DomainError(length_message(field, problem), code=f"{field}_{problem}", field=field)


def _store_evidence(edition: Edition, filename: str | None, data: bytes, now: dt.datetime) -> StoredFile:
    filename = (filename or "").strip() or "evidence"
    if not data:
        raise DomainError(_("The file “%(name)s” is empty.", name=filename), code="file_empty", field="evidence")
    content_type = file_rules.sniff_content_type(data[:16])
    if content_type is None:
        raise DomainError(
            _("“%(name)s” is not a PDF, JPEG or PNG file (its content was checked, not its name).", name=filename),
            code="file_type", field="evidence")
    if len(data) > edition.max_file_mb * 1024 * 1024:
        raise DomainError(
            _("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.", name=filename,
              size=f"{len(data) / 1048576:.1f}", limit=edition.max_file_mb),
            code="file_too_large", field="evidence")
    stored_name, digest = uploads.store(data, file_rules.ALLOWED_TYPES[content_type])
    evidence = StoredFile(original_name=filename[-255:], stored_name=stored_name, content_type=content_type,
                          size_bytes=len(data), sha256=digest, uploaded_by_id=None, uploaded_at=now)
    db.session.add(evidence)
    db.session.flush()
    return evidence


def _insert_with_reference(edition: Edition, values: dict[str, Any]) -> Objection:
    """Insert with the next receipt number. Filers of one edition take turns on the finalist list's row
    (PostgreSQL), so two at the same moment get different numbers; SQLite writes one at a time anyway.
    (A savepoint-and-retry would mark queued outbox messages as committed; see kipp.outbox.dispatch.)"""
    db.session.execute(sa.select(Shortlist.id).where(Shortlist.edition_id == edition.id,
                                                     Shortlist.kind == ShortlistKind.FINALISTS).with_for_update())
    filed = db.session.scalar(sa.select(sa.func.count()).select_from(Objection).where(
        Objection.edition_id == edition.id)) or 0
    objection = Objection(**values, reference=rules.reference(edition.year, filed + 1))
    db.session.add(objection)
    db.session.flush()
    return objection


def _secretariat() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.SECRETARIAT, User.active)
                                   .order_by(User.id)))


def find_for_filer(edition: Edition, *, reference: str, contact: str) -> Objection | None:
    """The filer's objection, when the reference and the contact given at filing both match."""
    normalized = rules.normalize_contact(contact)
    wanted = rules.normalize_reference(reference)
    if normalized is None or not wanted:
        return None
    objection = db.session.scalar(sa.select(Objection).where(Objection.edition_id == edition.id,
                                                             Objection.reference == wanted))
    if objection is None or objection.contact != normalized:
        return None
    return objection


# --- the secretariat: overview -----------------------------------------------------------------------


def counts(edition: Edition) -> dict[ObjectionStatus, int]:
    rows = db.session.execute(sa.select(Objection.status, sa.func.count()).where(Objection.edition_id == edition.id)
                              .group_by(Objection.status)).all()
    found = {ObjectionStatus(status): n for status, n in rows}
    return {status: found.get(status, 0) for status in ObjectionStatus}


@dataclass(frozen=True)
class FinalistTally:
    proposal: Proposal
    counts: dict[ObjectionStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def finalist_tallies(edition: Edition) -> list[FinalistTally]:
    """Every chosen finalist with its objections counted by status (finalists without any included)."""
    shortlist = finalists_list(edition)
    if shortlist is None:
        return []
    rows = db.session.execute(sa.select(Objection.proposal_id, Objection.status, sa.func.count())
                              .where(Objection.edition_id == edition.id)
                              .group_by(Objection.proposal_id, Objection.status)).all()
    tally: dict[int, dict[ObjectionStatus, int]] = {}
    for proposal_id, status, n in rows:
        tally.setdefault(proposal_id, {s: 0 for s in ObjectionStatus})[ObjectionStatus(status)] = n
    proposals = sorted((e.proposal for e in _chosen_entries(shortlist)),
                       key=lambda p: (p.group.position, p.number or "", p.id))
    return [FinalistTally(p, tally.get(p.id, {s: 0 for s in ObjectionStatus})) for p in proposals]


def objections_query(edition: Edition, *, status: ObjectionStatus | None = None,
                     proposal_id: int | None = None) -> sa.Select[tuple[Objection]]:
    query = (sa.select(Objection).where(Objection.edition_id == edition.id)
             .options(selectinload(Objection.proposal).selectinload(Proposal.agency))
             .order_by(Objection.submitted_at, Objection.id))
    if status is not None:
        query = query.where(Objection.status == status)
    if proposal_id is not None:
        query = query.where(Objection.proposal_id == proposal_id)
    return query


# --- rulings -----------------------------------------------------------------------------------------


def rule(actor: User, objection: Objection, *, decision: ObjectionStatus, ruling: str,
         now: dt.datetime | None = None) -> None:
    """Rule on a pending objection, once and for all. Upheld: the finalist is disqualified and its agency
    told; rejected: nothing else changes."""
    now = now or utcnow()
    edition = objection.edition
    require(edition, StageKind.OBJECTION, StageStatus.OPEN)
    if decision not in (ObjectionStatus.REJECTED, ObjectionStatus.UPHELD):
        raise DomainError(_("Choose whether the objection is rejected or upheld."), code="decision", field="decision")
    ruling = (ruling or "").strip()
    _check_length(ruling, rules.RULING_MIN_LENGTH, rules.RULING_MAX_LENGTH, "ruling")
    # Only a pending objection changes: two people ruling at once cannot both succeed.
    changed = db.session.execute(
        sa.update(Objection).where(Objection.id == objection.id, Objection.status == ObjectionStatus.PENDING)
        .values(status=decision, ruling=ruling, ruled_by_id=actor.id, ruled_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise DomainError(_("Objection %(reference)s has already been ruled on; rulings are final.",
                            reference=objection.reference), code="already_ruled")
    db.session.refresh(objection)
    record(actor, "objection.ruled", objection, label=objection.reference, before={"status": "pending"},
           after={"status": decision.value, "ruling": ruling, "proposal_id": objection.proposal_id})
    proposal = objection.proposal
    if decision is ObjectionStatus.UPHELD and proposal.status is not ProposalStatus.DISQUALIFIED:
        _transition(proposal, Action.DISQUALIFY, actor=actor,
                    comment=_("Objection %(reference)s upheld: %(ruling)s", reference=objection.reference,
                              ruling=ruling))
        db.session.flush()
        notify(_agency_people(proposal), "finalist_disqualified",
               link=("agency_proposals.detail", {"proposal_id": proposal.id}),
               number=proposal.number, title=proposal.title, edition=edition.name, ruling=ruling)


def _agency_people(proposal: Proposal) -> list[User]:
    """The proposal's Admin Lokal and the UPP of its unit."""
    return list(db.session.scalars(sa.select(User).where(
        User.active, User.agency_id == proposal.agency_id,
        sa.or_(User.role == Role.ADMIN_LOKAL, sa.and_(User.role == Role.UPP, User.unit_id == proposal.unit_id)))
        .order_by(User.id)))


# --- confirmation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationState:
    """What stands between the secretariat and confirming the finalists (empty ``blockers``: ready)."""

    blockers: list[str]
    confirmed: bool

    @property
    def ready(self) -> bool:
        return not self.blockers and not self.confirmed


def confirmation_state(edition: Edition, now: dt.datetime) -> ConfirmationState:
    shortlist = finalists_list(edition)
    confirmed = shortlist is not None and shortlist.confirmed_at is not None
    blockers: list[str] = []
    if shortlist is None or not shortlist.frozen:
        blockers.append(_("The panel's finalist list is not frozen."))
    if status_of(edition, StageKind.OBJECTION) is not StageStatus.OPEN:
        blockers.append(_("The objection stage is not open."))
    stage = edition.stage(StageKind.OBJECTION)
    if stage is not None and now < stage.closes_at:
        blockers.append(_("The objection window ends on %(when)s; the finalists can be confirmed after that.",
                          when=wib_datetime(stage.closes_at)))
    pending = pending_count(edition)
    if pending:
        blockers.append(ngettext("%(num)d objection awaits a ruling.", "%(num)d objections await a ruling.", pending))
    return ConfirmationState(blockers, confirmed)


def confirm_finalists(actor: User, edition: Edition, *, decree_number: str, decree_date: dt.date | None,
                      now: dt.datetime | None = None) -> list[Proposal]:
    """After the window, with no objection pending: every remaining finalist CONFIRMED by the decree."""
    now = now or utcnow()
    require(edition, StageKind.OBJECTION, StageStatus.OPEN)
    shortlist = finalists_list(edition)
    if shortlist is None or not shortlist.frozen:
        raise DomainError(_("The panel's finalist list is not frozen."), code="not_frozen")
    if shortlist.confirmed_at is not None:
        raise DomainError(_("The finalists were already confirmed by decree %(decree)s.",
                            decree=shortlist.decree_number), code="already_confirmed")
    stage = edition.stage(StageKind.OBJECTION)
    if now < stage.closes_at:
        raise DomainError(_("The objection window ends on %(when)s; the finalists can be confirmed after that.",
                            when=wib_datetime(stage.closes_at)), code="window_not_ended")
    pending = pending_count(edition)
    if pending:
        raise DomainError(ngettext("%(num)d objection awaits a ruling; rule on it first.",
                                   "%(num)d objections await a ruling; rule on them first.", pending),
                          code="pending_objections")
    decree_number = (decree_number or "").strip()
    if not decree_number:
        raise DomainError(_("Give the number of the decree (Kepmen) that confirms the finalists."),
                          code="decree_number", field="decree_number")
    if len(decree_number) > rules.DECREE_MAX_LENGTH:
        raise DomainError(_("Write at most %(max)s characters.", max=rules.DECREE_MAX_LENGTH), code="decree_number",
                          field="decree_number")
    if decree_date is None:
        raise DomainError(_("Give the date of the decree."), code="decree_date", field="decree_date")
    if decree_date > to_wib(now).date():
        raise DomainError(_("The decree's date cannot be in the future."), code="decree_date", field="decree_date")
    remaining = [e.proposal for e in _chosen_entries(shortlist) if e.proposal.status is ProposalStatus.FINALIST]
    if not remaining:
        raise DomainError(_("No finalist remains to be confirmed."), code="no_finalists")
    before = {"confirmed_at": None, "decree_number": shortlist.decree_number,
              "decree_date": shortlist.decree_date.isoformat() if shortlist.decree_date else None}
    for proposal in remaining:
        _transition(proposal, Action.CONFIRM_FINALIST, actor=actor, comment=decree_number)
    shortlist.confirmed_at, shortlist.confirmed_by_id = now, actor.id
    shortlist.decree_number, shortlist.decree_date = decree_number, decree_date
    db.session.flush()
    record(actor, "shortlist.finalists_confirmed", shortlist, label=f"{edition.name}: {decree_number}",
           before=before, after={"confirmed_at": now.isoformat(), "decree_number": decree_number,
                                 "decree_date": decree_date.isoformat(),
                                 "confirmed": sorted(p.id for p in remaining)})
    for proposal in remaining:
        notify(_agency_people(proposal), "finalist_confirmed",
               link=("agency_proposals.detail", {"proposal_id": proposal.id}),
               number=proposal.number, title=proposal.title, edition=edition.name, decree=decree_number)
    return remaining
