"""Judging pools: invitations, members, teams and declared conflicts of interest.

Services flush and audit; the caller commits. The secretariat manages the
pools (``actor`` None means the system); a judge answers their own
invitations and declares their own conflicts.

Who may join which stage: evaluators (Tim Evaluasi) the evaluation, panelists
(Tim Panel Independen) the panel review and the presentations, and both the
field verification, which needs at least one TPI and one TE member
(kipp-domain §1, step 10).
"""

from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kipp.accounts.models import User
from kipp.accounts.roles import ROLE_LABELS, Role
from kipp.accounts.services import find_by_email, invite
from kipp.agencies.models import Agency, Region
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Category, Edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.judging.conflicts import declaration_as_facts, proposal_facts, proposal_label
from kipp.judging.models import (
    Assignment,
    AssignmentState,
    ConflictDeclaration,
    ConflictKind,
    InvitationStatus,
    PoolMember,
    Severity,
    Team,
)
from kipp.notifications.services import notify
from kipp.outbox.dispatch import enqueue
from kipp.outbox.registry import REASSIGN_PROPOSAL
from kipp.proposals.models import Proposal

# The stages that have a pool, with their labels (the same words as the edition's stage list).
JUDGING_STAGES: dict[StageKind, Any] = {
    StageKind.EVALUATION: _l("Evaluation (Tim Evaluasi)"),
    StageKind.PANEL_REVIEW: _l("Panel review and plenary (TPI)"),
    StageKind.PRESENTATION: _l("Presentation and interview"),
    StageKind.FIELD_VERIFICATION: _l("Field verification"),
}

STAGE_ROLES: dict[StageKind, tuple[Role, ...]] = {
    StageKind.EVALUATION: (Role.EVALUATOR,),
    StageKind.PANEL_REVIEW: (Role.PANELIST,),
    StageKind.PRESENTATION: (Role.PANELIST,),
    StageKind.FIELD_VERIFICATION: (Role.PANELIST, Role.EVALUATOR),
}

LIVE_ASSIGNMENT_STATES = (AssignmentState.DRAFT, AssignmentState.PUBLISHED)
REASON_MAX = 2000
TEXT_MAX = 255

MESSAGES: dict[str, Any] = {
    "not_a_judging_stage": _l("This stage has no pool of judges."),
    "role_not_for_stage": _l("A %(role)s cannot join the pool of this stage; invite a %(wanted)s."),
    "account_role": _l("The account %(email)s belongs to a %(role)s, who cannot join the pool of this stage."),
    "account_inactive": _l("The account %(email)s is deactivated. Reactivate it on the People page first."),
    "needs_actor": _l("Only a person of the secretariat can create an account."),
    "already_member": _l("%(name)s is already in the pool of this stage."),
    "unknown_region": _l("Unknown region code: %(code)s."),
    "max_load_negative": _l("The maximum load cannot be negative; leave it empty for no limit."),
    "unknown_category": _l("This edition has no such category."),
    "too_long": _l("Use at most %(max)s characters."),
    "already_answered": _l("This invitation has already been answered. Ask the secretariat to change your answer."),
    "has_assignments": _l("%(name)s already has assignments in this stage and cannot be removed."),
    "team_name_required": _l("Enter a name for the team."),
    "team_name_taken": _l("This stage already has a team called “%(name)s”."),
    "team_not_empty": _l("The team “%(name)s” still has members. Move them to another team first."),
    "team_has_assignments": _l("The team “%(name)s” already has assignments and cannot be deleted."),
    "team_other_stage": _l("This team belongs to another stage."),
    "declined_in_team": _l("A person who declined the invitation cannot join a team."),
    "chair_not_in_team": _l("The chair must be a member of the team."),
    "not_in_pool": _l("You are not in a pool of this edition."),
    "agency_required": _l("Choose the agency."),
    "region_required": _l("Choose the region."),
    # The same answer whether the proposal does not exist or is someone else's: a judge learns
    # nothing of the proposals not assigned to them.
    "proposal_required": _l("Choose one of the proposals assigned to you."),
    "reason_required": _l("Give the reason for the conflict."),
    "already_declared": _l("You have already declared this conflict."),
}


class PoolError(DomainError):
    """A refused change to a pool; ``field`` names the form field at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


def _fail(problem: str, field: str | None = None, **params: Any) -> PoolError:
    return PoolError(str(MESSAGES[problem]) % params, field=field, code=problem)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave as it is" for optional keyword arguments


# --- checks --------------------------------------------------------------------------------------


def _require_secretariat(actor: User | None) -> None:
    if actor is not None and actor.role is not Role.SECRETARIAT:
        raise NotAllowed(_("Only the secretariat manages the pools of judges."))


def judging_stage(stage: StageKind | str) -> StageKind:
    try:
        kind = StageKind(stage)
    except ValueError:
        raise _fail("not_a_judging_stage") from None
    if kind not in JUDGING_STAGES:
        raise _fail("not_a_judging_stage")
    return kind


def roles_for(stage: StageKind) -> tuple[Role, ...]:
    return STAGE_ROLES[judging_stage(stage)]


def _text(value: str | None, field: str, *, max_length: int = TEXT_MAX) -> str | None:
    value = (value or "").strip()
    if len(value) > max_length:
        raise _fail("too_long", field, max=max_length)
    return value or None


def _region_code(code: str | None, field: str = "home_region_code") -> str | None:
    code = (code or "").strip()
    if not code:
        return None
    if db.session.get(Region, code) is None:
        raise _fail("unknown_region", field, code=code)
    return code


def _max_load(value: int | None, field: str = "max_load") -> int | None:
    if value is None:
        return None
    if value < 0:
        raise _fail("max_load_negative", field)
    return int(value)


def _categories(edition: Edition, ids: Iterable[int] | None) -> list[Category]:
    wanted = {int(i) for i in ids or ()}
    by_id = {c.id: c for c in edition.categories}
    if wanted - by_id.keys():
        raise _fail("unknown_category", "expertise")
    return [c for c in edition.categories if c.id in wanted]


def member_snapshot(member: PoolMember) -> dict[str, Any]:
    return {**snapshot(member), "expertise": [c.code for c in member.expertise]}


def _member_label(member: PoolMember) -> str:
    return f"{member.user.name} · {member.stage.value}"


def _set_affiliation(actor: User | None, user: User, *, agency: Agency | None | Any,
                     affiliation: str | None | Any) -> None:
    """Change where a judge works (it decides their automatic conflicts); UNSET leaves a part as it is."""
    before = snapshot(user)
    if agency is not UNSET:
        user.agency_id = agency.id if agency else None
    if affiliation is not UNSET:
        user.affiliation = _text(affiliation, "affiliation")
    after = snapshot(user)
    if after != before:
        record(actor, "account.affiliation_updated", user, before=before, after=after)


# --- invitations ---------------------------------------------------------------------------------


def invite_to_pool(
    actor: User | None,
    edition: Edition,
    stage: StageKind,
    *,
    email: str,
    name: str,
    role: Role,
    affiliation: str | None = None,
    agency: Agency | None = None,
    home_region_code: str | None = None,
    max_load: int | None = None,
    expertise: Iterable[int] = (),
) -> PoolMember:
    """Invite a person to the pool of a stage; they accept or decline on their judge page.

    A new email address gets an account (and the link to set its password);
    an existing account is reused when its role fits the stage, and its
    agency or affiliation is updated when one is given. Someone who declined
    earlier can be invited again.
    """
    _require_secretariat(actor)
    stage = judging_stage(stage)
    role = Role(role)
    allowed = STAGE_ROLES[stage]
    if role not in allowed:
        raise _fail("role_not_for_stage", "role", role=_(ROLE_LABELS[role]), wanted=_(ROLE_LABELS[allowed[0]]))
    affiliation = _text(affiliation, "affiliation")
    home = _region_code(home_region_code)
    load = _max_load(max_load)
    categories = _categories(edition, expertise)

    user = find_by_email(email)
    if user is None:
        if actor is None:
            raise _fail("needs_actor")
        user = invite(actor, email=email, name=name, role=role, agency=agency, affiliation=affiliation)
    else:
        if user.role not in allowed:
            raise _fail("account_role", "email", email=user.email, role=_(ROLE_LABELS[user.role]))
        if not user.active:
            raise _fail("account_inactive", "email", email=user.email)
        _set_affiliation(actor, user,
                         agency=agency if agency is not None else UNSET,
                         affiliation=affiliation if affiliation is not None else UNSET)

    member = db.session.scalar(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == stage, PoolMember.user_id == user.id))
    if member is not None and member.status is not InvitationStatus.DECLINED:
        raise _fail("already_member", "email", name=user.name)
    before = None
    if member is None:
        member = PoolMember(edition=edition, stage=stage, user=user)
        db.session.add(member)
    else:  # invited again after a refusal
        before = member_snapshot(member)
        member.status = InvitationStatus.INVITED
        member.invited_at = utcnow()
        member.responded_at = None
    member.max_load = load
    member.home_region_code = home
    member.expertise = categories
    db.session.flush()
    record(actor, "pool.invited", member, before=before, after=member_snapshot(member), label=_member_label(member))
    notify([user], "pool_invitation", link=("judge.invitations", {}),
           edition=edition.name, stage=JUDGING_STAGES[stage])
    return member


def respond(actor_user: User, member: PoolMember, accept: bool, *, expertise: Iterable[int] | None = None) -> None:
    """The invited person accepts (optionally naming their expertise) or declines. Once."""
    if actor_user is None or actor_user.id != member.user_id:
        raise NotAllowed(_("This invitation is not yours."))
    if member.status is not InvitationStatus.INVITED:
        raise _fail("already_answered")
    before = member_snapshot(member)
    member.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    member.responded_at = utcnow()
    if accept and expertise is not None:
        member.expertise = _categories(member.edition, expertise)
    if not accept:
        member.team = None
    db.session.flush()
    record(actor_user, "pool.accepted" if accept else "pool.declined", member, before=before,
           after=member_snapshot(member), label=_member_label(member))


# --- members -------------------------------------------------------------------------------------


def update_member(
    actor: User | None,
    member: PoolMember,
    *,
    expertise: Iterable[int] | Any = UNSET,
    max_load: int | None | Any = UNSET,
    home_region_code: str | None | Any = UNSET,
    team: Team | None | Any = UNSET,
    agency: Agency | None | Any = UNSET,
    affiliation: str | None | Any = UNSET,
) -> PoolMember:
    """Change what the secretariat records about a member; UNSET leaves a part as it is.

    ``agency`` and ``affiliation`` belong to the person's account (every pool they are in).
    """
    _require_secretariat(actor)
    before = member_snapshot(member)
    if expertise is not UNSET:
        member.expertise = _categories(member.edition, expertise)
    if max_load is not UNSET:
        member.max_load = _max_load(max_load)
    if home_region_code is not UNSET:
        member.home_region_code = _region_code(home_region_code)
    if team is not UNSET:
        _check_team(member, team)
        member.team = team
    _set_affiliation(actor, member.user, agency=agency, affiliation=affiliation)
    db.session.flush()
    after = member_snapshot(member)
    if after != before:
        record(actor, "pool.member_updated", member, before=before, after=after, label=_member_label(member))
    return member


def remove_member(actor: User | None, member: PoolMember) -> None:
    """Take a person out of a stage's pool (before they have any assignment in it)."""
    _require_secretariat(actor)
    has_assignments = db.session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).where(Assignment.member_id == member.id))
    if has_assignments:
        raise _fail("has_assignments", name=member.user.name)
    before = member_snapshot(member)
    label = _member_label(member)
    member_id = member.id
    member.expertise = []
    db.session.delete(member)
    db.session.flush()
    record(actor, "pool.member_removed", before=before, object_type="pool_members", object_id=member_id,
           label=label)


# --- teams ---------------------------------------------------------------------------------------


def _team_name(edition_id: int, stage: StageKind, name: str | None, *, exclude: Team | None = None) -> str:
    name = _text(name, "name") or ""
    if not name:
        raise _fail("team_name_required", "name")
    query = sa.select(Team.id).where(Team.edition_id == edition_id, Team.stage == stage,
                                     sa.func.lower(Team.name) == name.lower())
    if exclude is not None:
        query = query.where(Team.id != exclude.id)
    if db.session.scalar(query) is not None:
        raise _fail("team_name_taken", "name", name=name)
    return name


def create_team(actor: User | None, edition: Edition, stage: StageKind, *, name: str,
                max_load: int | None = None) -> Team:
    _require_secretariat(actor)
    stage = judging_stage(stage)
    team = Team(edition_id=edition.id, stage=stage, name=_team_name(edition.id, stage, name),
                max_load=_max_load(max_load))
    db.session.add(team)
    db.session.flush()
    record(actor, "pool.team_created", team, after=snapshot(team))
    return team


def rename_team(actor: User | None, team: Team, *, name: str, max_load: int | None | Any = UNSET) -> Team:
    _require_secretariat(actor)
    before = snapshot(team)
    team.name = _team_name(team.edition_id, team.stage, name, exclude=team)
    if max_load is not UNSET:
        team.max_load = _max_load(max_load)
    db.session.flush()
    record(actor, "pool.team_updated", team, before=before, after=snapshot(team))
    return team


def delete_team(actor: User | None, team: Team) -> None:
    """Delete a team that has no members and no assignments."""
    _require_secretariat(actor)
    if team.members:
        raise _fail("team_not_empty", name=team.name)
    if db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(Assignment.team_id == team.id)):
        raise _fail("team_has_assignments", name=team.name)
    before = snapshot(team)
    team_id, name = team.id, team.name
    db.session.delete(team)
    db.session.flush()
    record(actor, "pool.team_deleted", before=before, object_type="teams", object_id=team_id, label=name)


def _check_team(member: PoolMember, team: Team | None) -> None:
    if team is None:
        return
    if team.edition_id != member.edition_id or team.stage != member.stage:
        raise _fail("team_other_stage", "team_id")
    if member.status is InvitationStatus.DECLINED:
        raise _fail("declined_in_team", "team_id")


def set_team(actor: User | None, member: PoolMember, team: Team | None) -> None:
    """Put a member in a team of their stage, or in none."""
    _require_secretariat(actor)
    _check_team(member, team)
    if member.team_id == (team.id if team else None):
        return
    before = member_snapshot(member)
    member.team = team
    # Chairing belongs to the team left behind.
    member.is_chair = False
    db.session.flush()
    record(actor, "pool.team_set", member, before=before, after=member_snapshot(member), label=_member_label(member))


def set_chair(actor: User | None, team: Team, member: PoolMember | None) -> None:
    """Make ``member`` the chair of their team (the previous chair steps down); None: no chair."""
    _require_secretariat(actor)
    if member is not None and member.team_id != team.id:
        raise _fail("chair_not_in_team", "member_id")
    before = {"chair": next((m.id for m in team.members if m.is_chair), None)}
    for other in team.members:
        other.is_chair = other is member
    if member is not None:
        member.is_chair = True
    db.session.flush()
    record(actor, "pool.chair_set", team, before=before, after={"chair": member.id if member else None},
           label=f"{team.name}: {_member_label(member)}" if member else team.name)


# --- declared conflicts --------------------------------------------------------------------------


def _memberships(user: User, edition: Edition) -> list[PoolMember]:
    return list(db.session.scalars(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.user_id == user.id,
        PoolMember.status != InvitationStatus.DECLINED)))


def _held_by(memberships: list[PoolMember]) -> Any:
    """The condition on Assignment: given to one of ``memberships`` or to one of their teams."""
    holder = Assignment.member_id.in_([m.id for m in memberships])
    team_ids = [m.team_id for m in memberships if m.team_id is not None]
    return sa.or_(holder, Assignment.team_id.in_(team_ids)) if team_ids else holder


def assigned_proposals(judge: User, edition: Edition,
                       states: Iterable[AssignmentState] = (AssignmentState.PUBLISHED,)) -> list[Proposal]:
    """The proposals given to the judge in the edition, personally or through their team, whose
    assignment is in ``states`` (by default published: the ones the judge has been shown), by number."""
    memberships = _memberships(judge, edition)
    if not memberships:
        return []
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.id.in_(
            sa.select(Assignment.proposal_id).where(Assignment.edition_id == edition.id,
                                                    Assignment.state.in_(list(states)), _held_by(memberships))))
        .order_by(Proposal.number, Proposal.id)))


def declare_conflict(
    actor_judge: User,
    edition: Edition,
    *,
    kind: ConflictKind,
    agency: Agency | None = None,
    region_code: str | None = None,
    proposal: Proposal | None = None,
    reason: str,
    severity: Severity = Severity.HARD,
) -> ConflictDeclaration:
    """A judge declares a conflict with an agency, a region or one proposal, with a reason.

    Any agency or region may be declared; a proposal only among those assigned to the judge
    (``assigned_proposals``), so that declaring tells nothing of the others.
    A hard declaration takes effect at once: every live (draft or published)
    assignment of the judge in the edition, personal or through their team,
    whose proposal it covers is marked removed and :func:`on_assignment_removed`
    is called for it.
    """
    if actor_judge is None or not actor_judge.role.is_judge:
        raise NotAllowed(_("Only evaluators and panelists declare conflicts of interest."))
    memberships = _memberships(actor_judge, edition)
    if not memberships:
        raise NotAllowed(str(MESSAGES["not_in_pool"]))
    kind = ConflictKind(kind)
    severity = Severity(severity)
    target: dict[str, Any] = {"agency_id": None, "region_code": None, "proposal_id": None}
    if kind is ConflictKind.AGENCY:
        if agency is None:
            raise _fail("agency_required", "agency_id")
        target["agency_id"] = agency.id
    elif kind is ConflictKind.REGION:
        code = _region_code(region_code, "region_code")
        if code is None:
            raise _fail("region_required", "region_code")
        target["region_code"] = code
    else:
        if proposal is None or proposal not in assigned_proposals(actor_judge, edition):
            raise _fail("proposal_required", "proposal_number")
        target["proposal_id"] = proposal.id
    text = _text(reason, "reason", max_length=REASON_MAX)
    if not text:
        raise _fail("reason_required", "reason")
    duplicate = db.session.scalar(sa.select(ConflictDeclaration.id).where(
        ConflictDeclaration.edition_id == edition.id, ConflictDeclaration.user_id == actor_judge.id,
        ConflictDeclaration.kind == kind, *(getattr(ConflictDeclaration, k) == v for k, v in target.items()
                                            if v is not None)))
    if duplicate is not None:
        raise _fail("already_declared")
    declaration = ConflictDeclaration(edition_id=edition.id, user_id=actor_judge.id, kind=kind, severity=severity,
                                      reason=text, **target)
    db.session.add(declaration)
    db.session.flush()
    facts = declaration_as_facts(declaration)
    record(actor_judge, "conflict.declared", declaration, after=snapshot(declaration),
           label=f"{actor_judge.name} · {facts.target}")
    if severity is Severity.HARD:
        live = _live_assignments(memberships, edition)
        covered = {p.id for p in proposal_facts(edition, {a.proposal_id for a in live}) if facts.covers(p)}
        for assignment in live:
            if assignment.proposal_id in covered:
                previous = assignment.state
                assignment.state = AssignmentState.REMOVED
                db.session.flush()
                on_assignment_removed(assignment, actor=actor_judge, judge=actor_judge, reason=text,
                                      previous_state=previous)
    return declaration


def _live_assignments(memberships: list[PoolMember], edition: Edition) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.edition_id == edition.id, Assignment.state.in_(LIVE_ASSIGNMENT_STATES), _held_by(memberships),
    ).order_by(Assignment.id)))


def on_assignment_removed(
    assignment: Assignment,
    *,
    actor: User | None = None,
    judge: User | None = None,
    reason: str | None = None,
    previous_state: AssignmentState | None = None,
) -> None:
    """Hook: an assignment was just marked REMOVED because of a conflict of interest.

    It records the removal, tells the secretariat, and queues the proposal's
    re-assignment (kipp.assignment: only this proposal gets a new judge).
    """
    record(actor, "assignment.removed_for_conflict", assignment,
           before={"state": previous_state.value} if previous_state else None,
           after={**snapshot(assignment), "reason": reason},
           label=assignment.proposal.title)
    secretariat = db.session.scalars(sa.select(User).where(User.role == Role.SECRETARIAT, User.active))
    edition = assignment.proposal.edition
    notify(
        secretariat, "assignment_removed_conflict",
        link=("pools.conflicts", {"edition_id": assignment.edition_id, "stage": assignment.stage.value}),
        judge=judge.name if judge else (assignment.member.user.name if assignment.member else ""),
        proposal=proposal_label(assignment.proposal.number, assignment.proposal.title),
        stage=JUDGING_STAGES.get(assignment.stage, assignment.stage.value),
        edition=edition.name,
        reason=reason or "",
    )
    if assignment.member_id is not None:
        enqueue(REASSIGN_PROPOSAL, edition_id=assignment.edition_id, stage=assignment.stage.value,
                proposal_id=assignment.proposal_id,
                publish=previous_state is AssignmentState.PUBLISHED)
