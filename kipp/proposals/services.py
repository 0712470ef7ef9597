"""Everything that changes a proposal in the submission stage.

Every status change goes through ``_transition``: it checks the state table,
moves the proposal, writes its history and the audit trail, and queues the
notifications. Services flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Unit
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, StageKind
from kipp.editions.models import Edition, EditionGroup, Sdg
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import localized, to_wib
from kipp.innovations.models import Innovation
from kipp.notifications.services import notify
from kipp.proposals import access, eligibility, labels, rules, uploads
from kipp.proposals.models import (
    DeadlineExtension,
    Proposal,
    ProposalAnswer,
    ProposalEvent,
    ProposalFile,
    SubmissionReminder,
)
from kipp.proposals.states import NUMBERED, STILL_WITH_AGENCY, Action, InvalidTransition, ProposalStatus, next_status

def describe(missing: rules.Missing) -> str:
    """The message for one missing item, in the current locale."""
    params = dict(missing.params)
    if "section" in params:
        params["section"] = params["section"].title_id
    if "document" in params:
        params["document"] = params["document"].name_id
    messages = {
        "title": lambda: _("Write the title of the innovation."),
        "category": lambda: _("Choose a category."),
        "sdg": lambda: _("Choose at least one Sustainable Development Goal."),
        "start_date": lambda: _("Give the date the innovation started."),
        "replicates": lambda: _("Name the innovation this proposal replicates."),
        "section_empty": lambda: _("Answer the section “%(section)s”.", **params),
        "section_too_long": lambda: _("The section “%(section)s” has %(words)s words; the limit is %(limit)s.",
                                      **params),
        "section_evidence": lambda: _("Attach evidence to the section “%(section)s”.", **params),
        "document": lambda: _("Attach the document “%(document)s”.", **params),
        "video_missing": lambda: _("Give the link to the video."),
        "video_not_https": lambda: _("The video link must be a full https:// address (YouTube or another site)."),
        "video_too_long": lambda: _("The video link is too long."),
        "spbe_question": lambda: _("Say whether the innovation is an application (SPBE)."),
        "spbe_details": lambda: _("Give the name of the application (SPBE)."),
    }
    return messages[missing.code]()


# --- deadlines ---------------------------------------------------------------------------------


def submission_window(edition: Edition, agency_id: int) -> tuple[dt.datetime, dt.datetime] | None:
    """When this agency may send and submit: the stage's window, with any extension."""
    stage = edition.stage(StageKind.SUBMISSION)
    if stage is None:
        return None
    extended = db.session.scalar(
        sa.select(sa.func.max(DeadlineExtension.closes_at)).where(
            DeadlineExtension.edition_id == edition.id,
            sa.or_(DeadlineExtension.agency_id.is_(None), DeadlineExtension.agency_id == agency_id),
        )
    )
    closes_at = max(stage.closes_at, extended) if extended else stage.closes_at
    return stage.opens_at, closes_at


def is_open(edition: Edition, agency_id: int, now: dt.datetime) -> bool:
    window = submission_window(edition, agency_id)
    return window is not None and window[0] <= now < window[1]


def _require_open(proposal: Proposal, now: dt.datetime) -> None:
    if proposal.status is ProposalStatus.IN_CORRECTION:
        # A correction runs on its own clock, set when screening returned the proposal.
        if not access.in_correction(proposal, now):
            raise DomainError(_("The correction window has closed; the proposal can no longer be changed."),
                              code="correction_closed")
        return
    window = submission_window(proposal.edition, proposal.agency_id)
    if window is None:
        raise DomainError(_("This edition has no submission stage."), code="no_stage")
    opens_at, closes_at = window
    if now < opens_at:
        raise DomainError(_("Submission opens on %(when)s WIB.", when=_wib(opens_at)), code="not_open_yet")
    if now >= closes_at:
        raise DomainError(
            _("The submission stage closed on %(when)s WIB. Nothing can be sent or submitted after it.",
              when=_wib(closes_at)),
            code="closed",
        )


def _wib(value: dt.datetime) -> str:
    return to_wib(value).strftime("%d-%m-%Y %H:%M")


def extend_deadline(
    actor: User, edition: Edition, *, closes_at: dt.datetime, reason: str, agency: Agency | None = None
) -> DeadlineExtension:
    stage = edition.stage(StageKind.SUBMISSION)
    if stage is None:
        raise DomainError(_("This edition has no submission stage."), code="no_stage")
    if not reason.strip():
        raise DomainError(_("Give the reason for the extension."), code="reason")
    current = submission_window(edition, agency.id if agency else -1)
    if current and closes_at <= current[1] and agency is None:
        raise DomainError(_("The new deadline must be later than the current one."), code="not_later")
    if closes_at <= stage.closes_at:
        raise DomainError(_("The new deadline must be later than the stage's own close."), code="not_later")
    extension = DeadlineExtension(edition_id=edition.id, agency_id=agency.id if agency else None,
                                  closes_at=closes_at, reason=reason.strip(), created_by_id=actor.id)
    db.session.add(extension)
    db.session.flush()
    record(actor, "submission.deadline_extended", extension, after=snapshot(extension),
           label=agency.name if agency else edition.name)
    return extension


# --- drafts ------------------------------------------------------------------------------------


def start_draft(
    actor: User, *, edition: Edition, group: EditionGroup, unit: Unit | None = None,
    innovation: Innovation | None = None, now: dt.datetime | None = None,
) -> Proposal:
    now = now or utcnow()
    if actor.role is Role.UPP:
        unit = actor.unit
    if unit is None or actor.role not in (Role.UPP, Role.ADMIN_LOKAL) or unit.agency_id != actor.agency_id:
        raise NotAllowed(_("You may not start a proposal for this unit."))
    if group.edition_id != edition.id:
        raise DomainError(_("This group is not part of the edition."), code="group")
    if innovation is not None and innovation.agency_id != unit.agency_id:
        raise NotAllowed(_("This innovation belongs to another agency."))
    proposal = Proposal(
        edition=edition, group=group, agency_id=unit.agency_id, unit_id=unit.id, created_by_id=actor.id,
        innovation=innovation, title=innovation.title if innovation else "",
        innovation_start_date=innovation.start_date if innovation else None,
    )
    _require_open(proposal, now)
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ProposalEvent(proposal=proposal, actor_id=actor.id, action="created",
                                 to_status=ProposalStatus.DRAFT.value))
    record(actor, "proposal.created", proposal, label=proposal.title or f"#{proposal.id}")
    return proposal


_FIELDS = ("title", "category_id", "innovation_start_date", "video_url", "is_application", "spbe", "replicates_id")


def save_draft(
    actor: User, proposal: Proposal, *, version: int, fields: dict[str, Any] | None = None,
    answers: dict[int, str] | None = None, sdg_numbers: list[int] | None = None, now: dt.datetime | None = None,
) -> list[rules.Missing]:
    """Save what was typed (any subset of the form). Never refuses text for being too long:
    the words are kept and the warning returned; sending checks the limits."""
    now = now or utcnow()
    _require_edit(actor, proposal)
    if version != proposal.version:
        raise DomainError(
            _("This proposal was changed in another window or by someone else. Reload it to see the latest "
              "version; copy what you typed first."),
            code="stale",
        )
    _require_open(proposal, now)
    fields = fields or {}
    for name, value in fields.items():
        if name not in _FIELDS:
            raise ValueError(name)
        if name == "category_id" and value is not None:
            if value not in {c.id for c in proposal.edition.categories}:
                raise DomainError(_("Choose a category of this edition."), code="category")
        if name == "title" and value is not None:
            value = value.strip()[:255]
        if name == "video_url" and value:
            value = value.strip()[:500]
        setattr(proposal, name, value)
    if sdg_numbers is not None:
        wanted = sorted(set(sdg_numbers))
        proposal.sdgs = list(db.session.scalars(sa.select(Sdg).where(Sdg.number.in_(wanted)))) if wanted else []
    if answers:
        sections = {s.id: s for s in proposal.group.sections}
        for section_id, text in answers.items():
            if section_id not in sections:
                raise DomainError(_("This section is not part of the proposal form."), code="section")
            answer = proposal.answer_for(section_id)
            if answer is None:
                answer = ProposalAnswer(section_id=section_id)
                proposal.answers.append(answer)
            answer.text = text
            answer.word_count = rules.count_words(text)
    proposal.updated_at = now  # always bumps the version, also when only answers changed
    db.session.flush()
    return rules.over_word_limits(proposal.group.sections, _answers(proposal))


def _answers(proposal: Proposal) -> dict[int, str]:
    return {a.section_id: a.text for a in proposal.answers}


def missing_items(proposal: Proposal) -> list[rules.Missing]:
    return rules.missing_items(
        title=proposal.title,
        category_id=proposal.category_id,
        sdg_count=len(proposal.sdgs),
        start_date=proposal.innovation_start_date,
        video_url=proposal.video_url,
        is_application=proposal.is_application,
        spbe=proposal.spbe,
        is_replikasi=proposal.group.code is GroupCode.REPLIKASI,
        replicates_id=proposal.replicates_id,
        sections=proposal.group.sections,
        answers=_answers(proposal),
        evidence_sections={f.section_id for f in proposal.files if f.section_id},
        documents=[d for d in proposal.edition.documents if d.applies_to(proposal.group.code)],
        attached_documents={f.document_id for f in proposal.files if f.document_id},
    )


# --- files -------------------------------------------------------------------------------------


# Where a file goes: (section id, None) for a section's evidence, (None, document id) for a document.
FileSlot = tuple[int | None, int | None]


def require_room_for_files(proposal: Proposal, adding: Mapping[FileSlot, int]) -> None:
    """Refuse to add ``adding`` files (a count per slot) beyond the edition's limits on the number of
    files in one section or document and in the whole proposal: all of them, so that a refused
    request stores nothing. The message names the limit and what the proposal holds."""
    edition = proposal.edition
    held = Counter((f.section_id, f.document_id) for f in proposal.files)
    names = {(s.id, None): localized(s, "title") for s in proposal.group.sections}
    names.update({(None, d.id): localized(d, "name") for d in edition.documents})
    for slot, count in adding.items():
        if held[slot] + count > edition.max_files_per_section:
            raise DomainError(
                _("“%(name)s” may hold at most %(limit)s files; it has %(held)s, and adding %(count)s would make "
                  "%(total)s. No file was added.", name=names.get(slot, "?"), limit=edition.max_files_per_section,
                  held=held[slot], count=count, total=held[slot] + count),
                code="too_many_files_in_section",
            )
    count, total = sum(adding.values()), len(proposal.files) + sum(adding.values())
    if total > edition.max_files_per_proposal:
        raise DomainError(
            _("A proposal may hold at most %(limit)s files; this one has %(held)s, and adding %(count)s would make "
              "%(total)s. No file was added.", limit=edition.max_files_per_proposal, held=len(proposal.files),
              count=count, total=total),
            code="too_many_files",
        )


def attach_file(
    actor: User, proposal: Proposal, *, filename: str, data: bytes, section_id: int | None = None,
    document_id: int | None = None, now: dt.datetime | None = None,
) -> ProposalFile:
    now = now or utcnow()
    _require_edit(actor, proposal)
    _require_open(proposal, now)
    if (section_id is None) == (document_id is None):
        raise ValueError("a file belongs to a section or to a document")
    if section_id is not None and section_id not in {s.id for s in proposal.group.sections}:
        raise DomainError(_("This section is not part of the proposal form."), code="section")
    if document_id is not None and document_id not in {d.id for d in proposal.edition.documents}:
        raise DomainError(_("This document is not required by the edition."), code="document")
    require_room_for_files(proposal, {(section_id, document_id): 1})
    if not data:
        raise DomainError(_("The file “%(name)s” is empty.", name=filename), code="file_empty")
    content_type = rules.sniff_content_type(data[:16])
    if content_type is None:
        raise DomainError(
            _("“%(name)s” is not a PDF, JPEG or PNG file (its content was checked, not its name).", name=filename),
            code="file_type",
        )
    limit = proposal.edition.max_file_mb * 1024 * 1024
    if len(data) > limit:
        raise DomainError(
            _("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.", name=filename,
              size=f"{len(data) / 1048576:.1f}", limit=proposal.edition.max_file_mb),
            code="file_too_large",
        )
    total = sum(f.size_bytes for f in proposal.files) + len(data)
    if total > proposal.edition.max_proposal_mb * 1024 * 1024:
        raise DomainError(
            _("All files of a proposal may be at most %(limit)s MB together; this one would make %(size)s MB.",
              limit=proposal.edition.max_proposal_mb, size=f"{total / 1048576:.1f}"),
            code="proposal_too_large",
        )
    stored_name, digest = uploads.store(data, rules.ALLOWED_TYPES[content_type])
    attached = ProposalFile(
        section_id=section_id, document_id=document_id, original_name=filename[-255:] or "file",
        stored_name=stored_name, content_type=content_type, size_bytes=len(data), sha256=digest,
        uploaded_by_id=actor.id,
    )
    proposal.files.append(attached)
    proposal.updated_at = now
    db.session.flush()
    record(actor, "proposal.file_attached", proposal, after={"file": attached.original_name, "sha256": digest,
                                                            "size": len(data)})
    return attached


def remove_file(actor: User, proposal: Proposal, attached: ProposalFile, *, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if attached.proposal_id != proposal.id:
        raise NotAllowed(_("You may not change this proposal now."))
    _require_edit(actor, proposal)
    _require_open(proposal, now)
    proposal.files.remove(attached)
    proposal.updated_at = now
    db.session.flush()
    record(actor, "proposal.file_removed", proposal, before={"file": attached.original_name,
                                                            "sha256": attached.sha256})
    # The bytes stay on disk: an audited removal can still be investigated.


# --- the state funnel --------------------------------------------------------------------------


def _transition(proposal: Proposal, action: Action, *, actor: User | None, comment: str | None = None) -> None:
    before = proposal.status
    try:
        proposal.status = next_status(before, action)
    except InvalidTransition as error:
        raise DomainError(_state_message(before), code="invalid_transition") from error
    db.session.add(ProposalEvent(proposal=proposal, actor_id=actor.id if actor else None, action=action.value,
                                 from_status=before.value, to_status=proposal.status.value, comment=comment))
    record(actor, f"proposal.{action.value}", proposal, before={"status": before.value},
           after={"status": proposal.status.value, **({"comment": comment} if comment else {})},
           label=proposal.title or f"#{proposal.id}")


def _state_message(status: ProposalStatus) -> str:
    return {
        ProposalStatus.SUBMITTED: _("This proposal has already been submitted to the ministry."),
        ProposalStatus.WITH_ADMIN_LOKAL: _("This proposal is with the Admin Lokal."),
        ProposalStatus.WITHDRAWN: _("This proposal has been withdrawn."),
        ProposalStatus.NOT_SUBMITTED: _("The submission stage closed before this proposal was submitted."),
    }.get(status, _("This proposal cannot be changed now."))


def _agency_people(agency_id: int, role: Role, unit_id: int | None = None) -> list[User]:
    query = sa.select(User).where(User.agency_id == agency_id, User.role == role, User.active)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return list(db.session.scalars(query))


def send_to_admin_lokal(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if not access.can_send(actor, proposal):
        raise _refusal(actor, proposal)
    _require_open(proposal, now)
    too_long = rules.over_word_limits(proposal.group.sections, _answers(proposal))
    if too_long:
        raise DomainError(" ".join(describe(m) for m in too_long), code="too_many_words")
    _transition(proposal, Action.SEND_TO_ADMIN_LOKAL, actor=actor)
    notify(_agency_people(proposal.agency_id, Role.ADMIN_LOKAL), "proposal_sent",
           link=("agency_proposals.detail", {"proposal_id": proposal.id}),
           title=proposal.title, unit=proposal.unit.name)


def return_to_upp(actor: User, proposal: Proposal, *, comment: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if not access.can_decide(actor, proposal) or proposal.status is not ProposalStatus.WITH_ADMIN_LOKAL:
        raise _refusal(actor, proposal)
    if not comment.strip():
        raise DomainError(_("Say what the unit should change: the comment is required."), code="comment")
    _require_open(proposal, now)
    _transition(proposal, Action.RETURN_TO_UPP, actor=actor, comment=comment.strip())
    notify(_agency_people(proposal.agency_id, Role.UPP, proposal.unit_id), "proposal_returned",
           link=("agency_proposals.detail", {"proposal_id": proposal.id}),
           title=proposal.title, comment=comment.strip())


def quota_left(proposal: Proposal) -> int | None:
    quota = proposal.group.quota_per_agency
    if quota is None:
        return None
    used = db.session.scalar(
        sa.select(sa.func.count()).select_from(Proposal).where(
            Proposal.edition_id == proposal.edition_id, Proposal.group_id == proposal.group_id,
            Proposal.agency_id == proposal.agency_id,
            Proposal.status.in_([s.value for s in NUMBERED if s is not ProposalStatus.WITHDRAWN]),
        )
    )
    return max(quota - (used or 0), 0)


def submit(actor: User, proposal: Proposal, *, now: dt.datetime | None = None) -> None:
    """Submit to the ministry: complete, eligible, within quota, before the deadline."""
    now = now or utcnow()
    if not access.can_decide(actor, proposal):
        raise _refusal(actor, proposal)
    _require_open(proposal, now)
    # Serialise submissions of one agency so two clicks or two tabs cannot
    # both take the last place of the quota.
    db.session.execute(sa.select(Agency.id).where(Agency.id == proposal.agency_id).with_for_update())
    missing = missing_items(proposal)
    if missing:
        raise DomainError(_("The proposal is not complete:") + " " + " ".join(describe(m) for m in missing),
                          code="incomplete")
    problems = eligibility.eligibility_messages(proposal, now=now)
    if problems:
        raise DomainError(" ".join(problems), code="ineligible")
    left = quota_left(proposal)
    if left is not None and left <= 0:
        raise DomainError(
            _("Your agency has used all %(quota)s places of the group “%(group)s” in this edition. "
              "Withdraw a submitted proposal first, or keep this one as a draft.",
              quota=proposal.group.quota_per_agency, group=proposal.group.name_id),
            code="quota",
        )
    # The number and the status change together (a CHECK constraint holds them to it).
    proposal.number = f"{proposal.edition.year}-{proposal.group.code.value[0].upper()}-{proposal.id:05d}"
    _transition(proposal, Action.SUBMIT, actor=actor)
    proposal.innovation = eligibility.known_innovation(proposal)
    if proposal.innovation is None:
        proposal.innovation = Innovation(agency_id=proposal.agency_id, unit_id=proposal.unit_id,
                                         title=proposal.title, start_date=proposal.innovation_start_date)
    proposal.submitted_at = now
    proposal.submitted_by_id = actor.id
    db.session.flush()
    people = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id) + _agency_people(
        proposal.agency_id, Role.ADMIN_LOKAL)
    notify(people, "proposal_submitted", link=("agency_proposals.detail", {"proposal_id": proposal.id}),
           title=proposal.title, number=proposal.number, when=_wib(now))


def withdraw(actor: User, proposal: Proposal, *, reason: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if not access.can_withdraw(actor, proposal):
        raise _refusal(actor, proposal)
    if not reason.strip():
        raise DomainError(_("Give the reason for the withdrawal."), code="reason")
    screening = proposal.edition.stage(StageKind.SCREENING)
    if screening is not None and now >= screening.opens_at:
        raise DomainError(_("Screening has started; the proposal can no longer be withdrawn."),
                          code="screening_started")
    proposal.withdrawn_reason = reason.strip()  # with the status, as a CHECK constraint requires
    _transition(proposal, Action.WITHDRAW, actor=actor, comment=reason.strip())
    people = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id) + _agency_people(
        proposal.agency_id, Role.ADMIN_LOKAL)
    notify(people, "proposal_withdrawn", link=("agency_proposals.detail", {"proposal_id": proposal.id}),
           title=proposal.title, number=proposal.number, reason=reason.strip())


def close_overdue(now: dt.datetime | None = None) -> int:
    """Mark proposals still with an agency after its deadline as not submitted. Idempotent."""
    now = now or utcnow()
    count = 0
    candidates = db.session.scalars(
        sa.select(Proposal).where(Proposal.status.in_([s.value for s in STILL_WITH_AGENCY]))
    ).all()
    for proposal in candidates:
        window = submission_window(proposal.edition, proposal.agency_id)
        if window is None or now < window[1]:
            continue
        _transition(proposal, Action.CLOSE_UNSUBMITTED, actor=None)
        people = _agency_people(proposal.agency_id, Role.UPP, proposal.unit_id) + _agency_people(
            proposal.agency_id, Role.ADMIN_LOKAL)
        notify(people, "proposal_not_submitted", link=("agency_proposals.detail", {"proposal_id": proposal.id}),
               title=proposal.title or f"#{proposal.id}")
        count += 1
    db.session.flush()
    return count


def _require_edit(actor: User, proposal: Proposal) -> None:
    """Another agency's proposal is not found; one's own that is not editable now says why."""
    if access.can_edit(actor, proposal):
        return
    if not access.can_view(actor, proposal):
        raise NotAllowed(_("You may not change this proposal."))
    if proposal.status in STILL_WITH_AGENCY:
        raise DomainError(_("This proposal is with %(holder)s now; only they can change it.",
                            holder=labels.holder_label(proposal.holder)), code="not_holder")
    raise DomainError(_state_message(proposal.status), code="invalid_transition")


def _refusal(actor: User, proposal: Proposal) -> DomainError:
    if not access.can_view(actor, proposal):
        return NotAllowed(_("You may not do this with the proposal."))
    if proposal.status in STILL_WITH_AGENCY:
        return DomainError(_("You cannot do this with the proposal now: it is with %(holder)s.",
                             holder=labels.holder_label(proposal.holder)), code="not_holder")
    return DomainError(_state_message(proposal.status), code="invalid_transition")



def send_deadline_reminders(now: dt.datetime | None = None) -> int:
    """Remind the people still holding proposals, once per agency and deadline,
    ``edition.reminder_days`` before the submission stage closes. Returns how many agencies."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Proposal.edition_id, Proposal.agency_id, Proposal.unit_id, Proposal.status)
        .where(Proposal.status.in_([s.value for s in STILL_WITH_AGENCY]))
    ).all()
    by_agency: dict[tuple[int, int], list[Any]] = {}
    for row in rows:
        by_agency.setdefault((row.edition_id, row.agency_id), []).append(row)
    reminded = 0
    for (edition_id, agency_id), held in by_agency.items():
        edition = db.session.get(Edition, edition_id)
        window = submission_window(edition, agency_id) if edition else None
        if window is None or not (window[0] <= now < window[1]):
            continue
        if now < window[1] - dt.timedelta(days=edition.reminder_days):
            continue
        already = db.session.scalar(sa.select(SubmissionReminder.id).where(
            SubmissionReminder.edition_id == edition_id, SubmissionReminder.agency_id == agency_id,
            SubmissionReminder.deadline == window[1]))
        if already:
            continue
        db.session.add(SubmissionReminder(edition_id=edition_id, agency_id=agency_id, deadline=window[1]))
        with_units = {r.unit_id for r in held if r.status is not ProposalStatus.WITH_ADMIN_LOKAL}
        people = [u for unit_id in sorted(with_units) for u in _agency_people(agency_id, Role.UPP, unit_id)]
        if any(r.status is ProposalStatus.WITH_ADMIN_LOKAL for r in held) or with_units:
            people += _agency_people(agency_id, Role.ADMIN_LOKAL)
        notify(people, "deadline_reminder", link=("agency_proposals.index", {}), count=len(held),
               when=_wib(window[1]))
        reminded += 1
    db.session.flush()
    return reminded
