"""Eligibility of a proposal at submission: the innovation rules plus one title per edition."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.extensions import db
from kipp.innovations import services as innovations
from kipp.proposals.models import Proposal
from kipp.proposals.states import NUMBERED, ProposalStatus


def known_innovation(proposal: Proposal):  # type: ignore[no-untyped-def]
    """The innovation the proposal is about: the one it names, or the agency's one of the same title.

    Matching by title stops a past winner from entering again as a "new" innovation.
    """
    if proposal.innovation is not None:
        return proposal.innovation
    return innovations.find_innovation(proposal.agency_id, proposal.title)


def eligibility_messages(proposal: Proposal, *, now: dt.datetime) -> list[str]:
    closing = innovations.submission_closing_date(proposal.edition)
    messages: list[str] = []
    if closing is not None:
        facts = innovations.eligibility_facts(
            group=proposal.group, closing_date=closing, innovation=known_innovation(proposal),
            start_date=proposal.innovation_start_date, replicated=proposal.replicates,
        )
        messages += [message for _code, message in innovations.eligibility_messages(facts)]
    duplicate = db.session.scalar(
        sa.select(Proposal.number).where(
            Proposal.edition_id == proposal.edition_id,
            Proposal.id != proposal.id,
            Proposal.status.in_([s.value for s in NUMBERED if s is not ProposalStatus.WITHDRAWN]),
            sa.func.lower(sa.func.trim(Proposal.title)) == proposal.title.strip().lower(),
        ).limit(1)
    )
    if duplicate:
        messages.append(_("A proposal with the title “%(title)s” has already been submitted in this edition "
                          "(%(number)s). Each title may be submitted once.", title=proposal.title, number=duplicate))
    return messages
