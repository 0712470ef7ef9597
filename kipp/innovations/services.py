"""Innovations, their award history and khusus invitations. Services flush and audit; the caller commits.

``actor`` None means the system (the command line, a final result written by a
later stage). The secretariat keeps the award history: it imports past results
(:mod:`kipp.innovations.importer`), adds and removes single awards, and invites
earlier Top 45 winners to kelompok khusus.

Eligibility itself is decided by the pure rules of :mod:`kipp.innovations.rules`;
:func:`eligibility_facts` gathers their input from the database and
:func:`eligibility_message` words their problem codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from babel.dates import format_date
from flask_babel import get_locale
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Unit
from kipp.agencies.services import normalise_name
from kipp.audit.services import record, snapshot
from kipp.editions.kinds import GroupCode, StageKind
from kipp.editions.models import Edition, EditionGroup
from kipp.editions.rules import YEAR_MIN
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import WIB
from kipp.innovations import rules
from kipp.innovations.kinds import TIER_LABELS, AwardTier
from kipp.innovations.models import Award, Innovation
from kipp.proposals.models import KhususInvitation, Proposal
from kipp.proposals.states import ProposalStatus

TITLE_MAX = 255
DECREE_MAX = 255
SOURCE_MAX = 80


# --- who ------------------------------------------------------------------------------------


def can_manage_innovations(actor: User | None) -> bool:
    """Keep the award history and the khusus invitations: the secretariat (or the system)."""
    return actor is None or actor.role is Role.SECRETARIAT


def require_innovation_manager(actor: User | None) -> None:
    if not can_manage_innovations(actor):
        raise NotAllowed(_("You may not manage innovations and their awards."))


# --- small helpers --------------------------------------------------------------------------


def title_key(title: str | None) -> str:
    """What makes two titles the same innovation: case and white space do not count."""
    return normalise_name(title).casefold()


def today() -> dt.date:
    """Today in WIB."""
    return dt.datetime.now(WIB).date()


def format_day(value: dt.date | None) -> str:
    """'6 May 2027' / '6 Mei 2027' in the current language."""
    if value is None:
        return "–"
    return format_date(value, "d MMM y", locale=str(get_locale() or "en"))


def tier_label(tier: AwardTier) -> str:
    return TIER_LABELS[AwardTier(tier)]


_TIER_ORDER = {tier: position for position, tier in enumerate(AwardTier)}


def sorted_awards(innovation: Innovation) -> list[Award]:
    """The award history oldest first; within a year from the finalists up (Top 99 before Top 45)."""
    return sorted(innovation.awards, key=lambda a: (a.year, _TIER_ORDER[a.tier]))


def award_lines(innovation: Innovation) -> list[rules.AwardLine]:
    return [(a.year, a.tier) for a in innovation.awards]


def _year_problem(year: int) -> str | None:
    latest = today().year
    if not YEAR_MIN <= year <= latest:
        return _("The year must be between %(min)s (the first KIPP) and %(max)s.", min=YEAR_MIN, max=latest)
    return None


def year_problem(year: Any) -> str | None:
    """Why ``year`` cannot be the year of an award, or None."""
    if isinstance(year, bool) or not isinstance(year, int):
        return _("The year must be a whole number such as 2019.")
    return _year_problem(year)


def start_date_problem(start_date: dt.date | None, *, first_award_year: int | None = None) -> str | None:
    """A start date in the future, or after the year of an award, cannot be right."""
    if start_date is None:
        return None
    if start_date > today():
        return _("The start date %(date)s is in the future.", date=format_day(start_date))
    if first_award_year is not None and start_date.year > first_award_year:
        return _("The start date %(date)s is after the award of %(year)s; an innovation starts before it "
                 "wins.", date=format_day(start_date), year=first_award_year)
    return None


def _text(value: str | None, *, max_length: int, what: str) -> str | None:
    text = normalise_name(value)
    if not text:
        return None
    if len(text) > max_length:
        raise DomainError(_("%(what)s is longer than %(n)s characters.", what=what, n=max_length),
                          code="too_long")
    return text


def _title(title: str | None) -> str:
    text = normalise_name(title)
    if not text:
        raise DomainError(_("The title of the innovation is missing."), code="title_missing")
    if len(text) > TITLE_MAX:
        raise DomainError(_("The title is longer than %(n)s characters.", n=TITLE_MAX), code="title_too_long")
    return text


# --- eligibility ----------------------------------------------------------------------------


def _years(years: Sequence[int]) -> str:
    return ", ".join(str(y) for y in years)


def eligibility_message(code: str, facts: rules.EligibilityFacts) -> str:
    """The translated sentence for a problem code of :func:`kipp.innovations.rules.check`."""
    p = rules.problem_params(code, facts)
    if code == rules.START_DATE_MISSING:
        return _("The innovation's start date is missing; it must be at least %(months)s months old on "
                 "%(closing)s (started on or before %(latest)s).",
                 months=p["months"], closing=format_day(p["closing"]), latest=format_day(p["latest"]))
    if code == rules.TOO_YOUNG:
        return _("The innovation must be at least %(months)s months old on %(closing)s; it started on "
                 "%(start)s (it would have had to start on or before %(latest)s).",
                 months=p["months"], closing=format_day(p["closing"]), start=format_day(p["start"]),
                 latest=format_day(p["latest"]))
    if code == rules.ALREADY_WINNER:
        won = ", ".join(f"{tier_label(tier)} {year}" for year, tier in p["awards"])
        return _("Kelompok umum is for innovations that have not won before; this one was %(awards)s. An "
                 "earlier Top 45 winner may enter kelompok khusus when invited.", awards=won)
    if code == rules.TOP99_TWICE:
        return _("An innovation that reached Top 99 in %(max)s different years cannot enter kelompok umum "
                 "again; this one was in Top 99 in %(years)s.", max=p["max"], years=_years(p["years"]))
    if code == rules.KHUSUS_NEEDS_TOP45:
        return _("Kelompok khusus is only for earlier Top 45 (Top Inovasi Terpuji) winners; this innovation "
                 "has never been in Top 45.")
    if code == rules.KHUSUS_ALREADY_OUTSTANDING:
        return _("This innovation already won Outstanding Achievement (%(years)s) and cannot enter kelompok "
                 "khusus again.", years=_years(p["years"]))
    if code == rules.KHUSUS_FINALIST_TWICE:
        return _("An innovation that was a kelompok khusus finalist in %(max)s different years cannot enter "
                 "kelompok khusus again; this one was a finalist in %(years)s.",
                 max=p["max"], years=_years(p["years"]))
    if code == rules.KHUSUS_NEEDS_INVITATION:
        return _("Kelompok khusus is by the secretariat's invitation only, and this innovation has no "
                 "invitation for this edition.")
    if code == rules.REPLIKASI_NEEDS_SOURCE:
        return _("A replication must name the innovation it replicates.")
    if code == rules.REPLIKASI_SOURCE_NOT_TOP:
        return _("Only a past Top innovation (at least Top 99 or a KIPP finalist) can be replicated; the "
                 "innovation named has no KIPP award.")
    if code == rules.REPLIKASI_SAME_INNOVATION:
        return _("An innovation cannot be a replication of itself; name the original innovation.")
    return code


def eligibility_messages(facts: rules.EligibilityFacts) -> list[tuple[str, str]]:
    """(code, message) for every problem of ``facts``; [] when the innovation is eligible."""
    return [(code, eligibility_message(code, facts)) for code in rules.check(facts)]


def submission_closing_date(edition: Edition) -> dt.date | None:
    """The last day (WIB) of the edition's submission stage; None without such a stage.

    A stage closing at 00:00 WIB closes at the end of the day before.
    """
    stage = edition.stage(StageKind.SUBMISSION)
    if stage is None:
        return None
    return (stage.closes_at - dt.timedelta(microseconds=1)).astimezone(WIB).date()


def has_khusus_invitation(edition_id: int, innovation_id: int) -> bool:
    return find_khusus_invitation(edition_id, innovation_id) is not None


def eligibility_facts(
    *,
    group: EditionGroup,
    closing_date: dt.date,
    innovation: Innovation | None = None,
    start_date: dt.date | None = None,
    replicated: Innovation | None = None,
) -> rules.EligibilityFacts:
    """The rules' input for ``innovation`` (None: one not recorded yet) in ``group``.

    ``start_date`` overrides the innovation's own (a proposal may state it);
    ``replicated`` is the innovation a replikasi proposal names.
    """
    invited = False
    if innovation is not None and innovation.id is not None and group.code is GroupCode.KHUSUS:
        invited = has_khusus_invitation(group.edition_id, innovation.id)
    return rules.EligibilityFacts(
        group=group.code,
        start_date=start_date if start_date is not None else (innovation.start_date if innovation else None),
        closing_date=closing_date,
        min_age_months=group.min_age_months,
        awards=award_lines(innovation) if innovation is not None else (),
        has_khusus_invitation=invited,
        replicated_awards=award_lines(replicated) if replicated is not None else None,
        innovation_id=innovation.id if innovation is not None else None,
        replicated_id=replicated.id if replicated is not None else None,
    )


# --- innovations ----------------------------------------------------------------------------


def find_innovation(agency_id: int, title: str) -> Innovation | None:
    """The agency's innovation with this title, ignoring case and extra spaces."""
    wanted = title_key(title)
    if not wanted:
        return None
    candidates = db.session.scalars(
        sa.select(Innovation).where(Innovation.agency_id == agency_id).order_by(Innovation.id)
    )
    return next((i for i in candidates if title_key(i.title) == wanted), None)


def _check_unit(agency: Agency, unit: Unit | None) -> None:
    if unit is not None and unit.agency_id != agency.id:
        raise DomainError(_("The unit %(unit)s does not belong to %(agency)s.", unit=unit.name, agency=agency.name),
                          code="unit_other_agency")


def _check_title_free(agency: Agency, title: str, *, exclude_id: int | None = None) -> None:
    clash = find_innovation(agency.id, title)
    if clash is not None and clash.id != exclude_id:
        raise DomainError(_("%(agency)s already has an innovation titled %(title)s.",
                            agency=agency.name, title=clash.title), code="title_taken")


def _check_start_date(innovation: Innovation | None, start_date: dt.date | None) -> None:
    first = min((a.year for a in innovation.awards), default=None) if innovation is not None else None
    problem = start_date_problem(start_date, first_award_year=first)
    if problem:
        raise DomainError(problem, code="start_date_invalid")


def create_innovation(
    actor: User | None,
    *,
    agency: Agency,
    unit: Unit | None = None,
    title: str,
    start_date: dt.date | None = None,
    innovator_decree: str | None = None,
) -> Innovation:
    """A new innovation of ``agency``; its title must be new within the agency."""
    require_innovation_manager(actor)
    title = _title(title)
    _check_unit(agency, unit)
    _check_title_free(agency, title)
    _check_start_date(None, start_date)
    innovation = Innovation(
        agency=agency,
        unit=unit,
        title=title,
        start_date=start_date,
        innovator_decree=_text(innovator_decree, max_length=DECREE_MAX, what=_("The innovator decree")),
    )
    db.session.add(innovation)
    db.session.flush()
    record(actor, "innovation.created", innovation, after=snapshot(innovation))
    return innovation


def update_innovation(
    actor: User | None,
    innovation: Innovation,
    *,
    title: str,
    unit: Unit | None,
    start_date: dt.date | None,
    innovator_decree: str | None,
) -> bool:
    """Correct an innovation's details (its agency stays). True if anything changed."""
    require_innovation_manager(actor)
    title = _title(title)
    _check_unit(innovation.agency, unit)
    _check_title_free(innovation.agency, title, exclude_id=innovation.id)
    _check_start_date(innovation, start_date)
    decree = _text(innovator_decree, max_length=DECREE_MAX, what=_("The innovator decree"))
    before = snapshot(innovation)
    innovation.title = title
    innovation.unit = unit
    innovation.start_date = start_date
    innovation.innovator_decree = decree
    db.session.flush()
    after = snapshot(innovation)
    if after == before:
        return False
    record(actor, "innovation.updated", innovation, before=before, after=after)
    return True


# --- awards ---------------------------------------------------------------------------------


def find_award(innovation: Innovation, year: int, tier: AwardTier) -> Award | None:
    return next((a for a in innovation.awards if a.year == year and a.tier is AwardTier(tier)), None)


def add_award(
    actor: User | None,
    innovation: Innovation,
    *,
    year: int,
    tier: AwardTier,
    decree_number: str | None = None,
    source: str = "manual",
) -> Award:
    """One more line of the award history; the same (year, tier) twice is refused."""
    require_innovation_manager(actor)
    tier = AwardTier(tier)
    problem = year_problem(year)
    if problem:
        raise DomainError(problem, code="year_invalid")
    if find_award(innovation, year, tier) is not None:
        raise DomainError(_("%(title)s already has %(tier)s %(year)s.", title=innovation.title,
                            tier=tier_label(tier), year=year), code="award_exists")
    if innovation.start_date is not None and innovation.start_date.year > year:
        raise DomainError(_("The innovation started on %(date)s, after %(year)s; check the year or correct the "
                            "start date first.", date=format_day(innovation.start_date), year=year),
                          code="year_before_start")
    award = Award(
        year=year,
        tier=tier,
        decree_number=_text(decree_number, max_length=DECREE_MAX, what=_("The decree number")),
        source=(source or "manual")[:SOURCE_MAX],
    )
    innovation.awards.append(award)
    db.session.flush()
    record(actor, "innovation.award_added", innovation, after=snapshot(award))
    return award


def set_award_decree(actor: User | None, award: Award, decree_number: str | None) -> bool:
    """Record (or correct) the decree of an award. True if it changed."""
    require_innovation_manager(actor)
    decree = _text(decree_number, max_length=DECREE_MAX, what=_("The decree number"))
    if decree == award.decree_number:
        return False
    before = snapshot(award)
    award.decree_number = decree
    db.session.flush()
    record(actor, "innovation.award_updated", award.innovation, before=before, after=snapshot(award))
    return True


def remove_award(actor: User | None, award: Award) -> None:
    """Delete a line of the award history (a mistaken import, a revoked award)."""
    require_innovation_manager(actor)
    innovation = award.innovation
    before = snapshot(award)
    innovation.awards.remove(award)
    db.session.flush()
    record(actor, "innovation.award_removed", innovation, before=before)


# --- khusus invitations ---------------------------------------------------------------------


def find_khusus_invitation(edition_id: int, innovation_id: int) -> KhususInvitation | None:
    return db.session.scalar(
        sa.select(KhususInvitation).where(
            KhususInvitation.edition_id == edition_id, KhususInvitation.innovation_id == innovation_id
        )
    )


def khusus_eligible_condition() -> Any:
    """SQL condition on Innovation: may be invited to khusus (same as ``rules.may_be_invited_to_khusus``)."""
    def holds(*tiers: AwardTier) -> Any:
        return sa.exists().where(Award.innovation_id == Innovation.id, Award.tier.in_(tiers))

    finalist_years = (
        sa.select(sa.func.count(sa.distinct(Award.year)))
        .where(Award.innovation_id == Innovation.id,
               Award.tier.in_([AwardTier.FINALIST_KHUSUS, AwardTier.OUTSTANDING]))
        .scalar_subquery()
    )
    return sa.and_(
        holds(AwardTier.TOP_45),
        sa.not_(holds(AwardTier.OUTSTANDING)),
        finalist_years < rules.KHUSUS_MAX_FINALIST_YEARS,
    )


def invite_khusus(actor: User | None, edition: Edition, innovation: Innovation) -> KhususInvitation:
    """Invite an earlier Top 45 winner to kelompok khusus of ``edition``."""
    require_innovation_manager(actor)
    if actor is None:
        # khusus_invitations.invited_by_id is NOT NULL: an invitation is always someone's.
        raise DomainError(_("An invitation is sent by a member of the secretariat."), code="actor_required")
    if edition.group(GroupCode.KHUSUS) is None:
        raise DomainError(_("%(edition)s has no kelompok khusus, so there is nothing to invite to.",
                            edition=edition.name), code="no_khusus_group")
    if find_khusus_invitation(edition.id, innovation.id) is not None:
        raise DomainError(_("%(title)s is already invited to kelompok khusus of %(edition)s.",
                            title=innovation.title, edition=edition.name), code="already_invited")
    problems = rules.khusus_history_problems(award_lines(innovation))
    if problems:
        facts = rules.EligibilityFacts(group=GroupCode.KHUSUS, start_date=None, closing_date=today(),
                                       min_age_months=0, awards=award_lines(innovation))
        reasons = " ".join(eligibility_message(code, facts) for code in problems)
        raise DomainError(_("%(title)s cannot be invited: %(reasons)s", title=innovation.title, reasons=reasons),
                          code=problems[0])
    invitation = KhususInvitation(edition_id=edition.id, innovation_id=innovation.id, invited_by_id=actor.id)
    db.session.add(invitation)
    db.session.flush()
    record(actor, "innovation.khusus_invited", innovation,
           after={**snapshot(invitation), "edition_year": edition.year})
    return invitation


def revoke_khusus_invitation(actor: User | None, invitation: KhususInvitation) -> None:
    """Withdraw an invitation, unless a khusus proposal of the innovation was already submitted."""
    require_innovation_manager(actor)
    submitted = db.session.scalar(
        sa.select(Proposal.id)
        .join(EditionGroup, Proposal.group_id == EditionGroup.id)
        .where(
            Proposal.edition_id == invitation.edition_id,
            Proposal.innovation_id == invitation.innovation_id,
            EditionGroup.code == GroupCode.KHUSUS,
            Proposal.status == ProposalStatus.SUBMITTED,
        )
        .limit(1)
    )
    if submitted is not None:
        raise DomainError(_("A kelompok khusus proposal of this innovation has already been submitted; the "
                            "invitation stays. Withdraw the proposal first if it must go."),
                          code="khusus_already_submitted")
    innovation = invitation.innovation
    edition = db.session.get(Edition, invitation.edition_id)
    before = {**snapshot(invitation), "edition_year": edition.year if edition else None}
    db.session.delete(invitation)
    db.session.flush()
    record(actor, "innovation.khusus_revoked", innovation, before=before)


def invitations_of(innovation: Innovation) -> dict[int, KhususInvitation]:
    """The innovation's khusus invitations by edition id."""
    return {
        i.edition_id: i
        for i in db.session.scalars(sa.select(KhususInvitation).where(KhususInvitation.innovation_id == innovation.id))
    }

