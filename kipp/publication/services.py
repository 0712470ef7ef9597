"""Publishing an edition's result: what the public sees, the outcome notices, the certificates.

The result is the frozen WINNERS list (kipp.selection); publishing it stamps ``published_at`` on
that list, which is the one switch every public page, agency page and verification looks at.
Publishing enqueues, in the same transaction, the outcome notices to every participating agency
and a certificate batch (kipp.publication.jobs). What the public may see is assembled here and
only here (:func:`public_results`), so that the secretariat's preview is exactly the public page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kipp.accounts.models import User
from kipp.agencies.models import Agency, Region
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, StageKind, StageStatus
from kipp.editions.models import Edition, EditionGroup, Section
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.i18n import localized, wib_datetime
from kipp.innovations.kinds import WINNER_TIERS, AwardTier
from kipp.judging.models import RunStatus
from kipp.outbox.dispatch import enqueue
from kipp.progress.stages import require
from kipp.proposals.models import Proposal, ProposalAnswer
from kipp.proposals.states import ProposalStatus
from kipp.publication.models import CertificateBatch
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind

# Outbox jobs (handlers in kipp.publication.jobs).
NOTIFY_OUTCOMES = "kipp.publication.notify_outcomes"
GENERATE_CERTIFICATES = "kipp.publication.generate_certificates"

RESULT_NOTICE = "result_published"
# The section whose answer is the public summary of an innovation (kipp-domain §3).
SUMMARY_KEY = "ringkasan"

# Finalists that reached the end of the rounds (a disqualified one did not; a FINALIST was never
# confirmed). After the final result they are WINNER or FINALIST_ONLY; the others are accepted
# so that a page never hides a confirmed finalist whatever moment it is asked at.
CONFIRMED_FINALIST_STATES = frozenset({
    ProposalStatus.CONFIRMED, ProposalStatus.PRESENTED, ProposalStatus.NO_SHOW, ProposalStatus.WINNER,
    ProposalStatus.FINALIST_ONLY,
})
FINALIST_TIER_OF_GROUP = {GroupCode.UMUM: AwardTier.TOP_99, GroupCode.KHUSUS: AwardTier.FINALIST_KHUSUS,
                          GroupCode.REPLIKASI: AwardTier.TOP_15_REPLIKASI}
# The historical size of each finalist tier, when the edition's group does not say.
_FINALIST_SIZE = {AwardTier.TOP_99: 99, AwardTier.FINALIST_KHUSUS: 15, AwardTier.TOP_15_REPLIKASI: 15}


class PublicationRefused(DomainError):
    """Publishing (or a certificate batch) is not possible now; the message says why."""


# --- the lists ---------------------------------------------------------------------------------


def shortlist(edition: Edition, kind: ShortlistKind) -> Shortlist | None:
    return db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id, Shortlist.kind == kind))


def winners_list(edition: Edition) -> Shortlist | None:
    return shortlist(edition, ShortlistKind.WINNERS)


def published_winners(edition: Edition) -> Shortlist | None:
    """The WINNERS list once published, else None (what every public page asks first)."""
    winners = winners_list(edition)
    return winners if winners is not None and winners.published_at is not None else None


def is_published(edition: Edition) -> bool:
    return published_winners(edition) is not None


def results_published(edition: Edition | None) -> bool:
    """For templates (a Jinja global): whether ``edition``'s result is public."""
    return edition is not None and is_published(edition)


def tiers_of(edition: Edition) -> dict[int, AwardTier]:
    """Proposal id -> its tier: on the winners list for a winner, else on the finalists list."""
    lists = {s.kind: s.id for s in db.session.scalars(sa.select(Shortlist).where(
        Shortlist.edition_id == edition.id, Shortlist.kind.in_([ShortlistKind.FINALISTS, ShortlistKind.WINNERS])))}
    if not lists:
        return {}
    rows = db.session.execute(
        sa.select(ShortlistEntry.shortlist_id, ShortlistEntry.proposal_id, ShortlistEntry.tier).where(
            ShortlistEntry.shortlist_id.in_(list(lists.values())), ShortlistEntry.chosen.is_(True),
            ShortlistEntry.tier.is_not(None))).all()
    winners_id = lists.get(ShortlistKind.WINNERS)
    tiers: dict[int, AwardTier] = {}
    for shortlist_id, proposal_id, tier in sorted(rows, key=lambda r: r.shortlist_id == winners_id):
        tiers[proposal_id] = tier  # the winners list last: its tier counts
    return tiers


# --- titles and outcome words ---------------------------------------------------------------------


def finalist_tier(group_code: GroupCode, tier: AwardTier | None = None) -> AwardTier:
    return tier if tier is not None and tier not in WINNER_TIERS else FINALIST_TIER_OF_GROUP[group_code]


def finalist_title(group: EditionGroup, tier: AwardTier | None = None) -> Any:
    """The finalist tier's name in the current language, with the edition's number of places."""
    tier = finalist_tier(group.code, tier)
    count = group.finalist_count or _FINALIST_SIZE[tier]
    if tier is AwardTier.FINALIST_KHUSUS:
        return _l("Finalist, Top %(count)s of the special group", count=count)
    if tier is AwardTier.TOP_15_REPLIKASI:
        return _l("Finalist, Top %(count)s replication innovations", count=count)
    return _l("Finalist, Top %(count)s Public Service Innovations", count=count)


def tier_title(group: EditionGroup, tier: AwardTier) -> Any:
    """What a certificate and the public page call the tier: the group's winner title for a
    winner (data of the edition, e.g. "Top 45 Inovasi Pelayanan Publik Terpuji"), else the
    finalist tier's name."""
    if tier in WINNER_TIERS:
        return group.winner_title
    return finalist_title(group, tier)


def outcome(status: ProposalStatus, *, group: EditionGroup | None = None, tier: AwardTier | None = None) -> Any:
    """A proposal's outcome in words, lazily translated (a notice renders it in its reader's
    language). ``tier`` is its place on the winners list (winners) or the finalists list."""
    if status is ProposalStatus.WINNER and group is not None:
        return _l("winner: %(title)s", title=group.winner_title)
    if status in CONFIRMED_FINALIST_STATES and group is not None:
        return _l("%(title)s (a finalist, not among the winners)", title=finalist_title(group, tier))
    return {
        ProposalStatus.WINNER: _l("winner"),
        ProposalStatus.FINALIST_ONLY: _l("finalist, not among the winners"),
        ProposalStatus.CONFIRMED: _l("finalist, not among the winners"),
        ProposalStatus.PRESENTED: _l("finalist, not among the winners"),
        ProposalStatus.NO_SHOW: _l("finalist, not among the winners"),
        ProposalStatus.DISQUALIFIED: _l("disqualified as a finalist"),
        ProposalStatus.FINALIST: _l("finalist, not confirmed"),
        ProposalStatus.NOT_FINALIST: _l("nominee, not chosen as a finalist"),
        ProposalStatus.NOMINATED: _l("nominee, not chosen as a finalist"),
        ProposalStatus.NOT_NOMINATED: _l("passed the administrative screening, not nominated"),
        ProposalStatus.ADMIN_PASSED: _l("passed the administrative screening, not nominated"),
        ProposalStatus.ADMIN_FAILED: _l("did not pass the administrative screening"),
        ProposalStatus.IN_CORRECTION: _l("did not pass the administrative screening"),
        ProposalStatus.SUBMITTED: _l("not assessed"),
        ProposalStatus.WITHDRAWN: _l("withdrawn by the agency"),
    }.get(status, _l("not assessed"))


# --- what the public sees ---------------------------------------------------------------------


@dataclass
class ResultRow:
    proposal_id: int
    title: str
    agency: str
    region: str
    category: str
    summary: str
    tier: AwardTier
    tier_title: Any


@dataclass
class GroupResult:
    group: EditionGroup
    winners: list[ResultRow] = field(default_factory=list)
    finalists: list[ResultRow] = field(default_factory=list)


@dataclass
class Results:
    edition: Edition
    winners_list: Shortlist
    finalists_list: Shortlist | None
    groups: list[GroupResult]

    @property
    def winner_count(self) -> int:
        return sum(len(g.winners) for g in self.groups)


def region_names(codes: set[str | None]) -> dict[str, str]:
    """Region code -> "kab/kota, province" (or the province alone), in one query."""
    wanted = {c for c in codes if c}
    wanted |= {c.split(".")[0] for c in wanted}
    if not wanted:
        return {}
    rows = {code: (name, parent) for code, name, parent in db.session.execute(
        sa.select(Region.code, Region.name, Region.parent_code).where(Region.code.in_(sorted(wanted))))}
    names = {}
    for code, (name, parent) in rows.items():
        names[code] = f"{name}, {rows[parent][0]}" if parent and parent in rows else name
    return names


def public_results(edition: Edition, *, preview: bool = False) -> Results | None:
    """The result as the public sees it: per group, the winners with their tier title, then the
    other confirmed finalists; each with agency, region, category and summary. None while it is
    not published (``preview``: the secretariat's view of the same page before publishing, once
    the winners list is frozen). Nothing else leaves this function: no scores, ranks, reasons,
    nominees not chosen or proposals that did not reach the end."""
    winners = winners_list(edition)
    if winners is None or not winners.frozen or (winners.published_at is None and not preview):
        return None
    finalists = shortlist(edition, ShortlistKind.FINALISTS)
    list_ids = [winners.id] + ([finalists.id] if finalists is not None and finalists.confirmed_at else [])
    rows = db.session.execute(
        sa.select(ShortlistEntry.shortlist_id, ShortlistEntry.proposal_id, ShortlistEntry.group_code,
                  ShortlistEntry.tier, Proposal.title, Proposal.status, Proposal.category_id, Proposal.group_id,
                  Agency.name.label("agency"), Agency.region_code)
        .join(Proposal, Proposal.id == ShortlistEntry.proposal_id)
        .join(Agency, Agency.id == Proposal.agency_id)
        .where(ShortlistEntry.shortlist_id.in_(list_ids), ShortlistEntry.chosen.is_(True),
               Proposal.edition_id == edition.id)
    ).all()
    winner_rows = [r for r in rows if r.shortlist_id == winners.id and r.tier in WINNER_TIERS
                   and r.status is ProposalStatus.WINNER]
    winner_ids = {r.proposal_id for r in winner_rows}
    finalist_rows = [r for r in rows if r.shortlist_id != winners.id and r.proposal_id not in winner_ids
                     and r.status in CONFIRMED_FINALIST_STATES]
    shown = winner_rows + finalist_rows
    summaries = _summaries({r.proposal_id for r in shown})
    regions = region_names({r.region_code for r in shown})
    categories = {c.id: localized(c, "name") for c in edition.categories}
    groups = {g.id: GroupResult(g) for g in edition.groups}

    def row(r: Any, tier: AwardTier) -> ResultRow:
        group = groups[r.group_id].group
        return ResultRow(r.proposal_id, r.title, r.agency, regions.get(r.region_code or "", ""),
                         categories.get(r.category_id, ""), summaries.get(r.proposal_id, ""), tier,
                         tier_title(group, tier))

    for r in winner_rows:
        groups[r.group_id].winners.append(row(r, r.tier))
    for r in finalist_rows:
        groups[r.group_id].finalists.append(row(r, finalist_tier(r.group_code, r.tier)))
    for result in groups.values():
        # Alphabetical by agency: the order carries no rank.
        result.winners.sort(key=lambda x: (_tier_order(x.tier), x.agency.casefold(), x.title.casefold()))
        result.finalists.sort(key=lambda x: (x.agency.casefold(), x.title.casefold()))
    return Results(edition, winners, finalists, [g for g in groups.values() if g.winners or g.finalists])


_WINNER_ORDER = (AwardTier.TOP_45, AwardTier.OUTSTANDING, AwardTier.TOP_5_REPLIKASI)


def _tier_order(tier: AwardTier) -> int:
    return _WINNER_ORDER.index(tier) if tier in _WINNER_ORDER else len(_WINNER_ORDER)


def _summaries(proposal_ids: set[int]) -> dict[int, str]:
    if not proposal_ids:
        return {}
    return dict(db.session.execute(
        sa.select(ProposalAnswer.proposal_id, ProposalAnswer.text)
        .join(Section, Section.id == ProposalAnswer.section_id)
        .where(Section.key == SUMMARY_KEY, ProposalAnswer.proposal_id.in_(sorted(proposal_ids)))
    ).all())


# --- publishing --------------------------------------------------------------------------------


@dataclass
class Readiness:
    """What publishing needs, item by item, for the secretariat's page."""

    stage_open: bool
    winners_frozen: bool
    has_decree: bool
    published: bool

    @property
    def ready(self) -> bool:
        return self.stage_open and self.winners_frozen and self.has_decree and not self.published


def readiness(edition: Edition) -> Readiness:
    from kipp.progress.stages import status_of

    winners = winners_list(edition)
    return Readiness(
        stage_open=status_of(edition, StageKind.ANNOUNCEMENT) is StageStatus.OPEN,
        winners_frozen=winners is not None and winners.frozen,
        has_decree=winners is not None and bool((winners.decree_number or "").strip()),
        published=winners is not None and winners.published_at is not None,
    )


def publish(actor: User, edition: Edition, *, now: dt.datetime | None = None) -> Shortlist:
    """Publish the frozen final result: the public page, the agencies' outcomes and certificates
    open from now on; the outcome notices and the certificate batch are queued."""
    now = now or utcnow()
    winners = winners_list(edition)
    if winners is not None and winners.published_at is not None:
        raise PublicationRefused(_("The results were already published on %(when)s; they are published once.",
                                   when=wib_datetime(winners.published_at)), code="already_published")
    require(edition, StageKind.ANNOUNCEMENT, StageStatus.OPEN)
    if winners is None or not winners.frozen:
        raise PublicationRefused(_("The final result is not frozen yet: agree it and freeze it with its decree "
                                   "number first."), code="winners_not_frozen")
    if not (winners.decree_number or "").strip():
        raise PublicationRefused(_("The final result has no decree number; record the decree (Kepmen) that "
                                   "establishes the winners first."), code="no_decree")
    winners.published_at, winners.published_by_id = now, actor.id
    db.session.flush()
    record(actor, "results.published", winners, before={"published_at": None},
           after={"published_at": now.isoformat(), "decree_number": winners.decree_number},
           label=f"{edition.name} · {winners.decree_number}")
    # The certificates first: the outcome notices put thousands of emails on the queue, and the
    # secretariat's download should not wait behind them.
    _queue_batch(actor, edition)
    enqueue(NOTIFY_OUTCOMES, edition_id=edition.id)
    return winners


# --- certificate batches -------------------------------------------------------------------------


def latest_batch(edition: Edition, *, done: bool = False) -> CertificateBatch | None:
    query = sa.select(CertificateBatch).where(CertificateBatch.edition_id == edition.id)
    if done:
        query = query.where(CertificateBatch.status == RunStatus.DONE)
    return db.session.scalar(query.order_by(CertificateBatch.id.desc()).limit(1))


def _queue_batch(actor: User | None, edition: Edition) -> CertificateBatch:
    batch = CertificateBatch(edition_id=edition.id, requested_by_id=actor.id if actor else None)
    db.session.add(batch)
    db.session.flush()
    enqueue(GENERATE_CERTIFICATES, batch_id=batch.id)
    return batch


def request_certificates(actor: User, edition: Edition) -> CertificateBatch:
    """Generate every certificate again (a new batch; a batch still running stops in its favour)."""
    if not is_published(edition):
        raise PublicationRefused(_("Certificates are generated once the results are published."),
                                 code="not_published")
    require(edition, StageKind.ANNOUNCEMENT, StageStatus.OPEN, StageStatus.CLOSED)
    batch = _queue_batch(actor, edition)
    record(actor, "certificates.requested", batch, label=edition.name)
    return batch


def participation(edition: Edition) -> tuple[int, int]:
    """(participating agencies, their numbered proposals): whom the outcome notices reach."""
    from kipp.proposals.states import NUMBERED

    agencies, proposals = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Proposal.agency_id)), sa.func.count())
        .where(Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in NUMBERED]))).one()
    return agencies or 0, proposals or 0
