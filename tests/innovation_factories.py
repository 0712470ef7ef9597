"""factory_boy factories for innovations and their award history."""

from __future__ import annotations

import datetime as dt

import factory

from kipp.innovations.kinds import AwardTier
from kipp.innovations.models import Award, Innovation
from tests.factories import AgencyFactory, _Base


class InnovationFactory(_Base):
    class Meta:
        model = Innovation

    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Inovasi Uji {n}")
    start_date = dt.date(2018, 1, 1)


class AwardFactory(_Base):
    class Meta:
        model = Award

    innovation = factory.SubFactory(InnovationFactory)
    year = 2019
    tier = AwardTier.TOP_99
    source = "import"
