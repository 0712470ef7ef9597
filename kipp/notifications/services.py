"""Queueing notifications. Services call these; nothing is sent before commit."""

from __future__ import annotations

from typing import Any, Iterable

from flask_babel import force_locale
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.extensions import db
from kipp.notifications.models import Notification
from kipp.outbox.dispatch import enqueue
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import SEND_EMAIL
from kipp.urls import external_url, path_for

# Templates under templates/emails/; the first line of each is "Subject: …".
EMAIL_TEMPLATES = {"invitation", "password_reset", "notification"}


def queue_email(user: User, template: str, *, secret_url: str | None = None, **context: Any) -> OutboxMessage:
    """Email ``user`` with ``template`` in their own language, after commit.

    ``secret_url`` (a one-time link) is kept out of the stored copy once sent.
    """
    if template not in EMAIL_TEMPLATES:
        raise ValueError(f"unknown email template {template}")
    return enqueue(SEND_EMAIL, user_id=user.id, template=template, secret_url=secret_url, context=context)


def notification_text(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """(subject, message) of a notification, in the current locale."""
    texts: dict[str, Any] = {
        "proposal_sent": lambda: (
            _("A proposal is waiting for your review"),
            _("The unit %(unit)s sent the proposal “%(title)s” to you. Return it with comments or submit it "
              "to the ministry.", **params),
        ),
        "proposal_returned": lambda: (
            _("Your proposal was returned with comments"),
            _("Your Admin Lokal returned the proposal “%(title)s”. Comments: %(comment)s", **params),
        ),
        "proposal_submitted": lambda: (
            _("Proposal submitted: receipt %(number)s", **params),
            _("The proposal “%(title)s” was submitted to the ministry on %(when)s WIB. Its proposal number is "
              "%(number)s.", **params),
        ),
        "proposal_withdrawn": lambda: (
            _("Proposal %(number)s withdrawn", **params),
            _("The proposal “%(title)s” (%(number)s) was withdrawn. Reason: %(reason)s", **params),
        ),
        "proposal_not_submitted": lambda: (
            _("A proposal was not submitted in time"),
            _("The submission stage closed before the proposal “%(title)s” was submitted to the ministry.",
              **params),
        ),
        "deadline_reminder": lambda: (
            _("Submission closes on %(when)s WIB", **params),
            _("%(count)s proposal(s) of your agency are still in your hands. The submission stage closes on "
              "%(when)s WIB; nothing can be submitted after it.", **params),
        ),
        "pool_invitation": lambda: (
            _("Invitation to judge: %(stage)s, %(edition)s", **params),
            _("The secretariat invites you to judge in the stage “%(stage)s” of %(edition)s. Open the invitation "
              "to accept or decline it and to name your fields of expertise.", **params),
        ),
        "assignment_removed_conflict": lambda: (
            _("An assignment was removed: conflict of interest"),
            _("%(judge)s declared a conflict of interest with the proposal %(proposal)s (%(stage)s, %(edition)s). "
              "The assignment was removed; the proposal needs another reviewer. Reason: %(reason)s", **params),
        ),
        "screening_passed": lambda: (
            _("Proposal %(number)s passed administrative screening", **params),
            _("The proposal “%(title)s” (%(number)s) passed the administrative screening.", **params),
        ),
        "screening_failed": lambda: (
            _("Proposal %(number)s did not pass administrative screening", **params),
            _("The proposal “%(title)s” (%(number)s) did not pass the administrative screening. Reasons: "
              "%(reasons)s", **params),
        ),
        "screening_correction": lambda: (
            _("Proposal %(number)s returned for correction", **params),
            _("The proposal “%(title)s” (%(number)s) did not pass the administrative screening. Your Admin Lokal "
              "may correct it and submit it again once, until %(due)s WIB. Reasons: %(reasons)s", **params),
        ),
        "correction_resubmitted": lambda: (
            _("Corrected proposal %(number)s submitted", **params),
            _("The corrected proposal “%(title)s” (%(number)s) was submitted to the ministry again on %(when)s WIB. "
              "It will be screened once more.", **params),
        ),
        "correction_closed": lambda: (
            _("Correction window closed for proposal %(number)s", **params),
            _("The correction window of the proposal “%(title)s” (%(number)s) closed on %(when)s WIB without a "
              "resubmission. The proposal did not pass the administrative screening.", **params),
        ),
        "assignments_published": lambda: (
            _("Your proposals to review in %(edition)s", **params),
            _("The secretariat has assigned %(count)s proposal(s) to you in %(edition)s. They are on your home "
              "page.", **params),
        ),
        "sheet_reopened": lambda: (
            _("A score sheet was reopened for you"),
            _("The secretariat reopened your score sheet of %(proposal)s. Reason: %(reason)s. Change it if needed "
              "and submit it again.", **params),
        ),
        "scoring_reminder": lambda: (
            _("Reminder: %(count)s score sheet(s) to finish", **params),
            _("You have %(count)s unfinished score sheet(s) in %(edition)s. The deadline is %(deadline)s.",
              **params),
        ),
        # --- the selection rounds (kipp.progress, selection, objections, presentations, verification,
        # publication)
        "stage_opened": lambda: (
            _("%(stage)s has started: %(edition)s", **params),
            _("The secretariat opened the stage “%(stage)s” of %(edition)s. %(detail)s", **params),
        ),
        "stage_closed": lambda: (
            _("%(stage)s has closed: %(edition)s", **params),
            _("The secretariat closed the stage “%(stage)s” of %(edition)s. %(detail)s", **params),
        ),
        "finalist_announced": lambda: (
            _("Your proposal %(number)s is a finalist of %(edition)s", **params),
            _("The Tim Panel Independen chose the proposal “%(title)s” (%(number)s) as a finalist of %(edition)s. "
              "The list is open to public objection until %(until)s WIB; after that the finalists are confirmed "
              "by decree.", **params),
        ),
        "not_finalist": lambda: (
            _("Result of the panel review: %(number)s", **params),
            _("The proposal “%(title)s” (%(number)s) is not among the finalists of %(edition)s. Thank you for "
              "taking part.", **params),
        ),
        "finalist_confirmed": lambda: (
            _("Finalist confirmed: %(number)s", **params),
            _("The proposal “%(title)s” (%(number)s) is confirmed as a finalist of %(edition)s by decree "
              "%(decree)s. The secretariat will schedule its presentation and interview.", **params),
        ),
        "finalist_disqualified": lambda: (
            _("Finalist disqualified: %(number)s", **params),
            _("An objection against the proposal “%(title)s” (%(number)s) was upheld; it no longer takes part in "
              "%(edition)s. Ruling: %(ruling)s", **params),
        ),
        "objection_filed": lambda: (
            _("New objection %(reference)s against %(number)s", **params),
            _("An objection (%(reference)s) was filed against the finalist “%(title)s” (%(number)s). Rule on it "
              "before the objection window closes.", **params),
        ),
        "presentation_scheduled": lambda: (
            _("Presentation of %(number)s: %(when)s WIB", **params),
            _("The presentation and interview of “%(title)s” (%(number)s) is scheduled for %(when)s WIB "
              "(%(minutes)s minutes). Confirm attendance and send the slides and video by %(due)s WIB.", **params),
        ),
        "presentation_confirmed": lambda: (
            _("Presentation confirmed: %(number)s", **params),
            _("%(agency)s confirmed the presentation of “%(title)s” (%(number)s) on %(when)s WIB.", **params),
        ),
        "field_visit_assigned": lambda: (
            _("Field verification: %(number)s", **params),
            _("You are on the field verification team of “%(title)s” (%(number)s), %(agency)s, in %(edition)s. "
              "Record the findings and a score after the visit.", **params),
        ),
        "result_published": lambda: (
            _("Results of %(edition)s: %(number)s", **params),
            _("The results of %(edition)s are published. The proposal “%(title)s” (%(number)s): %(outcome)s.",
              **params),
        ),
    }
    return texts[kind]()


def notify(users: Iterable[User], kind: str, *, link: tuple[str, dict[str, Any]] | None = None,
           **params: Any) -> None:
    """An in-app notification and an email for each person, each in their own language."""
    seen: set[int] = set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        with force_locale(user.locale):
            subject, message = notification_text(kind, params)
        path = path_for(link[0], **link[1]) if link else None
        db.session.add(Notification(user_id=user.id, kind=kind, message=message, link=path))
        queue_email(user, "notification", subject=subject, message=message,
                    url=external_url(link[0], **link[1]) if link else None)
