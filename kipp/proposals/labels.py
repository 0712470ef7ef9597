"""Words for proposal states, in the current language."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import ngettext

from kipp.proposals.states import Holder, ProposalStatus


def status_label(status: ProposalStatus) -> str:
    return {
        ProposalStatus.DRAFT: _("Draft"),
        ProposalStatus.WITH_ADMIN_LOKAL: _("With the Admin Lokal"),
        ProposalStatus.RETURNED: _("Returned to the unit"),
        ProposalStatus.SUBMITTED: _("Submitted"),
        ProposalStatus.WITHDRAWN: _("Withdrawn"),
        ProposalStatus.NOT_SUBMITTED: _("Not submitted"),
        ProposalStatus.ADMIN_PASSED: _("Passed administrative screening"),
        ProposalStatus.IN_CORRECTION: _("Returned for correction"),
        ProposalStatus.ADMIN_FAILED: _("Failed administrative screening"),
        ProposalStatus.NOMINATED: _("Nominee"),
        ProposalStatus.NOT_NOMINATED: _("Not nominated"),
        ProposalStatus.FINALIST: _("Finalist (objection window)"),
        ProposalStatus.NOT_FINALIST: _("Not a finalist"),
        ProposalStatus.CONFIRMED: _("Confirmed finalist"),
        ProposalStatus.DISQUALIFIED: _("Disqualified"),
        ProposalStatus.PRESENTED: _("Presented"),
        ProposalStatus.NO_SHOW: _("Did not present"),
        ProposalStatus.WINNER: _("Winner"),
        ProposalStatus.FINALIST_ONLY: _("Finalist"),
    }[status]


# Bootstrap colour of each status's badge.
STATUS_COLOURS = {
    ProposalStatus.DRAFT: "secondary",
    ProposalStatus.RETURNED: "warning",
    ProposalStatus.WITH_ADMIN_LOKAL: "info",
    ProposalStatus.SUBMITTED: "success",
    ProposalStatus.WITHDRAWN: "dark",
    ProposalStatus.NOT_SUBMITTED: "danger",
    ProposalStatus.ADMIN_PASSED: "success",
    ProposalStatus.IN_CORRECTION: "warning",
    ProposalStatus.ADMIN_FAILED: "danger",
    ProposalStatus.NOMINATED: "primary",
    ProposalStatus.NOT_NOMINATED: "secondary",
    ProposalStatus.FINALIST: "primary",
    ProposalStatus.NOT_FINALIST: "secondary",
    ProposalStatus.CONFIRMED: "primary",
    ProposalStatus.DISQUALIFIED: "danger",
    ProposalStatus.PRESENTED: "info",
    ProposalStatus.NO_SHOW: "warning",
    ProposalStatus.WINNER: "success",
    ProposalStatus.FINALIST_ONLY: "info",
}


def status_colour(status: ProposalStatus) -> str:
    return STATUS_COLOURS[status]


def holder_label(holder: Holder) -> str:
    return {
        Holder.UPP: _("the unit (UPP)"),
        Holder.ADMIN_LOKAL: _("the Admin Lokal"),
        Holder.SECRETARIAT: _("the secretariat"),
        Holder.NOBODY: _("nobody"),
    }[holder]


def time_left(deadline: dt.datetime, now: dt.datetime) -> str:
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("closed")
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return ngettext("%(num)s day", "%(num)s days", days) + " " + ngettext("%(num)s hour", "%(num)s hours", hours)
    return ngettext("%(num)s hour", "%(num)s hours", hours) + " " + ngettext(
        "%(num)s minute", "%(num)s minutes", (rest % 3600) // 60)


def event_label(action: str) -> str:
    return {
        "created": _("Draft started"),
        "send_to_admin_lokal": _("Sent to the Admin Lokal"),
        "return_to_upp": _("Returned to the unit with comments"),
        "submit": _("Submitted to the ministry"),
        "withdraw": _("Withdrawn"),
        "close_unsubmitted": _("Not submitted when the stage closed"),
        "pass_screening": _("Passed administrative screening"),
        "fail_screening": _("Failed administrative screening"),
        "return_for_correction": _("Returned for correction after screening"),
        "resubmit_correction": _("Corrected and submitted again"),
        "close_correction": _("Correction window closed without resubmission"),
        "nominate": _("Nominated by the Tim Evaluasi"),
        "pass_over_nomination": _("Not nominated"),
        "make_finalist": _("Chosen as a finalist by the Tim Panel Independen"),
        "pass_over_finalist": _("Not chosen as a finalist"),
        "confirm_finalist": _("Confirmed as a finalist by decree"),
        "disqualify": _("Disqualified (an objection was upheld)"),
        "record_presented": _("Presented and interviewed"),
        "record_no_show": _("Did not come to the presentation"),
        "award": _("Awarded"),
        "close_as_finalist": _("Finalist, not among the winners"),
    }.get(action, action)
