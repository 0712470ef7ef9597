"""Administrative screening (kipp-domain §1 step 4, §6): the checklist, reviews with claims and four
eyes, the correction window, the announcement of results, and the statistics.

Services flush and audit; the caller commits. Every status change of a
proposal goes through the proposal state funnel (``proposals.services._transition``).

A review's decision is final once ``confirmed_at`` is set: by the second
screener's confirmation (``confirmed_by``) when the edition asks for four
eyes, or at the decision itself when it does not. Only then does the
proposal move on. A proposal's *current* review is its highest round; a
proposal back from correction (submitted again, its round-1 review final)
gets a round-2 review when a screener first takes it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.agencies.models import Agency, Region
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.notifications.services import notify
from kipp.proposals import eligibility
from kipp.proposals.models import Proposal
from kipp.proposals.overview import NO_REGION, ProposalFilters, province_of, provinces
from kipp.proposals.services import _agency_people, _transition, _wib, describe, missing_items
from kipp.proposals.states import PASSED_SCREENING, Action, ProposalStatus
from kipp.screening import rules
from kipp.screening.defaults import DEFAULT_REASONS
from kipp.screening.models import (
    Announcement,
    ScreeningCheck,
    ScreeningDecision,
    ScreeningReason,
    ScreeningReview,
)

TEXT_MAX = 255
CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
ANNOUNCEMENT_KIND = "screening"

# The statuses of proposals that reached screening, and those whose screening is over.
SCREENED = (ProposalStatus.SUBMITTED, ProposalStatus.IN_CORRECTION, ProposalStatus.ADMIN_FAILED, *PASSED_SCREENING)
DECIDED = (ProposalStatus.IN_CORRECTION, ProposalStatus.ADMIN_FAILED, *PASSED_SCREENING)


class ScreeningError(DomainError):
    """A refused change; ``field`` names the form field at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


def _require_secretariat(actor: User) -> None:
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed(_("Only the secretariat screens proposals."))


def _text(value: str | None, field: str, *, required: bool = True, max_length: int | None = TEXT_MAX) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise ScreeningError(_("This field is required."), field=field, code="required")
        return None
    if max_length is not None and len(cleaned) > max_length:
        raise ScreeningError(_("Use at most %(max)s characters.", max=max_length), field=field, code="too_long")
    return cleaned


# --- the checklist ------------------------------------------------------------------------------


def reasons(edition: Edition, *, active_only: bool = False) -> list[ScreeningReason]:
    query = sa.select(ScreeningReason).where(ScreeningReason.edition_id == edition.id)
    if active_only:
        query = query.where(ScreeningReason.active)
    return list(db.session.scalars(query.order_by(ScreeningReason.position, ScreeningReason.id)))


def ensure_default_checklist(actor: User | None, edition: Edition) -> list[ScreeningReason]:
    """The edition's checklist; an edition without one gets the checklist of the edition it was
    copied from, or else the §6 defaults (A1–A8). Idempotent."""
    existing = reasons(edition)
    if existing:
        return existing
    source = reasons(edition.copied_from) if edition.copied_from is not None else []
    if source:
        specs = [(r.code, r.title_id, r.title_en, r.guidance_id, r.guidance_en, r.active) for r in source]
        origin = f"edition {edition.copied_from.year}"
    else:
        specs = [(s.code, s.title_id, s.title_en, s.guidance_id, s.guidance_en, True) for s in DEFAULT_REASONS]
        origin = "defaults"
    created = []
    for position, (code, title_id, title_en, guidance_id, guidance_en, active) in enumerate(specs):
        reason = ScreeningReason(edition_id=edition.id, code=code, title_id=title_id, title_en=title_en,
                                 guidance_id=guidance_id, guidance_en=guidance_en, position=position, active=active)
        db.session.add(reason)
        created.append(reason)
    db.session.flush()
    record(actor, "screening.checklist_created", edition, after={"from": origin, "codes": [r.code for r in created]},
           label=edition.name)
    return created


def _reason_values(edition: Edition, reason: ScreeningReason | None, *, code: str, title_id: str, title_en: str,
                   guidance_id: str | None, guidance_en: str | None) -> dict[str, Any]:
    cleaned = (code or "").strip().upper()
    if not cleaned:
        raise ScreeningError(_("Enter a code."), field="code", code="required")
    if not CODE.match(cleaned):
        raise ScreeningError(_("Use at most 16 capital letters, digits, dots, dashes or underscores "
                               "(for example A2)."), field="code", code="code_format")
    taken = db.session.scalar(sa.select(ScreeningReason.id).where(
        ScreeningReason.edition_id == edition.id, ScreeningReason.code == cleaned,
        ScreeningReason.id != (reason.id if reason else -1)))
    if taken:
        raise ScreeningError(_("This checklist already has the code “%(code)s”.", code=cleaned), field="code",
                             code="code_taken")
    return {
        "code": cleaned,
        "title_id": _text(title_id, "title_id"),
        "title_en": _text(title_en, "title_en"),
        "guidance_id": _text(guidance_id, "guidance_id", required=False, max_length=None),
        "guidance_en": _text(guidance_en, "guidance_en", required=False, max_length=None),
    }


def add_reason(actor: User, edition: Edition, *, code: str, title_id: str, title_en: str,
               guidance_id: str | None = None, guidance_en: str | None = None) -> ScreeningReason:
    _require_secretariat(actor)
    values = _reason_values(edition, None, code=code, title_id=title_id, title_en=title_en,
                            guidance_id=guidance_id, guidance_en=guidance_en)
    position = max((r.position for r in reasons(edition)), default=-1) + 1
    reason = ScreeningReason(edition_id=edition.id, position=position, active=True, **values)
    db.session.add(reason)
    db.session.flush()
    record(actor, "screening.reason_added", reason, after=snapshot(reason), label=reason.code)
    return reason


def update_reason(actor: User, reason: ScreeningReason, *, code: str, title_id: str, title_en: str,
                  guidance_id: str | None = None, guidance_en: str | None = None) -> ScreeningReason:
    _require_secretariat(actor)
    values = _reason_values(reason.edition, reason, code=code, title_id=title_id, title_en=title_en,
                            guidance_id=guidance_id, guidance_en=guidance_en)
    before = snapshot(reason)
    for name, value in values.items():
        setattr(reason, name, value)
    db.session.flush()
    record(actor, "screening.reason_changed", reason, before=before, after=snapshot(reason), label=reason.code)
    return reason


def set_reason_active(actor: User, reason: ScreeningReason, *, active: bool) -> None:
    """Deactivated reasons leave the checklist of new reviews; reviews that used them keep them."""
    _require_secretariat(actor)
    if reason.active == active:
        return
    if not active and len(reasons(reason.edition, active_only=True)) <= 1:
        raise ScreeningError(_("The checklist needs at least one active item."), code="last_reason")
    reason.active = active
    db.session.flush()
    record(actor, "screening.reason_activated" if active else "screening.reason_deactivated", reason,
           before={"active": not active}, after={"active": active}, label=reason.code)


def move_reason(actor: User, reason: ScreeningReason, *, offset: int) -> None:
    """Move an item ``offset`` places (−1 up, +1 down) in its edition's checklist."""
    _require_secretariat(actor)
    siblings = reasons(reason.edition)
    index = siblings.index(reason)
    target = min(max(index + offset, 0), len(siblings) - 1)
    if target == index:
        return
    before = [r.code for r in siblings]
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()
    record(actor, "screening.reason_moved", reason, before={"order": before},
           after={"order": [r.code for r in siblings]}, label=reason.code)


def update_settings(actor: User, edition: Edition, *, four_eyes: bool, correction_days: int) -> None:
    """The edition's screening settings: a second screener's confirmation, and the correction window."""
    _require_secretariat(actor)
    if not 0 <= correction_days <= rules.MAX_CORRECTION_DAYS:
        raise ScreeningError(_("Use 0 to %(max)s days (0: no correction window).", max=rules.MAX_CORRECTION_DAYS),
                             field="correction_days", code="days_range")
    before = {"screening_four_eyes": edition.screening_four_eyes, "correction_days": edition.correction_days}
    edition.screening_four_eyes = four_eyes
    edition.correction_days = correction_days
    db.session.flush()
    record(actor, "screening.settings_changed", edition, before=before,
           after={"screening_four_eyes": four_eyes, "correction_days": correction_days}, label=edition.name)


# --- reviews and claims ----------------------------------------------------------------------------


def current_review(proposal: Proposal) -> ScreeningReview | None:
    """The proposal's highest-round review (final or not), if it has one."""
    return db.session.scalar(
        sa.select(ScreeningReview).where(ScreeningReview.proposal_id == proposal.id)
        .options(selectinload(ScreeningReview.checks).joinedload(ScreeningCheck.reason))
        .order_by(ScreeningReview.round.desc()).limit(1)
    )


def reviews_of(proposal: Proposal) -> list[ScreeningReview]:
    return list(db.session.scalars(
        sa.select(ScreeningReview).where(ScreeningReview.proposal_id == proposal.id)
        .options(selectinload(ScreeningReview.checks).joinedload(ScreeningCheck.reason))
        .order_by(ScreeningReview.round)
    ))


def open_review(proposal: Proposal) -> ScreeningReview | None:
    """The review still in progress on a submitted proposal (None: not started, or nothing to screen)."""
    if proposal.status is not ProposalStatus.SUBMITTED:
        return None
    review = current_review(proposal)
    return review if review is not None and review.confirmed_at is None else None


def _require_pending(proposal: Proposal) -> None:
    if proposal.status is not ProposalStatus.SUBMITTED:
        raise ScreeningError(_("Only submitted proposals are screened; this one's screening is over."),
                             code="not_pending")


def _start_review(proposal: Proposal) -> ScreeningReview:
    """The open review, created when the proposal has none (round 1, or the next round after a final one).

    Two screeners starting the same review at once: the unique (proposal, round)
    constraint lets one insert win; the other reads the winner's row.
    """
    review = open_review(proposal)
    if review is not None:
        return review
    latest = current_review(proposal)
    round_ = latest.round + 1 if latest is not None else 1
    try:
        with db.session.begin_nested():
            review = ScreeningReview(proposal_id=proposal.id, round=round_)
            db.session.add(review)
    except sa.exc.IntegrityError:
        review = open_review(proposal)
        if review is None:
            raise
    return review


def _take(review: ScreeningReview, actor: User, now: dt.datetime) -> bool:
    """Claim ``review`` for ``actor`` unless someone else holds a live claim (compare-and-set, so two
    screeners can never both win it; the database serialises the two UPDATEs)."""
    db.session.flush()
    table = ScreeningReview.__table__
    result = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == review.id,
            table.c.confirmed_at.is_(None),
            sa.or_(table.c.claimed_by_id.is_(None), table.c.claimed_by_id == actor.id,
                   table.c.claimed_at <= rules.claim_cutoff(now)),
        )
        .values(claimed_by_id=actor.id, claimed_at=now, updated_at=now)
    )
    db.session.refresh(review)
    return result.rowcount == 1


def _claimed_error(review: ScreeningReview, now: dt.datetime) -> ScreeningError:
    holder = review.claimed_by
    return ScreeningError(
        _("%(name)s is screening this proposal (claimed at %(when)s WIB; the claim lapses at %(until)s WIB "
          "without activity).", name=holder.name if holder else "?", when=_wib(review.claimed_at or now),
          until=_wib(rules.claim_expires_at(review.claimed_at or now))),
        code="claimed",
    )


def claim(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> ScreeningReview:
    """Take the proposal so no other screener works on it at the same time."""
    now = now or utcnow()
    _require_secretariat(actor)
    _require_pending(proposal)
    ensure_default_checklist(actor, proposal.edition)
    review = _start_review(proposal)
    if not _take(review, actor, now):
        raise _claimed_error(review, now)
    record(actor, "screening.claimed", review, after={"round": review.round}, label=proposal.number)
    return review


def release(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> None:
    """Give one's own claim back."""
    _require_secretariat(actor)
    review = open_review(proposal)
    if review is None or review.claimed_by_id != actor.id:
        return
    review.claimed_by_id = None
    review.claimed_at = None
    db.session.flush()
    record(actor, "screening.released", review, label=proposal.number)


def claim_next(actor: User, edition: Edition, *, filters: "QueueFilters | None" = None, confirm: bool = False,
               now: dt.datetime | None = None) -> Proposal | None:
    """Claim the first free proposal of the queue (in the queue's order, within ``filters``).

    ``confirm``: the first decision waiting for a second screener's confirmation
    that ``actor`` did not make. None when nothing is left.
    """
    now = now or utcnow()
    _require_secretariat(actor)
    ensure_default_checklist(actor, edition)
    base = filters.base if filters else ProposalFilters()
    state = "confirmable" if confirm else "unclaimed"
    if not confirm:
        # A claim the screener left open comes back first rather than being skipped.
        held = db.session.scalar(_queue_select(edition, QueueFilters(base=base, state="mine"), actor=actor, now=now,
                                               columns=(Proposal,)).limit(1))
        if held is not None:
            return held
    for _attempt in range(5):
        candidates = list(db.session.scalars(
            _queue_select(edition, QueueFilters(base=base, state=state), actor=actor, now=now,
                          columns=(Proposal,)).limit(20)
        ))
        if not candidates:
            return None
        for proposal in candidates:
            try:
                with db.session.begin_nested():
                    review = _start_review(proposal)
                    won = _take(review, actor, now)
            except sa.exc.IntegrityError:
                continue
            if won:
                record(actor, "screening.claimed", review, after={"round": review.round}, label=proposal.number)
                return proposal
    return None


def save_review(actor: User, proposal: Proposal, *, items: dict[int, tuple[bool | None, str | None]],
                note: str | None = None, now: dt.datetime | None = None) -> ScreeningReview:
    """Record the checklist: ``items`` maps reason id → (passed or None when not answered, note).

    With every active item answered the decision follows (all passed: passed; any failed: failed,
    each failed item with a note). Without four eyes it is final at once; with four eyes it waits
    for another screener's confirmation. Saving takes the claim (refused while another holds it).
    """
    now = now or utcnow()
    _require_secretariat(actor)
    _require_pending(proposal)
    edition = proposal.edition
    ensure_default_checklist(actor, edition)
    active = reasons(edition, active_only=True)
    result = rules.outcome(
        [rules.Item(reason_id, passed, text) for reason_id, (passed, text) in items.items()],
        [r.id for r in active],
    )
    if not result.valid:
        codes = ", ".join(r.code for r in active if r.id in result.notes_missing)
        raise ScreeningError(_("Say why the proposal fails: write a note for %(codes)s.", codes=codes),
                             code="note_required")
    note = _text(note, "note", required=False, max_length=rules.NOTE_MAX_LENGTH)
    review = _start_review(proposal)
    if not _take(review, actor, now):
        raise _claimed_error(review, now)
    before = _review_state(review)
    existing = {c.reason_id: c for c in review.checks}
    for reason in active:
        passed, text = items.get(reason.id, (None, None))
        check = existing.get(reason.id)
        if passed is None:
            if check is not None:
                review.checks.remove(check)
            continue
        if check is None:
            check = ScreeningCheck(reason_id=reason.id, passed=passed)
            review.checks.append(check)
        check.passed = passed
        check.note = (text or "").strip()[: rules.NOTE_MAX_LENGTH] or None
    review.note = note
    if result.decision is None:
        review.decision = None
        review.decided_by_id = None
        review.decided_at = None
    else:
        review.decision = ScreeningDecision(result.decision)
        review.decided_by_id = actor.id
        review.decided_at = now
        review.confirmed_by_id = None
    db.session.flush()
    record(actor, "screening.saved", review, before=before, after=_review_state(review), label=proposal.number)
    if result.decision is not None:
        if rules.needs_confirmation(edition.screening_four_eyes):
            # Free for the second screener.
            review.claimed_by_id = None
            review.claimed_at = None
            db.session.flush()
        else:
            _finalize(review, actor, now)
    return review


def confirm(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> ScreeningReview:
    """The second screener confirms the decision; only then does the proposal move on."""
    now = now or utcnow()
    _require_secretariat(actor)
    _require_pending(proposal)
    review = open_review(proposal)
    if review is None or review.decision is None:
        raise ScreeningError(_("There is no decision to confirm yet: every checklist item must be answered first."),
                             code="no_decision")
    if not rules.can_confirm(actor.id, review.decided_by_id):
        raise ScreeningError(
            _("You made this decision yourself. Another screener of the secretariat must confirm it (four eyes)."),
            code="own_decision")
    if not _take(review, actor, now):
        raise _claimed_error(review, now)
    review.confirmed_by_id = actor.id
    _finalize(review, actor, now)
    return review


def _review_state(review: ScreeningReview) -> dict[str, Any]:
    return {
        "round": review.round,
        "decision": review.decision.value if review.decision else None,
        "decided_by_id": review.decided_by_id,
        "checks": {c.reason.code if c.reason else c.reason_id: c.passed for c in review.checks},
        "note": review.note,
    }


def failed_checks(review: ScreeningReview) -> list[ScreeningCheck]:
    return sorted((c for c in review.checks if not c.passed), key=lambda c: (c.reason.position, c.reason.id))


def reasons_text(checks: Iterable[ScreeningCheck], locale: str) -> str:
    """The failed items for a message, in ``locale``: "A2 Title: note; A6 Title: note"."""
    parts = []
    for check in checks:
        title = check.reason.title_en if locale == "en" else check.reason.title_id
        parts.append(f"{check.reason.code} {title}: {check.note}" if check.note else f"{check.reason.code} {title}")
    return "; ".join(parts)


def _finalize(review: ScreeningReview, actor: User | None, now: dt.datetime) -> None:
    proposal = review.proposal
    edition = proposal.edition
    review.confirmed_at = now
    review.claimed_by_id = None
    review.claimed_at = None
    failed = failed_checks(review)
    comment = "; ".join(f"{c.reason.code}: {c.note}" if c.note else c.reason.code for c in failed) or None
    if review.decision is ScreeningDecision.PASSED:
        _transition(proposal, Action.PASS_SCREENING, actor=actor)
        kind = "screening_passed"
    elif rules.after_failure(review.round, edition.correction_days) is rules.AfterFailure.CORRECTION:
        proposal.correction_due_at = rules.correction_due(now, edition.correction_days)
        _transition(proposal, Action.RETURN_FOR_CORRECTION, actor=actor, comment=comment)
        kind = "screening_correction"
    else:
        _transition(proposal, Action.FAIL_SCREENING, actor=actor, comment=comment)
        kind = "screening_failed"
    db.session.flush()
    record(actor, "screening.final", review, after={"decision": review.decision.value, "round": review.round,
                                                     "confirmed_by_id": review.confirmed_by_id,
                                                     "status": proposal.status.value}, label=proposal.number)
    _notify_agency(proposal, kind, failed)


def _notify_agency(proposal: Proposal, kind: str, failed: list[ScreeningCheck]) -> None:
    """The Admin Lokal and the unit's UPP hear the outcome, with the reasons in their own language.
    During a correction window the Admin Lokal's link opens the correction page."""
    admins = _agency_people(proposal.agency_id, Role.ADMIN_LOKAL)
    upps = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id)
    admin_link = "correction.detail" if kind == "screening_correction" else "agency_proposals.detail"
    due = _wib(proposal.correction_due_at) if proposal.correction_due_at else ""
    for people, endpoint in ((admins, admin_link), (upps, "agency_proposals.detail")):
        by_locale: dict[str, list[User]] = defaultdict(list)
        for person in people:
            by_locale[person.locale].append(person)
        for locale, group in sorted(by_locale.items()):
            notify(group, kind, link=(endpoint, {"proposal_id": proposal.id}), title=proposal.title,
                   number=proposal.number, reasons=reasons_text(failed, locale) or "–", due=due)


# --- the correction window ---------------------------------------------------------------------------


def correction_reasons(proposal: Proposal) -> tuple[ScreeningReview | None, list[ScreeningCheck]]:
    """The last final failed review of the proposal and its failed items (what the agency must correct)."""
    for review in reversed(reviews_of(proposal)):
        if review.confirmed_at is not None and review.decision is ScreeningDecision.FAILED:
            return review, failed_checks(review)
    return None, []


def can_resubmit(user: User, proposal: Proposal, now: dt.datetime) -> bool:
    return (
        user.role is Role.ADMIN_LOKAL
        and proposal.agency_id == user.agency_id
        and proposal.status is ProposalStatus.IN_CORRECTION
        and rules.correction_open(proposal.correction_due_at, now)
    )


def resubmit_correction(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> None:
    """The Admin Lokal sends the corrected proposal back to the ministry (once, within the window);
    a round-2 screening follows."""
    now = now or utcnow()
    if actor.role is not Role.ADMIN_LOKAL or proposal.agency_id != actor.agency_id:
        raise NotAllowed(_("You may not do this with the proposal."))
    if proposal.status is not ProposalStatus.IN_CORRECTION:
        raise ScreeningError(_("This proposal is not waiting for a correction."), code="not_in_correction")
    if not rules.correction_open(proposal.correction_due_at, now):
        raise ScreeningError(_("The correction window closed on %(when)s WIB.", when=_wib(proposal.correction_due_at)),
                             code="window_closed")
    missing = missing_items(proposal)
    if missing:
        raise ScreeningError(_("The proposal is not complete:") + " " + " ".join(describe(m) for m in missing),
                             code="incomplete")
    problems = eligibility.eligibility_messages(proposal, now=now)
    if problems:
        raise ScreeningError(" ".join(problems), code="ineligible")
    _transition(proposal, Action.RESUBMIT_CORRECTION, actor=actor)
    db.session.flush()
    people = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id) + _agency_people(
        proposal.agency_id, Role.ADMIN_LOKAL)
    notify(people, "correction_resubmitted", link=("agency_proposals.detail", {"proposal_id": proposal.id}),
           title=proposal.title, number=proposal.number, when=_wib(now))


def close_expired_corrections(now: dt.datetime | None = None) -> int:
    """Proposals whose correction window ended without a resubmission fail. Idempotent."""
    now = now or utcnow()
    expired = db.session.scalars(
        sa.select(Proposal).where(Proposal.status == ProposalStatus.IN_CORRECTION,
                                  Proposal.correction_due_at <= now)
    ).all()
    for proposal in expired:
        _transition(proposal, Action.CLOSE_CORRECTION, actor=None)
        people = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id) + _agency_people(
            proposal.agency_id, Role.ADMIN_LOKAL)
        notify(people, "correction_closed", link=("agency_proposals.detail", {"proposal_id": proposal.id}),
               title=proposal.title, number=proposal.number, when=_wib(proposal.correction_due_at))
    db.session.flush()
    return len(expired)


# --- the queue -----------------------------------------------------------------------------------------

QUEUE_STATES = {
    "todo": _l("To screen (all)"),
    "unclaimed": _l("Unclaimed"),
    "mine": _l("Claimed by me"),
    "claimed": _l("Claimed by others"),
    "awaiting": _l("Awaiting confirmation"),
    "decided": _l("Decided"),
    "all": _l("All"),
}
DEFAULT_STATE = "todo"


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters: the proposal list's (group, cluster, province, search …) plus a screening state."""

    base: ProposalFilters = field(default_factory=ProposalFilters)
    state: str = DEFAULT_STATE

    @classmethod
    def from_args(cls, args: Any) -> "QueueFilters":
        state = args.get("state", DEFAULT_STATE)
        base = ProposalFilters.from_args(args)
        return cls(base=ProposalFilters(group_id=base.group_id, category_id=base.category_id, cluster=base.cluster,
                                        province=base.province, agency_id=base.agency_id, q=base.q),
                   state=state if state in QUEUE_STATES else DEFAULT_STATE)

    def as_args(self) -> dict[str, Any]:
        args = self.base.as_args()
        if self.state != DEFAULT_STATE:
            args["state"] = self.state
        return args


def _queue_select(edition: Edition, filters: QueueFilters, *, actor: User, now: dt.datetime,
                  columns: tuple[Any, ...]) -> sa.Select[Any]:
    """Proposals of the queue, in the queue's order, joined with their agency and current review."""
    latest = (sa.select(ScreeningReview.proposal_id, sa.func.max(ScreeningReview.round).label("round"))
              .group_by(ScreeningReview.proposal_id).subquery())
    current = aliased(ScreeningReview)
    pending = Proposal.status == ProposalStatus.SUBMITTED
    is_open = sa.and_(current.id.is_not(None), current.confirmed_at.is_(None))
    live = sa.and_(current.claimed_by_id.is_not(None), current.claimed_at > rules.claim_cutoff(now))
    states = {
        "todo": pending,
        "unclaimed": sa.and_(pending, sa.or_(~is_open, sa.and_(current.decision.is_(None), ~live))),
        "mine": sa.and_(pending, is_open, live, current.claimed_by_id == actor.id),
        "claimed": sa.and_(pending, is_open, live, current.claimed_by_id != actor.id),
        "awaiting": sa.and_(pending, is_open, current.decision.is_not(None)),
        "confirmable": sa.and_(pending, is_open, current.decision.is_not(None), current.decided_by_id != actor.id,
                               sa.or_(~live, current.claimed_by_id == actor.id)),
        "decided": Proposal.status.in_(DECIDED),
        "all": sa.true(),
    }
    return (
        sa.select(*columns)
        .select_from(Proposal)
        .join(Agency, Agency.id == Proposal.agency_id)
        .outerjoin(latest, latest.c.proposal_id == Proposal.id)
        .outerjoin(current, sa.and_(current.proposal_id == Proposal.id, current.round == latest.c.round))
        .where(Proposal.edition_id == edition.id, Proposal.status.in_(SCREENED), states[filters.state],
               *filters.base.conditions(with_status=False))
        .order_by(Proposal.number, Proposal.id)
    )


def queue_query(edition: Edition, filters: QueueFilters, *, actor: User, now: dt.datetime) -> sa.Select[Any]:
    """The queue page's rows: proposals with their agency, region, unit and group loaded."""
    return _queue_select(edition, filters, actor=actor, now=now, columns=(Proposal,)).options(
        contains_eager(Proposal.agency).joinedload(Agency.region).joinedload(Region.parent),
        joinedload(Proposal.unit), joinedload(Proposal.group),
    )


def queue_counts(edition: Edition, filters: QueueFilters, *, actor: User, now: dt.datetime) -> dict[str, int]:
    """How many proposals each state tab holds under the other filters."""
    counts = {}
    for state in QUEUE_STATES:
        query = _queue_select(edition, QueueFilters(base=filters.base, state=state), actor=actor, now=now,
                              columns=(Proposal.id,))
        counts[state] = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return counts


def current_reviews(proposal_ids: Iterable[int]) -> dict[int, ScreeningReview]:
    """Each proposal's highest-round review, with its screeners loaded (one query)."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    result: dict[int, ScreeningReview] = {}
    for review in db.session.scalars(
        sa.select(ScreeningReview).where(ScreeningReview.proposal_id.in_(ids))
        .options(joinedload(ScreeningReview.claimed_by), joinedload(ScreeningReview.decided_by),
                 joinedload(ScreeningReview.confirmed_by))
        .order_by(ScreeningReview.round)
    ):
        result[review.proposal_id] = review
    return result


def neighbours(edition: Edition, filters: QueueFilters, proposal: Proposal, *, actor: User,
               now: dt.datetime) -> tuple[int | None, int | None]:
    """The ids of the proposals before and after ``proposal`` in the filtered queue."""
    keys = [rules.sort_key(number, pid) for number, pid in db.session.execute(
        _queue_select(edition, filters, actor=actor, now=now, columns=(Proposal.number, Proposal.id)))]
    previous, next_ = rules.neighbours(keys, rules.sort_key(proposal.number, proposal.id))
    return (previous[1] if previous else None), (next_[1] if next_ else None)


def next_in_queue(edition: Edition, filters: QueueFilters, proposal: Proposal, *, actor: User,
                  now: dt.datetime) -> int | None:
    return neighbours(edition, filters, proposal, actor=actor, now=now)[1]


# --- announcements -------------------------------------------------------------------------------------


def undecided(edition: Edition) -> dict[str, int]:
    """Proposals whose screening is not over: still submitted (incl. awaiting confirmation), in correction."""
    rows = dict(db.session.execute(
        sa.select(Proposal.status, sa.func.count()).where(
            Proposal.edition_id == edition.id,
            Proposal.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.IN_CORRECTION]))
        .group_by(Proposal.status)
    ).all())
    return {"submitted": rows.get(ProposalStatus.SUBMITTED, 0),
            "in_correction": rows.get(ProposalStatus.IN_CORRECTION, 0)}


def passed_proposals(edition: Edition) -> list[Proposal]:
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.edition_id == edition.id,
                                  Proposal.status.in_([s.value for s in PASSED_SCREENING]))
        .options(joinedload(Proposal.agency).joinedload(Agency.region).joinedload(Region.parent))
        .order_by(Proposal.number)
    ))


def publish_announcement(actor: User, edition: Edition, *, number: str, title: str, body: str | None = None,
                         publish_undecided: bool = False, now: dt.datetime | None = None) -> Announcement:
    """A numbered public announcement listing every proposal that passed screening so far.

    While proposals are still undecided it is refused unless ``publish_undecided``
    (the page shows how many remain).
    """
    now = now or utcnow()
    _require_secretariat(actor)
    problem = rules.announcement_number_problem(number or "")
    if problem == "empty":
        raise ScreeningError(_("Enter the announcement's number (for example B/187/PP.00.05/2022)."), field="number",
                             code="required")
    if problem is not None:
        raise ScreeningError(_("Use one line of at most 80 characters for the number."), field="number",
                             code="number_format")
    number = number.strip()
    if db.session.scalar(sa.select(Announcement.id).where(Announcement.number == number)):
        raise ScreeningError(_("An announcement with the number %(number)s already exists.", number=number),
                             field="number", code="number_taken")
    title = _text(title, "title")
    remaining = undecided(edition)
    if sum(remaining.values()) and not publish_undecided:
        raise ScreeningError(
            _("%(submitted)s proposal(s) are not decided yet and %(in_correction)s are in a correction window. "
              "Tick “publish anyway” to announce the proposals passed so far.", **remaining),
            field="publish_undecided", code="undecided")
    passed = passed_proposals(edition)
    if not passed:
        raise ScreeningError(_("No proposal has passed screening yet: there is nothing to announce."),
                             code="nothing_passed")
    announcement = Announcement(edition_id=edition.id, kind=ANNOUNCEMENT_KIND, number=number, title=title,
                                body=_text(body, "body", required=False, max_length=None), published_at=now,
                                published_by_id=actor.id, proposals=passed)
    db.session.add(announcement)
    db.session.flush()
    record(actor, "screening.announcement_published", announcement,
           after={"number": number, "proposals": [p.number for p in passed], "undecided": remaining},
           label=number)
    return announcement


def announcements(edition: Edition) -> list[Announcement]:
    return list(db.session.scalars(
        sa.select(Announcement).where(Announcement.edition_id == edition.id)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
    ))


def published_announcements(edition: Edition, *, now: dt.datetime | None = None) -> list[Announcement]:
    """What the public sees: announcements whose publication time has come."""
    now = now or utcnow()
    return [a for a in announcements(edition) if a.published_at <= now]


def published_announcement(edition: Edition, announcement_id: int, *,
                           now: dt.datetime | None = None) -> Announcement | None:
    now = now or utcnow()
    return db.session.scalar(
        sa.select(Announcement).where(Announcement.id == announcement_id, Announcement.edition_id == edition.id,
                                      Announcement.published_at <= now)
        .options(selectinload(Announcement.proposals).joinedload(Proposal.agency).joinedload(Agency.region)
                 .joinedload(Region.parent))
    )


# --- statistics ----------------------------------------------------------------------------------------

OUTCOMES = (
    ("passed", _l("Passed"), ProposalStatus.ADMIN_PASSED),
    ("failed", _l("Failed"), ProposalStatus.ADMIN_FAILED),
    ("in_correction", _l("In correction"), ProposalStatus.IN_CORRECTION),
    ("pending", _l("Not decided yet"), ProposalStatus.SUBMITTED),
)
_OUTCOME_OF = {status: key for key, _label, status in OUTCOMES}
# Later rounds do not change what the screening decided.
_OUTCOME_OF.update({status: "passed" for status in PASSED_SCREENING})


@dataclass
class OutcomeRow:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=lambda: {key: 0 for key, _l2, _s in OUTCOMES})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def pass_rate(self) -> float | None:
        decided = self.counts["passed"] + self.counts["failed"]
        return 100.0 * self.counts["passed"] / decided if decided else None


@dataclass(frozen=True)
class ReasonRow:
    reason: ScreeningReason
    round1: int  # proposals failing on this item in a final round-1 decision
    round2: int  # … in a final round-2 decision
    proposals: int  # distinct proposals failing on it in any round


@dataclass
class Statistics:
    overall: OutcomeRow
    by_cluster: list[OutcomeRow]
    by_province: list[OutcomeRow]
    by_reason: list[ReasonRow]


def statistics(edition: Edition) -> Statistics:
    """Outcomes by cluster and province, and final failures by reason: three queries."""
    province = province_of(Agency.region_code).label("province")
    rows = db.session.execute(
        sa.select(Agency.cluster, province, Proposal.status, sa.func.count())
        .select_from(Proposal).join(Agency, Agency.id == Proposal.agency_id)
        .where(Proposal.edition_id == edition.id, Proposal.status.in_(SCREENED))
        .group_by(Agency.cluster, province, Proposal.status)
    ).all()
    overall = OutcomeRow("all", str(_l("All proposals")))
    by_cluster = {c: OutcomeRow(c.value, CLUSTER_LABELS[c]) for c in Cluster}
    by_province = {p.code: OutcomeRow(p.code, p.name) for p in provinces()}
    central = OutcomeRow(NO_REGION, str(_l("Pusat / no region")))
    for cluster, province_code, status, count in rows:
        key = _OUTCOME_OF[status]
        overall.counts[key] += count
        by_cluster[cluster].counts[key] += count
        (by_province.get(province_code, central) if province_code else central).counts[key] += count

    failed = (
        sa.select(ScreeningCheck.reason_id, ScreeningReview.round, ScreeningReview.proposal_id)
        .join(ScreeningReview, ScreeningReview.id == ScreeningCheck.review_id)
        .join(Proposal, Proposal.id == ScreeningReview.proposal_id)
        .where(Proposal.edition_id == edition.id, ScreeningCheck.passed.is_(False),
               ScreeningReview.decision == ScreeningDecision.FAILED, ScreeningReview.confirmed_at.is_not(None))
    )
    per_round: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for reason_id, round_, proposal_id in db.session.execute(failed):
        per_round[reason_id][round_].add(proposal_id)
    by_reason = [
        ReasonRow(reason=r, round1=len(per_round[r.id][1]), round2=len(per_round[r.id][2]),
                  proposals=len(set().union(*per_round[r.id].values())) if per_round[r.id] else 0)
        for r in reasons(edition)
    ]
    return Statistics(
        overall=overall,
        by_cluster=list(by_cluster.values()),
        by_province=[r for r in sorted(by_province.values(), key=lambda r: r.label) if r.total] +
                    ([central] if central.total else []),
        by_reason=by_reason,
    )
