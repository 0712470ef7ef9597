"""The secretariat's pools of judges per edition and stage: members, invitations, teams, conflicts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload, selectinload

from kipp.accounts.models import User
from kipp.accounts.roles import ROLE_LABELS, Role
from kipp.agencies.models import Agency, Region
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.i18n import localized
from kipp.judging import conflicts as coi
from kipp.judging import pools
from kipp.judging.forms import MemberForm, PoolInviteForm, SetTeamForm, TeamForm
from kipp.judging.models import ConflictDeclaration, ConflictKind, InvitationStatus, PoolMember, Severity, Team
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("pools", __name__, url_prefix="/admin/pools")
audience(bp, Role.SECRETARIAT)

STATUS_LABELS = {
    InvitationStatus.INVITED: _l("Invited"),
    InvitationStatus.ACCEPTED: _l("Accepted"),
    InvitationStatus.DECLINED: _l("Declined"),
}
STATUS_COLOURS = {
    InvitationStatus.INVITED: "warning",
    InvitationStatus.ACCEPTED: "success",
    InvitationStatus.DECLINED: "secondary",
}
KIND_LABELS = {ConflictKind.AGENCY: _l("Agency"), ConflictKind.REGION: _l("Region"),
               ConflictKind.PROPOSAL: _l("Proposal")}
SEVERITY_LABELS = {Severity.HARD: _l("Hard: never assigned"), Severity.SOFT: _l("Soft: assigned with a warning")}
PROVINCE_RULE_LABELS = {
    "hard": _l("hard (never assigned)"),
    "soft": _l("soft (assigned with a warning)"),
    "off": _l("off"),
}
SAMPLE = 3  # automatic conflicts quoted per member on the conflicts page

TABS = (
    ("members", _l("Members"), "pools.stage"),
    ("invite", _l("Invite"), "pools.invite"),
    ("teams", _l("Teams"), "pools.teams"),
    ("conflicts", _l("Conflicts of interest"), "pools.conflicts"),
)


def pool_helpers() -> dict[str, Any]:
    """Labels shared by the secretariat's and the judges' pages."""
    return {
        "pool_stage_label": lambda stage: pools.JUDGING_STAGES[StageKind(stage)],
        "pool_status_label": lambda status: STATUS_LABELS[InvitationStatus(status)],
        "pool_status_colour": lambda status: STATUS_COLOURS[InvitationStatus(status)],
        "conflict_kind_label": lambda kind: KIND_LABELS[ConflictKind(kind)],
        "severity_label": lambda severity: SEVERITY_LABELS[Severity(severity)],
        "province_rule_label": lambda rule: PROVINCE_RULE_LABELS.get(rule, rule),
        "judging_stages": list(pools.JUDGING_STAGES),
    }


bp.context_processor(pool_helpers)


# --- helpers shared with the judges' pages -------------------------------------------------------

def save(form: FlaskForm | None, func: Callable[..., Any], *args: Any, success: str, **kwargs: Any) -> tuple[bool, Any]:
    """A service called as the current person; a refusal goes next to its field, or on top."""
    return run_service(func, current_user, *args, form=form, success=success, **kwargs)


def agency_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.active).order_by(Agency.name)).all()
    return [(0, "—")] + [(r.id, r.name) for r in rows]


def region_choices() -> list[tuple[str, str]]:
    """Provinces, each followed by its kabupaten/kota."""
    rows = db.session.execute(sa.select(Region.code, Region.name, Region.parent_code).order_by(Region.code)).all()
    return [("", "—")] + [(r.code, r.name if r.parent_code is None else f"— {r.name}") for r in rows]


def category_choices(edition: Edition) -> list[tuple[int, str]]:
    return [(c.id, localized(c, "name")) for c in edition.categories]


# --- loading -------------------------------------------------------------------------------------

def _edition_stage(edition_id: int, stage: str) -> tuple[Edition, StageKind]:
    edition = get_or_404(Edition, edition_id)
    try:
        kind = pools.judging_stage(stage)
    except DomainError:
        abort(404)
    return edition, kind


def _member(edition: Edition, stage: StageKind, member_id: int) -> PoolMember:
    return get_or_404(PoolMember, member_id, where=sa.and_(PoolMember.edition_id == edition.id,
                                                           PoolMember.stage == stage))


def _team(edition: Edition, stage: StageKind, team_id: int) -> Team:
    return get_or_404(Team, team_id, where=sa.and_(Team.edition_id == edition.id, Team.stage == stage))


def _members(edition: Edition, stage: StageKind) -> list[PoolMember]:
    return list(db.session.scalars(
        sa.select(PoolMember)
        .join(User, User.id == PoolMember.user_id)
        .options(joinedload(PoolMember.user).joinedload(User.agency), joinedload(PoolMember.team),
                 joinedload(PoolMember.home_region), selectinload(PoolMember.expertise))
        .where(PoolMember.edition_id == edition.id, PoolMember.stage == stage)
        .order_by(User.name, PoolMember.id)
    ).unique())


def _teams(edition: Edition, stage: StageKind) -> list[Team]:
    return list(db.session.scalars(
        sa.select(Team).options(selectinload(Team.members).joinedload(PoolMember.user))
        .where(Team.edition_id == edition.id, Team.stage == stage).order_by(Team.name)
    ))


def _render(template: str, edition: Edition, stage: StageKind, tab: str, **context: Any) -> str:
    return render_template(template, edition=edition, stage=stage, tab=tab, tabs=TABS, **context)


# --- pages ---------------------------------------------------------------------------------------

@bp.route("/")
def index() -> Any:
    editions = db.session.scalars(sa.select(Edition).order_by(Edition.year.desc())).all()
    counts: dict[tuple[int, StageKind], dict[InvitationStatus, int]] = defaultdict(dict)
    for edition_id, stage, status, n in db.session.execute(
        sa.select(PoolMember.edition_id, PoolMember.stage, PoolMember.status, sa.func.count())
        .group_by(PoolMember.edition_id, PoolMember.stage, PoolMember.status)
    ):
        counts[(edition_id, stage)][status] = n
    return render_template("pools/index.html", editions=editions, counts=counts, statuses=list(InvitationStatus))


@bp.route("/<int:edition_id>/<stage>/")
def stage(edition_id: int, stage: str) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    members = _members(edition, kind)
    declared = {user_id: count for user_id, count in db.session.execute(
        sa.select(ConflictDeclaration.user_id, sa.func.count())
        .where(ConflictDeclaration.edition_id == edition.id,
               ConflictDeclaration.user_id.in_([m.user_id for m in members]))
        .group_by(ConflictDeclaration.user_id)
    )} if members else {}
    return _render("pools/members.html", edition, kind, "members", members=members, declared=declared)


def _invite_form(edition: Edition, kind: StageKind) -> PoolInviteForm:
    roles = pools.roles_for(kind)
    form = PoolInviteForm(role=roles[0].value)
    form.role.choices = [(r.value, _(ROLE_LABELS[r])) for r in roles]
    form.agency_id.choices = agency_choices()
    form.home_region_code.choices = region_choices()
    form.expertise.choices = category_choices(edition)
    return form


@bp.route("/<int:edition_id>/<stage>/invite", methods=["GET", "POST"])
def invite(edition_id: int, stage: str) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    form = _invite_form(edition, kind)
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        ok, _member_ = save(
            form, pools.invite_to_pool, edition, kind, email=form.email.data, name=form.name.data,
            role=Role(form.role.data), affiliation=form.affiliation.data or None, agency=agency,
            home_region_code=form.home_region_code.data or None, max_load=form.max_load.data,
            expertise=form.expertise.data or [],
            success=_("The invitation has been sent to %(email)s.", email=form.email.data),
        )
        if ok:
            return redirect(url_for("pools.stage", edition_id=edition.id, stage=kind.value))
    return _render("pools/invite.html", edition, kind, "invite", form=form)


def _member_conflicts(edition: Edition, kind: StageKind, member: PoolMember) -> tuple[list[Any], list[Any]]:
    """(automatic and declared conflicts as (proposal facts, conflicts) pairs, the person's declarations)."""
    names = coi.load_region_names()
    judges = coi.judge_facts(edition, kind, [member], region_names=names)
    proposals = coi.proposal_facts(edition, region_names=names)
    declarations = coi.declaration_facts(edition, [member.user_id], region_names=names)
    pairs = coi.conflict_pairs(judges, proposals, declarations=declarations, province_rule=edition.coi_same_province)
    by_id = {p.id: p for p in proposals}
    found = sorted(((by_id[pid], conflicts) for (pid, _mid), conflicts in pairs.items()),
                   key=lambda item: (coi.worst(item[1]) is not Severity.HARD, item[0].id))
    return found, declarations


@bp.route("/<int:edition_id>/<stage>/members/<int:member_id>", methods=["GET", "POST"])
def member(edition_id: int, stage: str, member_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    person = _member(edition, kind, member_id)
    form = MemberForm(agency_id=person.user.agency_id or 0, affiliation=person.user.affiliation,
                      home_region_code=person.home_region_code or "", team_id=person.team_id or 0,
                      max_load=person.max_load, expertise=[c.id for c in person.expertise])
    form.agency_id.choices = agency_choices()
    form.home_region_code.choices = region_choices()
    form.expertise.choices = category_choices(edition)
    form.team_id.choices = [(0, "—")] + [(t.id, t.name) for t in _teams(edition, kind)]
    if form.validate_on_submit():
        ok, _result = save(
            form, pools.update_member, person, expertise=form.expertise.data or [], max_load=form.max_load.data,
            home_region_code=form.home_region_code.data or None,
            team=_team(edition, kind, form.team_id.data) if form.team_id.data else None,
            agency=db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None,
            affiliation=form.affiliation.data or None,
            success=_("The changes to %(name)s have been saved.", name=person.user.name),
        )
        if ok:
            return redirect(url_for("pools.member", edition_id=edition.id, stage=kind.value, member_id=person.id))
    found, declarations = _member_conflicts(edition, kind, person)
    return _render("pools/member.html", edition, kind, "members", person=person, form=form, found=found,
                   declarations=declarations)


@bp.route("/<int:edition_id>/<stage>/members/<int:member_id>/remove", methods=["POST"])
def remove_member(edition_id: int, stage: str, member_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    person = _member(edition, kind, member_id)
    name = person.user.name
    ok, _result = save(None, pools.remove_member, person,
                       success=_("%(name)s is no longer in this pool.", name=name))
    if ok:
        return redirect(url_for("pools.stage", edition_id=edition.id, stage=kind.value))
    return redirect(url_for("pools.member", edition_id=edition.id, stage=kind.value, member_id=member_id))


@bp.route("/<int:edition_id>/<stage>/members/<int:member_id>/team", methods=["POST"])
def set_team(edition_id: int, stage: str, member_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    person = _member(edition, kind, member_id)
    form = SetTeamForm(prefix=f"m{person.id}")
    form.team_id.choices = [(0, "—")] + [(t.id, t.name) for t in _teams(edition, kind)]
    if not form.validate_on_submit():
        abort(400)
    team = _team(edition, kind, form.team_id.data) if form.team_id.data else None
    save(None, pools.set_team, person, team,
         success=_("%(name)s is now in the team %(team)s.", name=person.user.name, team=team.name) if team
         else _("%(name)s is no longer in a team.", name=person.user.name))
    return redirect(url_for("pools.teams", edition_id=edition.id, stage=kind.value))


@bp.route("/<int:edition_id>/<stage>/teams", methods=["GET", "POST"])
def teams(edition_id: int, stage: str) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    form = TeamForm()
    if form.validate_on_submit():
        ok, _team_ = save(form, pools.create_team, edition, kind, name=form.name.data, max_load=form.max_load.data,
                          success=_("The team %(name)s has been created.", name=form.name.data))
        if ok:
            return redirect(url_for("pools.teams", edition_id=edition.id, stage=kind.value))
    all_teams = _teams(edition, kind)
    members = [m for m in _members(edition, kind) if m.status is not InvitationStatus.DECLINED]
    choices = [(0, "—")] + [(t.id, t.name) for t in all_teams]
    team_forms = {}
    for m in members:
        team_forms[m.id] = SetTeamForm(prefix=f"m{m.id}", formdata=None, team_id=m.team_id or 0)
        team_forms[m.id].team_id.choices = choices
    return _render("pools/teams.html", edition, kind, "teams", form=form, teams=all_teams, members=members,
                   team_forms=team_forms)


@bp.route("/<int:edition_id>/<stage>/teams/<int:team_id>", methods=["GET", "POST"])
def edit_team(edition_id: int, stage: str, team_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    team = _team(edition, kind, team_id)
    form = TeamForm(obj=team)
    if form.validate_on_submit():
        ok, _result = save(form, pools.rename_team, team, name=form.name.data, max_load=form.max_load.data,
                           success=_("The team has been saved."))
        if ok:
            return redirect(url_for("pools.teams", edition_id=edition.id, stage=kind.value))
    return _render("pools/team.html", edition, kind, "teams", team=team, form=form)


@bp.route("/<int:edition_id>/<stage>/teams/<int:team_id>/chair", methods=["POST"])
def set_chair(edition_id: int, stage: str, team_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    team = _team(edition, kind, team_id)
    if not FlaskForm().validate():
        abort(400)
    member_id = request.form.get("member_id", 0, type=int)
    member = _member(edition, kind, member_id) if member_id else None
    save(None, pools.set_chair, team, member,
         success=_("%(name)s chairs the team %(team)s.", name=member.user.name, team=team.name) if member
         else _("The team %(team)s has no chair.", team=team.name))
    return redirect(url_for("pools.edit_team", edition_id=edition.id, stage=kind.value, team_id=team.id))


@bp.route("/<int:edition_id>/<stage>/teams/<int:team_id>/delete", methods=["POST"])
def delete_team(edition_id: int, stage: str, team_id: int) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    team = _team(edition, kind, team_id)
    name = team.name
    save(None, pools.delete_team, team, success=_("The team %(name)s has been deleted.", name=name))
    return redirect(url_for("pools.teams", edition_id=edition.id, stage=kind.value))


@bp.route("/<int:edition_id>/<stage>/conflicts")
def conflicts(edition_id: int, stage: str) -> Any:
    """Declared conflicts of the stage's members, and per member how many proposals conflict."""
    edition, kind = _edition_stage(edition_id, stage)
    members = [m for m in _members(edition, kind) if m.status is not InvitationStatus.DECLINED]
    names = coi.load_region_names()
    judges = coi.judge_facts(edition, kind, members, region_names=names)
    proposals = coi.proposal_facts(edition, region_names=names)
    declarations = coi.declaration_facts(edition, [m.user_id for m in members], region_names=names)
    pairs = coi.conflict_pairs(judges, proposals, declarations=declarations, province_rule=edition.coi_same_province)
    by_id = {p.id: p for p in proposals}
    summary: dict[int, dict[str, Any]] = {m.id: {"hard": 0, "soft": 0, "sample": []} for m in members}
    for (proposal_id, member_id), found in sorted(pairs.items(), key=lambda item: item[0]):
        row = summary[member_id]
        row["hard" if coi.worst(found) is Severity.HARD else "soft"] += 1
        if len(row["sample"]) < SAMPLE:
            row["sample"].append((by_id[proposal_id], found[0]))
    declared_rows = db.session.scalars(
        sa.select(ConflictDeclaration)
        .options(joinedload(ConflictDeclaration.user), joinedload(ConflictDeclaration.agency),
                 joinedload(ConflictDeclaration.region), joinedload(ConflictDeclaration.proposal))
        .where(ConflictDeclaration.edition_id == edition.id,
               ConflictDeclaration.user_id.in_([m.user_id for m in members]))
        .order_by(ConflictDeclaration.declared_at.desc(), ConflictDeclaration.id.desc())
    ).all() if members else []
    targets = {d.id: d.target for d in declarations}
    return _render("pools/conflicts.html", edition, kind, "conflicts", members=members, summary=summary,
                   declared=declared_rows, targets=targets, proposal_count=len(proposals))
