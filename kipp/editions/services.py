"""Everything that changes an edition's settings. Services flush and audit; the caller commits.

New editions always start from a template (:func:`create_from_template`) or
from an earlier edition (:func:`copy_edition`), never empty.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from kipp.accounts.models import User
from kipp.audit.services import record, snapshot
from kipp.editions import rules
from kipp.editions.kinds import STAGE_ORDER, GroupCode, StageKind, StageStatus
from kipp.editions.models import Category, Edition, EditionGroup, RequiredDocument, Section, Stage
from kipp.editions.template_2023 import TEMPLATE_2023, EditionTemplate
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.i18n import WIB, from_wib

TEXT_MAX = 255

# Messages for the problem codes of kipp.editions.rules and of this module.
MESSAGES: dict[str, Any] = {
    "required": _l("This field is required."),
    "too_long": _l("Use at most %(max)s characters."),
    "year_range": _l("The year must be between %(min)s and %(max)s."),
    "year_taken": _l("There is already an edition for %(year)s."),
    "key_empty": _l("Enter a key."),
    "key_too_long": _l("Use at most %(max)s characters."),
    "key_format": _l("Use lowercase letters, digits and underscores only, starting with a letter "
                     "(for example latar_belakang)."),
    "section_key_taken": _l("This group already has a section with the key “%(key)s”."),
    "category_code_taken": _l("This edition already has a category with the code “%(key)s”."),
    "document_key_taken": _l("This edition already has a document with the key “%(key)s”."),
    "group_taken": _l("This edition already has the group “%(group)s”."),
    "unknown_group": _l("Unknown group: %(group)s."),
    "group_not_in_edition": _l("This edition has no group “%(group)s”."),
    "proposal_below_file": _l("All files of a proposal together must be at least as large as the largest file."),
    "files_below_one": _l("Allow at least one file."),
    "proposal_files_below_section": _l("A proposal must be allowed at least as many files as one section."),
    "in_use": _l("“%(name)s” is already used by proposals of this edition and cannot be deleted. "
                 "Change it instead."),
    "group_has_documents": _l("The required document “%(document)s” applies only to this group. "
                              "Change or delete that document first."),
    "weight_not_number": _l("The weight must be a number."),
    "weight_range": _l("The weight must be between 0 and 100."),
    "weight_precision": _l("Use at most two decimals for the weight."),
    "word_limit_not_positive": _l("The word limit must be at least 1; leave it empty for no limit."),
    "tier_negative": _l("Tier sizes cannot be negative."),
    "nominees_below_finalists": _l("There must be at least as many nominees as finalists."),
    "finalists_below_winners": _l("There must be at least as many finalists as winners."),
    "quota_negative": _l("The quota cannot be negative; leave it empty for no quota."),
    "min_age_negative": _l("The minimum age cannot be negative."),
    "closes_before_opens": _l("The stage must close after it opens."),
    "stage_kind_taken": _l("This edition already has the stage “%(stage)s”."),
    "weights_sum": _l("The final score's weights must add up to 100%% (now %(total)s%%)."),
    "field_weight_unheld": _l("The field verification carries weight in the final score, but the edition holds "
                              "none. Set its weight to 0 or hold it."),
    "field_decided": _l("The field verification has started; whether it is held can no longer change."),
    "stage_started": _l("The stage “%(stage)s” has been opened; it can no longer be deleted."),
}

WARNINGS: dict[str, Any] = {
    "no_sections": _l("This group has no sections yet."),
    "no_weight": _l("No section carries any weight, so every proposal would score 0."),
    "sum_not_100": _l("The section weights add up to %(total)s%%, not 100%%."),
    "stage_order": _l("“%(stage)s” opens before a stage that comes earlier in the competition."),
}

# The field of a form each problem belongs to, so the page can show it there.
_TIER_FIELDS = {
    "tier_negative": "winner_count",
    "nominees_below_finalists": "nominee_count",
    "finalists_below_winners": "finalist_count",
}


class EditionError(DomainError):
    """A refused change to edition settings; ``field`` names the form field at fault, if one is."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


def _fail(code: str, field: str | None = None, **params: Any) -> EditionError:
    return EditionError(str(MESSAGES[code]) % params, field=field, code=code)


def _check(code: str | None, field: str | None = None, **params: Any) -> None:
    if code is not None:
        raise _fail(code, field, **params)


def _text(value: str | None, field: str, *, required: bool = True, max_length: int | None = TEXT_MAX) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise _fail("required", field)
        return None
    if max_length is not None and len(cleaned) > max_length:
        raise _fail("too_long", field, max=max_length)
    return cleaned


def _key(value: str | None, field: str) -> str:
    key = (value or "").strip()
    _check(rules.key_problem(key), field, max=rules.KEY_MAX_LENGTH)
    return key


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("stage times must be timezone-aware (use kipp.i18n.from_wib for WIB input)")
    return value.astimezone(dt.timezone.utc)


def _next_position(items: Iterable[Any]) -> int:
    return max((item.position for item in items), default=-1) + 1


# --- Labels for the audit trail -------------------------------------------------

def _group_label(group: EditionGroup) -> str:
    return f"{group.edition.year} {group.code.value}"


def _section_label(section: Section) -> str:
    return f"{section.group.edition.year} {section.group.code.value}/{section.key}"


def _label(obj: Any) -> str | None:
    if isinstance(obj, EditionGroup):
        return _group_label(obj)
    if isinstance(obj, Section):
        return _section_label(obj)
    if isinstance(obj, Category):
        return f"{obj.edition.year} {obj.code}"
    if isinstance(obj, RequiredDocument):
        return f"{obj.edition.year} {obj.key}"
    if isinstance(obj, Stage):
        return f"{obj.edition.year} {obj.kind.value}"
    return None


def _action(obj: Any) -> str:
    return {
        Edition: "edition", EditionGroup: "edition_group", Section: "section", Category: "category",
        RequiredDocument: "required_document", Stage: "stage",
    }[type(obj)]


def _record_added(actor: User | None, obj: Any) -> None:
    db.session.flush()
    record(actor, f"{_action(obj)}.added", obj, after=snapshot(obj), label=_label(obj))


def _record_updated(actor: User | None, obj: Any, before: dict[str, Any]) -> None:
    db.session.flush()
    after = snapshot(obj)
    if after != before:
        record(actor, f"{_action(obj)}.updated", obj, before=before, after=after, label=_label(obj))


def _delete(actor: User | None, obj: Any) -> None:
    record(actor, f"{_action(obj)}.deleted", obj, before=snapshot(obj), label=_label(obj))
    # The database knows what later stages refer to (proposals, their answers
    # and files); its foreign keys answer "in use" for every one of them.
    try:
        with db.session.begin_nested():
            db.session.delete(obj)
    except sa.exc.IntegrityError as error:
        raise _fail("in_use", name=_label(obj) or "") from error


# --- Editions ---------------------------------------------------------------------

def _check_year(year: int, *, exclude: Edition | None = None) -> None:
    _check(rules.year_problem(year), "year", min=rules.YEAR_MIN, max=rules.YEAR_MAX)
    query = sa.select(Edition.id).where(Edition.year == year)
    if exclude is not None and exclude.id is not None:
        query = query.where(Edition.id != exclude.id)
    if db.session.scalar(query) is not None:
        raise _fail("year_taken", "year", year=year)


def _shift_utc_window(opens_at: dt.datetime, closes_at: dt.datetime, years: int) -> tuple[dt.datetime, dt.datetime]:
    """Shift a stored (UTC) window by whole years on the WIB wall clock."""
    opens_wib = opens_at.astimezone(WIB).replace(tzinfo=None)
    closes_wib = closes_at.astimezone(WIB).replace(tzinfo=None)
    new_opens, new_closes = rules.shift_window(opens_wib, closes_wib, years)
    return from_wib(new_opens), from_wib(new_closes)


def create_from_template(
    actor: User | None, *, year: int, name: str, template: EditionTemplate = TEMPLATE_2023
) -> Edition:
    """A new edition with the template's groups, sections, categories, documents and stages.

    Stage dates move by whole years from the template's year to ``year``
    (WIB wall clock; 29 February becomes 28 February). ``actor`` None is the
    system (the demo seeder, a command).
    """
    _check_year(year)
    edition = Edition(
        year=year,
        name=_text(name, "name"),
        theme=template.theme,
        legal_basis=template.legal_basis,
    )
    db.session.add(edition)
    db.session.flush()
    record(actor, "edition.created_from_template", edition, after=snapshot(edition) | {"template": template.year})
    years = year - template.year
    for group_spec in template.groups:
        group = EditionGroup(
            code=group_spec.code,
            name_id=group_spec.name_id,
            name_en=group_spec.name_en,
            position=list(GroupCode).index(group_spec.code),
            min_age_months=group_spec.min_age_months,
            quota_per_agency=group_spec.quota_per_agency,
            by_invitation=group_spec.by_invitation,
            nominee_count=group_spec.nominee_count,
            finalist_count=group_spec.finalist_count,
            winner_count=group_spec.winner_count,
            winner_title=group_spec.winner_title,
        )
        edition.groups.append(group)
        _record_added(actor, group)
        for position, spec in enumerate(group_spec.sections):
            section = Section(
                key=spec.key, title_id=spec.title_id, title_en=spec.title_en,
                guidance_id=spec.guidance_id, guidance_en=spec.guidance_en, word_limit=spec.word_limit,
                weight=spec.weight, evidence_required=spec.evidence_required, position=position,
            )
            group.sections.append(section)
            _record_added(actor, section)
    for position, spec in enumerate(template.categories):
        category = Category(code=spec.code, name_id=spec.name_id, name_en=spec.name_en, position=position)
        edition.categories.append(category)
        _record_added(actor, category)
    for position, spec in enumerate(template.documents):
        document = RequiredDocument(
            key=spec.key, name_id=spec.name_id, name_en=spec.name_en,
            group_codes=rules.group_codes_text(c.value for c in spec.group_codes),
            mandatory=spec.mandatory, position=position,
        )
        edition.documents.append(document)
        _record_added(actor, document)
    for spec in template.stages:
        opens_at, closes_at = rules.shift_window(spec.opens_at, spec.closes_at, years)
        stage = Stage(
            kind=spec.kind, name_id=spec.name_id, name_en=spec.name_en,
            opens_at=from_wib(opens_at), closes_at=from_wib(closes_at), position=STAGE_ORDER.index(spec.kind),
        )
        edition.stages.append(stage)
        _record_added(actor, stage)
    db.session.flush()
    return edition


_NOT_COPIED = {"id", "edition_id", "group_id", "created_at", "updated_at", "copied_from_id",
               # where a stage stands belongs to its own edition
               "status", "opened_at", "opened_by_id", "closed_at", "closed_by_id", "forced_reason"}


def _clone(obj: Any, **overrides: Any) -> Any:
    """A new row of the same model with every column value except keys and timestamps."""
    mapper = sa.inspect(obj).mapper
    values = {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs if attr.key not in _NOT_COPIED}
    values.update(overrides)
    return mapper.class_(**values)


def copy_edition(actor: User | None, source: Edition, *, year: int, name: str) -> Edition:
    """"Copy from last year": a new edition with deep copies of the source's settings.

    Groups with their sections, categories, required documents and stages are
    copied; stage windows move by the difference in years. ``copied_from`` is
    set to the source.
    """
    _check_year(year)
    years = year - source.year
    edition = _clone(source, year=year, name=_text(name, "name"))
    edition.copied_from = source
    db.session.add(edition)
    db.session.flush()
    record(actor, "edition.copied", edition, after=snapshot(edition))
    for source_group in source.groups:
        group = _clone(source_group)
        edition.groups.append(group)
        _record_added(actor, group)
        for source_section in source_group.sections:
            section = _clone(source_section)
            group.sections.append(section)
            _record_added(actor, section)
    for source_category in source.categories:
        category = _clone(source_category)
        edition.categories.append(category)
        _record_added(actor, category)
    for source_document in source.documents:
        document = _clone(source_document)
        edition.documents.append(document)
        _record_added(actor, document)
    for source_stage in source.stages:
        opens_at, closes_at = _shift_utc_window(source_stage.opens_at, source_stage.closes_at, years)
        stage = _clone(source_stage, opens_at=opens_at, closes_at=closes_at)
        edition.stages.append(stage)
        _record_added(actor, stage)
    db.session.flush()
    return edition


def update_edition(
    actor: User | None, edition: Edition, *, year: int, name: str, theme: str | None = None,
    legal_basis: str | None = None, max_file_mb: int | None = None, max_proposal_mb: int | None = None,
    max_files_per_section: int | None = None, max_files_per_proposal: int | None = None,
    reminder_days: int | None = None, reviewers_per_proposal: int | None = None, balanced_load: bool | None = None,
    coi_same_province: str | None = None,
) -> Edition:
    """The general settings. Changing the year does not move the stages."""
    _check_year(year, exclude=edition)
    file_mb = max_file_mb if max_file_mb is not None else edition.max_file_mb
    proposal_mb = max_proposal_mb if max_proposal_mb is not None else edition.max_proposal_mb
    if proposal_mb < file_mb:
        raise _fail("proposal_below_file", "max_proposal_mb")
    section_files = max_files_per_section if max_files_per_section is not None else edition.max_files_per_section
    proposal_files = (max_files_per_proposal if max_files_per_proposal is not None
                      else edition.max_files_per_proposal)
    if section_files < 1:
        raise _fail("files_below_one", "max_files_per_section")
    if proposal_files < section_files:
        raise _fail("proposal_files_below_section", "max_files_per_proposal")
    values = {
        "name": _text(name, "name"),
        "theme": _text(theme, "theme", required=False, max_length=None),
        "legal_basis": _text(legal_basis, "legal_basis", required=False),
        "max_file_mb": file_mb,
        "max_proposal_mb": proposal_mb,
        "max_files_per_section": section_files,
        "max_files_per_proposal": proposal_files,
        "reminder_days": reminder_days if reminder_days is not None else edition.reminder_days,
        "reviewers_per_proposal": (reviewers_per_proposal if reviewers_per_proposal is not None
                                   else edition.reviewers_per_proposal),
        "balanced_load": balanced_load if balanced_load is not None else edition.balanced_load,
        "coi_same_province": coi_same_province if coi_same_province in ("hard", "soft", "off")
        else edition.coi_same_province,
    }
    before = snapshot(edition)
    edition.year = year
    for key, value in values.items():
        setattr(edition, key, value)
    _record_updated(actor, edition, before)
    return edition


# --- Groups -------------------------------------------------------------------------

def _group_values(
    *, name_id: str, name_en: str, min_age_months: int, quota_per_agency: int | None, by_invitation: bool,
    nominee_count: int, finalist_count: int, winner_count: int, winner_title: str,
) -> dict[str, Any]:
    values = {
        "name_id": _text(name_id, "name_id"),
        "name_en": _text(name_en, "name_en"),
        "winner_title": _text(winner_title, "winner_title"),
    }
    _check(rules.min_age_problem(min_age_months), "min_age_months")
    _check(rules.quota_problem(quota_per_agency), "quota_per_agency")
    for code in rules.tier_problems(nominee_count, finalist_count, winner_count):
        raise _fail(code, _TIER_FIELDS[code])
    values.update(
        min_age_months=min_age_months, quota_per_agency=quota_per_agency, by_invitation=bool(by_invitation),
        nominee_count=nominee_count, finalist_count=finalist_count, winner_count=winner_count,
    )
    return values


def add_group(
    actor: User | None, edition: Edition, *, code: GroupCode, name_id: str, name_en: str, min_age_months: int = 24,
    quota_per_agency: int | None = None, by_invitation: bool = False, nominee_count: int = 0,
    finalist_count: int = 0, winner_count: int = 0, winner_title: str = "Top Inovasi Pelayanan Publik",
) -> EditionGroup:
    code = GroupCode(code)
    if edition.group(code) is not None:
        raise _fail("group_taken", "code", group=code.value)
    values = _group_values(
        name_id=name_id, name_en=name_en, min_age_months=min_age_months, quota_per_agency=quota_per_agency,
        by_invitation=by_invitation, nominee_count=nominee_count, finalist_count=finalist_count,
        winner_count=winner_count, winner_title=winner_title,
    )
    group = EditionGroup(code=code, position=list(GroupCode).index(code), **values)
    edition.groups.append(group)
    _record_added(actor, group)
    return group


def update_group(
    actor: User | None, group: EditionGroup, *, name_id: str, name_en: str, min_age_months: int,
    quota_per_agency: int | None, by_invitation: bool, nominee_count: int, finalist_count: int, winner_count: int,
    winner_title: str,
) -> EditionGroup:
    """Everything but the code, which documents refer to."""
    values = _group_values(
        name_id=name_id, name_en=name_en, min_age_months=min_age_months, quota_per_agency=quota_per_agency,
        by_invitation=by_invitation, nominee_count=nominee_count, finalist_count=finalist_count,
        winner_count=winner_count, winner_title=winner_title,
    )
    before = snapshot(group)
    for key, value in values.items():
        setattr(group, key, value)
    _record_updated(actor, group, before)
    return group


def delete_group(actor: User | None, group: EditionGroup) -> None:
    """Remove a group and its sections; documents listing it stop listing it."""
    code = group.code.value
    for document in group.edition.documents:
        codes = [c for c in document.group_codes.split(",") if c]
        if codes == [code]:
            raise _fail("group_has_documents", document=document.name_id)
    for document in group.edition.documents:
        codes = [c for c in document.group_codes.split(",") if c]
        if code in codes:
            before = snapshot(document)
            document.group_codes = rules.group_codes_text(c for c in codes if c != code)
            _record_updated(actor, document, before)
    _delete(actor, group)


# --- Sections -------------------------------------------------------------------------

def _section_values(
    group: EditionGroup, section: Section | None, *, key: str, title_id: str, title_en: str, weight: Any,
    word_limit: int | None, evidence_required: bool, guidance_id: str | None, guidance_en: str | None,
) -> dict[str, Any]:
    key = _key(key, "key")
    if any(s.key == key and s is not section for s in group.sections):
        raise _fail("section_key_taken", "key", key=key)
    values: dict[str, Any] = {
        "key": key,
        "title_id": _text(title_id, "title_id"),
        "title_en": _text(title_en, "title_en"),
        "guidance_id": _text(guidance_id, "guidance_id", required=False, max_length=None),
        "guidance_en": _text(guidance_en, "guidance_en", required=False, max_length=None),
    }
    _check(rules.word_limit_problem(word_limit), "word_limit")
    _check(rules.weight_problem(weight), "weight")
    values.update(word_limit=word_limit, weight=rules.as_decimal(weight), evidence_required=bool(evidence_required))
    return values


def add_section(
    actor: User | None, group: EditionGroup, *, key: str, title_id: str, title_en: str, weight: Any = Decimal("0"),
    word_limit: int | None = None, evidence_required: bool = False, guidance_id: str | None = None,
    guidance_en: str | None = None,
) -> Section:
    """A new question at the end of the group's proposal form."""
    values = _section_values(
        group, None, key=key, title_id=title_id, title_en=title_en, weight=weight, word_limit=word_limit,
        evidence_required=evidence_required, guidance_id=guidance_id, guidance_en=guidance_en,
    )
    section = Section(position=_next_position(group.sections), **values)
    group.sections.append(section)
    _record_added(actor, section)
    return section


def update_section(
    actor: User | None, section: Section, *, key: str, title_id: str, title_en: str, weight: Any,
    word_limit: int | None, evidence_required: bool, guidance_id: str | None = None, guidance_en: str | None = None,
) -> Section:
    values = _section_values(
        section.group, section, key=key, title_id=title_id, title_en=title_en, weight=weight,
        word_limit=word_limit, evidence_required=evidence_required, guidance_id=guidance_id,
        guidance_en=guidance_en,
    )
    before = snapshot(section)
    for name, value in values.items():
        setattr(section, name, value)
    _record_updated(actor, section, before)
    return section


def delete_section(actor: User | None, section: Section) -> None:
    _delete(actor, section)


# --- Ordering (sections, categories, documents) --------------------------------------------

def _siblings(item: Any) -> list[Any]:
    if isinstance(item, Section):
        return list(item.group.sections)
    if isinstance(item, Category):
        return list(item.edition.categories)
    if isinstance(item, RequiredDocument):
        return list(item.edition.documents)
    raise TypeError(f"{type(item).__name__} has no manual order")


def move(actor: User | None, item: Section | Category | RequiredDocument, *, offset: int) -> None:
    """Move a section, category or document ``offset`` places (−1 up, +1 down) among its siblings."""
    siblings = sorted(_siblings(item), key=lambda s: (s.position, s.id))
    index = siblings.index(item)
    target = min(max(index + offset, 0), len(siblings) - 1)
    if target == index:
        return
    def order() -> list[str]:
        return [getattr(s, "key", None) or s.code for s in siblings]

    before = {"position": item.position, "order": order()}
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()
    # The neighbours' positions change too; the whole order before and after tells the story.
    record(actor, f"{_action(item)}.moved", item, before=before, after={"position": item.position, "order": order()},
           label=_label(item))


# --- Categories -------------------------------------------------------------------------------

def _category_values(edition: Edition, category: Category | None, *, code: str, name_id: str,
                     name_en: str) -> dict[str, Any]:
    code = _key(code, "code")
    if any(c.code == code and c is not category for c in edition.categories):
        raise _fail("category_code_taken", "code", key=code)
    return {"code": code, "name_id": _text(name_id, "name_id"), "name_en": _text(name_en, "name_en")}


def add_category(actor: User | None, edition: Edition, *, code: str, name_id: str, name_en: str) -> Category:
    values = _category_values(edition, None, code=code, name_id=name_id, name_en=name_en)
    category = Category(position=_next_position(edition.categories), **values)
    edition.categories.append(category)
    _record_added(actor, category)
    return category


def update_category(actor: User | None, category: Category, *, code: str, name_id: str, name_en: str) -> Category:
    values = _category_values(category.edition, category, code=code, name_id=name_id, name_en=name_en)
    before = snapshot(category)
    for key, value in values.items():
        setattr(category, key, value)
    _record_updated(actor, category, before)
    return category


def delete_category(actor: User | None, category: Category) -> None:
    _delete(actor, category)


# --- Required documents ---------------------------------------------------------------------

def _document_values(edition: Edition, document: RequiredDocument | None, *, key: str, name_id: str, name_en: str,
                     group_codes: Iterable[str | GroupCode], mandatory: bool) -> dict[str, Any]:
    key = _key(key, "key")
    if any(d.key == key and d is not document for d in edition.documents):
        raise _fail("document_key_taken", "key", key=key)
    codes = []
    for raw in group_codes:
        value = raw.value if isinstance(raw, GroupCode) else str(raw).strip()
        if value not in {c.value for c in GroupCode}:
            raise _fail("unknown_group", "group_codes", group=value)
        if edition.group(GroupCode(value)) is None:
            raise _fail("group_not_in_edition", "group_codes", group=value)
        codes.append(value)
    return {
        "key": key,
        "name_id": _text(name_id, "name_id"),
        "name_en": _text(name_en, "name_en"),
        "group_codes": rules.group_codes_text(codes),
        "mandatory": bool(mandatory),
    }


def add_document(
    actor: User | None, edition: Edition, *, key: str, name_id: str, name_en: str,
    group_codes: Iterable[str | GroupCode] = (), mandatory: bool = True,
) -> RequiredDocument:
    """A document proposals must attach; no ``group_codes`` means every group."""
    values = _document_values(edition, None, key=key, name_id=name_id, name_en=name_en, group_codes=group_codes,
                              mandatory=mandatory)
    document = RequiredDocument(position=_next_position(edition.documents), **values)
    edition.documents.append(document)
    _record_added(actor, document)
    return document


def update_document(
    actor: User | None, document: RequiredDocument, *, key: str, name_id: str, name_en: str,
    group_codes: Iterable[str | GroupCode], mandatory: bool,
) -> RequiredDocument:
    values = _document_values(document.edition, document, key=key, name_id=name_id, name_en=name_en,
                              group_codes=group_codes, mandatory=mandatory)
    before = snapshot(document)
    for name, value in values.items():
        setattr(document, name, value)
    _record_updated(actor, document, before)
    return document


def delete_document(actor: User | None, document: RequiredDocument) -> None:
    _delete(actor, document)


# --- Stages -------------------------------------------------------------------------------------

def _stage_values(edition: Edition, stage: Stage | None, *, kind: StageKind, name_id: str, name_en: str,
                  opens_at: dt.datetime, closes_at: dt.datetime) -> dict[str, Any]:
    kind = StageKind(kind)
    other = edition.stage(kind)
    if other is not None and other is not stage:
        raise _fail("stage_kind_taken", "kind", stage=other.name_id)
    values = {"kind": kind, "name_id": _text(name_id, "name_id"), "name_en": _text(name_en, "name_en")}
    opens_at, closes_at = _aware(opens_at), _aware(closes_at)
    _check(rules.window_problem(opens_at, closes_at), "closes_at")
    values.update(opens_at=opens_at, closes_at=closes_at, position=STAGE_ORDER.index(kind))
    return values


def add_stage(
    actor: User | None, edition: Edition, *, kind: StageKind, name_id: str, name_en: str, opens_at: dt.datetime,
    closes_at: dt.datetime,
) -> Stage:
    """A stage with its window; times are aware datetimes (see kipp.i18n.from_wib for WIB input)."""
    values = _stage_values(edition, None, kind=kind, name_id=name_id, name_en=name_en, opens_at=opens_at,
                           closes_at=closes_at)
    stage = Stage(**values)
    edition.stages.append(stage)
    _record_added(actor, stage)
    return stage


def update_stage(
    actor: User | None, stage: Stage, *, kind: StageKind, name_id: str, name_en: str, opens_at: dt.datetime,
    closes_at: dt.datetime,
) -> Stage:
    values = _stage_values(stage.edition, stage, kind=kind, name_id=name_id, name_en=name_en, opens_at=opens_at,
                           closes_at=closes_at)
    before = snapshot(stage)
    for key, value in values.items():
        setattr(stage, key, value)
    _record_updated(actor, stage, before)
    return stage


def delete_stage(actor: User | None, stage: Stage) -> None:
    if stage.status is not StageStatus.PLANNED:
        raise _fail("stage_started", stage=stage.name_id)
    _delete(actor, stage)


SELECTION_SETTINGS = ("weight_evaluation", "weight_panel", "weight_presentation", "weight_field",
                      "presentation_minutes", "interview_minutes", "confirm_hours", "field_verification",
                      "bootstrap_samples")


def update_selection_settings(actor: User | None, edition: Edition, **values: Any) -> Edition:
    """The rounds after the evaluation: the final formula's weights, presentation lengths and the
    confirmation notice, whether a field verification is held, the resamples for stability."""
    unknown = set(values) - set(SELECTION_SETTINGS)
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    merged = {name: values.get(name, getattr(edition, name)) for name in SELECTION_SETTINGS}
    weights = [Decimal(merged[n]) for n in SELECTION_SETTINGS[:4]]
    total = sum(weights, Decimal(0))
    if total != Decimal(100):
        raise _fail("weights_sum", "weight_evaluation", total=f"{total.normalize():f}")
    if weights[3] > 0 and not merged["field_verification"]:
        raise _fail("field_weight_unheld", "weight_field")
    field_stage = edition.stage(StageKind.FIELD_VERIFICATION)
    if (bool(merged["field_verification"]) != edition.field_verification and field_stage is not None
            and field_stage.status is not StageStatus.PLANNED):
        raise _fail("field_decided", "field_verification")
    # A frozen final result keeps the figures it was frozen with (kipp.selection), so later
    # changes of the formula cannot move it.
    before = snapshot(edition)
    for name, value in merged.items():
        setattr(edition, name, value)
    _record_updated(actor, edition, before)
    return edition


# --- Warnings for the pages (never block a save) ---------------------------------------------

def weight_warnings(group: EditionGroup) -> list[str]:
    """Translated warnings about a group's section weights (see rules.weight_problems)."""
    total = rules.weight_total(s.weight for s in group.sections)
    return [str(WARNINGS[code]) % {"total": f"{total.normalize():f}"} for code in rules.weight_problems(group)]


def stage_order_warnings(edition: Edition) -> list[str]:
    by_kind = {s.kind: s for s in edition.stages}
    return [str(WARNINGS["stage_order"]) % {"stage": by_kind[kind].name_id}
            for kind in rules.stage_order_problems(edition.stages)]
