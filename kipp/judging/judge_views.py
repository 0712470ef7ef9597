"""A judge's own pages: invitations to pools (accept or decline), declared conflicts of interest."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from kipp.accounts.roles import Role
from kipp.agencies.models import Agency
from kipp.editions.kinds import STAGE_ORDER
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging import conflicts as coi
from kipp.judging import pools
from kipp.judging.forms import DeclarationForm, RespondForm
from kipp.judging.models import AssignmentState, ConflictDeclaration, ConflictKind, InvitationStatus, PoolMember
from kipp.judging.views import agency_choices, category_choices, pool_helpers, region_choices, save
from kipp.proposals.models import Proposal
from kipp.web import audience, get_or_404

bp = Blueprint("judge", __name__, url_prefix="/judge")
audience(bp, Role.EVALUATOR, Role.PANELIST)
bp.context_processor(pool_helpers)


def _respond_form(member: PoolMember, formdata: Any = None) -> RespondForm:
    form = RespondForm(prefix=f"m{member.id}", formdata=formdata,
                       expertise=[c.id for c in member.expertise])
    form.expertise.choices = category_choices(member.edition)
    return form


def _my_members() -> list[PoolMember]:
    members = db.session.scalars(
        sa.select(PoolMember)
        .join(Edition, Edition.id == PoolMember.edition_id)
        .options(joinedload(PoolMember.edition).selectinload(Edition.categories), joinedload(PoolMember.team),
                 selectinload(PoolMember.expertise))
        .where(PoolMember.user_id == current_user.id)
        .order_by(Edition.year.desc(), PoolMember.id)
    ).unique().all()
    order = {kind: i for i, kind in enumerate(STAGE_ORDER)}
    return sorted(members, key=lambda m: (-m.edition.year, order[m.stage]))


@bp.route("/")
def invitations() -> Any:
    members = _my_members()
    forms = {m.id: _respond_form(m) for m in members if m.status is InvitationStatus.INVITED}
    return render_template("judge/invitations.html", members=members, forms=forms)


@bp.route("/invitations/<int:member_id>", methods=["POST"])
def respond(member_id: int) -> Any:
    member = get_or_404(PoolMember, member_id, where=PoolMember.user_id == current_user.id)
    form = _respond_form(member, formdata=request.form)
    answer = form.answer.data
    if not form.validate_on_submit() or answer not in ("accept", "decline"):
        abort(400)
    accept = answer == "accept"
    save(form, pools.respond, member, accept, expertise=(form.expertise.data or []) if accept else None,
         success=_("Thank you. You have accepted the invitation.") if accept
         else _("You have declined the invitation."))
    return redirect(url_for("judge.invitations"))


# --- conflicts -----------------------------------------------------------------------------------

def _my_editions() -> list[Edition]:
    """Editions in whose pools the judge is (and has not declined), newest first."""
    return list(db.session.scalars(
        sa.select(Edition).where(Edition.id.in_(
            sa.select(PoolMember.edition_id).where(PoolMember.user_id == current_user.id,
                                                   PoolMember.status != InvitationStatus.DECLINED)
        )).order_by(Edition.year.desc())
    ))


def _my_proposals(edition: Edition | None) -> dict[str, Proposal]:
    """The judge's own proposals in the edition (those a conflict may name), by number."""
    if edition is None:
        return {}
    return {p.number: p for p in pools.assigned_proposals(current_user, edition) if p.number}


def _declaration_forms(edition: Edition | None,
                       posted: ConflictKind | None = None) -> dict[ConflictKind, DeclarationForm]:
    """A form per kind, each with its own field prefix; the ``posted`` one reads the request."""
    agencies, regions = agency_choices(), region_choices()
    proposals = [("", "—")] + [(number, coi.proposal_label(number, p.title))
                               for number, p in _my_proposals(edition).items()]
    forms = {}
    for kind in ConflictKind:
        form = DeclarationForm(prefix=kind.value) if kind is posted else DeclarationForm(prefix=kind.value,
                                                                                          formdata=None)
        form.agency_id.choices = agencies
        form.region_code.choices = regions
        form.proposal_number.choices = proposals
        forms[kind] = form
    return forms


def _automatic(edition: Edition) -> dict[str, Any]:
    """What the automatic rules see of the judge in this edition: agency and provinces."""
    member_rows = db.session.scalars(sa.select(PoolMember).options(joinedload(PoolMember.home_region)).where(
        PoolMember.edition_id == edition.id, PoolMember.user_id == current_user.id,
        PoolMember.status != InvitationStatus.DECLINED)).all()
    agency = current_user.agency
    regional = bool(agency and agency.type in coi.REGIONAL_TYPES and agency.region)
    homes = sorted({m.home_region.full_name for m in member_rows if m.home_region})
    return {
        "agency": agency,
        "agency_province": agency.region.province.name if regional else None,
        "homes": homes,
        "rule": edition.coi_same_province,
    }


def _render_conflicts(edition: Edition | None, editions: list[Edition],
                      forms: dict[ConflictKind, DeclarationForm] | None = None) -> str:
    declarations = []
    if edition is not None:
        declarations = db.session.scalars(
            sa.select(ConflictDeclaration)
            .options(joinedload(ConflictDeclaration.agency), joinedload(ConflictDeclaration.region),
                     joinedload(ConflictDeclaration.proposal))
            .where(ConflictDeclaration.edition_id == edition.id, ConflictDeclaration.user_id == current_user.id)
            .order_by(ConflictDeclaration.declared_at.desc(), ConflictDeclaration.id.desc())
        ).all()
    return render_template(
        "judge/conflicts.html", edition=edition, editions=editions, declarations=declarations,
        targets=_targets(edition, declarations) if edition else {},
        forms=forms or _declaration_forms(edition), automatic=_automatic(edition) if edition else None,
        kinds=list(ConflictKind),
    )


def _targets(edition: Edition, declarations: list[ConflictDeclaration]) -> dict[int, str]:
    """What each declaration names, for the judge: a proposal's title only if it was given to them
    (a declaration of another's proposal, from before the rule, shows the number they typed)."""
    shown = {p.id for p in pools.assigned_proposals(current_user, edition,
                                                    states=(AssignmentState.PUBLISHED, AssignmentState.REMOVED))}
    return {d.id: coi.declaration_as_facts(d).target
            if d.kind is not ConflictKind.PROPOSAL or d.proposal_id in shown else (d.proposal.number or "—")
            for d in declarations}


@bp.route("/conflicts")
def conflicts() -> Any:
    editions = _my_editions()
    wanted = request.args.get("edition", type=int)
    edition = next((e for e in editions if e.id == wanted), None) if wanted else (editions[0] if editions else None)
    if wanted and edition is None:
        abort(404)
    return _render_conflicts(edition, editions)


@bp.route("/conflicts/<int:edition_id>/<kind>", methods=["POST"])
def declare(edition_id: int, kind: str) -> Any:
    editions = _my_editions()
    edition = next((e for e in editions if e.id == edition_id), None)
    if edition is None or kind not in {k.value for k in ConflictKind}:
        abort(404)
    conflict_kind = ConflictKind(kind)
    forms = _declaration_forms(edition, posted=conflict_kind)
    form = forms[conflict_kind]
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        # Looked up among the judge's own only: any other number, existing or not, is "not yours".
        proposal = _my_proposals(edition).get((form.proposal_number.data or "").strip().upper())
        ok, _declaration = save(
            form, pools.declare_conflict, edition, kind=conflict_kind,
            agency=agency if conflict_kind is ConflictKind.AGENCY else None,
            region_code=(form.region_code.data or None) if conflict_kind is ConflictKind.REGION else None,
            proposal=proposal if conflict_kind is ConflictKind.PROPOSAL else None, reason=form.reason.data,
            success=_("Your conflict of interest has been recorded. You will not be assigned what it covers."),
        )
        if ok:
            return redirect(url_for("judge.conflicts", edition=edition.id))
    return _render_conflicts(edition, editions, forms)
