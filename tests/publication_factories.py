"""An edition whose final result is frozen, for the publication's tests.

``winners_edition`` builds on ``tests.selection_factories.finalists_edition``: the finalists are
confirmed by decree; a frozen WINNERS list with its decree number chooses some of them (proposals
in state WINNER, with a winner tier) and leaves the others (FINALIST_ONLY); one confirmed finalist
was disqualified. Beside them stand proposals of other outcomes (failed screening, withdrawn, passed
but not nominated) and an agency whose only proposal never left its draft. The statuses are set
directly (the rounds' services are tested through their own pages); the scores carry figures that
must never appear on a public page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, StageKind
from kipp.extensions import db
from kipp.innovations.kinds import AwardTier
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from tests.factories import AdminLokalFactory, AgencyFactory, UnitFactory, UppFactory
from tests.proposal_factories import ProposalFactory
from tests.selection_factories import RoundsEdition, confirm_finalists, finalists_edition, set_stages

WINNERS_DECREE = "B/45/PP.00.05/2033"
FINALISTS_DECREE = "B/99/PP.00.05/2033"
# Figures on the frozen lists that only the secretariat may see.
SECRET_SCORE = Decimal("87.65")
SECRET_REASON = "Konsensus rahasia panel tentang urutan."

WINNER_TIER = {GroupCode.UMUM: AwardTier.TOP_45, GroupCode.KHUSUS: AwardTier.OUTSTANDING,
               GroupCode.REPLIKASI: AwardTier.TOP_5_REPLIKASI}


@dataclass
class WinnersEdition:
    rounds: RoundsEdition
    winners: list[Proposal]
    finalists_only: list[Proposal]
    disqualified: Proposal
    others: dict[ProposalStatus, Proposal] = field(default_factory=dict)
    draft: Proposal | None = None
    draft_admin: object = None
    winners_list: Shortlist | None = None

    @property
    def edition(self):  # noqa: ANN201
        return self.rounds.edition

    @property
    def secretariat(self):  # noqa: ANN201
        return self.rounds.secretariat


def winners_edition(*, year: int = 2033, umum_winners: int = 2, khusus_winners: int = 1, freeze: bool = True,
                    decree: str | None = WINNERS_DECREE, open_kind: StageKind | None = StageKind.ANNOUNCEMENT,
                    now: dt.datetime | None = None) -> WinnersEdition:
    now = now or utcnow()
    rounds = finalists_edition(umum=5, khusus=2, not_chosen=2, year=year, open_kind=None, now=now)
    confirm_finalists(rounds, decree=FINALISTS_DECREE, now=now)
    rounds.shortlist.decree_date = dt.date(year, 6, 20)
    umum = [p for p in rounds.finalists if p.group.code is GroupCode.UMUM]
    khusus = [p for p in rounds.finalists if p.group.code is GroupCode.KHUSUS]
    disqualified = umum.pop()  # an upheld objection: out of the rounds
    disqualified.status = ProposalStatus.DISQUALIFIED
    winners = umum[:umum_winners] + khusus[:khusus_winners]
    finalists_only = umum[umum_winners:] + khusus[khusus_winners:]
    shortlist = Shortlist(edition_id=rounds.edition.id, kind=ShortlistKind.WINNERS,
                          minutes="Berita acara rapat final (uji).",
                          frozen_at=now if freeze else None, frozen_by_id=rounds.secretariat.id if freeze else None,
                          decree_number=decree, decree_date=dt.date(year, 7, 31) if decree else None)
    db.session.add(shortlist)
    rank = {GroupCode.UMUM: 0, GroupCode.KHUSUS: 0}
    for proposal in winners + finalists_only:
        code = proposal.group.code
        rank[code] += 1
        won = proposal in winners
        shortlist.entries.append(ShortlistEntry(
            proposal_id=proposal.id, group_code=code, rank=rank[code], score=SECRET_SCORE - rank[code],
            components={"scores": {"evaluation": "84.20", "panel": "80.10", "presentation": "88.30", "field": None},
                        "weights": {"evaluation": "30", "panel": "20", "presentation": "50", "field": "0"},
                        "missing": [], "renormalised": False, "eligible": True, "ranked": True},
            cluster=proposal.agency.cluster, is_3t=proposal.agency.is_3t,
            province_code=(proposal.agency.region_code or "")[:2] or None,
            proposed=not won if rank[code] == 1 else won, chosen=won,
            reason=SECRET_REASON if rank[code] == 1 else None,
            tier=WINNER_TIER[code] if won else None))
        if freeze:
            proposal.status = ProposalStatus.WINNER if won else ProposalStatus.FINALIST_ONLY
        else:
            proposal.status = ProposalStatus.PRESENTED
    scene = WinnersEdition(rounds, winners, finalists_only, disqualified, winners_list=shortlist)
    edition = rounds.edition
    agencies = list(rounds.admins)
    # Proposals of the same agencies that ended earlier.
    for n, status in enumerate((ProposalStatus.ADMIN_FAILED, ProposalStatus.WITHDRAWN,
                                ProposalStatus.NOT_NOMINATED)):
        agency_id = agencies[n]
        unit = rounds.upps[agency_id].unit
        scene.others[status] = ProposalFactory(edition=edition, unit=unit, group=edition.groups[0],
                                               category=edition.categories[0], status=status, answered=True,
                                               title=f"Inovasi Tahap Awal {n + 1}")
    # An agency whose only proposal is still a draft: it did not take part.
    agency = AgencyFactory()
    scene.draft_admin = AdminLokalFactory(agency=agency)
    draft_unit = UnitFactory(agency=agency)
    UppFactory(unit=draft_unit)
    scene.draft = ProposalFactory(edition=edition, unit=draft_unit, group=edition.groups[0],
                                  status=ProposalStatus.DRAFT, title="Inovasi Draf Rahasia", answered=True)
    set_stages(edition, now, open_kind=open_kind)
    db.session.flush()
    return scene


def all_participants(scene: WinnersEdition) -> list[Proposal]:
    """Every proposal submitted to the ministry (those the outcome notices are about)."""
    return [*scene.winners, *scene.finalists_only, scene.disqualified, *scene.rounds.not_chosen,
            *scene.others.values()]


@pytest.fixture()
def certificate_folder(app, tmp_path):  # noqa: ANN001, ANN201
    """A fixture for tests that publish: the certificates are written in a folder of the test's own."""
    before = app.config.get("KIPP_CERTIFICATE_PATH")
    app.config["KIPP_CERTIFICATE_PATH"] = str(tmp_path / "certificates")
    yield tmp_path / "certificates"
    app.config["KIPP_CERTIFICATE_PATH"] = before
