"""A scored stage for tests: an edition from the 2023 template, screened proposals, accepted
evaluators, published assignments and the stage's scoring scheme; and sheets filled through
the service as the judges would."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus
from kipp.scoring import services
from kipp.scoring.models import ScoreSheet, ScoringScheme
from tests.factories import AgencyFactory, EvaluatorFactory, UnitFactory
from tests.proposal_factories import ProposalFactory


@dataclass
class ScoredStage:
    edition: Edition
    scheme: ScoringScheme
    proposals: list[Proposal]
    members: list[PoolMember]

    def judges_of(self, proposal: Proposal) -> list[PoolMember]:
        pairs = services.published_pairs(self.scheme, [proposal.id])
        return [m for m in self.members if (proposal.id, m.id) in pairs]

    def proposals_of(self, member: PoolMember) -> list[Proposal]:
        pairs = services.published_pairs(self.scheme)
        return [p for p in self.proposals if (p.id, member.id) in pairs]


def scored_stage(*, proposals: int = 4, judges: int = 4, per_proposal: int = 3, year: int = 2032,
                 stage: StageKind = StageKind.EVALUATION) -> ScoredStage:
    """Proposals assigned round-robin (``per_proposal`` judges each), published, with a scheme."""
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=year, name=f"KIPP {year}")
    agencies = [AgencyFactory(type=AgencyType.KOTA, cluster=Cluster.KOTA, region_code="35.78"),
                AgencyFactory(type=AgencyType.KABUPATEN, cluster=Cluster.KABUPATEN, region_code="35.10")]
    items = [ProposalFactory(edition=edition, unit=UnitFactory(agency=agencies[i % 2]),
                             status=ProposalStatus.ADMIN_PASSED, group=edition.groups[0],
                             category=edition.categories[i % 3], answered=True)
             for i in range(proposals)]
    members = []
    for i in range(judges):
        user = EvaluatorFactory()
        member = PoolMember(edition_id=edition.id, stage=stage, user_id=user.id, status=InvitationStatus.ACCEPTED)
        db.session.add(member)
        members.append(member)
    db.session.flush()
    for n, proposal in enumerate(items):
        for j in range(per_proposal):
            member = members[(n * per_proposal + j) % judges]
            db.session.add(Assignment(edition_id=edition.id, stage=stage, proposal_id=proposal.id,
                                      member_id=member.id, state=AssignmentState.PUBLISHED, source="test"))
    db.session.flush()
    scheme = services.create_scheme(None, edition, stage)
    db.session.commit()
    return ScoredStage(edition, scheme, items, members)


def aspect_keys(scheme: ScoringScheme, proposal: Proposal) -> list[str]:
    return [a.key for a in scheme.aspects_of(proposal.group.code)]


def fill(stage: ScoredStage, member: PoolMember, proposal: Proposal, score: int | dict[str, int], *,
         submit: bool = True, comment: str = "Dinilai.") -> ScoreSheet:
    """The judge's sheet, every aspect ``score`` (or per key), saved or submitted through the service."""
    keys = aspect_keys(stage.scheme, proposal)
    values = {k: str(score[k] if isinstance(score, dict) else score) for k in keys}
    existing = db.session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == stage.scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id == member.id))
    sheet = services.save_sheet(member.user, stage.scheme, member, proposal,
                                version=existing.version if existing else 0, values=values,
                                comments={k: comment for k in keys}, submit=submit)
    db.session.commit()
    return sheet


def expected_total(stage: ScoredStage, proposal: Proposal, scores: dict[str, int]) -> Decimal:
    """Hand formula: sum(score x weight) / sum(weights), to two places."""
    aspects = stage.scheme.aspects_of(proposal.group.code)
    total = sum(Decimal(scores[a.key]) * a.weight for a in aspects) / sum(a.weight for a in aspects)
    return total.quantize(Decimal("0.01"))
