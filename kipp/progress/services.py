"""Moving an edition from stage to stage: one explicit step of the secretariat at a time.

Each step opens or closes one stage. Before it, :func:`checks_for` lists what the step needs
(the guards), each with where to fix it; a step runs only when every check passes, or when
the only failing checks may be overridden and the secretariat gives a reason (e.g. closing
scoring with sheets unsubmitted). Every step is audited and tells the people concerned
through the outbox (kipp.progress.jobs). The guards of every stage are here, in one place;
the work of each stage (nominees, objections, presentations …) lives in its own module and
asks :mod:`kipp.progress.stages` whether its stage allows it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from kipp.accounts.models import User
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition, Stage
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.i18n import localized, wib_datetime
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.outbox.dispatch import enqueue
from kipp.progress import stages
from kipp.progress.stages import STATUS_LABELS
from kipp.proposals.models import DeadlineExtension, Proposal
from kipp.proposals.states import ProposalStatus
from kipp.scoring.models import ScoreSheet, ScoringScheme, SheetStatus
from kipp.selection.models import Shortlist, ShortlistKind

NOTIFY_STAGE_MOVE = "kipp.progress.notify_stage_move"
FORCE_REASON_MIN = 10

# Stages whose judges score in a scheme; closing them closes the scheme.
SCORED = (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION)


class Move(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"


@dataclass
class Check:
    """One thing a step needs: whether it holds, what it says, and where to set it right."""

    code: str
    ok: bool
    message: str
    forceable: bool = False  # the secretariat may go ahead anyway, with a reason
    link: tuple[str, dict[str, Any]] | None = None


@dataclass
class Step:
    stage: Stage
    move: Move
    checks: list[Check] = field(default_factory=list)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def forceable(self) -> bool:
        """Blocked only by checks that may be overridden with a reason."""
        return bool(self.failing) and all(c.forceable for c in self.failing)


class StepRefused(DomainError):
    def __init__(self, message: str, step: Step) -> None:
        super().__init__(message, code="step_refused")
        self.step = step


# --- what comes next ----------------------------------------------------------------------------

def next_step(edition: Edition, *, now: dt.datetime | None = None) -> Step | None:
    """The one step the edition waits for: open the current stage, or close it (None: all done)."""
    stage = stages.current_stage(edition)
    if stage is None:
        return None
    move = Move.CLOSE if stage.status is StageStatus.OPEN else Move.OPEN
    return Step(stage, move, checks_for(edition, stage, move, now=now or utcnow()))


def checks_for(edition: Edition, stage: Stage, move: Move, *, now: dt.datetime) -> list[Check]:
    guards = (_OPEN_GUARDS if move is Move.OPEN else _CLOSE_GUARDS).get(stage.kind)
    checks = _order_checks(edition, stage) if move is Move.OPEN else []
    if guards is not None:
        checks += guards(edition, stage, now)
    return checks


def _order_checks(edition: Edition, stage: Stage) -> list[Check]:
    held = stages.held_stages(edition)
    before = held[:held.index(stage)]
    waiting = [s for s in before if s.status is not StageStatus.CLOSED]
    if not waiting:
        return []
    return [Check("previous_stage", False, _("Close the stage “%(stage)s” first.",
                                             stage=localized(waiting[-1], "name")),
                  link=("progress.edition", {"edition_id": edition.id}))]


# --- the guards, stage by stage -----------------------------------------------------------------

def _open_submission(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    groups_ready = bool(edition.groups) and all(g.sections for g in edition.groups)
    return [
        Check("groups", groups_ready, _("Every group has its proposal sections.") if groups_ready else
              _("Give the edition its groups and each group its sections."),
              link=("editions.groups", {"edition_id": edition.id})),
        Check("categories", bool(edition.categories), _("The edition has its categories.") if edition.categories
              else _("Give the edition its categories."), link=("editions.categories", {"edition_id": edition.id})),
        Check("window", stage.closes_at > now,
              _("Proposals can be submitted until %(when)s.", when=wib_datetime(stage.closes_at))
              if stage.closes_at > now else
              _("The submission deadline (%(when)s) has passed; move it on the Stages page.",
                when=wib_datetime(stage.closes_at)), link=("editions.stages", {"edition_id": edition.id})),
    ]


def _close_submission(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    extended = db.session.scalar(sa.select(sa.func.max(DeadlineExtension.closes_at))
                                 .where(DeadlineExtension.edition_id == edition.id))
    deadline = max(stage.closes_at, extended) if extended else stage.closes_at
    passed = deadline <= now
    return [Check("deadline", passed,
                  _("The deadline, extensions included, passed on %(when)s.", when=wib_datetime(deadline))
                  if passed else
                  _("Agencies may submit until %(when)s (extensions included); close the stage after that.",
                    when=wib_datetime(deadline)),
                  link=("deadlines.index", {"edition": edition.id}))]


def _close_screening(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    from kipp.screening import services as screening

    left = screening.undecided(edition)
    published = bool(screening.announcements(edition))
    queue = ("screening.index", {"edition": edition.id})
    return [
        Check("undecided", left["submitted"] == 0,
              ngettext("%(num)d proposal is still waiting for its screening decision.",
                       "%(num)d proposals are still waiting for their screening decision.", left["submitted"])
              if left["submitted"] else _("Every submitted proposal has its screening decision."), link=queue),
        Check("in_correction", left["in_correction"] == 0,
              ngettext("%(num)d proposal is in its correction window.",
                       "%(num)d proposals are in their correction window.", left["in_correction"])
              if left["in_correction"] else _("No proposal is in a correction window."), link=queue),
        Check("announcement", published, _("The screening result is announced.") if published else
              _("The screening result has not been announced (a numbered announcement)."), forceable=True,
              link=("screening.announcements", {"edition": edition.id})),
    ]


def _scheme_and_assignment(edition: Edition, kind: StageKind) -> list[Check]:
    scheme = _scheme(edition, kind)
    published = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.edition_id == edition.id, Assignment.stage == kind,
        Assignment.state == AssignmentState.PUBLISHED)) or 0
    return [
        Check("scheme", scheme is not None, _("The scoring scheme is set up.") if scheme else
              _("Set up the stage's scoring scheme (aspects, rubric, passing grade)."),
              link=("scoring.stage", {"edition_id": edition.id, "stage": kind.value})),
        Check("assignment", published > 0,
              ngettext("%(num)d assignment is published to the judges.",
                       "%(num)d assignments are published to the judges.", published) if published else
              _("Assign the proposals to the judges and publish the assignment."),
              link=("assignment.stage", {"edition_id": edition.id, "stage": kind.value})),
    ]


def _open_evaluation(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return _scheme_and_assignment(edition, StageKind.EVALUATION)


def _close_scored(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    scheme = _scheme(edition, stage.kind)
    if scheme is None:
        return [Check("scheme", False, _("This stage has no scoring scheme."),
                      link=("scoring.stage", {"edition_id": edition.id, "stage": stage.kind.value}))]
    left = unsubmitted_sheets(scheme)
    return [Check("sheets", left == 0,
                  ngettext("%(num)d score sheet is not submitted.", "%(num)d score sheets are not submitted.", left)
                  if left else _("Every expected score sheet is submitted."), forceable=True,
                  link=("scoring.stage", {"edition_id": edition.id, "stage": stage.kind.value}))]


def _list_check(edition: Edition, kind: ShortlistKind, *, frozen: str, missing: str, code: str,
                link: tuple[str, dict[str, Any]], attribute: str = "frozen_at") -> Check:
    shortlist = shortlist_of(edition, kind)
    ok = shortlist is not None and getattr(shortlist, attribute) is not None
    return Check(code, ok, frozen if ok else missing, link=link)


def _open_panel(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return [_list_check(edition, ShortlistKind.NOMINEES, code="nominees",
                        frozen=_("The nominee list is frozen."),
                        missing=_("Build and freeze the nominee list from the evaluation ranking."),
                        link=("selection.nominees", {"edition_id": edition.id})),
            *_scheme_and_assignment(edition, StageKind.PANEL_REVIEW)]


def _close_panel(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return [_list_check(edition, ShortlistKind.FINALISTS, code="finalists",
                        frozen=_("The plenary's decision on the finalists is frozen."),
                        missing=_("Record and freeze the plenary's decision on the finalists (with its minutes)."),
                        link=("plenary.index", {"edition_id": edition.id})),
            *_close_scored(edition, stage, now)]


def _open_objection(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    in_future = stage.closes_at > now
    return [
        _list_check(edition, ShortlistKind.FINALISTS, code="finalists",
                    frozen=_("The finalists are frozen; opening this stage publishes their list."),
                    missing=_("The plenary's decision on the finalists is not frozen."),
                    link=("plenary.index", {"edition_id": edition.id})),
        Check("window", in_future,
              _("The public may object from %(start)s until %(end)s.", start=wib_datetime(max(stage.opens_at, now)),
                end=wib_datetime(stage.closes_at)) if in_future else
              _("The objection window ended on %(when)s; set its dates on the Stages page.",
                when=wib_datetime(stage.closes_at)), link=("editions.stages", {"edition_id": edition.id})),
    ]


def _close_objection(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return [_list_check(edition, ShortlistKind.FINALISTS, code="confirmed", attribute="confirmed_at",
                        frozen=_("The finalists are confirmed by decree."),
                        missing=_("Rule on every objection and, once the window has ended, confirm the finalists "
                                  "with the decree number."),
                        link=("objections.index", {"edition_id": edition.id}))]


def _open_presentation(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    from kipp.presentations.models import PresentationSlot

    confirmed = _count(edition, ProposalStatus.CONFIRMED)
    unscheduled = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status == ProposalStatus.CONFIRMED,
        ~sa.exists().where(PresentationSlot.proposal_id == Proposal.id))) or 0
    schedule = ("presentations.index", {"edition_id": edition.id})
    return [
        Check("confirmed", confirmed > 0, ngettext("%(num)d confirmed finalist.", "%(num)d confirmed finalists.",
                                                   confirmed) if confirmed else _("No finalist is confirmed."),
              link=("objections.index", {"edition_id": edition.id})),
        Check("schedule", unscheduled == 0,
              ngettext("%(num)d finalist has no presentation slot.", "%(num)d finalists have no presentation slot.",
                       unscheduled) if unscheduled else _("Every finalist has a presentation slot."), link=schedule),
        *_scheme_and_assignment(edition, StageKind.PRESENTATION),
    ]


def _close_presentation(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    waiting = _count(edition, ProposalStatus.CONFIRMED)
    return [Check("attendance", waiting == 0,
                  ngettext("%(num)d finalist's attendance is not recorded.",
                           "%(num)d finalists' attendance is not recorded.", waiting) if waiting else
                  _("Every finalist's attendance is recorded."),
                  link=("presentations.index", {"edition_id": edition.id})),
            *_close_scored(edition, stage, now)]


def _field_teams(edition: Edition) -> tuple[int, int]:
    """(visits planned, of which without at least one panelist and one evaluator)."""
    from kipp.accounts.roles import Role
    from kipp.verification.models import FieldVisit

    visits = db.session.scalars(sa.select(FieldVisit.proposal_id).where(FieldVisit.edition_id == edition.id)).all()
    roles: dict[int, set[Role]] = {p: set() for p in visits}
    for proposal_id, role in db.session.execute(
            sa.select(Assignment.proposal_id, User.role).join(PoolMember, PoolMember.id == Assignment.member_id)
            .join(User, User.id == PoolMember.user_id)
            .where(Assignment.edition_id == edition.id, Assignment.stage == StageKind.FIELD_VERIFICATION,
                   Assignment.state == AssignmentState.PUBLISHED)):
        roles.setdefault(proposal_id, set()).add(role)
    incomplete = sum(1 for p in visits if not {Role.PANELIST, Role.EVALUATOR} <= roles.get(p, set()))
    return len(visits), incomplete


def _open_field(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    planned, incomplete = _field_teams(edition)
    link = ("verification.index", {"edition_id": edition.id})
    return [
        Check("visits", planned > 0, ngettext("%(num)d visit is planned.", "%(num)d visits are planned.", planned)
              if planned else _("Plan the field visits first."), link=link),
        Check("teams", incomplete == 0,
              ngettext("%(num)d visit lacks a panelist or an evaluator.",
                       "%(num)d visits lack a panelist or an evaluator.", incomplete) if incomplete else
              _("Every visit has at least one panelist and one evaluator."), link=link),
    ]


def _close_field(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    from kipp.verification.models import FieldVisit

    left = db.session.scalar(sa.select(sa.func.count()).select_from(FieldVisit).where(
        FieldVisit.edition_id == edition.id, FieldVisit.recorded_at.is_(None))) or 0
    return [Check("recorded", left == 0,
                  ngettext("%(num)d visit has no findings recorded.", "%(num)d visits have no findings recorded.",
                           left) if left else _("Every visit's findings and score are recorded."), forceable=True,
                  link=("verification.index", {"edition_id": edition.id}))]


def _close_final(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return [_list_check(edition, ShortlistKind.WINNERS, code="winners",
                        frozen=_("The final result is frozen with its decree number."),
                        missing=_("Agree the final result and freeze it with the decree number."),
                        link=("selection.final", {"edition_id": edition.id}))]


def _open_announcement(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return _close_final(edition, stage, now)


def _close_announcement(edition: Edition, stage: Stage, now: dt.datetime) -> list[Check]:
    return [_list_check(edition, ShortlistKind.WINNERS, code="published", attribute="published_at",
                        frozen=_("The results are published."), missing=_("Publish the results first."),
                        link=("publication.index", {"edition_id": edition.id}))]


Guard = Callable[[Edition, Stage, dt.datetime], list[Check]]
_OPEN_GUARDS: dict[StageKind, Guard] = {
    StageKind.SUBMISSION: _open_submission,
    StageKind.EVALUATION: _open_evaluation,
    StageKind.PANEL_REVIEW: _open_panel,
    StageKind.OBJECTION: _open_objection,
    StageKind.PRESENTATION: _open_presentation,
    StageKind.FIELD_VERIFICATION: _open_field,
    StageKind.ANNOUNCEMENT: _open_announcement,
}
_CLOSE_GUARDS: dict[StageKind, Guard] = {
    StageKind.SUBMISSION: _close_submission,
    StageKind.SCREENING: _close_screening,
    StageKind.EVALUATION: _close_scored,
    StageKind.PANEL_REVIEW: _close_panel,
    StageKind.OBJECTION: _close_objection,
    StageKind.PRESENTATION: _close_presentation,
    StageKind.FIELD_VERIFICATION: _close_field,
    StageKind.FINAL: _close_final,
    StageKind.ANNOUNCEMENT: _close_announcement,
}


# --- the steps ----------------------------------------------------------------------------------

def take_step(actor: User, edition: Edition, stage: Stage, move: Move, *, now: dt.datetime | None = None,
              force_reason: str | None = None) -> Step:
    """Open or close ``stage``, if it is the edition's next step and its checks allow it."""
    now = now or utcnow()
    expected = next_step(edition, now=now)
    if expected is None or expected.stage.id != stage.id or expected.move is not move:
        raise DomainError(_("This is not the edition's next step; the page shows the step it waits for."),
                          code="not_next")
    step = expected
    reason = (force_reason or "").strip() or None
    if not step.ready:
        if not step.forceable:
            raise StepRefused(_("The step needs: %(missing)s", missing=" ".join(c.message for c in step.failing)),
                              step)
        if reason is None or len(reason) < FORCE_REASON_MIN:
            raise StepRefused(_("To go ahead anyway, give the reason (at least %(num)d characters); it is kept in "
                                "the audit trail.", num=FORCE_REASON_MIN), step)
    else:
        reason = None
    before = stage.status
    if move is Move.OPEN:
        stage.status, stage.opened_at, stage.opened_by_id = StageStatus.OPEN, now, actor.id
        _on_open(actor, edition, stage)
    else:
        stage.status, stage.closed_at, stage.closed_by_id = StageStatus.CLOSED, now, actor.id
        _on_close(actor, edition, stage, now)
    if reason:
        stage.forced_reason = reason
    db.session.flush()
    record(actor, f"stage.{move.value}", stage, before={"status": before.value},
           after={"status": stage.status.value, **({"forced": reason,
                                                     "overridden": [c.code for c in step.failing]} if reason else {})},
           label=f"{edition.name} · {stage.name_id}")
    enqueue(NOTIFY_STAGE_MOVE, edition_id=edition.id, stage=stage.kind.value, move=move.value)
    return step


def _on_open(actor: User, edition: Edition, stage: Stage) -> None:
    if stage.kind is StageKind.SCREENING:
        from kipp.screening import services as screening

        screening.ensure_default_checklist(actor, edition)
    scheme = _scheme(edition, stage.kind) if stage.kind in SCORED else None
    if scheme is not None and scheme.closed:
        scheme.closed = False


def _on_close(actor: User, edition: Edition, stage: Stage, now: dt.datetime) -> None:
    if stage.kind is StageKind.SUBMISSION:
        from kipp.proposals.services import close_overdue

        close_overdue(now)
    if stage.kind in SCORED:
        scheme = _scheme(edition, stage.kind)
        if scheme is not None:
            scheme.closed = True
            if scheme.ranking_stale:
                from kipp.scoring.aggregation import queue_recompute

                queue_recompute(scheme, actor)


# --- small queries ------------------------------------------------------------------------------

def _scheme(edition: Edition, kind: StageKind) -> ScoringScheme | None:
    return db.session.scalar(sa.select(ScoringScheme).where(ScoringScheme.edition_id == edition.id,
                                                            ScoringScheme.stage == kind))


def _count(edition: Edition, status: ProposalStatus) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.edition_id == edition.id, Proposal.status == status)) or 0


def shortlist_of(edition: Edition, kind: ShortlistKind) -> Shortlist | None:
    return db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == edition.id, Shortlist.kind == kind))


def unsubmitted_sheets(scheme: ScoringScheme) -> int:
    """Sheets the stage expects (its published assignments) that are not submitted."""
    from kipp.scoring.services import published_pairs

    submitted = {tuple(row) for row in db.session.execute(
        sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id).where(
            ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED))}
    return sum(1 for pair in published_pairs(scheme) if pair not in submitted)


def stage_members(edition: Edition, kind: StageKind) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).join(PoolMember, PoolMember.user_id == User.id).where(
            PoolMember.edition_id == edition.id, PoolMember.stage == kind,
            PoolMember.status == InvitationStatus.ACCEPTED, User.active)))


def status_text(status: StageStatus) -> str:
    return str(STATUS_LABELS[status])
