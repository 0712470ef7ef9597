"""Editions part-way through the selection rounds, for tests of one round at a time.

``finalists_edition`` gives an edition whose panel has frozen its finalists (proposals in
state FINALIST, a frozen FINALISTS list), with every stage before the objection window
closed; ``confirm_finalists`` moves them on as the end of the objection window does. The
rounds' own services are tested through their pages; these only set the scene.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.db import utcnow
from kipp.editions.kinds import STAGE_ORDER, GroupCode, StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.innovations.kinds import AwardTier
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from tests.factories import AdminLokalFactory, AgencyFactory, SecretariatFactory, UnitFactory, UppFactory
from tests.proposal_factories import ProposalFactory

# Agencies of every cluster, with a region each (a kabupaten in 3T).
AGENCY_KINDS = [
    (AgencyType.KEMENTERIAN, Cluster.KEMENTERIAN, "31", False),
    (AgencyType.LEMBAGA, Cluster.LEMBAGA, "31", False),
    (AgencyType.PROVINSI, Cluster.PROVINSI, "71", False),
    (AgencyType.KABUPATEN, Cluster.KABUPATEN, "53.18", True),
    (AgencyType.KOTA, Cluster.KOTA, "35.78", False),
    (AgencyType.BUMN, Cluster.BUMN_BUMD, "32", False),
]

FINALIST_TIER = {GroupCode.UMUM: AwardTier.TOP_99, GroupCode.KHUSUS: AwardTier.FINALIST_KHUSUS,
                 GroupCode.REPLIKASI: AwardTier.TOP_15_REPLIKASI}


@dataclass
class RoundsEdition:
    edition: Edition
    secretariat: object
    finalists: list[Proposal]
    not_chosen: list[Proposal]
    admins: dict[int, object] = field(default_factory=dict)  # agency id -> its Admin Lokal
    upps: dict[int, object] = field(default_factory=dict)  # agency id -> a UPP of it
    shortlist: Shortlist | None = None


def set_stages(edition: Edition, now: dt.datetime, *, open_kind: StageKind | None) -> None:
    """Every stage before ``open_kind`` closed, ``open_kind`` open, later ones planned; the
    schedule moved so that the open stage's window holds ``now``."""
    before = True
    for kind in STAGE_ORDER:
        stage = edition.stage(kind)
        if stage is None:
            continue
        if kind is open_kind:
            before = False
            stage.status, stage.opened_at = StageStatus.OPEN, now
            stage.opens_at, stage.closes_at = now - dt.timedelta(days=1), now + dt.timedelta(days=4)
        elif before:
            stage.status, stage.opened_at, stage.closed_at = StageStatus.CLOSED, now, now
        else:
            stage.status = StageStatus.PLANNED
    db.session.flush()


def finalists_edition(*, umum: int = 6, khusus: int = 2, not_chosen: int = 2, year: int = 2033,
                      open_kind: StageKind | None = StageKind.OBJECTION,
                      now: dt.datetime | None = None) -> RoundsEdition:
    """An edition from the 2023 template with ``umum`` + ``khusus`` finalists chosen and frozen
    (and ``not_chosen`` umum nominees the panel passed over), the stages up to ``open_kind``."""
    from kipp.editions.services import create_from_template

    now = now or utcnow()
    edition = create_from_template(None, year=year, name=f"KIPP {year}")
    secretariat = SecretariatFactory()
    groups = {g.code: g for g in edition.groups}
    result = RoundsEdition(edition, secretariat, [], [])
    agencies = []
    for agency_type, cluster, region, is_3t in AGENCY_KINDS:
        agency = AgencyFactory(type=agency_type, cluster=cluster, region_code=region, is_3t=is_3t)
        agencies.append(agency)
        result.admins[agency.id] = AdminLokalFactory(agency=agency)
    units = {a.id: UnitFactory(agency=a) for a in agencies}
    for agency in agencies:
        result.upps[agency.id] = UppFactory(unit=units[agency.id])
    shortlist = Shortlist(edition_id=edition.id, kind=ShortlistKind.FINALISTS, frozen_at=now,
                          frozen_by_id=secretariat.id, minutes="Berita acara sidang pleno (uji).")
    db.session.add(shortlist)
    plan = ([(GroupCode.UMUM, True)] * umum + [(GroupCode.KHUSUS, True)] * khusus
            + [(GroupCode.UMUM, False)] * not_chosen)
    rank = {GroupCode.UMUM: 0, GroupCode.KHUSUS: 0}
    for n, (code, chosen) in enumerate(plan):
        agency = agencies[n % len(agencies)]
        proposal = ProposalFactory(edition=edition, unit=units[agency.id], group=groups[code],
                                   category=edition.categories[n % len(edition.categories)], answered=True,
                                   status=ProposalStatus.FINALIST if chosen else ProposalStatus.NOT_FINALIST,
                                   title=f"Inovasi Finalis {n + 1}" if chosen else f"Inovasi Nominasi {n + 1}")
        rank[code] += 1
        shortlist.entries.append(ShortlistEntry(
            proposal_id=proposal.id, group_code=code, rank=rank[code], score=Decimal(90 - n),
            cluster=agency.cluster, is_3t=agency.is_3t, province_code=agency.region_code[:2],
            proposed=chosen, chosen=chosen, tier=FINALIST_TIER[code] if chosen else None))
        (result.finalists if chosen else result.not_chosen).append(proposal)
    result.shortlist = shortlist
    set_stages(edition, now, open_kind=open_kind)
    db.session.flush()
    return result


def confirm_finalists(rounds: RoundsEdition, *, decree: str = "B/99/PP.00.05/2033",
                      now: dt.datetime | None = None) -> None:
    """The finalists confirmed by decree after the objection window, as its close does."""
    now = now or utcnow()
    for proposal in rounds.finalists:
        proposal.status = ProposalStatus.CONFIRMED
    rounds.shortlist.confirmed_at, rounds.shortlist.confirmed_by_id = now, rounds.secretariat.id
    rounds.shortlist.decree_number = decree
    db.session.flush()
