"""An agency learns its proposal's outcome when it is announced, not when it is decided."""

from __future__ import annotations

import html

import pytest

from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.proposals.models import ProposalEvent
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistKind
from tests.selection_factories import finalists_edition

pytestmark = pytest.mark.integration


def page_of(client, proposal):
    return html.unescape(client.get(f"/proposals/{proposal.id}").get_data(as_text=True))


def test_the_finalist_state_shows_from_the_announcement_and_the_win_from_publication(client, login, db_session):
    rounds = finalists_edition(open_kind=StageKind.PANEL_REVIEW)  # decided, not yet announced
    finalist = rounds.finalists[0]
    db_session.add(ProposalEvent(proposal_id=finalist.id, action="make_finalist", from_status="nominated",
                                 to_status="finalist"))
    db_session.commit()
    login(rounds.admins[finalist.agency_id])
    page = page_of(client, finalist)
    assert "Passed administrative screening" in page
    assert "Finalist" not in page and "Chosen as a finalist" not in page

    rounds.edition.stage(StageKind.PANEL_REVIEW).status = StageStatus.CLOSED
    rounds.edition.stage(StageKind.OBJECTION).status = StageStatus.OPEN
    db_session.commit()
    page = page_of(client, finalist)
    assert "Finalist (objection window)" in page and "Chosen as a finalist by the Tim Panel Independen" in page

    finalist.status = ProposalStatus.WINNER
    winners = Shortlist(edition_id=rounds.edition.id, kind=ShortlistKind.WINNERS, frozen_at=utcnow(),
                        frozen_by_id=rounds.secretariat.id, decree_number="B/45/2033")
    db_session.add(winners)
    db_session.commit()
    page = page_of(client, finalist)
    assert "Confirmed finalist" in page and "Winner" not in page
    winners.published_at, winners.published_by_id = utcnow(), rounds.secretariat.id
    db_session.commit()
    assert "Winner" in page_of(client, finalist)
