"""Scoring services: schemes, sheets (save, submit, reopen, discard), consolidation actions
and reminders. Every function takes an explicit actor, flushes and audits; none commits.

Who may score what follows from the published assignments (kipp.assignment): a judge
scores a proposal assigned to them, or to a team they are in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.judging.conflicts import proposal_label
from kipp.judging.models import Assignment, AssignmentState, ConflictKind, InvitationStatus, PoolMember
from kipp.notifications.services import notify
from kipp.outbox.dispatch import enqueue
from kipp.proposals.models import Proposal
from kipp.scoring import defaults, rules
from kipp.scoring.models import (
    Reconciliation,
    RubricBand,
    ScoreReminder,
    ScoreSheet,
    ScoringAspect,
    ScoringScheme,
    SheetStatus,
    Visibility,
)

AGGREGATE_PROPOSAL = "kipp.scoring.aggregate_proposal"
RECOMPUTE_STAGE = "kipp.scoring.recompute_stage"

# Stages whose proposals judges score, and what the stage is called on their pages.
SCORED_STAGES = (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION)
STAGE_NAMES = {StageKind.EVALUATION: _l("Evaluation (Tim Evaluasi)"),
               StageKind.PANEL_REVIEW: _l("Panel review (Tim Panel Independen)"),
               StageKind.PRESENTATION: _l("Presentation and interview (Tim Panel Independen)")}

PROBLEM_MESSAGES = {
    "missing": _l("Give a score."),
    "not_a_number": _l("Type a number, e.g. 85 or 85.5."),
    "out_of_range": _l("The score must be between %(low)s and %(high)s."),
    "comment_needed": _l("A score at either end of the scale needs a comment."),
}
COMMENT_MAX = 4000
LOAD = object()  # save_sheet reads the sheet itself unless the caller passes the one it read
REASON_MAX = 1000


class SheetInvalid(DomainError):
    """A sheet that cannot be saved or submitted as it is; ``problems`` name the aspects."""

    def __init__(self, message: str, problems: dict[str, str]) -> None:
        super().__init__(message, code="invalid")
        self.problems = problems


# --- schemes ------------------------------------------------------------------------------------

def scheme_for(edition: Edition, stage: StageKind, *, with_aspects: bool = True) -> ScoringScheme | None:
    """The stage's scheme; ``with_aspects``: its aspects and rubric bands loaded with it."""
    query = sa.select(ScoringScheme).where(ScoringScheme.edition_id == edition.id, ScoringScheme.stage == stage)
    if with_aspects:
        query = query.options(selectinload(ScoringScheme.aspects).selectinload(ScoringAspect.bands))
    return db.session.scalar(query)


def _aspect_specs(group: Any, stage: StageKind) -> list[tuple[str, str, str, Decimal, str | None]]:
    """(key, title_id, title_en, weight, section key) of a group's aspects in a stage: the default
    presentation rubric for the presentations, the group's weighted sections otherwise."""
    if stage is StageKind.PRESENTATION:
        return [(key, title_id, title_en, Decimal(weight), None)
                for key, title_id, title_en, weight in defaults.PRESENTATION_ASPECTS]
    return [(s.key, s.title_id, s.title_en, s.weight, s.key) for s in group.sections if s.weight > 0]


def create_scheme(actor: User | None, edition: Edition, stage: StageKind) -> ScoringScheme:
    """A stage's scheme from the edition: each group's weighted sections become its aspects (for the
    presentations: the default presentation rubric), each with the default rubric bands; 0-100,
    no passing grade, blind until consolidation."""
    if stage not in SCORED_STAGES:
        raise DomainError(_("This stage is not scored by judges."), code="stage")
    if scheme_for(edition, stage) is not None:
        raise DomainError(_("This stage already has its scoring scheme."), code="exists")
    tie_break = defaults.PRESENTATION_TIE_BREAK if stage is StageKind.PRESENTATION else "signifikansi"
    scheme = ScoringScheme(edition_id=edition.id, stage=stage, tie_break=tie_break)
    for group in edition.groups:
        for position, (key, title_id, title_en, weight, section_key) in enumerate(_aspect_specs(group, stage)):
            aspect = ScoringAspect(group_code=group.code, key=key, title_id=title_id, title_en=title_en,
                                   weight=weight, position=position, section_key=section_key)
            aspect.bands = [RubricBand(low=low, high=high, description_id=text_id.format(aspect=title_id),
                                       description_en=text_en.format(aspect=title_en))
                            for low, high, text_id, text_en in defaults.default_bands(0, 100)]
            scheme.aspects.append(aspect)
    if not scheme.aspects:
        raise DomainError(_("No section of this edition has a weight: give the sections their weights first."),
                          code="no_aspects")
    db.session.add(scheme)
    db.session.flush()
    record(actor, "scoring.scheme_created", scheme, after=snapshot(scheme), label=f"{edition.name} · {stage.value}")
    return scheme


SETTINGS = ("passing_grade", "disagreement_threshold", "normalise", "normalise_min_sheets", "tie_break",
            "visibility", "deadline", "reminder_days", "closed")


def update_settings(actor: User, scheme: ScoringScheme, **values: Any) -> None:
    before = snapshot(scheme)
    for name, value in values.items():
        if name not in SETTINGS:
            raise ValueError(name)
        setattr(scheme, name, value)
    if scheme.passing_grade is not None and not rules.Scale(scheme.scale_min, scheme.scale_max).contains(
            Decimal(scheme.passing_grade)):
        raise DomainError(_("The passing grade must be on the scale (%(low)s-%(high)s).", low=scheme.scale_min,
                            high=scheme.scale_max), code="passing_grade", field="passing_grade")
    keys = {a.key for a in scheme.aspects}
    unknown = [k for k in tie_break_keys(scheme) if k not in keys]
    if unknown:
        raise DomainError(_("Unknown aspect for the tie-break: %(keys)s. Use the aspects' keys, e.g. %(example)s.",
                            keys=", ".join(unknown), example=", ".join(sorted(keys)[:3])),
                          code="tie_break", field="tie_break")
    scheme.tie_break = ",".join(tie_break_keys(scheme))
    # The ranking depends on the normalisation, the tie-break and the passing grade.
    scheme.ranking_stale = True
    db.session.flush()
    record(actor, "scoring.settings_changed", scheme, before=before, after=snapshot(scheme))


def update_aspect(actor: User, aspect: ScoringAspect, *, weight: Decimal,
                  bands: dict[int, tuple[str, str]]) -> None:
    """Change an aspect's weight and its rubric texts (band id -> (Indonesian, English))."""
    if sheets_started(aspect.scheme):
        raise DomainError(_("Judges have started scoring; the weights can no longer change."), code="started")
    before = {"weight": str(aspect.weight), "bands": {b.id: b.description_id for b in aspect.bands}}
    if not Decimal(0) < weight <= Decimal(100):
        raise DomainError(_("A weight is a percentage above 0 and at most 100."), code="weight", field="weight")
    aspect.weight = weight
    for band in aspect.bands:
        if band.id in bands:
            band.description_id, band.description_en = (t.strip() for t in bands[band.id])
    aspect.scheme.ranking_stale = True
    db.session.flush()
    record(actor, "scoring.aspect_changed", aspect, before=before,
           after={"weight": str(weight), "bands": {b.id: b.description_id for b in aspect.bands}}, label=aspect.key)


def sheets_started(scheme: ScoringScheme) -> bool:
    return db.session.scalar(sa.select(ScoreSheet.id).where(ScoreSheet.scheme_id == scheme.id).limit(1)) is not None


def tie_break_keys(scheme: ScoringScheme) -> list[str]:
    return [k.strip() for k in (scheme.tie_break or "").split(",") if k.strip()]


def deadline_of(scheme: ScoringScheme) -> dt.datetime | None:
    if scheme.deadline is not None:
        return scheme.deadline
    stage = scheme.edition.stage(scheme.stage)
    return stage.closes_at if stage else None


def is_revealed(scheme: ScoringScheme) -> bool:
    return scheme.revealed_at is not None


def stage_figures_open(scheme: ScoringScheme) -> bool:
    """Whether the stage's judges may see figures that combine their sheets across proposals (a
    ranking, an order, a list built from it): under an open scheme always, else once the
    secretariat has opened consolidation. Submitting one's own sheet never opens these: a judge
    submits nothing for the proposals they do not hold."""
    return rules.others_visible(scheme.visibility.value, revealed=is_revealed(scheme), own_submitted=False)


def sees_colleague_figures(user: User, scheme: ScoringScheme | None, *, own_sheet_submitted: bool = False) -> bool:
    """THE rule of blindness: whether ``user`` may see a figure derived from other judges' sheets of
    ``scheme``'s stage (a score, total, mean, count, rank, order, flag or stability, and any list or
    status built from them). The secretariat always; a judge as the scheme's visibility allows
    (``own_sheet_submitted``: the figure is about one proposal whose sheet this judge has submitted);
    nobody else. Every page, export and notice a judge can reach asks this before showing one."""
    if user.role is Role.SECRETARIAT or scheme is None:
        return True  # no scheme: no sheets, nothing derived from them
    if not user.role.is_judge:
        return False
    return rules.others_visible(scheme.visibility.value, revealed=is_revealed(scheme),
                                own_submitted=own_sheet_submitted)


def reveal(actor: User, scheme: ScoringScheme) -> None:
    """Open consolidation: from now on the stage's judges may see each other's scores."""
    if scheme.revealed_at is not None:
        raise DomainError(_("Consolidation is already open."), code="revealed")
    scheme.revealed_at = utcnow()
    db.session.flush()
    record(actor, "scoring.revealed", scheme, after={"revealed_at": scheme.revealed_at.isoformat()})


def rule_aspects(scheme: ScoringScheme, group_code: Any) -> list[rules.Aspect]:
    return [rules.Aspect(a.key, a.weight) for a in scheme.aspects_of(group_code)]


# --- who scores what -----------------------------------------------------------------------------

def published_pairs(scheme: ScoringScheme, proposal_ids: Iterable[int] | sa.Select | None = None
                    ) -> set[tuple[int, int]]:
    """(proposal id, pool member id) for every sheet the stage expects: each published
    assignment to a judge, and to each member of a team it was given to (of ``proposal_ids``,
    ids or a query of them, if given)."""
    where = [Assignment.edition_id == scheme.edition_id, Assignment.stage == scheme.stage,
             Assignment.state == AssignmentState.PUBLISHED]
    if proposal_ids is not None:
        where.append(Assignment.proposal_id.in_(
            proposal_ids if isinstance(proposal_ids, sa.Select) else list(proposal_ids)))
    direct = sa.select(Assignment.proposal_id, Assignment.member_id).where(*where, Assignment.member_id.is_not(None))
    via_team = (sa.select(Assignment.proposal_id, PoolMember.id)
                .join(PoolMember, PoolMember.team_id == Assignment.team_id)
                .where(*where, PoolMember.status == InvitationStatus.ACCEPTED))
    return {(p, m) for p, m in db.session.execute(direct.union(via_team))}


def _holds(proposal_id: Any) -> Any:
    """SQL: the pool member (PoolMember) has this proposal published to them or to their team."""
    return sa.exists().where(
        Assignment.proposal_id == proposal_id, Assignment.edition_id == PoolMember.edition_id,
        Assignment.stage == PoolMember.stage, Assignment.state == AssignmentState.PUBLISHED,
        sa.or_(Assignment.member_id == PoolMember.id,
               sa.and_(PoolMember.team_id.is_not(None), Assignment.team_id == PoolMember.team_id)))


def member_for(user: User, scheme: ScoringScheme, proposal_id: int) -> PoolMember | None:
    """The judge's pool membership through which this proposal is theirs to score, if it is."""
    return db.session.scalar(sa.select(PoolMember).where(
        PoolMember.user_id == user.id, PoolMember.edition_id == scheme.edition_id,
        PoolMember.stage == scheme.stage, PoolMember.status == InvitationStatus.ACCEPTED,
        _holds(proposal_id)).limit(1))


# Autosave runs every few seconds for every judge at work: its reads are one prepared
# statement for the proposal, scheme, membership and sheet, and one for the aspects.
_SAVE_TARGET = (
    sa.select(Proposal, ScoringScheme, PoolMember, ScoreSheet)
    .join(ScoringScheme, sa.and_(ScoringScheme.edition_id == Proposal.edition_id,
                                 ScoringScheme.stage == sa.bindparam("stage")))
    .join(PoolMember, sa.and_(PoolMember.user_id == sa.bindparam("user_id"),
                              PoolMember.edition_id == Proposal.edition_id, PoolMember.stage == ScoringScheme.stage,
                              PoolMember.status == InvitationStatus.ACCEPTED, _holds(Proposal.id)))
    .outerjoin(ScoreSheet, sa.and_(ScoreSheet.scheme_id == ScoringScheme.id, ScoreSheet.proposal_id == Proposal.id,
                                   ScoreSheet.member_id == PoolMember.id))
    .options(joinedload(Proposal.group))
    .where(Proposal.id == sa.bindparam("proposal_id"))
    .limit(1)
)
_GROUP_ASPECTS = (sa.select(ScoringAspect)
                  .where(ScoringAspect.scheme_id == sa.bindparam("scheme_id"),
                         ScoringAspect.group_code == sa.bindparam("group_code"))
                  .order_by(ScoringAspect.position))


@dataclass
class SaveTarget:
    scheme: ScoringScheme
    member: PoolMember
    proposal: Proposal
    sheet: ScoreSheet | None


def sheet_target(user: User, stage: StageKind, proposal_id: int) -> SaveTarget | None:
    """What a save needs, or None when the proposal is not the judge's to score in this stage."""
    found = db.session.execute(_SAVE_TARGET, {"stage": stage, "user_id": user.id,
                                              "proposal_id": proposal_id}).first()
    return SaveTarget(found[1], found[2], found[0], found[3]) if found is not None else None


def group_aspects(scheme: ScoringScheme, group_code: Any) -> list[ScoringAspect]:
    """The aspects of one group, without their rubric (a save needs only keys and weights)."""
    return list(db.session.scalars(_GROUP_ASPECTS, {"scheme_id": scheme.id, "group_code": group_code}))


# --- sheets --------------------------------------------------------------------------------------

def _messages(problems: list[rules.Problem], scheme: ScoringScheme) -> dict[str, str]:
    return {p.key: str(PROBLEM_MESSAGES[p.code]) % {"low": scheme.scale_min, "high": scheme.scale_max}
            for p in problems}


def save_sheet(actor: User, scheme: ScoringScheme, member: PoolMember, proposal: Proposal, *, version: int,
               values: dict[str, str], comments: dict[str, str], comment: str | None = None,
               submit: bool = False, now: dt.datetime | None = None, sheet: Any = LOAD) -> ScoreSheet:
    """Save a judge's draft (what they typed so far) or, with ``submit``, check it whole and lock it.

    ``version`` is the sheet version the judge's page was showing (0 for a new sheet):
    another tab's newer save is never overwritten."""
    if member.user_id != actor.id:
        raise NotAllowed(_("This is not your sheet."))
    if scheme.closed:
        raise DomainError(_("Scoring of this stage is closed."), code="closed")
    if sheet is LOAD:  # the caller may have read it already (see sheet_target)
        sheet = db.session.scalar(sa.select(ScoreSheet).where(
            ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id,
            ScoreSheet.member_id == member.id))
    current_version = sheet.version if sheet is not None else 0
    if version != current_version:
        raise DomainError(_("This sheet was saved in another window or tab since you opened it. Reload the page to "
                            "see the latest version; copy what you typed first."), code="stale")
    if sheet is not None and sheet.status is SheetStatus.SUBMITTED:
        raise DomainError(_("This sheet has been submitted and is locked. The secretariat can reopen it."),
                          code="locked")
    if sheet is not None and sheet.status is SheetStatus.DISCARDED:
        raise DomainError(_("You declared a conflict of interest with this proposal; its sheet was discarded."),
                          code="discarded")
    aspects = group_aspects(scheme, proposal.group.code)
    weights = [rules.Aspect(a.key, a.weight) for a in aspects]
    keys = {a.key for a in aspects}
    scale = rules.Scale(scheme.scale_min, scheme.scale_max)
    clean_comments = {k: (v or "").strip()[:COMMENT_MAX] for k, v in comments.items() if k in keys}
    problems = rules.sheet_problems(values, clean_comments, weights, scale, complete=submit)
    if problems:
        message = (_("The sheet is not complete: see the marked aspects.") if submit
                   else _("Some scores could not be saved: see the marked aspects."))
        raise SheetInvalid(message, _messages(problems, scheme))
    now = now or utcnow()
    if sheet is None:
        sheet = ScoreSheet(scheme_id=scheme.id, proposal_id=proposal.id, member_id=member.id, scores={},
                           created_at=now)
        db.session.add(sheet)
    stored: dict[str, Any] = {}
    parsed: dict[str, Decimal | None] = {}
    for aspect in aspects:
        value = rules.parse_score(values.get(aspect.key))
        parsed[aspect.key] = value
        text = clean_comments.get(aspect.key, "")
        if value is not None or text:
            stored[aspect.key] = {"value": str(value) if value is not None else None, "comment": text}
    sheet.scores = stored
    sheet.comment = (comment or "").strip()[:COMMENT_MAX] or None
    sheet.weighted_total = rules.weighted_total(parsed, weights)
    sheet.updated_at = now
    if submit:
        sheet.status, sheet.submitted_at = SheetStatus.SUBMITTED, now
    db.session.flush()
    if submit:
        record(actor, "scoring.sheet_submitted", sheet, after=snapshot(sheet),
               label=proposal_label(proposal.number, proposal.title))
        sheet_changed(scheme, proposal.id)
    return sheet


def sheet_changed(scheme: ScoringScheme, proposal_id: int) -> None:
    """A submitted sheet appeared, changed or went: the ranking is stale and the worker
    recomputes the proposal's aggregate (then the stage's ranking)."""
    scheme.ranking_stale = True
    db.session.flush()
    enqueue(AGGREGATE_PROPOSAL, scheme_id=scheme.id, proposal_id=proposal_id)


def reopen(actor: User, sheet: ScoreSheet, reason: str) -> None:
    """Give a submitted sheet back to its judge as a draft; only with a reason, always audited."""
    text = (reason or "").strip()
    if not text:
        raise DomainError(_("Say why the sheet is reopened."), code="reason", field="reason")
    if sheet.status is not SheetStatus.SUBMITTED:
        raise DomainError(_("Only a submitted sheet can be reopened."), code="not_submitted")
    before = snapshot(sheet)
    sheet.status, sheet.submitted_at = SheetStatus.DRAFT, None
    sheet.reopened_count += 1
    sheet.updated_at = utcnow()
    db.session.flush()
    proposal = sheet.proposal
    record(actor, "scoring.sheet_reopened", sheet, before=before, after={**snapshot(sheet), "reason": text[:REASON_MAX]},
           label=proposal_label(proposal.number, proposal.title))
    notify([sheet.member.user], "sheet_reopened",
           link=("scoring_judge.sheet", {"stage": sheet.scheme.stage.value, "proposal_id": proposal.id}),
           proposal=proposal_label(proposal.number, proposal.title), reason=text[:REASON_MAX])
    sheet_changed(sheet.scheme, proposal.id)


def declare_conflict(actor: User, scheme: ScoringScheme, member: PoolMember, proposal: Proposal,
                     reason: str) -> None:
    """From the scoring page: the judge's conflict with this proposal is declared (their
    assignment goes and the proposal is reassigned), and their sheet is discarded."""
    from kipp.judging import pools

    if member.user_id != actor.id:
        raise NotAllowed(_("This is not your sheet."))
    pools.declare_conflict(actor, scheme.edition, kind=ConflictKind.PROPOSAL, proposal=proposal, reason=reason)
    sheet = db.session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id == member.id))
    if sheet is not None:
        was_submitted = sheet.status is SheetStatus.SUBMITTED
        before = snapshot(sheet)
        sheet.status, sheet.submitted_at = SheetStatus.DISCARDED, None
        db.session.flush()
        record(actor, "scoring.sheet_discarded", sheet, before=before, after=snapshot(sheet))
        if was_submitted:
            sheet_changed(scheme, proposal.id)


# --- consolidation actions -----------------------------------------------------------------------

def may_consolidate(user: User, scheme: ScoringScheme, proposal_id: int) -> bool:
    """The secretariat always; a team chair for their team's proposals once consolidation is open."""
    if user.role is Role.SECRETARIAT:
        return True
    if not user.role.is_judge or not is_revealed(scheme):
        return False
    chair_teams = [t for t, in db.session.execute(sa.select(PoolMember.team_id).where(
        PoolMember.user_id == user.id, PoolMember.edition_id == scheme.edition_id, PoolMember.stage == scheme.stage,
        PoolMember.is_chair, PoolMember.team_id.is_not(None)))]
    if not chair_teams:
        return False
    team_members = set(db.session.scalars(sa.select(PoolMember.id).where(PoolMember.team_id.in_(chair_teams))))
    return any(m in team_members for p, m in published_pairs(scheme, [proposal_id]))


def request_reconciliation(actor: User, scheme: ScoringScheme, proposal: Proposal, note: str) -> int:
    """Ask a proposal's judges to reconcile: their submitted sheets are reopened with the note
    as the reason, and each judge is told. Returns how many sheets were reopened."""
    if not may_consolidate(actor, scheme, proposal.id):
        raise NotAllowed(_("You may not consolidate this proposal."))
    text = (note or "").strip()
    if not text:
        raise DomainError(_("Write what the judges should look at again."), code="note", field="note")
    db.session.add(Reconciliation(scheme_id=scheme.id, proposal_id=proposal.id, requested_by_id=actor.id,
                                  note=text[:REASON_MAX]))
    sheets = db.session.scalars(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.status == SheetStatus.SUBMITTED)).all()
    for sheet in sheets:
        reopen(actor, sheet, _("Reconciliation: %(note)s", note=text[:REASON_MAX]))
    record(actor, "scoring.reconciliation_requested", proposal, after={"note": text[:REASON_MAX],
                                                                       "reopened": len(sheets)},
           label=proposal_label(proposal.number, proposal.title))
    return len(sheets)


def add_judge(actor: User, scheme: ScoringScheme, proposal: Proposal, member: PoolMember) -> list[str]:
    """One more judge for a proposal (the assignment rules apply), published and told at once.
    Returns the soft-conflict warnings."""
    from kipp.assignment import services as assignment

    added, warnings = assignment.add_manual(actor, scheme.edition, scheme.stage, proposal=proposal, member=member)
    added.state = AssignmentState.PUBLISHED
    db.session.flush()
    notify([member.user], "assignments_published", link=("scoring_judge.dashboard", {}), count=1,
           edition=scheme.edition.name)
    return warnings


# --- reminders -----------------------------------------------------------------------------------

def unfinished_by_member(scheme: ScoringScheme) -> dict[int, int]:
    """Pool member id -> sheets expected of them and not yet submitted."""
    submitted = {tuple(row) for row in db.session.execute(sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id)
                                                         .where(ScoreSheet.scheme_id == scheme.id,
                                                                ScoreSheet.status == SheetStatus.SUBMITTED))}
    counts: dict[int, int] = {}
    for pair in published_pairs(scheme):
        if pair not in submitted:
            counts[pair[1]] = counts.get(pair[1], 0) + 1
    return counts


def remind(actor: User | None, scheme: ScoringScheme, member_ids: Iterable[int] | None = None, *,
           automatic: bool = False, now: dt.datetime | None = None) -> int:
    """Remind judges with unfinished sheets (all of them, or those listed); returns how many
    were reminded. Automatic reminders go at most once a day per judge."""
    now = now or utcnow()
    unfinished = unfinished_by_member(scheme)
    wanted = set(member_ids) if member_ids is not None else set(unfinished)
    targets = [m for m in wanted if unfinished.get(m)]
    if automatic:
        since = now - dt.timedelta(hours=20)
        recent = set(db.session.scalars(sa.select(ScoreReminder.member_id).where(
            ScoreReminder.scheme_id == scheme.id, ScoreReminder.automatic, ScoreReminder.sent_at >= since)))
        targets = [m for m in targets if m not in recent]
    if not targets:
        return 0
    members = {m.id: m for m in db.session.scalars(sa.select(PoolMember).where(PoolMember.id.in_(targets))
                                                   .options(selectinload(PoolMember.user)))}
    deadline = deadline_of(scheme)
    from kipp.i18n import wib_datetime

    for member_id in sorted(targets):
        member = members[member_id]
        db.session.add(ScoreReminder(scheme_id=scheme.id, member_id=member_id, unfinished=unfinished[member_id],
                                     automatic=automatic, sent_at=now))
        notify([member.user], "scoring_reminder", link=("scoring_judge.dashboard", {}),
               count=unfinished[member_id], edition=scheme.edition.name,
               deadline=wib_datetime(deadline) if deadline else "-")
    db.session.flush()
    record(actor, "scoring.reminders_sent", scheme, after={"judges": len(targets), "automatic": automatic})
    return len(targets)
