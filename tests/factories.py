"""factory_boy factories; each builds a valid row and nothing else."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from kipp.accounts.models import User
from kipp.accounts.passwords import hash_password
from kipp.accounts.roles import Role
from kipp.agencies.kinds import AgencyType, Cluster
from kipp.agencies.models import Agency, Unit
from kipp.extensions import db
from tests.conftest import TEST_PASSWORD

_TEST_HASH = hash_password(TEST_PASSWORD)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class AgencyFactory(_Base):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Pemerintah Kota Uji {n}")
    type = AgencyType.KOTA
    cluster = Cluster.KOTA
    region_code = "71.71"  # Kota Manado


class UnitFactory(_Base):
    class Meta:
        model = Unit

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Dinas Uji {n}")


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.go.id")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.SECRETARIAT
    password_hash = _TEST_HASH
    # Tests read messages in English; Bahasa Indonesia, the default, has tests of its own.
    locale = "en"


class SecretariatFactory(UserFactory):
    role = Role.SECRETARIAT


class AdminLokalFactory(UserFactory):
    role = Role.ADMIN_LOKAL
    agency = factory.SubFactory(AgencyFactory)


class UppFactory(UserFactory):
    role = Role.UPP
    unit = factory.SubFactory(UnitFactory)
    agency = factory.SelfAttribute("unit.agency")


class EvaluatorFactory(UserFactory):
    role = Role.EVALUATOR
    affiliation = "Universitas Uji"


class PanelistFactory(UserFactory):
    role = Role.PANELIST
    affiliation = "Ombudsman RI"
