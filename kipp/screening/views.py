"""The secretariat's administrative screening: the queue, the review page, the checklist, announcements,
statistics. Views commit; services only flush."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

from kipp.accounts.roles import Role
from kipp.agencies.kinds import CLUSTER_LABELS
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.proposals import printing, uploads
from kipp.proposals.labels import status_label
from kipp.proposals.models import Proposal, ProposalFile
from kipp.proposals.overview import NO_REGION, provinces
from kipp.proposals.states import ProposalStatus
from kipp.screening import rules, services
from kipp.screening.forms import ActionForm, AnnouncementForm, ReasonForm, ReviewForm, SettingsForm
from kipp.screening.models import ScreeningReason
from kipp.web import audience, get_or_404, paginate, run_service

bp = Blueprint("screening", __name__, url_prefix="/admin/screening")
audience(bp, Role.SECRETARIAT)

PER_PAGE = 50

TABS = (
    ("queue", "screening.index"),
    ("checklist", "screening.checklist"),
    ("announcements", "screening.announcements"),
    ("statistics", "screening.statistics"),
)


def _editions() -> tuple[list[Edition], Edition | None]:
    """Every edition (newest first) and the one chosen by ?edition=, by default the newest."""
    editions = list(db.session.scalars(sa.select(Edition).order_by(Edition.year.desc())))
    wanted = request.args.get("edition", "")
    if not wanted:
        return editions, editions[0] if editions else None
    chosen = next((e for e in editions if str(e.id) == wanted), None)
    if chosen is None:
        abort(404)
    return editions, chosen


def _edition_or_404() -> Edition:
    _all, edition = _editions()
    if edition is None:
        abort(404)
    return edition


def _call(func: Any, *args: Any, success: str | None = None, form: Any = None, **kwargs: Any) -> tuple[bool, Any]:
    """A service called as the current person; a refusal goes next to its form field, or on top."""
    return run_service(func, current_user, *args, success=success, form=form, **kwargs)


# --- the queue ----------------------------------------------------------------------------------------


@bp.route("/")
def index() -> Any:
    editions, edition = _editions()
    if edition is None:
        return render_template("screening/queue.html", editions=editions, edition=None, tab="queue", tabs=TABS)
    now = utcnow()
    filters = services.QueueFilters.from_args(request.args)
    page = paginate(services.queue_query(edition, filters, actor=current_user, now=now), per_page=PER_PAGE)
    return render_template(
        "screening/queue.html",
        editions=editions, edition=edition, tab="queue", tabs=TABS, filters=filters, page=page, now=now,
        reviews=services.current_reviews(p.id for p in page.items),
        counts=services.queue_counts(edition, filters, actor=current_user, now=now),
        states=services.QUEUE_STATES, groups=edition.groups, clusters=CLUSTER_LABELS, provinces=provinces(),
        no_region=NO_REGION, stage=edition.stage(StageKind.SCREENING), checklist=services.reasons(edition),
        action_form=ActionForm(), queue_state=_queue_state, claim_minutes=_claim_minutes(),
    )


def _claim_minutes() -> int:
    return int(rules.CLAIM_TTL.total_seconds() // 60)


def _queue_state(proposal: Proposal, review: Any, now: Any) -> rules.QueueState:
    is_open = review is not None and review.confirmed_at is None
    return rules.queue_state(
        user_id=current_user.id, pending=proposal.status is ProposalStatus.SUBMITTED,
        decision=review.decision.value if is_open and review.decision else None,
        claimed_by_id=review.claimed_by_id if is_open else None, claimed_at=review.claimed_at if is_open else None,
        now=now,
    )


@bp.route("/claim-next", methods=["POST"])
def claim_next() -> Any:
    edition = _edition_or_404()
    filters = services.QueueFilters.from_args(request.args)
    if not ActionForm().validate():
        abort(400)
    ok, proposal = _call(services.claim_next, edition, filters=filters, confirm=filters.state == "awaiting")
    if ok and proposal is not None:
        return redirect(url_for("screening.review", proposal_id=proposal.id, **filters.as_args()))
    if ok:
        flash(_("Nothing left to take under these filters."), "info")
    return redirect(url_for("screening.index", edition=edition.id, **filters.as_args()))


# --- one proposal -------------------------------------------------------------------------------------


def _proposal(proposal_id: int) -> Proposal:
    """Any proposal (the secretariat sees them all); only submitted ones can be screened."""
    proposal = printing.load(proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def _posted_items(active: list[ScreeningReason]) -> dict[int, tuple[bool | None, str | None]]:
    items: dict[int, tuple[bool | None, str | None]] = {}
    for reason in active:
        value = request.form.get(f"item-{reason.id}", "")
        passed = {"pass": True, "fail": False}.get(value)
        items[reason.id] = (passed, request.form.get(f"note-{reason.id}", ""))
    return items


def _render_review(proposal: Proposal, *, posted: dict[int, tuple[bool | None, str | None]] | None = None,
                   form: ReviewForm | None = None) -> str:
    now = utcnow()
    edition = proposal.edition
    filters = services.QueueFilters.from_args(request.args)
    reviews = services.reviews_of(proposal)
    open_review = services.open_review(proposal)
    active = services.reasons(edition, active_only=True) or services.reasons(edition)
    if posted is None:
        posted = {}
        if open_review is not None:
            posted = {c.reason_id: (c.passed, c.note) for c in open_review.checks}
    previous_reviews = [r for r in reviews if r is not open_review and r.confirmed_at is not None]
    holder_id = None
    if open_review is not None:
        holder_id = rules.claim_holder(open_review.claimed_by_id, open_review.claimed_at, now)
    prev_id, next_id = services.neighbours(edition, filters, proposal, actor=current_user, now=now)
    if form is None:
        form = ReviewForm(note=open_review.note if open_review else None)
    return render_template(
        "screening/review.html",
        proposal=proposal, edition=edition, filters=filters, now=now, reasons=active, posted=posted,
        open_review=open_review, previous_reviews=previous_reviews, holder_id=holder_id, prev_id=prev_id,
        next_id=next_id, form=form, action_form=ActionForm(), pending=proposal.status is ProposalStatus.SUBMITTED,
        reached_screening=proposal.status in services.SCREENED,
        can_confirm=(open_review is not None and open_review.decision is not None
                     and rules.can_confirm(current_user.id, open_review.decided_by_id)),
        claim_expires_at=rules.claim_expires_at, files=proposal.files, human_size=printing.human_size,
        print_html=Markup(printing.render_html(proposal, standalone=False)),
        failed_checks=services.failed_checks, correction_days=edition.correction_days,
        four_eyes=edition.screening_four_eyes,
    )


@bp.route("/proposals/<int:proposal_id>")
def review(proposal_id: int) -> Any:
    return _render_review(_proposal(proposal_id))


@bp.route("/proposals/<int:proposal_id>/save", methods=["POST"])
def save(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    filters = services.QueueFilters.from_args(request.args)
    form = ReviewForm()
    if not form.validate():
        return _render_review(proposal, form=form), 422
    active = services.reasons(proposal.edition, active_only=True)
    posted = _posted_items(active)
    try:
        review = services.save_review(current_user, proposal, items=posted, note=form.note.data)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        proposal = _proposal(proposal_id)
        return _render_review(proposal, posted=posted, form=form), 409 if error.code == "claimed" else 422
    except (sa.exc.IntegrityError, StaleDataError):
        db.session.rollback()
        flash(_("Someone else changed the same data at the same moment. Reload the page and try again."), "danger")
        return redirect(url_for("screening.review", proposal_id=proposal_id, **filters.as_args()))
    flash(_saved_message(review, proposal), "success" if review.decision else "info")
    if request.form.get("after") == "next":
        return _go_next(proposal, filters)
    return redirect(url_for("screening.review", proposal_id=proposal.id, **filters.as_args()))


def _saved_message(review: Any, proposal: Proposal) -> str:
    if review.decision is None:
        return _("Saved. Not every item is answered yet, so there is no decision.")
    if review.confirmed_at is None:
        return _("Saved: %(decision)s. Another screener must confirm the decision before it is final.",
                 decision=_decision_label(review.decision.value))
    return _("Saved: %(decision)s. The decision is final; the proposal is now “%(status)s”.",
             decision=_decision_label(review.decision.value), status=_status(proposal))


def _status(proposal: Proposal) -> str:
    return status_label(proposal.status)


def _decision_label(value: str) -> str:
    return _("passed") if value == rules.PASSED else _("failed")


def _go_next(proposal: Proposal, filters: services.QueueFilters) -> Any:
    """Claim the next free proposal of the queue and open it; the queue when none is left."""
    edition = proposal.edition
    ok, following = _call(services.claim_next, edition, filters=filters, confirm=filters.state == "awaiting")
    if ok and following is not None:
        return redirect(url_for("screening.review", proposal_id=following.id, **filters.as_args()))
    if ok:
        flash(_("Nothing left to take under these filters."), "info")
    return redirect(url_for("screening.index", edition=edition.id, **filters.as_args()))


@bp.route("/proposals/<int:proposal_id>/claim", methods=["POST"])
def claim(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    filters = services.QueueFilters.from_args(request.args)
    if ActionForm().validate():
        _call(services.claim, proposal, success=_("You have taken this proposal for %(minutes)s minutes without "
                                                  "activity.", minutes=_claim_minutes()))
    return redirect(url_for("screening.review", proposal_id=proposal.id, **filters.as_args()))


@bp.route("/proposals/<int:proposal_id>/release", methods=["POST"])
def release(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    filters = services.QueueFilters.from_args(request.args)
    if ActionForm().validate():
        _call(services.release, proposal, success=_("The proposal is free for the other screeners."))
    return redirect(url_for("screening.review", proposal_id=proposal.id, **filters.as_args()))


@bp.route("/proposals/<int:proposal_id>/confirm", methods=["POST"])
def confirm(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    filters = services.QueueFilters.from_args(request.args)
    if not ActionForm().validate():
        abort(400)
    ok, review = _call(services.confirm, proposal)
    if ok:
        flash(_("Decision confirmed: the proposal is now “%(status)s”.", status=_status(proposal)), "success")
        if request.form.get("after") == "next":
            return _go_next(proposal, filters)
    return redirect(url_for("screening.review", proposal_id=proposal.id, **filters.as_args()))


@bp.route("/proposals/<int:proposal_id>/files/<int:file_id>")
def proposal_file(proposal_id: int, file_id: int) -> Any:
    """A proposal's file, opened in the browser (PDF, PNG or JPEG: the upload's content was checked)."""
    proposal = _proposal(proposal_id)
    attached = get_or_404(ProposalFile, file_id, where=ProposalFile.proposal_id == proposal.id)
    return uploads.send_attachment(attached, inline=True)


# --- the checklist and settings ---------------------------------------------------------------------------


def _render_checklist(edition: Edition, editions: list[Edition], *, form: ReasonForm | None = None,
                      settings_form: SettingsForm | None = None) -> str:
    return render_template(
        "screening/checklist.html", editions=editions, edition=edition, tab="checklist", tabs=TABS,
        reasons=services.reasons(edition), form=form or ReasonForm(prefix="reason"),
        settings_form=settings_form or SettingsForm(prefix="settings", four_eyes=edition.screening_four_eyes,
                                                    correction_days=edition.correction_days),
        action_form=ActionForm(),
    )


@bp.route("/checklist", methods=["GET", "POST"])
def checklist() -> Any:
    editions, edition = _editions()
    if edition is None:
        abort(404)
    form = ReasonForm(prefix="reason")
    if request.method == "POST":
        if form.validate():
            ok, _reason = _call(services.add_reason, edition, code=form.code.data, title_id=form.title_id.data,
                                title_en=form.title_en.data, guidance_id=form.guidance_id.data,
                                guidance_en=form.guidance_en.data, form=form,
                                success=_("The item has been added to the checklist."))
            if ok:
                return redirect(url_for("screening.checklist", edition=edition.id))
        return _render_checklist(edition, editions, form=form), 422
    return _render_checklist(edition, editions)


@bp.route("/checklist/defaults", methods=["POST"])
def create_checklist() -> Any:
    edition = _edition_or_404()
    if ActionForm().validate():
        _call(services.ensure_default_checklist, edition, success=_("The checklist has been created."))
    return redirect(url_for("screening.checklist", edition=edition.id))


@bp.route("/checklist/settings", methods=["POST"])
def settings() -> Any:
    editions, edition = _editions()
    if edition is None:
        abort(404)
    form = SettingsForm(prefix="settings")
    if form.validate():
        ok, _result = _call(services.update_settings, edition, four_eyes=form.four_eyes.data,
                            correction_days=form.correction_days.data, form=form,
                            success=_("The screening settings have been saved."))
        if ok:
            return redirect(url_for("screening.checklist", edition=edition.id))
    return _render_checklist(edition, editions, settings_form=form), 422


def _reason(reason_id: int) -> ScreeningReason:
    reason: ScreeningReason = get_or_404(ScreeningReason, reason_id)
    return reason


@bp.route("/checklist/<int:reason_id>", methods=["GET", "POST"])
def edit_reason(reason_id: int) -> Any:
    reason = _reason(reason_id)
    form = ReasonForm(obj=reason)
    if form.validate_on_submit():
        ok, _result = _call(services.update_reason, reason, code=form.code.data, title_id=form.title_id.data,
                            title_en=form.title_en.data, guidance_id=form.guidance_id.data,
                            guidance_en=form.guidance_en.data, form=form, success=_("The item has been saved."))
        if ok:
            return redirect(url_for("screening.checklist", edition=reason.edition_id))
    return render_template("screening/reason_form.html", reason=reason, edition=reason.edition, form=form), (
        422 if form.errors else 200)


@bp.route("/checklist/<int:reason_id>/<any(activate,deactivate):change>", methods=["POST"])
def toggle_reason(reason_id: int, change: str) -> Any:
    reason = _reason(reason_id)
    if ActionForm().validate():
        active = change == "activate"
        _call(services.set_reason_active, reason, active=active,
              success=_("The item is back on the checklist.") if active else
              _("The item has been taken off the checklist of new reviews."))
    return redirect(url_for("screening.checklist", edition=reason.edition_id))


@bp.route("/checklist/<int:reason_id>/move/<any(up,down):direction>", methods=["POST"])
def move_reason(reason_id: int, direction: str) -> Any:
    reason = _reason(reason_id)
    if ActionForm().validate():
        _call(services.move_reason, reason, offset=-1 if direction == "up" else 1,
              success=_("The order has been saved."))
    return redirect(url_for("screening.checklist", edition=reason.edition_id))


# --- announcements and statistics -------------------------------------------------------------------------


@bp.route("/announcements", methods=["GET", "POST"])
def announcements() -> Any:
    editions, edition = _editions()
    if edition is None:
        abort(404)
    form = AnnouncementForm(title=_("Announcement of the administrative screening results of %(name)s",
                                    name=edition.name))
    status = 200
    if request.method == "POST":
        if form.validate():
            ok, announcement = _call(services.publish_announcement, edition, number=form.number.data,
                                     title=form.title.data, body=form.body.data,
                                     publish_undecided=form.publish_undecided.data, form=form)
            if ok:
                flash(_("Announcement %(number)s is published with %(n)s proposal(s).",
                        number=announcement.number, n=len(announcement.proposals)), "success")
                return redirect(url_for("screening.announcements", edition=edition.id))
        status = 422
    return render_template(
        "screening/announcements.html", editions=editions, edition=edition, tab="announcements", tabs=TABS,
        form=form, announcements=services.announcements(edition), undecided=services.undecided(edition),
        passed_count=len(services.passed_proposals(edition)), now=utcnow(),
    ), status


@bp.route("/statistics")
def statistics() -> Any:
    editions, edition = _editions()
    if edition is None:
        abort(404)
    return render_template("screening/statistics.html", editions=editions, edition=edition, tab="statistics",
                           tabs=TABS, stats=services.statistics(edition), outcomes=services.OUTCOMES)
