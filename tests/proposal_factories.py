"""factory_boy factories for proposals, their answers and files.

``ProposalFactory()`` builds a draft in the newest edition (one is created
from the 2023 template when there is none), for a fresh agency and unit, by
that unit's UPP. A status from the submission on (kipp.proposals.states.NUMBERED) gets a number and
submission time; ``ProposalFactory(answered=True)`` also answers every
section of its group.
"""

from __future__ import annotations

import datetime as dt
import itertools

import factory
import sqlalchemy as sa

from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal, ProposalAnswer, ProposalFile
from kipp.proposals.states import ProposalStatus
from tests.factories import UnitFactory, UppFactory, _Base

from kipp.proposals.states import NUMBERED  # noqa: E402  numbered once submitted
_numbers = itertools.count(1)


def newest_edition() -> Edition:
    edition = db.session.scalar(sa.select(Edition).order_by(Edition.year.desc()).limit(1))
    if edition is None:
        from kipp.editions.services import create_from_template

        edition = create_from_template(None, year=2027, name="KIPP 2027")
    return edition


def words(n: int, word: str = "kata") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


class ProposalFactory(_Base):
    class Meta:
        model = Proposal

    edition = factory.LazyFunction(newest_edition)
    group = factory.LazyAttribute(lambda o: o.edition.groups[0])
    category = factory.LazyAttribute(lambda o: o.edition.categories[0])
    unit = factory.SubFactory(UnitFactory)
    agency = factory.SelfAttribute("unit.agency")
    created_by = factory.SubFactory(UppFactory, unit=factory.SelfAttribute("..unit"))
    title = factory.Sequence(lambda n: f"Inovasi Layanan Uji {n}")
    innovation_start_date = dt.date(2023, 1, 15)
    status = ProposalStatus.DRAFT
    number = factory.LazyAttribute(
        lambda o: f"KIPP-{o.edition.year}-{next(_numbers):05d}" if o.status in NUMBERED else None
    )
    submitted_at = factory.LazyAttribute(lambda o: utcnow() if o.status in NUMBERED else None)
    withdrawn_reason = factory.LazyAttribute(
        lambda o: "Ditarik oleh instansi." if o.status is ProposalStatus.WITHDRAWN else None
    )

    @factory.post_generation
    def answered(obj: Proposal, create: bool, extracted: object, **kwargs: object) -> None:
        """``answered=True``: an answer for every section of the group, within its word limit."""
        if not (create and extracted):
            return
        for position, section in enumerate(obj.group.sections):
            ProposalAnswerFactory(proposal=obj, section=section,
                                  text=words(min(section.word_limit or 50, 20 + 10 * position)))


class ProposalAnswerFactory(_Base):
    class Meta:
        model = ProposalAnswer

    proposal = factory.SubFactory(ProposalFactory)
    section = factory.LazyAttribute(lambda o: o.proposal.group.sections[0])
    text = factory.LazyFunction(lambda: words(30))
    word_count = factory.LazyAttribute(lambda o: len(o.text.split()))


class ProposalFileFactory(_Base):
    class Meta:
        model = ProposalFile

    proposal = factory.SubFactory(ProposalFactory)
    document = factory.LazyAttribute(lambda o: o.proposal.edition.documents[0])
    section = None
    original_name = factory.Sequence(lambda n: f"sk-inovator-{n}.pdf")
    stored_name = factory.Sequence(lambda n: f"stored-{n:08d}.bin")
    content_type = "application/pdf"
    size_bytes = 245_760
    sha256 = "0" * 64
    uploaded_by_id = factory.SelfAttribute("proposal.created_by_id")
