"""Scenes for the tests of the three frozen lists (nominees, plenary, final result).

``nominee_scene`` gives an edition whose evaluation is scored by three judges, sheet by sheet
through the scoring service, with a ranking small enough to compute by hand: four kota
proposals, one kabupaten in a 3T region and one kementerian proposal (plus ``extra`` weak kota
proposals), the evaluation closed and the panel review not started. ``panel_scene`` takes it
through the nominee list (built and frozen through the service) to an open panel review scored
by two panelists, one of them the panel's chair. ``final_scene`` gives a final round with stage
totals computed by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, PlacesMode, StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.outbox.dispatch import release_committed
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus
from kipp.scoring import services as scoring
from kipp.scoring.models import ProposalScore, ScoringScheme
from kipp.selection import services
from tests.factories import AgencyFactory, EvaluatorFactory, PanelistFactory, SecretariatFactory, UnitFactory
from tests.proposal_factories import ProposalFactory
from tests.scoring_factories import ScoredStage, fill
from tests.selection_factories import set_stages

# name -> (cluster, each judge's total): the evaluation ranking of the scene.
EVALUATION_PLAN = {
    "K1": ("kota", (92, 92, 92)),
    "K2": ("kota", (75, 95, 100)),  # mean 90, but its judges disagree: unstable at the kota cut
    "K3": ("kota", (88, 88, 88)),
    "B1": ("kabupaten", (86, 86, 86)),  # a 3T region
    "K4": ("kota", (85, 85, 85)),
    "M1": ("kementerian", (60, 60, 60)),
}
AGENCIES = {
    "kota": (AgencyType.KOTA, Cluster.KOTA, "35.78", False),
    "kabupaten": (AgencyType.KABUPATEN, Cluster.KABUPATEN, "53.18", True),
    "kementerian": (AgencyType.KEMENTERIAN, Cluster.KEMENTERIAN, "31", False),
}


@dataclass
class Scene:
    edition: Edition
    secretariat: Any
    proposals: dict[str, Proposal]
    evaluation: ScoredStage
    panel: ScoredStage | None = None
    chair: Any = None
    panelist: Any = None
    extra: list[Proposal] = field(default_factory=list)

    def name_of(self, proposal_id: int) -> str:
        return next(name for name, p in self.proposals.items() if p.id == proposal_id)


def settle(app: Any) -> None:
    """Deliver what the commits queued (each sheet's aggregation, then the stage's ranking)."""
    release_committed(app)
    db.session.expire_all()


def _judges(edition: Edition, stage: StageKind, users: list[Any]) -> list[PoolMember]:
    members = [PoolMember(edition_id=edition.id, stage=stage, user_id=u.id, status=InvitationStatus.ACCEPTED)
               for u in users]
    db.session.add_all(members)
    db.session.flush()
    return members


def _assign(edition: Edition, stage: StageKind, proposals: list[Proposal], members: list[PoolMember]) -> None:
    for proposal in proposals:
        for member in members:
            db.session.add(Assignment(edition_id=edition.id, stage=stage, proposal_id=proposal.id,
                                      member_id=member.id, state=AssignmentState.PUBLISHED, source="test"))
    db.session.flush()


def nominee_scene(app: Any, *, year: int = 2025, extra: int = 0, nominee_count: int = 4) -> Scene:
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=year, name=f"KIPP {year}")
    umum = edition.group(GroupCode.UMUM)
    umum.winner_count, umum.finalist_count, umum.nominee_count = 1, 2, nominee_count
    umum.places_mode, umum.min_3t = PlacesMode.NONE, 0
    agencies = {name: AgencyFactory(type=t, cluster=c, region_code=r, is_3t=is_3t)
                for name, (t, c, r, is_3t) in AGENCIES.items()}
    units = {name: UnitFactory(agency=a) for name, a in agencies.items()}
    proposals = {name: ProposalFactory(edition=edition, unit=units[cluster], group=umum, answered=True,
                                       status=ProposalStatus.ADMIN_PASSED, title=f"Inovasi {name}")
                 for name, (cluster, _totals) in EVALUATION_PLAN.items()}
    fillers = [ProposalFactory(edition=edition, unit=units["kota"], group=umum, answered=True,
                               status=ProposalStatus.ADMIN_PASSED, title=f"Inovasi pengisi {n}")
               for n in range(extra)]
    members = _judges(edition, StageKind.EVALUATION, [EvaluatorFactory() for _ in range(3)])
    _assign(edition, StageKind.EVALUATION, [*proposals.values(), *fillers], members)
    scheme = scoring.create_scheme(None, edition, StageKind.EVALUATION)
    set_stages(edition, utcnow(), open_kind=StageKind.EVALUATION)
    db.session.commit()
    stage = ScoredStage(edition, scheme, [*proposals.values(), *fillers], members)
    for name, (_cluster, totals) in EVALUATION_PLAN.items():
        for member, total in zip(members, totals):
            fill(stage, member, proposals[name], total)
    for n, proposal in enumerate(fillers):
        for member in members:
            fill(stage, member, proposal, 40 + n % 10)
    settle(app)
    close_evaluation(edition)
    db.session.commit()
    return Scene(edition, SecretariatFactory(), proposals, stage, extra=fillers)


def close_evaluation(edition: Edition, now: dt.datetime | None = None) -> None:
    """The evaluation closed, the panel review not started (where the nominee list is built)."""
    set_stages(edition, now or utcnow(), open_kind=StageKind.PANEL_REVIEW)
    edition.stage(StageKind.PANEL_REVIEW).status = StageStatus.PLANNED
    db.session.flush()


# The panel's totals of the four nominees (places by hand: kota 2, kabupaten 1, kementerian 1).
PANEL_PLAN = {"K1": (70, 70), "K2": (90, 90), "B1": (80, 80), "M1": (85, 85)}


def panel_scene(app: Any, *, year: int = 2025, plan: dict[str, tuple[Any, ...]] = PANEL_PLAN,
                revealed: bool = True) -> Scene:
    """Nominees K1, K2, B1, M1 frozen; the panel review open and scored by the chair and a member
    (``plan``: each one's total, or per aspect, or None for a sheet not submitted); consolidation
    opened (``revealed``), as the plenary needs, unless asked otherwise."""
    scene = nominee_scene(app, year=year)
    umum = scene.edition.group(GroupCode.UMUM)
    services.update_nominee_settings(scene.secretariat, umum, nominee_count=4, places_mode=PlacesMode.MANUAL,
                                     cluster_places={"kota": 2, "kabupaten": 1, "kementerian": 1}, min_3t=0)
    services.build_nominees(scene.secretariat, scene.edition)
    services.freeze_nominees(scene.secretariat, scene.edition)
    edition = scene.edition
    set_stages(edition, utcnow(), open_kind=StageKind.PANEL_REVIEW)
    scene.chair, scene.panelist = PanelistFactory(name="Ketua Panel"), PanelistFactory(name="Anggota Panel")
    members = _judges(edition, StageKind.PANEL_REVIEW, [scene.chair, scene.panelist])
    members[0].is_chair = True
    nominated = [scene.proposals[name] for name in PANEL_PLAN]
    _assign(edition, StageKind.PANEL_REVIEW, nominated, members)
    scheme = scoring.create_scheme(None, edition, StageKind.PANEL_REVIEW)
    db.session.commit()
    scene.panel = ScoredStage(edition, scheme, nominated, members)
    for name, totals in plan.items():
        for member, total in zip(members, totals):
            if total is not None:
                fill(scene.panel, member, scene.proposals[name], total)
    if revealed:
        scoring.reveal(None, scheme)
        db.session.commit()
    settle(app)
    return scene


# --- the final round ---------------------------------------------------------------------------------

def ranked_scheme(edition: Edition, stage: StageKind, totals: dict[int, Decimal]) -> ScoringScheme:
    """A stage's scheme whose (fresh) ranking holds ``totals`` (proposal id -> total), as the
    recomputation would have left it."""
    scheme = ScoringScheme(edition_id=edition.id, stage=stage, ranking_stale=False, ranked_at=utcnow())
    db.session.add(scheme)
    db.session.flush()
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    db.session.add_all(ProposalScore(scheme_id=scheme.id, proposal_id=pid, sheets=2, raw_total=total, rank=n)
                       for n, (pid, total) in enumerate(ordered, start=1))
    db.session.flush()
    return scheme

