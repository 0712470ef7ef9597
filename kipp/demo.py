"""Demo data for `make run`: agencies in several provinces and clusters, every role,
the 2023 edition from the template, and a current edition open for submissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from kipp.accounts import services as accounts
from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies import services as agencies
from kipp.agencies.kinds import AgencyType
from kipp.agencies.models import Agency
from kipp.db import utcnow
from kipp.editions import services as editions
from kipp.editions.kinds import STAGE_ORDER, StageKind
from kipp.editions.models import Edition
from kipp.extensions import db

DEMO_PASSWORD = "kipp-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    name: str
    agency: str | None = None
    unit: str | None = None
    affiliation: str | None = None


AGENCIES: list[tuple[str, AgencyType, str | None, bool, list[str]]] = [
    ("Kementerian Kesehatan", AgencyType.KEMENTERIAN, "31", False,
     ["Direktorat Pelayanan Kesehatan Primer", "RSUP Dr. Sardjito"]),
    ("Badan Pusat Statistik", AgencyType.LEMBAGA, "31", False, ["Direktorat Diseminasi Statistik"]),
    ("Pemerintah Provinsi Sulawesi Utara", AgencyType.PROVINSI, "71", False,
     ["Dinas Kesehatan Provinsi Sulawesi Utara", "Badan Pendapatan Daerah"]),
    ("Pemerintah Kota Manado", AgencyType.KOTA, "71.71", False,
     ["Dinas Kependudukan dan Pencatatan Sipil", "Dinas Penanaman Modal dan PTSP"]),
    ("Pemerintah Kabupaten Banyuwangi", AgencyType.KABUPATEN, "35.10", False,
     ["Dinas Kesehatan", "Mal Pelayanan Publik Banyuwangi"]),
    ("Pemerintah Kabupaten Sumba Barat Daya", AgencyType.KABUPATEN, "53.18", True, ["RSUD Reda Bolo"]),
    ("Pemerintah Kota Medan", AgencyType.KOTA, "12.71", False, ["Dinas Perhubungan"]),
    ("PT Kereta Api Indonesia (Persero)", AgencyType.BUMN, "32", False, ["Daerah Operasi 2 Bandung"]),
    ("Perumda Air Minum Tirtanadi", AgencyType.BUMD, "12", False, ["Cabang Medan Kota"]),
]

LOGINS: list[DemoLogin] = [
    DemoLogin("sekretariat@kipp.demo", Role.SECRETARIAT, "Sekretariat KIPP"),
    DemoLogin("admin.manado@kipp.demo", Role.ADMIN_LOKAL, "Admin Lokal Kota Manado", agency="Pemerintah Kota Manado"),
    DemoLogin("admin.kemenkes@kipp.demo", Role.ADMIN_LOKAL, "Admin Lokal Kemenkes", agency="Kementerian Kesehatan"),
    DemoLogin("admin.banyuwangi@kipp.demo", Role.ADMIN_LOKAL, "Admin Lokal Banyuwangi",
              agency="Pemerintah Kabupaten Banyuwangi"),
    DemoLogin("upp.dukcapil.manado@kipp.demo", Role.UPP, "Operator Disdukcapil Manado",
              agency="Pemerintah Kota Manado", unit="Dinas Kependudukan dan Pencatatan Sipil"),
    DemoLogin("upp.dinkes.banyuwangi@kipp.demo", Role.UPP, "Operator Dinkes Banyuwangi",
              agency="Pemerintah Kabupaten Banyuwangi", unit="Dinas Kesehatan"),
    DemoLogin("evaluator@kipp.demo", Role.EVALUATOR, "Prof. Evaluator Demo", affiliation="Universitas Gadjah Mada"),
    DemoLogin("evaluator.sulut@kipp.demo", Role.EVALUATOR, "Dr. Evaluator Sulut",
              agency="Pemerintah Provinsi Sulawesi Utara"),
    DemoLogin("panelis@kipp.demo", Role.PANELIST, "Panelis Demo", affiliation="Ombudsman Republik Indonesia"),
]

# Days each stage of the current demo edition lasts, from a submission window
# that opened a week before seeding.
DEMO_STAGE_DAYS = {
    StageKind.SUBMISSION: 52, StageKind.SCREENING: 10, StageKind.EVALUATION: 21, StageKind.PANEL_REVIEW: 7,
    StageKind.OBJECTION: 5, StageKind.PRESENTATION: 21, StageKind.FIELD_VERIFICATION: 10, StageKind.FINAL: 7,
    StageKind.ANNOUNCEMENT: 3,
}


def is_seeded() -> bool:
    return db.session.scalar(sa.select(User.id).where(User.email == LOGINS[0].email)) is not None


def seed(now: dt.datetime | None = None) -> list[DemoLogin]:
    """Create the demo data (the caller commits). Refuses to run twice."""
    if is_seeded():
        raise RuntimeError("the demo data is already there")
    now = now or utcnow()
    secretariat = accounts.create_with_password(
        email=LOGINS[0].email, name=LOGINS[0].name, role=Role.SECRETARIAT, password=DEMO_PASSWORD, must_change=False
    )
    by_name: dict[str, Agency] = {}
    units: dict[tuple[str, str], int] = {}
    for name, agency_type, region, is_3t, unit_names in AGENCIES:
        agency = agencies.create_agency(secretariat, name=name, type=agency_type, region_code=region, is_3t=is_3t)
        by_name[name] = agency
        for unit_name in unit_names:
            units[(name, unit_name)] = agencies.create_unit(secretariat, agency, name=unit_name).id
    for login in LOGINS[1:]:
        agency = by_name.get(login.agency) if login.agency else None
        accounts.create_with_password(
            email=login.email, name=login.name, role=login.role, password=DEMO_PASSWORD, must_change=False,
            actor=secretariat, agency_id=agency.id if agency else None,
            unit_id=units[(login.agency, login.unit)] if login.unit and login.agency else None,
            affiliation=login.affiliation,
        )
    past = editions.create_from_template(secretariat, year=2023, name="KIPP 2023")
    current_year = now.astimezone(dt.timezone(dt.timedelta(hours=7))).year + 1
    current = editions.copy_edition(secretariat, past, year=current_year, name=f"KIPP {current_year}")
    _open_submissions(secretariat, current, now)
    return LOGINS


def _open_submissions(actor: User, edition: Edition, now: dt.datetime) -> None:
    """Re-time the current edition so that its submission window is open today."""
    start = (now - dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    stages = {stage.kind: stage for stage in edition.stages}
    for kind in STAGE_ORDER:
        stage = stages.get(kind)
        if stage is None:
            continue
        end = start + dt.timedelta(days=DEMO_STAGE_DAYS[kind])
        editions.update_stage(actor, stage, kind=kind, name_id=stage.name_id, name_en=stage.name_en,
                              opens_at=start, closes_at=end)
        start = end
