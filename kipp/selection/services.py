"""The three frozen lists of the selection rounds: the nominees (from the evaluation ranking), the
panel plenary's finalists, and the final result (the winners). Services flush and audit; the
caller commits.

Each list goes the same way: built as a draft from a ranking (every candidate is kept, chosen or
not, with the figures it had), adjusted (every departure from what the rules or the ranking
proposed needs a reason), then frozen: the proposals move on through
``kipp.proposals.services._transition`` and the list becomes a snapshot that later score edits
cannot change (nothing here writes to a frozen list). Beside each cut, the share of bootstrap
resamples of the judges' sheets in which each proposal stays on its side of the cut
(:mod:`kipp.selection.uncertainty`).

- Nominees: the EVALUATION stage closed, the PANEL_REVIEW stage not started; per group the size,
  the places per agency cluster and the 3T minimum of the group's settings and the evaluation's
  passing grade, chosen exactly by :func:`kipp.selection.nominees.select`.
- Finalists: the PANEL_REVIEW stage open and the nominees frozen; recorded by the secretariat or
  the panel's chair (a PANEL_REVIEW pool member marked chair outside any review team; a team's
  chair chairs only its team's consolidation); the top ``finalist_count`` of each group by the
  panel's ranking are proposed; the minutes (berita acara) are required to freeze.
- Winners: the FINAL stage open; the confirmed finalists, scored by :mod:`kipp.selection.final`;
  only those who presented may win; the decree is required to freeze, and freezing writes each
  innovation's award history (which next year's eligibility reads).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import aliased, selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.agencies.models import Agency, Region
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, PlacesMode, StageKind, StageStatus
from kipp.editions.models import Edition, EditionGroup
from kipp.editions.rules import tier_problems
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import to_wib
from kipp.innovations import services as innovations
from kipp.innovations.kinds import AwardTier
from kipp.innovations.models import Innovation
from kipp.judging.models import InvitationStatus, PoolMember
from kipp.progress.stages import require
from kipp.proposals.models import Proposal
from kipp.proposals.services import _transition
from kipp.proposals.states import IN_FINAL_ROUND, PASSED_SCREENING, Action, ProposalStatus
from kipp.scoring import rules as scoring_rules
from kipp.scoring.models import ProposalScore, ScoreSheet, ScoringScheme, SheetStatus
from kipp.scoring.services import published_pairs, scheme_for, sees_colleague_figures, stage_figures_open
from kipp.selection import final, nominees, uncertainty
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from kipp.verification.models import FieldVisit

FINALIST_TIER = {GroupCode.UMUM: AwardTier.TOP_99, GroupCode.KHUSUS: AwardTier.FINALIST_KHUSUS,
                 GroupCode.REPLIKASI: AwardTier.TOP_15_REPLIKASI}
WINNER_TIER = {GroupCode.UMUM: AwardTier.TOP_45, GroupCode.KHUSUS: AwardTier.OUTSTANDING,
               GroupCode.REPLIKASI: AwardTier.TOP_5_REPLIKASI}
REASON_MAX = 1000
MINUTES_MAX = 50_000
DECREE_MAX = 255
# A proposal whose side of a cut held in fewer than this share of the resamples is flagged.
STABLE_LEVEL = 0.9
AWARD_SOURCE = "final_result"


# --- shared ----------------------------------------------------------------------------------------

def shortlist_of(edition: Edition, kind: ShortlistKind) -> Shortlist | None:
    return db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id, Shortlist.kind == kind))


def _draft(edition: Edition, kind: ShortlistKind) -> Shortlist:
    shortlist = shortlist_of(edition, kind)
    if shortlist is None:
        raise DomainError(_("There is no list yet: build the proposed list first."), code="no_list")
    _refuse_frozen(shortlist)
    return shortlist


def _refuse_frozen(shortlist: Shortlist) -> None:
    if shortlist.frozen:
        raise DomainError(_("This list was frozen on %(when)s; a frozen list does not change.",
                            when=to_wib(shortlist.frozen_at).strftime("%d-%m-%Y %H:%M WIB")), code="frozen")


def _fresh_ranking(scheme: ScoringScheme | None, what: str) -> ScoringScheme:
    """The scheme, refused when its ranking is missing or older than its sheets."""
    if scheme is None:
        raise DomainError(_("The stage “%(stage)s” has no scoring scheme, so there is no ranking to build from.",
                            stage=what), code="no_scheme")
    if scheme.ranking_stale or scheme.ranked_at is None:
        raise DomainError(_("The ranking of “%(stage)s” is out of date: sheets changed since it was computed. "
                            "Recompute it on the stage's scoring page (Ranking), then build the list again.",
                            stage=what), code="ranking_stale")
    return scheme


def _ranked_at(scheme: ScoringScheme | None) -> str | None:
    """When the scheme's ranking was computed, comparable whatever the database does with time zones."""
    if scheme is None or scheme.ranked_at is None:
        return None
    moment = scheme.ranked_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.isoformat()


def _refuse_changed_ranking(shortlist: Shortlist, schemes: Mapping[str, ScoringScheme | None]) -> None:
    """A draft built from a ranking that has changed since cannot be frozen: it must be rebuilt."""
    built = shortlist.rules.get("ranked_at", {})
    for name, scheme in schemes.items():
        if scheme is not None and (scheme.ranking_stale or built.get(name) != _ranked_at(scheme)):
            raise DomainError(_("The ranking changed after this list was built. Build the list again (and redo "
                                "any adjustments) before freezing it."), code="ranking_changed")


def _reason(text: str | None, *, when_empty: str | None = None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise DomainError(when_empty or _("Give the reason for this departure from the proposed list."),
                          code="reason", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("Write at most %(max)s characters.", max=REASON_MAX), code="reason", field="reason")
    return reason


def _minutes(text: str | None) -> str | None:
    minutes = (text or "").strip() or None
    if minutes is not None and len(minutes) > MINUTES_MAX:
        raise DomainError(_("Write at most %(max)s characters.", max=MINUTES_MAX), code="minutes", field="minutes")
    return minutes


def _entry_label(entry: ShortlistEntry) -> str:
    proposal = entry.proposal
    return f"{proposal.number or proposal.id} {proposal.title}"[:255]


def _set_choice(actor: User | None, entry: ShortlistEntry, chosen: bool, reason: str | None) -> bool:
    """Choose or leave out a candidate; a departure from the proposal needs a reason. True if it changed."""
    _refuse_frozen(entry.shortlist)
    chosen = bool(chosen)
    if entry.chosen == chosen:
        return False
    before = {"chosen": entry.chosen, "reason": entry.reason}
    entry.chosen = chosen
    entry.reason = _reason(reason) if chosen != entry.proposed else None
    db.session.flush()
    record(actor, f"shortlist.{entry.shortlist.kind.value}_{'included' if chosen else 'excluded'}",
           entry.shortlist, before=before, after={"proposal_id": entry.proposal_id, "chosen": chosen,
                                                  "reason": entry.reason or (reason or "").strip() or None},
           label=_entry_label(entry))
    return True


def _departures_without_reason(shortlist: Shortlist) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ShortlistEntry).where(
        ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.chosen != ShortlistEntry.proposed,
        sa.or_(ShortlistEntry.reason.is_(None), sa.func.trim(ShortlistEntry.reason) == ""))) or 0


def _start_draft(actor: User | None, edition: Edition, kind: ShortlistKind, scheme: ScoringScheme | None) -> Shortlist:
    """The edition's draft of ``kind``, emptied (a rebuild replaces the draft), or a new one."""
    shortlist = shortlist_of(edition, kind)
    if shortlist is None:
        shortlist = Shortlist(edition_id=edition.id, kind=kind)
        db.session.add(shortlist)
    else:
        _refuse_frozen(shortlist)
        db.session.execute(sa.delete(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id))
        db.session.expire(shortlist, ["entries"])
    shortlist.scheme_id = scheme.id if scheme is not None else None
    shortlist.built_by_id = actor.id if actor else None
    db.session.flush()
    return shortlist


def _write_entries(shortlist: Shortlist, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(ShortlistEntry), [{"shortlist_id": shortlist.id, "reason": None,
                                                       "entered_by": None, "displaced_proposal_id": None,
                                                       "tier": None, **row} for row in rows[start:start + 1000]])
    db.session.expire(shortlist, ["entries"])


def _chosen_ids(shortlist: Shortlist) -> set[int]:
    return set(db.session.scalars(sa.select(ShortlistEntry.proposal_id).where(
        ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.chosen)))


def _stamp_frozen(actor: User, shortlist: Shortlist, now: dt.datetime) -> None:
    shortlist.frozen_at, shortlist.frozen_by_id = now, actor.id


# --- the judges' sheets, for the stability at a cut ---------------------------------------------------

def sheet_values(scheme: ScoringScheme) -> dict[int, list[Decimal]]:
    """Per proposal, the totals of the submitted sheets whose judges still hold it, as the ranking
    counts them: normalised per judge when the scheme normalises (their mean is then the
    proposal's normalised total), else the sheets' weighted totals."""
    held = published_pairs(scheme)
    totals: dict[tuple[int, int], Decimal] = {}
    for proposal_id, member_id, total in db.session.execute(
            sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id, ScoreSheet.weighted_total).where(
                ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED,
                ScoreSheet.weighted_total.is_not(None))):
        if (proposal_id, member_id) in held:
            totals[(member_id, proposal_id)] = Decimal(total)
    if scheme.normalise:
        totals = scoring_rules.normalise(totals, min_sheets=scheme.normalise_min_sheets,
                                         scale=scoring_rules.Scale(scheme.scale_min, scheme.scale_max))
    values: dict[int, list[Decimal]] = defaultdict(list)
    for (_member, proposal_id), value in sorted(totals.items()):
        values[proposal_id].append(value)
    return values


def _shares(candidates: list[uncertainty.Candidate], cuts: Mapping[Any, int], edition: Edition) -> dict[Any, Decimal]:
    if not candidates:
        return {}
    shares = uncertainty.inside_shares(candidates, cuts, samples=max(1, edition.bootstrap_samples), seed=edition.year)
    return {key: Decimal(str(round(share, 4))) for key, share in shares.items()}


def is_unstable(entry: ShortlistEntry) -> bool:
    """Whether the entry's side of the cut (chosen or not) held in fewer than 90% of the resamples."""
    if entry.stability is None:
        return False
    return uncertainty.is_unstable(float(entry.stability), entry.chosen, STABLE_LEVEL)


def unstable_condition() -> Any:
    """SQL: the same as :func:`is_unstable`, for filtering and counting."""
    level = Decimal(str(STABLE_LEVEL))
    return sa.and_(ShortlistEntry.stability.is_not(None), sa.or_(
        sa.and_(ShortlistEntry.chosen.is_(True), ShortlistEntry.stability < level),
        sa.and_(ShortlistEntry.chosen.is_(False), ShortlistEntry.stability > 1 - level)))


# --- nominees: settings ---------------------------------------------------------------------------------

def group_rules(group: EditionGroup) -> dict[str, Any]:
    """A group's nominee settings as the list records them."""
    return {"size": group.nominee_count, "places_mode": group.places_mode.value,
            "cluster_places": dict(group.cluster_places or {}) if group.places_mode is PlacesMode.MANUAL else None,
            "min_3t": group.min_3t}


def update_nominee_settings(actor: User, group: EditionGroup, *, nominee_count: int, places_mode: PlacesMode,
                            cluster_places: Mapping[str, int] | None, min_3t: int) -> bool:
    """A group's nominee list size, its places per cluster (in proportion, by hand, or none) and its
    3T minimum. True if anything changed."""
    edition = group.edition
    frozen = shortlist_of(edition, ShortlistKind.NOMINEES)
    if frozen is not None and frozen.frozen:
        raise DomainError(_("The nominee list is frozen; the settings it was built with stay as they were."),
                          code="frozen")
    places_mode = PlacesMode(places_mode)
    if nominee_count is None or nominee_count < 0:
        raise DomainError(_("The number of nominees cannot be negative."), code="nominee_count",
                          field="nominee_count")
    if "nominees_below_finalists" in tier_problems(nominee_count, group.finalist_count, group.winner_count):
        raise DomainError(_("The group has %(n)s finalist places, so it needs at least %(n)s nominees.",
                            n=group.finalist_count), code="nominee_count", field="nominee_count")
    if min_3t is None or min_3t < 0 or min_3t > nominee_count:
        raise DomainError(_("The 3T minimum must be between 0 and the number of nominees (%(n)s).", n=nominee_count),
                          code="min_3t", field="min_3t")
    places = None
    if places_mode is PlacesMode.MANUAL:
        given = dict(cluster_places or {})
        unknown = set(given) - {c.value for c in Cluster}
        if unknown:
            raise ValueError(f"unknown clusters {sorted(unknown)}")
        places = {c.value: int(given.get(c.value) or 0) for c in Cluster}
        if any(n < 0 for n in places.values()):
            raise DomainError(_("Places cannot be negative."), code="places", field="places")
        if sum(places.values()) != nominee_count:
            raise DomainError(_("The places per cluster add up to %(sum)s; they must add up to the number of "
                                "nominees (%(n)s).", sum=sum(places.values()), n=nominee_count),
                              code="places", field="places")
    before = group_rules(group)
    group.nominee_count, group.places_mode, group.min_3t = nominee_count, places_mode, min_3t
    if places is not None:
        group.cluster_places = places
    db.session.flush()
    after = group_rules(group)
    if after == before:
        return False
    record(actor, "selection.nominee_settings", group, before=before, after=after,
           label=f"{edition.name} · {group.name_id}")
    return True


def _require_nominee_stage(edition: Edition) -> None:
    require(edition, StageKind.EVALUATION, StageStatus.CLOSED)
    require(edition, StageKind.PANEL_REVIEW, StageStatus.PLANNED)


def _passed_by_cluster(edition: Edition) -> dict[int, Counter[str]]:
    """Per group id, the proposals that passed screening per cluster."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for group_id, cluster, n in db.session.execute(
            sa.select(Proposal.group_id, Agency.cluster, sa.func.count()).join(Agency, Agency.id == Proposal.agency_id)
            .where(Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in PASSED_SCREENING]))
            .group_by(Proposal.group_id, Agency.cluster)):
        counts[group_id][Cluster(cluster).value] = n
    return counts


def _places(group: EditionGroup, passed: Counter[str]) -> dict[str, int] | None:
    if group.places_mode is PlacesMode.NONE:
        return None
    if group.places_mode is PlacesMode.MANUAL:
        given = group.cluster_places or {}
        return {c.value: int(given.get(c.value) or 0) for c in Cluster}
    return nominees.proportional_places({c.value: passed.get(c.value, 0) for c in Cluster}, group.nominee_count)


@dataclass
class _Ranked:
    proposal_id: int
    number: str
    group_id: int
    rank: int
    score: Decimal
    raw: Decimal | None
    normalised: Decimal | None
    sheets: int
    cluster: Cluster
    is_3t: bool
    province_code: str | None


def _ranked(scheme: ScoringScheme, edition: Edition, statuses: Iterable[ProposalStatus]) -> list[_Ranked]:
    query = (sa.select(ProposalScore.proposal_id, Proposal.number, Proposal.group_id, ProposalScore.rank,
                       ProposalScore.raw_total, ProposalScore.normalised_total, ProposalScore.sheets, Agency.cluster,
                       Agency.is_3t, Agency.region_code)
             .join(Proposal, Proposal.id == ProposalScore.proposal_id).join(Agency, Agency.id == Proposal.agency_id)
             .where(ProposalScore.scheme_id == scheme.id, Proposal.edition_id == edition.id,
                    Proposal.status.in_([s.value for s in statuses])))
    rows = []
    for pid, number, group_id, rank, raw, normalised, sheets, cluster, is_3t, region in db.session.execute(query):
        score = normalised if scheme.normalise else raw
        if score is None or rank is None:
            continue  # not ranked: no counted sheet
        rows.append(_Ranked(pid, number or "", group_id, rank, Decimal(score), raw, normalised, sheets,
                            Cluster(cluster), bool(is_3t), region[:2] if region else None))
    rows.sort(key=lambda r: (r.group_id, r.rank, r.number, r.proposal_id))
    return rows


def _figures(row: _Ranked) -> dict[str, Any]:
    return {"raw": str(row.raw) if row.raw is not None else None,
            "normalised": str(row.normalised) if row.normalised is not None else None, "sheets": row.sheets}


def build_nominees(actor: User, edition: Edition) -> Shortlist:
    """The proposed nominee list of every group from the evaluation ranking (a rebuild replaces the draft)."""
    _require_nominee_stage(edition)
    scheme = _fresh_ranking(scheme_for(edition, StageKind.EVALUATION), _("Evaluation"))
    shortlist = _start_draft(actor, edition, ShortlistKind.NOMINEES, scheme)
    passed = _passed_by_cluster(edition)
    ranked = _ranked(scheme, edition, [ProposalStatus.ADMIN_PASSED])
    values = sheet_values(scheme)
    grade = Decimal(scheme.passing_grade) if scheme.passing_grade is not None else None
    rules_record: dict[str, Any] = {"ranked_at": {"evaluation": _ranked_at(scheme)},
                                    "score": "normalised" if scheme.normalise else "raw",
                                    "passing_grade": str(grade) if grade is not None else None,
                                    "samples": edition.bootstrap_samples, "groups": {}}
    report: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for group in edition.groups:
        mine = [r for r in ranked if r.group_id == group.id]
        places = _places(group, passed[group.id])
        rules = nominees.Rules(size=group.nominee_count, places=places, min_3t=group.min_3t, passing_grade=grade)
        candidates = [nominees.Candidate(r.proposal_id, r.score, r.cluster.value, r.is_3t, (r.rank, r.number))
                      for r in mine]
        try:
            selection = nominees.select(candidates, rules)
        except nominees.Infeasible:
            raise DomainError(_infeasible_message(group, mine, places, grade), code="infeasible") from None
        chosen = set(selection.chosen)
        by_id = {r.proposal_id: r for r in mine}
        entered = {d.entered: d for d in selection.displacements if d.entered in chosen}
        shares = _shares([uncertainty.Candidate(r.proposal_id, r.cluster.value if places is not None else "all",
                                                [uncertainty.Component(values.get(r.proposal_id, []))],
                                                (r.rank, r.number)) for r in mine],
                         Counter(by_id[i].cluster.value if places is not None else "all" for i in chosen), edition)
        for r in mine:
            moved = entered.get(r.proposal_id)
            rows.append({
                "proposal_id": r.proposal_id, "group_code": group.code, "rank": r.rank, "score": r.score,
                "components": {**_figures(r), "passes": grade is None or r.score >= grade},
                "cluster": r.cluster, "is_3t": r.is_3t, "province_code": r.province_code,
                "proposed": r.proposal_id in chosen, "chosen": r.proposal_id in chosen,
                "entered_by": moved.rule if moved else None,
                "displaced_proposal_id": moved.displaced if moved else None,
                "stability": shares.get(r.proposal_id)})
        rules_record["groups"][group.code.value] = {**group_rules(group), "places": places}
        report[group.code.value] = {
            "ranked": len(mine), "eligible": sum(1 for r in mine if grade is None or r.score >= grade),
            "passed": dict(passed[group.id]), "places": places, "places_used": selection.places,
            "chosen": len(chosen), "chosen_3t": sum(1 for i in chosen if by_id[i].is_3t),
            "shortfalls": [{"cluster": c, "wanted": w, "available": a} for c, (w, a) in selection.unfilled.items()],
            "cost": {rule: str(cost) for rule, cost in selection.cost_by_rule.items()},
            "displacements": [{"entered": d.entered, "entered_number": by_id[d.entered].number,
                               "displaced": d.displaced, "displaced_number": by_id[d.displaced].number,
                               "rule": d.rule, "score_lost": str(d.score_lost)} for d in selection.displacements],
            "unconstrained_changed": len(set(selection.unconstrained) - chosen),
        }
    shortlist.rules, shortlist.report = rules_record, report
    _write_entries(shortlist, rows)
    db.session.flush()
    record(actor, "shortlist.nominees_built", shortlist, after={"groups": {
        code: {"chosen": r["chosen"], "ranked": r["ranked"], "cost": r["cost"]} for code, r in report.items()}},
        label=f"{edition.name}: nominees")
    return shortlist


def _infeasible_message(group: EditionGroup, ranked: list[_Ranked], places: dict[str, int] | None,
                        grade: Decimal | None) -> str:
    eligible = [r for r in ranked if grade is None or r.score >= grade]
    in_places = [r for r in eligible if places is None or places.get(r.cluster.value, 0) > 0]
    return _("No nominee list of “%(group)s” keeps all its rules at once: it needs %(min)s proposals from 3T "
             "regions, and the clusters with places have %(n)s eligible ones (above the passing grade). Lower the "
             "3T minimum or change the places per cluster.", group=group.name_id, min=group.min_3t,
             n=sum(1 for r in in_places if r.is_3t))


def adjust_nominee(actor: User, entry: ShortlistEntry, *, chosen: bool, reason: str | None = None) -> bool:
    """Include or exclude a candidate of the nominee draft (a departure from the rules needs a reason)."""
    if entry.shortlist.kind is not ShortlistKind.NOMINEES:
        raise NotAllowed("not a nominee entry")
    _require_nominee_stage(entry.shortlist.edition)
    return _set_choice(actor, entry, chosen, reason)


def settings_changed(shortlist: Shortlist, edition: Edition) -> list[EditionGroup]:
    """The groups whose nominee settings differ from those the draft was built with."""
    built = shortlist.rules.get("groups", {})
    changed = []
    for group in edition.groups:
        recorded = built.get(group.code.value)
        if recorded is None or {k: recorded.get(k) for k in group_rules(group)} != group_rules(group):
            changed.append(group)
    return changed


def freeze_nominees(actor: User, edition: Edition, *, now: dt.datetime | None = None) -> Shortlist:
    """Freeze the nominee list: the chosen proposals are NOMINATED, every other one that passed
    screening NOT_NOMINATED."""
    now = now or utcnow()
    _require_nominee_stage(edition)
    shortlist = _draft(edition, ShortlistKind.NOMINEES)
    _refuse_changed_ranking(shortlist, {"evaluation": scheme_for(edition, StageKind.EVALUATION)})
    changed = settings_changed(shortlist, edition)
    if changed:
        raise DomainError(_("The settings of %(groups)s changed after the list was built. Build the list again "
                            "before freezing it.", groups=", ".join(g.name_id for g in changed)),
                          code="settings_changed")
    _require_reasons(shortlist)
    chosen = _chosen_ids(shortlist)
    if not chosen:
        raise DomainError(_("No proposal is chosen: there is nothing to freeze."), code="empty")
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.edition_id == edition.id,
        sa.or_(Proposal.status == ProposalStatus.ADMIN_PASSED, Proposal.id.in_(chosen)))).all()
    for proposal in proposals:
        if proposal.id in chosen and proposal.status is not ProposalStatus.ADMIN_PASSED:
            raise DomainError(_("%(number)s is no longer a proposal that passed screening (%(status)s); rebuild "
                                "the list.", number=proposal.number, status=proposal.status.value), code="status")
    for proposal in proposals:
        _transition(proposal, Action.NOMINATE if proposal.id in chosen else Action.PASS_OVER_NOMINATION,
                    actor=actor)
    _stamp_frozen(actor, shortlist, now)
    db.session.flush()
    record(actor, "shortlist.nominees_frozen", shortlist, after={
        "frozen_at": now.isoformat(), "nominated": len(chosen), "not_nominated": len(proposals) - len(chosen)},
        label=f"{edition.name}: nominees")
    return shortlist


def _require_reasons(shortlist: Shortlist) -> None:
    missing = _departures_without_reason(shortlist)
    if missing:
        raise DomainError(ngettext("%(num)d departure from the proposed list has no reason; give it first.",
                                   "%(num)d departures from the proposed list have no reason; give them first.",
                                   missing), code="reason")


# --- the panel plenary: finalists ----------------------------------------------------------------------

def panel_chair(edition: Edition) -> PoolMember | None:
    """The panel's chair: a PANEL_REVIEW pool member marked chair outside any review team."""
    return db.session.scalar(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.PANEL_REVIEW, PoolMember.is_chair,
        PoolMember.team_id.is_(None), PoolMember.status == InvitationStatus.ACCEPTED)
        .options(selectinload(PoolMember.user)).order_by(PoolMember.id).limit(1))


def panel_members(edition: Edition) -> list[PoolMember]:
    return list(db.session.scalars(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.PANEL_REVIEW,
        PoolMember.status == InvitationStatus.ACCEPTED).options(selectinload(PoolMember.user))
        .order_by(PoolMember.id)))


def may_read_plenary(user: User, edition: Edition) -> bool:
    """The secretariat and the panel (accepted members of the PANEL_REVIEW pool)."""
    if user.role is Role.SECRETARIAT:
        return True
    if user.role is not Role.PANELIST:
        return False
    return db.session.scalar(sa.select(PoolMember.id).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.PANEL_REVIEW,
        PoolMember.user_id == user.id, PoolMember.status == InvitationStatus.ACCEPTED).limit(1)) is not None


def plenaries_of(user: User) -> list[Edition]:
    """The editions whose plenary the panelist sits in, once there is something to deliberate
    (the nominee list frozen), newest first."""
    if user.role is not Role.PANELIST:
        return []
    return list(db.session.scalars(
        sa.select(Edition).join(PoolMember, PoolMember.edition_id == Edition.id)
        .join(Shortlist, sa.and_(Shortlist.edition_id == Edition.id, Shortlist.kind == ShortlistKind.NOMINEES))
        .where(PoolMember.user_id == user.id, PoolMember.stage == StageKind.PANEL_REVIEW,
               PoolMember.status == InvitationStatus.ACCEPTED, Shortlist.frozen_at.is_not(None))
        .order_by(Edition.year.desc())))


def may_record_plenary(user: User, edition: Edition) -> bool:
    """The secretariat and the panel's chair."""
    if user.role is Role.SECRETARIAT:
        return True
    chair = panel_chair(edition)
    return chair is not None and chair.user_id == user.id


def set_panel_chair(actor: User, edition: Edition, member: PoolMember | None) -> None:
    """Name the panel's chair (the previous one steps down); None: no chair. The secretariat's."""
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed(_("Only the secretariat names the panel's chair."))
    if member is not None:
        if (member.edition_id != edition.id or member.stage is not StageKind.PANEL_REVIEW
                or member.status is not InvitationStatus.ACCEPTED):
            raise DomainError(_("The chair must be a panelist who accepted the panel review of this edition."),
                              code="chair_not_member", field="member_id")
        if member.team_id is not None:
            raise DomainError(_("%(name)s is in a review team; a team's chair is set on the Judges page. The "
                                "panel's chair sits outside the teams: take them out of their team first.",
                                name=member.user.name), code="chair_in_team", field="member_id")
    current = panel_chair(edition)
    if current is member:
        return
    for other in db.session.scalars(sa.select(PoolMember).where(
            PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.PANEL_REVIEW, PoolMember.is_chair,
            PoolMember.team_id.is_(None))):
        other.is_chair = False
    if member is not None:
        member.is_chair = True
    db.session.flush()
    record(actor, "plenary.chair_set", member or current, before={"chair": current.user_id if current else None},
           after={"chair": member.user_id if member else None}, object_type="pool_members",
           label=f"{edition.name}: {member.user.name if member else '–'}")


def _require_plenary(actor: User, edition: Edition) -> None:
    if not may_record_plenary(actor, edition):
        raise NotAllowed(_("Only the secretariat and the panel's chair record the plenary's decision."))
    require(edition, StageKind.PANEL_REVIEW, StageStatus.OPEN)
    nominated = shortlist_of(edition, ShortlistKind.NOMINEES)
    if nominated is None or not nominated.frozen:
        raise DomainError(_("The nominee list is not frozen yet; the plenary decides among the frozen nominees."),
                          code="nominees_not_frozen")
    # The chair records from the panel's figures, so not before the panel may see them.
    if not sees_colleague_figures(actor, scheme_for(edition, StageKind.PANEL_REVIEW, with_aspects=False)):
        raise _hidden_from_the_panel()


def _hidden_from_the_panel() -> DomainError:
    return DomainError(_("The panel's scores stay hidden from the panel, its chair included, until the secretariat "
                         "opens consolidation of the panel review. The chair records the decision after that."),
                       code="blind")


def missing_panel_sheets(edition: Edition, scheme: ScoringScheme | None) -> int:
    """How many sheets the panel review expects of the nominees and does not have submitted yet."""
    if scheme is None:
        return 0
    expected = published_pairs(scheme, sa.select(Proposal.id).where(
        Proposal.edition_id == edition.id, Proposal.status == ProposalStatus.NOMINATED))
    submitted = {(proposal_id, member_id) for proposal_id, member_id in db.session.execute(
        sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id).where(
            ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED))}
    return len(expected - submitted)


def _sheets_missing(missing: int) -> DomainError:
    return DomainError(ngettext(
        "%(num)d panel sheet of the nominees is not submitted yet. The plenary's list is built once every sheet is "
        "in; only the secretariat may build it before, with a written reason.",
        "%(num)d panel sheets of the nominees are not submitted yet. The plenary's list is built once every sheet "
        "is in; only the secretariat may build it before, with a written reason.", missing), code="sheets_missing")


def build_refusal(actor: User, edition: Edition, panel: ScoringScheme | None) -> DomainError | None:
    """Why ``actor``, who records the plenary, cannot build its list now (for the page, beside the
    disabled action), or None. The stage's state, the nominees and a stale ranking are not among
    them: the page shows those on its own."""
    if not sees_colleague_figures(actor, panel):
        return _hidden_from_the_panel()
    missing = missing_panel_sheets(edition, panel)
    return _sheets_missing(missing) if missing else None


def _forced_reason(actor: User, text: str | None) -> str:
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed(_("Only the secretariat builds the plenary's list while panel sheets are missing."))
    return _reason(text, when_empty=_("Write why the list is built before every panel sheet is in."))


def finalist_targets(nominee_clusters: Mapping[str, int], finalist_count: int) -> dict[str, int]:
    """The composition the plenary aims at: the finalist places in proportion to the nominees' clusters."""
    return nominees.proportional_places(dict(nominee_clusters), finalist_count)


def build_finalists(actor: User, edition: Edition, *, forced_reason: str | None = None) -> Shortlist:
    """The plenary's proposed decision: the top ``finalist_count`` nominees of each group by the panel's
    ranking (a rebuild replaces the draft and its adjustments). Refused while panel sheets are
    missing, unless the secretariat forces it with ``forced_reason`` (kept with the list; the panel
    still sees nothing of it before the reveal)."""
    _require_plenary(actor, edition)
    missing = missing_panel_sheets(edition, scheme_for(edition, StageKind.PANEL_REVIEW, with_aspects=False))
    if missing and forced_reason is None:
        raise _sheets_missing(missing)
    reason = _forced_reason(actor, forced_reason) if missing else None
    scheme = _fresh_ranking(scheme_for(edition, StageKind.PANEL_REVIEW), _("Panel review"))
    evaluation = scheme_for(edition, StageKind.EVALUATION)
    shortlist = _start_draft(actor, edition, ShortlistKind.FINALISTS, scheme)
    shortlist.forced_reason, shortlist.forced_missing = reason, (missing if reason else None)
    nominated = (sa.select(Proposal.id, Proposal.number, Proposal.group_id, Agency.cluster, Agency.is_3t,
                           Agency.region_code).join(Agency, Agency.id == Proposal.agency_id)
                 .where(Proposal.edition_id == edition.id, Proposal.status == ProposalStatus.NOMINATED))
    panel = {r.proposal_id: r for r in _ranked(scheme, edition, [ProposalStatus.NOMINATED])}
    evaluated = _stage_scores(evaluation)
    values = sheet_values(scheme)
    groups = {g.id: g for g in edition.groups}
    by_group: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(nominated):
        by_group[row.group_id].append(row)
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    for group_id, members in by_group.items():
        group = groups[group_id]

        def order(row: Any) -> tuple:
            ranked = panel.get(row.id)
            return (ranked is None, ranked.rank if ranked else 0, row.number or "", row.id)

        members.sort(key=order)
        proposed = {row.id for row in members[:group.finalist_count] if row.id in panel}
        shares = _shares([uncertainty.Candidate(row.id, "all", [uncertainty.Component(values.get(row.id, []))],
                                                (panel[row.id].rank, row.number or "")) for row in members
                          if row.id in panel], {"all": len(proposed)}, edition)
        unranked_rank = max((r.rank for r in panel.values()), default=0) + 1
        for row in members:
            ranked = panel.get(row.id)
            rows.append({
                "proposal_id": row.id, "group_code": group.code, "rank": ranked.rank if ranked else unranked_rank,
                "score": ranked.score if ranked else None,
                "components": {"panel": str(ranked.score) if ranked else None,
                               "sheets": ranked.sheets if ranked else 0,
                               "evaluation": str(evaluated[row.id]) if evaluated.get(row.id) is not None else None},
                "cluster": Cluster(row.cluster), "is_3t": bool(row.is_3t),
                "province_code": row.region_code[:2] if row.region_code else None,
                "proposed": row.id in proposed, "chosen": row.id in proposed, "stability": shares.get(row.id)})
        clusters = Counter(Cluster(row.cluster).value for row in members)
        report[group.code.value] = {
            "nominees": len(members), "ranked": sum(1 for row in members if row.id in panel),
            "finalist_count": group.finalist_count, "targets": finalist_targets(clusters, group.finalist_count),
            "unranked": [row.number for row in members if row.id not in panel]}
    shortlist.rules = {"ranked_at": {"panel": _ranked_at(scheme)}, "samples": edition.bootstrap_samples,
                       "score": "normalised" if scheme.normalise else "raw",
                       "groups": {g.code.value: {"finalist_count": g.finalist_count} for g in edition.groups}}
    shortlist.report = report
    _write_entries(shortlist, rows)
    db.session.flush()
    after: dict[str, Any] = {code: {"nominees": r["nominees"]} for code, r in report.items()}
    if reason:
        after["forced"] = {"reason": reason, "missing_sheets": missing}
    record(actor, "shortlist.finalists_forced" if reason else "shortlist.finalists_built", shortlist, after=after,
           label=f"{edition.name}: finalists")
    return shortlist


def _stage_scores(scheme: ScoringScheme | None) -> dict[int, Decimal]:
    """Per proposal, the stage's chosen total (normalised when the scheme normalises)."""
    if scheme is None:
        return {}
    column = ProposalScore.normalised_total if scheme.normalise else ProposalScore.raw_total
    return {pid: Decimal(total) for pid, total in db.session.execute(
        sa.select(ProposalScore.proposal_id, column).where(ProposalScore.scheme_id == scheme.id))
        if total is not None}


def adjust_finalist(actor: User, entry: ShortlistEntry, *, chosen: bool, reason: str | None = None) -> bool:
    """The chair (or the secretariat) takes a nominee in or out; a departure from the rank needs a reason."""
    if entry.shortlist.kind is not ShortlistKind.FINALISTS:
        raise NotAllowed("not a finalist entry")
    _require_plenary(actor, entry.shortlist.edition)
    return _set_choice(actor, entry, chosen, reason)


def save_minutes(actor: User, shortlist: Shortlist, minutes: str | None) -> None:
    """The minutes (berita acara) of the plenary or of the final consensus, kept with the draft."""
    if shortlist.kind is ShortlistKind.FINALISTS:
        _require_plenary(actor, shortlist.edition)
    elif shortlist.kind is ShortlistKind.WINNERS:
        require(shortlist.edition, StageKind.FINAL, StageStatus.OPEN)
    else:
        raise NotAllowed("no minutes")
    _refuse_frozen(shortlist)
    text = _minutes(minutes)
    if text == shortlist.minutes:
        return
    before = {"minutes": shortlist.minutes}
    shortlist.minutes = text
    db.session.flush()
    record(actor, f"shortlist.{shortlist.kind.value}_minutes", shortlist, before=before, after={"minutes": text},
           label=f"{shortlist.edition.name}: {shortlist.kind.value}")


def freeze_finalists(actor: User, edition: Edition, *, minutes: str | None = None,
                     now: dt.datetime | None = None) -> Shortlist:
    """Freeze the plenary's decision: the chosen nominees become FINALIST (with their tier), the
    other nominees NOT_FINALIST. The minutes are required."""
    now = now or utcnow()
    _require_plenary(actor, edition)
    shortlist = _draft(edition, ShortlistKind.FINALISTS)
    panel = scheme_for(edition, StageKind.PANEL_REVIEW)
    _refuse_changed_ranking(shortlist, {"panel": panel})
    # The decision is the panel's, taken with its scores before it: not while they are hidden from it.
    if panel is not None and not stage_figures_open(panel):
        raise DomainError(_("The plenary decides with the panel's scores before it: open consolidation of the panel "
                            "review before freezing the decision."), code="blind")
    text = _minutes(minutes) or shortlist.minutes
    if not text:
        raise DomainError(_("Write the minutes (berita acara) of the plenary before freezing its decision."),
                          code="minutes", field="minutes")
    _require_reasons(shortlist)
    entries = db.session.scalars(sa.select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id)).all()
    chosen = {e.proposal_id for e in entries if e.chosen}
    if not chosen:
        raise DomainError(_("No nominee is chosen: there is nothing to freeze."), code="empty")
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status == ProposalStatus.NOMINATED)).all()
    missing = chosen - {p.id for p in proposals}
    if missing:
        raise DomainError(_("A chosen proposal is no longer a nominee; build the list again."), code="status")
    for proposal in proposals:
        _transition(proposal, Action.MAKE_FINALIST if proposal.id in chosen else Action.PASS_OVER_FINALIST,
                    actor=actor)
    for entry in entries:
        entry.tier = FINALIST_TIER[entry.group_code] if entry.chosen else None
    shortlist.minutes = text
    _stamp_frozen(actor, shortlist, now)
    db.session.flush()
    record(actor, "shortlist.finalists_frozen", shortlist, after={
        "frozen_at": now.isoformat(), "finalists": len(chosen), "not_finalists": len(proposals) - len(chosen)},
        label=f"{edition.name}: finalists")
    return shortlist


# --- the final result: winners ---------------------------------------------------------------------------

def final_weights(edition: Edition) -> dict[str, Decimal]:
    return {final.EVALUATION: Decimal(edition.weight_evaluation), final.PANEL: Decimal(edition.weight_panel),
            final.PRESENTATION: Decimal(edition.weight_presentation),
            final.FIELD: Decimal(edition.weight_field) if edition.field_verification else Decimal(0)}


def _final_schemes(edition: Edition) -> dict[str, ScoringScheme | None]:
    return {final.EVALUATION: scheme_for(edition, StageKind.EVALUATION),
            final.PANEL: scheme_for(edition, StageKind.PANEL_REVIEW),
            final.PRESENTATION: scheme_for(edition, StageKind.PRESENTATION)}


def build_final(actor: User, edition: Edition) -> Shortlist:
    """The proposed final result: the confirmed finalists by their combined score, the top
    ``winner_count`` of each group proposed (a rebuild replaces the draft and its adjustments)."""
    require(edition, StageKind.FINAL, StageStatus.OPEN)
    schemes = _final_schemes(edition)
    names = {final.EVALUATION: _("Evaluation"), final.PANEL: _("Panel review"),
             final.PRESENTATION: _("Presentation and interview")}
    weights = final_weights(edition)
    for name, scheme in schemes.items():
        if scheme is not None and (scheme.ranking_stale or scheme.ranked_at is None) and weights[name] > 0:
            _fresh_ranking(scheme, names[name])
    shortlist = _start_draft(actor, edition, ShortlistKind.WINNERS, None)
    candidates = db.session.execute(
        sa.select(Proposal.id, Proposal.number, Proposal.group_id, Proposal.status, Agency.cluster, Agency.is_3t,
                  Agency.region_code).join(Agency, Agency.id == Proposal.agency_id)
        .where(Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in IN_FINAL_ROUND]))).all()
    stage_scores = {name: _stage_scores(scheme) for name, scheme in schemes.items()}
    fields: dict[int, Decimal] = {}
    if edition.field_verification:
        fields = {pid: Decimal(score) for pid, score in db.session.execute(
            sa.select(FieldVisit.proposal_id, FieldVisit.score).where(
                FieldVisit.edition_id == edition.id, FieldVisit.score.is_not(None)))}
    stage_scores[final.FIELD] = fields
    sheets = {name: sheet_values(scheme) for name, scheme in schemes.items() if scheme is not None}
    groups = {g.id: g for g in edition.groups}
    by_group: dict[int, list[Any]] = defaultdict(list)
    for row in candidates:
        by_group[row.group_id].append(row)
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    for group_id, members in by_group.items():
        group = groups[group_id]
        info = {row.id: row for row in members}
        finalists = [final.Finalist(row.id, {name: stage_scores[name].get(row.id) for name in final.COMPONENTS},
                                    row.number or "", ProposalStatus(row.status) is ProposalStatus.PRESENTED)
                     for row in members]
        placed = final.rank_group(finalists, weights, group.winner_count)
        ranked = [p for p in placed if p.rank is not None]
        components = {p.finalist.id: _final_components(p.finalist.id, weights, sheets, fields) for p in ranked}
        shares = _shares([uncertainty.Candidate(p.finalist.id, "all", components[p.finalist.id],
                                                (p.rank, p.finalist.number)) for p in ranked],
                         {"all": sum(1 for p in placed if p.proposed)}, edition)
        last = max((p.rank for p in ranked), default=0)
        for position, p in enumerate(placed, start=1):
            row = info[p.finalist.id]
            rows.append({
                "proposal_id": row.id, "group_code": group.code, "rank": p.rank if p.rank is not None
                else last + position, "score": p.combined.total,
                "components": {"scores": {k: str(v) if v is not None else None for k, v in p.finalist.scores.items()},
                               "weights": {k: str(v) for k, v in p.combined.weights.items()},
                               "missing": list(p.combined.missing), "renormalised": p.combined.renormalised,
                               "eligible": p.finalist.eligible, "ranked": p.rank is not None},
                "cluster": Cluster(row.cluster), "is_3t": bool(row.is_3t),
                "province_code": row.region_code[:2] if row.region_code else None,
                "proposed": p.proposed, "chosen": p.proposed, "stability": shares.get(row.id)})
        report[group.code.value] = {
            "finalists": len(members), "eligible": sum(1 for f in finalists if f.eligible),
            "winner_count": group.winner_count, "renormalised": sum(1 for p in placed if p.combined.renormalised)}
    shortlist.rules = {"weights": {k: str(v) for k, v in weights.items()},
                       "field_verification": edition.field_verification, "tie_break": list(final.TIE_BREAK),
                       "ranked_at": {name: _ranked_at(s) for name, s in schemes.items()},
                       "samples": edition.bootstrap_samples,
                       "groups": {g.code.value: {"winner_count": g.winner_count} for g in edition.groups}}
    shortlist.report = report
    _write_entries(shortlist, rows)
    db.session.flush()
    record(actor, "shortlist.winners_built", shortlist, after={code: {"finalists": r["finalists"]}
                                                               for code, r in report.items()},
           label=f"{edition.name}: final result")
    return shortlist


def _final_components(proposal_id: int, weights: Mapping[str, Decimal], sheets: Mapping[str, Mapping[int, list]],
                      fields: Mapping[int, Decimal]) -> list[uncertainty.Component]:
    components = [uncertainty.Component(sheets.get(name, {}).get(proposal_id, []), float(weights[name]))
                  for name in (final.EVALUATION, final.PANEL, final.PRESENTATION)]
    if proposal_id in fields:
        components.append(uncertainty.Component([fields[proposal_id]], float(weights[final.FIELD])))
    return components


def adjust_winner(actor: User, entry: ShortlistEntry, *, chosen: bool, reason: str | None = None) -> bool:
    """A consensus adjustment of the panel: a finalist in or out of the winners, with its reason."""
    if entry.shortlist.kind is not ShortlistKind.WINNERS:
        raise NotAllowed("not a winners entry")
    require(entry.shortlist.edition, StageKind.FINAL, StageStatus.OPEN)
    if chosen and entry.proposal.status is not ProposalStatus.PRESENTED:
        raise DomainError(_("%(number)s did not present; only a finalist who presented can win.",
                            number=entry.proposal.number), code="not_presented")
    return _set_choice(actor, entry, chosen, reason)


def freeze_final(actor: User, edition: Edition, *, decree_number: str, decree_date: dt.date | None,
                 minutes: str | None = None, now: dt.datetime | None = None) -> Shortlist:
    """Freeze the final result with its decree: the chosen finalists WINNER (with their tier), the
    rest of the final round FINALIST_ONLY; and write every innovation's award history."""
    now = now or utcnow()
    require(edition, StageKind.FINAL, StageStatus.OPEN)
    shortlist = _draft(edition, ShortlistKind.WINNERS)
    weights = final_weights(edition)
    _refuse_changed_ranking(shortlist, {name: s for name, s in _final_schemes(edition).items() if weights[name] > 0})
    text = _minutes(minutes) or shortlist.minutes
    if not text:
        raise DomainError(_("Write the minutes (berita acara) of the panel's consensus before freezing the result."),
                          code="minutes", field="minutes")
    decree = (decree_number or "").strip()
    if not decree:
        raise DomainError(_("Give the number of the decree (Kepmen) that sets the result."), code="decree_number",
                          field="decree_number")
    if len(decree) > DECREE_MAX:
        raise DomainError(_("Write at most %(max)s characters.", max=DECREE_MAX), code="decree_number",
                          field="decree_number")
    if decree_date is None:
        raise DomainError(_("Give the date of the decree."), code="decree_date", field="decree_date")
    if decree_date > to_wib(now).date():
        raise DomainError(_("The decree's date cannot be in the future."), code="decree_date", field="decree_date")
    _require_reasons(shortlist)
    entries = db.session.scalars(sa.select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id)
                                 .options(selectinload(ShortlistEntry.proposal))).all()
    chosen = {e.proposal_id for e in entries if e.chosen}
    if not chosen:
        raise DomainError(_("No finalist is chosen: there is nothing to freeze."), code="empty")
    in_round = db.session.scalars(sa.select(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in IN_FINAL_ROUND]))).all()
    for proposal in in_round:
        if proposal.id in chosen and proposal.status is not ProposalStatus.PRESENTED:
            raise DomainError(_("%(number)s did not present; only a finalist who presented can win.",
                                number=proposal.number), code="not_presented")
    missing = chosen - {p.id for p in in_round}
    if missing:
        raise DomainError(_("A chosen finalist is no longer in the final round; build the result again."),
                          code="status")
    for proposal in in_round:
        _transition(proposal, Action.AWARD if proposal.id in chosen else Action.CLOSE_AS_FINALIST, actor=actor,
                    comment=decree)
    for entry in entries:
        entry.tier = WINNER_TIER[entry.group_code] if entry.chosen else None
    shortlist.minutes, shortlist.decree_number, shortlist.decree_date = text, decree, decree_date
    _stamp_frozen(actor, shortlist, now)
    db.session.flush()
    written = write_award_history(actor, edition, finalists=in_round, winners=chosen, decree=decree)
    record(actor, "shortlist.winners_frozen", shortlist, after={
        "frozen_at": now.isoformat(), "decree_number": decree, "decree_date": decree_date.isoformat(),
        "winners": len(chosen), "finalists_only": len(in_round) - len(chosen), "awards_written": written},
        label=f"{edition.name}: {decree}")
    return shortlist


def write_award_history(actor: User | None, edition: Edition, *, finalists: Iterable[Proposal],
                        winners: set[int], decree: str) -> int:
    """Every confirmed finalist's finalist tier (with the finalists' decree) and each winner's tier (with
    the final decree) in its innovation's award history; an award already there is kept (its decree
    filled in when missing). Returns the awards added."""
    confirmed = shortlist_of(edition, ShortlistKind.FINALISTS)
    finalist_decree = confirmed.decree_number if confirmed is not None else None
    added = 0
    for proposal in finalists:
        innovation = _innovation_of(actor, proposal)
        code = proposal.group.code
        added += _ensure_award(actor, innovation, edition.year, FINALIST_TIER[code], finalist_decree)
        if proposal.id in winners:
            added += _ensure_award(actor, innovation, edition.year, WINNER_TIER[code], decree)
    return added


def _innovation_of(actor: User | None, proposal: Proposal) -> Innovation:
    if proposal.innovation is not None:
        return proposal.innovation
    innovation = innovations.find_innovation(proposal.agency_id, proposal.title)
    if innovation is None:
        innovation = innovations.create_innovation(actor, agency=proposal.agency, unit=proposal.unit,
                                                   title=proposal.title, start_date=proposal.innovation_start_date)
    proposal.innovation = innovation
    db.session.flush()
    return innovation


def _ensure_award(actor: User | None, innovation: Innovation, year: int, tier: AwardTier, decree: str | None) -> int:
    existing = innovations.find_award(innovation, year, tier)
    if existing is not None:
        if decree and not existing.decree_number:
            innovations.set_award_decree(actor, existing, decree)
        return 0
    innovations.add_award(actor, innovation, year=year, tier=tier, decree_number=decree, source=AWARD_SOURCE)
    return 1


# --- reading the lists, for the pages ---------------------------------------------------------------------

FILTERS = ("all", "chosen", "departures", "unstable", "rules")


@dataclass
class EntryRow:
    entry: ShortlistEntry
    number: str
    title: str
    agency: str
    status: ProposalStatus
    displaced_number: str | None

    @property
    def unstable(self) -> bool:
        return is_unstable(self.entry)

    @property
    def departs(self) -> bool:
        return self.entry.chosen != self.entry.proposed


def _entry_ids(shortlist: Shortlist, group: GroupCode, show: str) -> Any:
    query = sa.select(ShortlistEntry.id).where(ShortlistEntry.shortlist_id == shortlist.id,
                                               ShortlistEntry.group_code == group)
    if show == "chosen":
        return query.where(ShortlistEntry.chosen.is_(True))
    if show == "departures":
        return query.where(ShortlistEntry.chosen != ShortlistEntry.proposed)
    if show == "unstable":
        return query.where(unstable_condition())
    if show == "rules":  # entered by a rule, or displaced by one
        displaced = sa.select(ShortlistEntry.displaced_proposal_id).where(
            ShortlistEntry.shortlist_id == shortlist.id, ShortlistEntry.displaced_proposal_id.is_not(None))
        return query.where(sa.or_(ShortlistEntry.entered_by.is_not(None), ShortlistEntry.proposal_id.in_(displaced)))
    return query


def count_entries(shortlist: Shortlist, group: GroupCode, *, show: str = "all") -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(_entry_ids(shortlist, group, show).subquery())) or 0


def entry_rows(shortlist: Shortlist, group: GroupCode, *, show: str = "all", offset: int = 0,
               limit: int | None = None) -> list[EntryRow]:
    """A page of a group's entries in rank order, with what the page shows of each proposal (one
    query, whatever the page size)."""
    displaced = aliased(Proposal)
    query = (sa.select(ShortlistEntry, Proposal.number, Proposal.title, Proposal.status, Agency.name, displaced.number)
             .join(Proposal, Proposal.id == ShortlistEntry.proposal_id).join(Agency, Agency.id == Proposal.agency_id)
             .outerjoin(displaced, displaced.id == ShortlistEntry.displaced_proposal_id)
             .where(ShortlistEntry.id.in_(_entry_ids(shortlist, group, show)))
             .order_by(ShortlistEntry.rank, Proposal.number, ShortlistEntry.id).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return [EntryRow(entry, number or "", title, agency, ProposalStatus(status), displaced_number)
            for entry, number, title, status, agency, displaced_number in db.session.execute(query)]


@dataclass
class GroupSummary:
    group: EditionGroup
    total: int = 0
    chosen: int = 0
    proposed: int = 0
    departures: int = 0
    unstable: int = 0
    chosen_3t: int = 0
    nominees_3t: int = 0
    clusters: dict[str, dict[str, int]] = field(default_factory=dict)  # cluster -> {"all", "chosen"}
    provinces: dict[str | None, dict[str, int]] = field(default_factory=dict)


def summaries(shortlist: Shortlist, edition: Edition) -> dict[GroupCode, GroupSummary]:
    """Per group: counts of the list as it stands (chosen, departures, unstable) and its composition by
    cluster, province and 3T (one query)."""
    result = {g.code: GroupSummary(g) for g in edition.groups}
    unstable = sa.case((unstable_condition(), 1), else_=0)
    departs = sa.case((ShortlistEntry.chosen != ShortlistEntry.proposed, 1), else_=0)
    query = (sa.select(ShortlistEntry.group_code, ShortlistEntry.cluster, ShortlistEntry.province_code,
                       ShortlistEntry.is_3t, ShortlistEntry.chosen, ShortlistEntry.proposed, sa.func.count(),
                       sa.func.sum(departs), sa.func.sum(unstable))
             .where(ShortlistEntry.shortlist_id == shortlist.id)
             .group_by(ShortlistEntry.group_code, ShortlistEntry.cluster, ShortlistEntry.province_code,
                       ShortlistEntry.is_3t, ShortlistEntry.chosen, ShortlistEntry.proposed))
    for code, cluster, province, is_3t, chosen, proposed, n, n_departs, n_unstable in db.session.execute(query):
        summary = result.get(GroupCode(code))
        if summary is None:
            continue
        summary.total += n
        summary.chosen += n if chosen else 0
        summary.proposed += n if proposed else 0
        summary.departures += int(n_departs or 0)
        summary.unstable += int(n_unstable or 0)
        summary.nominees_3t += n if is_3t else 0
        summary.chosen_3t += n if is_3t and chosen else 0
        cluster_counts = summary.clusters.setdefault(Cluster(cluster).value, {"all": 0, "chosen": 0})
        cluster_counts["all"] += n
        cluster_counts["chosen"] += n if chosen else 0
        province_counts = summary.provinces.setdefault(province, {"all": 0, "chosen": 0})
        province_counts["all"] += n
        province_counts["chosen"] += n if chosen else 0
    return result


def province_names(codes: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(wanted))).all())


def cluster_label(value: str) -> str:
    return CLUSTER_LABELS[Cluster(value)]


def stage_problems(edition: Edition, *checks: tuple[StageKind, tuple[StageStatus, ...]]) -> list[str]:
    """The sentences :func:`kipp.progress.stages.require` would refuse with, for the page to show."""
    problems = []
    for kind, allowed in checks:
        try:
            require(edition, kind, *allowed)
        except DomainError as error:
            problems.append(error.message)
    return problems

