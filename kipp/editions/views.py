"""The secretariat's edition settings: editions, groups, sections, categories, SDGs, documents, stages."""

from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions import rules, services
from kipp.editions.forms import (
    CategoryForm,
    CopyEditionForm,
    DocumentForm,
    EditionForm,
    GroupForm,
    SectionForm,
    SelectionSettingsForm,
    StageForm,
    TemplateEditionForm,
)
from kipp.editions.kinds import STAGE_ORDER, GroupCode, StageKind, StageStatus
from kipp.progress.stages import status_of
from kipp.editions.models import Category, Edition, EditionGroup, RequiredDocument, Sdg, Section, Stage
from kipp.editions.queries import current_edition
from kipp.editions.template_2023 import TEMPLATE_2023
from kipp.extensions import db
from kipp.i18n import from_wib, localized, to_wib
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("editions", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)

GROUP_LABELS = {
    GroupCode.UMUM: _l("Umum (general)"),
    GroupCode.KHUSUS: _l("Khusus (special, past winners)"),
    GroupCode.REPLIKASI: _l("Replikasi (replication)"),
}

STAGE_LABELS = {
    StageKind.SUBMISSION: _l("Proposal submission"),
    StageKind.SCREENING: _l("Administrative screening"),
    StageKind.EVALUATION: _l("Evaluation (Tim Evaluasi)"),
    StageKind.PANEL_REVIEW: _l("Panel review and plenary (TPI)"),
    StageKind.OBJECTION: _l("Public objection period"),
    StageKind.PRESENTATION: _l("Presentation and interview"),
    StageKind.FIELD_VERIFICATION: _l("Field verification"),
    StageKind.FINAL: _l("Final decision"),
    StageKind.ANNOUNCEMENT: _l("Announcement"),
}

STATUS_LABELS = {"open": _l("open"), "closed": _l("closed"), "upcoming": _l("upcoming")}
STAGE_PROGRESS_LABELS = {StageStatus.PLANNED: _l("not started"), StageStatus.OPEN: _l("opened"),
                         StageStatus.CLOSED: _l("closed"), StageStatus.SKIPPED: _l("not held")}

TABS = (
    ("general", _l("General"), "editions.general"),
    ("groups", _l("Groups"), "editions.groups"),
    ("sections", _l("Proposal sections"), "editions.sections"),
    ("categories", _l("Categories"), "editions.categories"),
    ("sdgs", _l("SDGs"), "editions.sdgs"),
    ("documents", _l("Required documents"), "editions.documents"),
    ("stages", _l("Stages"), "editions.stages"),
    ("selection", _l("Selection rounds"), "editions.selection"),
)


@bp.context_processor
def _edition_helpers() -> dict[str, Any]:
    return {
        "group_label": lambda code: GROUP_LABELS[GroupCode(code)],
        "stage_kind_label": lambda kind: STAGE_LABELS[StageKind(kind)],
        "stage_status_label": lambda status: STATUS_LABELS[status],
        "percent": _percent,
        "stage_progress_label": lambda edition, stage: STAGE_PROGRESS_LABELS[status_of(edition, stage.kind)],
    }


def _percent(value: Any) -> str:
    """10.00 → "10", 12.50 → "12.5" (no trailing zeros)."""
    number = rules.as_decimal(value)
    return "–" if number is None else f"{number.normalize():f}"


# --- Helpers --------------------------------------------------------------------------

def _save(form: FlaskForm, func: Callable[..., Any], *args: Any, success: str, **kwargs: Any) -> tuple[bool, Any]:
    """A service called as the current person; a refusal goes next to its field, or on top."""
    return run_service(func, current_user, *args, form=form, success=success, **kwargs)


def _post(func: Callable[..., Any], *args: Any, success: str, **kwargs: Any) -> bool:
    """A button without a form (delete, move): refusals are flashed."""
    return run_service(func, current_user, *args, success=success, **kwargs)[0]


def _edition(edition_id: int) -> Edition:
    return get_or_404(Edition, edition_id)


def _in_edition(model: type, ident: int, edition: Edition) -> Any:
    return get_or_404(model, ident, where=model.edition_id == edition.id)


def _section(section_id: int, edition: Edition) -> Section:
    groups = sa.select(EditionGroup.id).where(EditionGroup.edition_id == edition.id)
    return get_or_404(Section, section_id, where=Section.group_id.in_(groups))


def _render(template: str, edition: Edition, tab: str, **context: Any) -> str:
    return render_template(template, edition=edition, tab=tab, tabs=TABS, now=utcnow(), **context)


def _stage_status(stage: Stage, now: Any) -> str:
    return rules.stage_status(stage.opens_at, stage.closes_at, now)


def _wib_naive(value: Any) -> Any:
    return to_wib(value).replace(tzinfo=None)


# --- Editions --------------------------------------------------------------------------

def _default_name(year: int) -> str:
    return rules.replace_year(TEMPLATE_2023.name, TEMPLATE_2023.year, year)


def _index_forms() -> tuple[TemplateEditionForm, CopyEditionForm]:
    newest = current_edition()
    year = newest.year + 1 if newest else to_wib(utcnow()).year
    template_form = TemplateEditionForm(prefix="tpl", year=year, name=_default_name(year))
    copy_form = CopyEditionForm(
        prefix="copy",
        source_id=newest.id if newest else None,
        year=year,
        name=rules.replace_year(newest.name, newest.year, year) if newest else "",
    )
    copy_form.source_id.choices = [
        (e.id, f"{e.year} · {e.name}")
        for e in db.session.scalars(sa.select(Edition).order_by(Edition.year.desc()))
    ]
    return template_form, copy_form


def _render_index(template_form: TemplateEditionForm, copy_form: CopyEditionForm) -> str:
    editions = db.session.scalars(
        sa.select(Edition)
        .options(selectinload(Edition.groups), selectinload(Edition.stages))
        .order_by(Edition.year.desc())
    ).all()
    now = utcnow()
    open_stages = {e.id: [s for s in e.stages if s.is_open(now)] for e in editions}
    return render_template(
        "editions/index.html", editions=editions, open_stages=open_stages, template_form=template_form,
        copy_form=copy_form, template_year=TEMPLATE_2023.year,
    )


@bp.route("/")
def index() -> Any:
    return _render_index(*_index_forms())


@bp.route("/new-from-template", methods=["POST"])
def create_from_template() -> Any:
    template_form, copy_form = _index_forms()
    if template_form.validate_on_submit():
        ok, edition = _save(
            template_form, services.create_from_template, year=template_form.year.data,
            name=template_form.name.data,
            success=_("Edition %(year)s has been created from the %(template)s template.",
                      year=template_form.year.data, template=TEMPLATE_2023.year),
        )
        if ok:
            return redirect(url_for("editions.general", edition_id=edition.id))
    return _render_index(template_form, copy_form)


@bp.route("/copy", methods=["POST"])
def copy() -> Any:
    template_form, copy_form = _index_forms()
    if copy_form.validate_on_submit():
        source = _edition(copy_form.source_id.data)
        ok, edition = _save(
            copy_form, services.copy_edition, source, year=copy_form.year.data, name=copy_form.name.data,
            success=_("Edition %(year)s has been copied from %(source)s; its stages moved by %(years)s year(s).",
                      year=copy_form.year.data, source=source.year, years=copy_form.year.data - source.year),
        )
        if ok:
            return redirect(url_for("editions.general", edition_id=edition.id))
    return _render_index(template_form, copy_form)


@bp.route("/<int:edition_id>/", methods=["GET", "POST"])
def general(edition_id: int) -> Any:
    edition = _edition(edition_id)
    form = EditionForm(obj=edition)
    if form.validate_on_submit():
        ok, _result = _save(
            form, services.update_edition, edition, year=form.year.data, name=form.name.data,
            theme=form.theme.data, legal_basis=form.legal_basis.data, max_file_mb=form.max_file_mb.data,
            max_proposal_mb=form.max_proposal_mb.data, max_files_per_section=form.max_files_per_section.data,
            max_files_per_proposal=form.max_files_per_proposal.data, reminder_days=form.reminder_days.data,
            reviewers_per_proposal=form.reviewers_per_proposal.data, balanced_load=form.balanced_load.data,
            coi_same_province=form.coi_same_province.data,
            success=_("The general settings have been saved."),
        )
        if ok:
            return redirect(url_for("editions.general", edition_id=edition.id))
    return _render("editions/general.html", edition, "general", form=form)


@bp.route("/<int:edition_id>/selection", methods=["GET", "POST"])
def selection(edition_id: int) -> Any:
    edition = _edition(edition_id)
    form = SelectionSettingsForm(obj=edition)
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_selection_settings, edition,
                            **{name: form[name].data for name in services.SELECTION_SETTINGS},
                            success=_("The settings of the selection rounds have been saved."))
        if ok:
            return redirect(url_for("editions.selection", edition_id=edition.id))
    return _render("editions/selection.html", edition, "selection", form=form)


# --- Groups ------------------------------------------------------------------------------

def _group_kwargs(form: GroupForm) -> dict[str, Any]:
    return {
        "name_id": form.name_id.data, "name_en": form.name_en.data, "min_age_months": form.min_age_months.data,
        "quota_per_agency": form.quota_per_agency.data, "by_invitation": form.by_invitation.data,
        "nominee_count": form.nominee_count.data, "finalist_count": form.finalist_count.data,
        "winner_count": form.winner_count.data, "winner_title": form.winner_title.data,
    }


@bp.route("/<int:edition_id>/groups", methods=["GET", "POST"])
def groups(edition_id: int) -> Any:
    edition = _edition(edition_id)
    free = [code for code in GroupCode if edition.group(code) is None]
    form = GroupForm()
    form.code.choices = [(code.value, str(GROUP_LABELS[code])) for code in free]
    if free and form.validate_on_submit():
        ok, group = _save(
            form, services.add_group, edition, code=GroupCode(form.code.data), **_group_kwargs(form),
            success=_("The group has been added."),
        )
        if ok:
            return redirect(url_for("editions.group_sections", edition_id=edition.id, group_id=group.id))
    warnings = {g.id: services.weight_warnings(g) for g in edition.groups}
    return _render("editions/groups.html", edition, "groups", form=form, free=free, warnings=warnings)


@bp.route("/<int:edition_id>/groups/<int:group_id>", methods=["GET", "POST"])
def edit_group(edition_id: int, group_id: int) -> Any:
    edition = _edition(edition_id)
    group = _in_edition(EditionGroup, group_id, edition)
    form = GroupForm(obj=group)
    del form.code  # the code is the group's identity; documents refer to it
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_group, group, **_group_kwargs(form),
                            success=_("The group has been saved."))
        if ok:
            return redirect(url_for("editions.groups", edition_id=edition.id))
    return _render(
        "editions/edit.html", edition, "groups", form=form,
        heading=_("Group: %(name)s", name=localized(group, "name")),
        cancel=url_for("editions.groups", edition_id=edition.id),
        delete=url_for("editions.delete_group", edition_id=edition.id, group_id=group.id),
        delete_confirm=_("Delete this group with all its proposal sections?"),
    )


@bp.route("/<int:edition_id>/groups/<int:group_id>/delete", methods=["POST"])
def delete_group(edition_id: int, group_id: int) -> Any:
    edition = _edition(edition_id)
    group = _in_edition(EditionGroup, group_id, edition)
    if _post(services.delete_group, group, success=_("The group has been deleted.")):
        return redirect(url_for("editions.groups", edition_id=edition.id))
    return redirect(url_for("editions.edit_group", edition_id=edition.id, group_id=group_id))


# --- Sections ------------------------------------------------------------------------------

def _section_kwargs(form: SectionForm) -> dict[str, Any]:
    return {
        "key": form.key.data, "title_id": form.title_id.data, "title_en": form.title_en.data,
        "word_limit": form.word_limit.data, "weight": form.weight.data,
        "evidence_required": form.evidence_required.data, "guidance_id": form.guidance_id.data,
        "guidance_en": form.guidance_en.data,
    }


@bp.route("/<int:edition_id>/sections")
def sections(edition_id: int) -> Any:
    edition = _edition(edition_id)
    if not edition.groups:
        flash(_("Add a group first: proposal sections belong to a group."), "info")
        return redirect(url_for("editions.groups", edition_id=edition.id))
    return redirect(url_for("editions.group_sections", edition_id=edition.id, group_id=edition.groups[0].id))


@bp.route("/<int:edition_id>/groups/<int:group_id>/sections", methods=["GET", "POST"])
def group_sections(edition_id: int, group_id: int) -> Any:
    edition = _edition(edition_id)
    group = _in_edition(EditionGroup, group_id, edition)
    form = SectionForm()
    if form.validate_on_submit():
        ok, _result = _save(form, services.add_section, group, **_section_kwargs(form),
                            success=_("The section has been added."))
        if ok:
            return redirect(url_for("editions.group_sections", edition_id=edition.id, group_id=group.id))
    return _render(
        "editions/sections.html", edition, "sections", group=group, form=form,
        total=rules.weight_total(s.weight for s in group.sections), warnings=services.weight_warnings(group),
    )


@bp.route("/<int:edition_id>/sections/<int:section_id>", methods=["GET", "POST"])
def edit_section(edition_id: int, section_id: int) -> Any:
    edition = _edition(edition_id)
    section = _section(section_id, edition)
    form = SectionForm(obj=section)
    back = url_for("editions.group_sections", edition_id=edition.id, group_id=section.group_id)
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_section, section, **_section_kwargs(form),
                            success=_("The section has been saved."))
        if ok:
            return redirect(back)
    return _render(
        "editions/edit.html", edition, "sections", form=form,
        heading=_("Section: %(title)s", title=localized(section, "title")),
        subheading=localized(section.group, "name"), cancel=back,
        delete=url_for("editions.delete_section", edition_id=edition.id, section_id=section.id),
        delete_confirm=_("Delete this section from the proposal form?"),
    )


@bp.route("/<int:edition_id>/sections/<int:section_id>/delete", methods=["POST"])
def delete_section(edition_id: int, section_id: int) -> Any:
    edition = _edition(edition_id)
    section = _section(section_id, edition)
    group_id = section.group_id
    _post(services.delete_section, section, success=_("The section has been deleted."))
    return redirect(url_for("editions.group_sections", edition_id=edition.id, group_id=group_id))


@bp.route("/<int:edition_id>/sections/<int:section_id>/move/<any(up,down):direction>", methods=["POST"])
def move_section(edition_id: int, section_id: int, direction: str) -> Any:
    edition = _edition(edition_id)
    section = _section(section_id, edition)
    _post(services.move, section, offset=-1 if direction == "up" else 1, success=_("The order has been saved."))
    return redirect(url_for("editions.group_sections", edition_id=edition.id, group_id=section.group_id))


# --- Categories ---------------------------------------------------------------------------------

@bp.route("/<int:edition_id>/categories", methods=["GET", "POST"])
def categories(edition_id: int) -> Any:
    edition = _edition(edition_id)
    form = CategoryForm()
    if form.validate_on_submit():
        ok, _result = _save(form, services.add_category, edition, code=form.code.data, name_id=form.name_id.data,
                            name_en=form.name_en.data, success=_("The category has been added."))
        if ok:
            return redirect(url_for("editions.categories", edition_id=edition.id))
    return _render("editions/categories.html", edition, "categories", form=form)


@bp.route("/<int:edition_id>/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(edition_id: int, category_id: int) -> Any:
    edition = _edition(edition_id)
    category = _in_edition(Category, category_id, edition)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_category, category, code=form.code.data,
                            name_id=form.name_id.data, name_en=form.name_en.data,
                            success=_("The category has been saved."))
        if ok:
            return redirect(url_for("editions.categories", edition_id=edition.id))
    return _render(
        "editions/edit.html", edition, "categories", form=form,
        heading=_("Category: %(name)s", name=localized(category, "name")),
        cancel=url_for("editions.categories", edition_id=edition.id),
        delete=url_for("editions.delete_category", edition_id=edition.id, category_id=category.id),
        delete_confirm=_("Delete this category?"),
    )


@bp.route("/<int:edition_id>/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(edition_id: int, category_id: int) -> Any:
    edition = _edition(edition_id)
    category = _in_edition(Category, category_id, edition)
    _post(services.delete_category, category, success=_("The category has been deleted."))
    return redirect(url_for("editions.categories", edition_id=edition.id))


@bp.route("/<int:edition_id>/categories/<int:category_id>/move/<any(up,down):direction>", methods=["POST"])
def move_category(edition_id: int, category_id: int, direction: str) -> Any:
    edition = _edition(edition_id)
    category = _in_edition(Category, category_id, edition)
    _post(services.move, category, offset=-1 if direction == "up" else 1, success=_("The order has been saved."))
    return redirect(url_for("editions.categories", edition_id=edition.id))


# --- SDGs (read-only) ------------------------------------------------------------------------------

@bp.route("/<int:edition_id>/sdgs")
def sdgs(edition_id: int) -> Any:
    edition = _edition(edition_id)
    goals = db.session.scalars(sa.select(Sdg).order_by(Sdg.number)).all()
    return _render("editions/sdgs.html", edition, "sdgs", goals=goals)


# --- Required documents ------------------------------------------------------------------------------

def _document_form(edition: Edition, obj: RequiredDocument | None = None) -> DocumentForm:
    if obj is None:
        form = DocumentForm()
    else:
        form = DocumentForm(key=obj.key, name_id=obj.name_id, name_en=obj.name_en, mandatory=obj.mandatory,
                            group_codes=[c for c in obj.group_codes.split(",") if c])
    form.group_codes.choices = [(g.code.value, localized(g, "name")) for g in edition.groups]
    return form


def _document_kwargs(form: DocumentForm) -> dict[str, Any]:
    return {"key": form.key.data, "name_id": form.name_id.data, "name_en": form.name_en.data,
            "group_codes": form.group_codes.data or [], "mandatory": form.mandatory.data}


@bp.route("/<int:edition_id>/documents", methods=["GET", "POST"])
def documents(edition_id: int) -> Any:
    edition = _edition(edition_id)
    form = _document_form(edition)
    if form.validate_on_submit():
        ok, _result = _save(form, services.add_document, edition, **_document_kwargs(form),
                            success=_("The required document has been added."))
        if ok:
            return redirect(url_for("editions.documents", edition_id=edition.id))
    groups_by_code = {g.code.value: g for g in edition.groups}
    return _render("editions/documents.html", edition, "documents", form=form, groups_by_code=groups_by_code)


@bp.route("/<int:edition_id>/documents/<int:document_id>", methods=["GET", "POST"])
def edit_document(edition_id: int, document_id: int) -> Any:
    edition = _edition(edition_id)
    document = _in_edition(RequiredDocument, document_id, edition)
    form = _document_form(edition, document)
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_document, document, **_document_kwargs(form),
                            success=_("The required document has been saved."))
        if ok:
            return redirect(url_for("editions.documents", edition_id=edition.id))
    return _render(
        "editions/edit.html", edition, "documents", form=form,
        heading=_("Required document: %(name)s", name=localized(document, "name")),
        cancel=url_for("editions.documents", edition_id=edition.id),
        delete=url_for("editions.delete_document", edition_id=edition.id, document_id=document.id),
        delete_confirm=_("Delete this required document?"),
    )


@bp.route("/<int:edition_id>/documents/<int:document_id>/delete", methods=["POST"])
def delete_document(edition_id: int, document_id: int) -> Any:
    edition = _edition(edition_id)
    document = _in_edition(RequiredDocument, document_id, edition)
    _post(services.delete_document, document, success=_("The required document has been deleted."))
    return redirect(url_for("editions.documents", edition_id=edition.id))


@bp.route("/<int:edition_id>/documents/<int:document_id>/move/<any(up,down):direction>", methods=["POST"])
def move_document(edition_id: int, document_id: int, direction: str) -> Any:
    edition = _edition(edition_id)
    document = _in_edition(RequiredDocument, document_id, edition)
    _post(services.move, document, offset=-1 if direction == "up" else 1, success=_("The order has been saved."))
    return redirect(url_for("editions.documents", edition_id=edition.id))


# --- Stages ----------------------------------------------------------------------------------------

def _stage_form(edition: Edition, stage: Stage | None = None) -> StageForm:
    if stage is None:
        form = StageForm()
    else:
        # Keyword data, not obj=: the form shows WIB wall-clock times and the kind's value.
        form = StageForm(kind=stage.kind.value, name_id=stage.name_id, name_en=stage.name_en,
                         opens_at=_wib_naive(stage.opens_at), closes_at=_wib_naive(stage.closes_at))
    taken = {s.kind for s in edition.stages if s is not stage}
    form.kind.choices = [(k.value, str(STAGE_LABELS[k])) for k in STAGE_ORDER if k not in taken]
    return form


def _stage_kwargs(form: StageForm) -> dict[str, Any]:
    return {"kind": StageKind(form.kind.data), "name_id": form.name_id.data, "name_en": form.name_en.data,
            "opens_at": from_wib(form.opens_at.data), "closes_at": from_wib(form.closes_at.data)}


@bp.route("/<int:edition_id>/stages", methods=["GET", "POST"])
def stages(edition_id: int) -> Any:
    edition = _edition(edition_id)
    form = _stage_form(edition)
    if form.kind.choices and form.validate_on_submit():
        ok, _result = _save(form, services.add_stage, edition, **_stage_kwargs(form),
                            success=_("The stage has been added."))
        if ok:
            return redirect(url_for("editions.stages", edition_id=edition.id))
    now = utcnow()
    status = {s.id: _stage_status(s, now) for s in edition.stages}
    return _render("editions/stages.html", edition, "stages", form=form, status=status,
                   warnings=services.stage_order_warnings(edition))


@bp.route("/<int:edition_id>/stages/<int:stage_id>", methods=["GET", "POST"])
def edit_stage(edition_id: int, stage_id: int) -> Any:
    edition = _edition(edition_id)
    stage = _in_edition(Stage, stage_id, edition)
    form = _stage_form(edition, stage)
    if form.validate_on_submit():
        ok, _result = _save(form, services.update_stage, stage, **_stage_kwargs(form),
                            success=_("The stage has been saved."))
        if ok:
            return redirect(url_for("editions.stages", edition_id=edition.id))
    return _render(
        "editions/edit.html", edition, "stages", form=form,
        heading=_("Stage: %(name)s", name=localized(stage, "name")),
        subheading=_("Times are in WIB (Asia/Jakarta)."),
        cancel=url_for("editions.stages", edition_id=edition.id),
        delete=url_for("editions.delete_stage", edition_id=edition.id, stage_id=stage.id),
        delete_confirm=_("Delete this stage?"),
    )


@bp.route("/<int:edition_id>/stages/<int:stage_id>/delete", methods=["POST"])
def delete_stage(edition_id: int, stage_id: int) -> Any:
    edition = _edition(edition_id)
    stage = _in_edition(Stage, stage_id, edition)
    _post(services.delete_stage, stage, success=_("The stage has been deleted."))
    return redirect(url_for("editions.stages", edition_id=edition.id))
