"""Demo data for `make run`: agencies in several provinces and clusters, every role,
the 2023 edition from the template, and a current edition open for submissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kipp.accounts import services as accounts
from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies import services as agencies
from kipp.agencies.kinds import AgencyType
from kipp.agencies.models import Agency
from kipp.db import utcnow
from kipp.editions import services as editions
from kipp.editions.kinds import STAGE_ORDER, GroupCode, StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import PoolMember
from kipp.innovations import services as innovations
from kipp.innovations.kinds import AwardTier

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
    DemoLogin("evaluator.ui@kipp.demo", Role.EVALUATOR, "Dr. Evaluator UI", affiliation="Universitas Indonesia"),
    DemoLogin("evaluator.unhas@kipp.demo", Role.EVALUATOR, "Dr. Evaluator Unhas", affiliation="Universitas Hasanuddin"),
    DemoLogin("panelis@kipp.demo", Role.PANELIST, "Panelis Demo", affiliation="Ombudsman Republik Indonesia"),
    DemoLogin("panelis.kasn@kipp.demo", Role.PANELIST, "Panelis KASN", affiliation="Komisi Aparatur Sipil Negara"),
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
    _past_results(secretariat, by_name, units, current)
    _proposals(by_name, units, current, now)
    _judging(secretariat, current)
    _scoring_season(secretariat, past, by_name, units, now)
    _rounds_season(secretariat, by_name, units, now)
    _stand(past, now, open_kind=StageKind.EVALUATION)
    _stand(current, now, open_kind=StageKind.SUBMISSION)
    return LOGINS


def _stand(edition: Edition, now: dt.datetime, *, open_kind: StageKind) -> None:
    """Where a demo edition stands: the stages before ``open_kind`` closed, it open, the rest not started."""
    from kipp.editions.kinds import StageStatus

    reached = False
    for kind in STAGE_ORDER:
        stage = edition.stage(kind)
        if stage is None:
            continue
        if kind is open_kind:
            stage.status, stage.opened_at, reached = StageStatus.OPEN, min(stage.opens_at, now), True
        elif not reached:
            stage.status, stage.opened_at = StageStatus.CLOSED, stage.opens_at
            stage.closed_at = min(stage.closes_at, now)


def _judging(actor: User, edition: Edition) -> None:
    """The screening checklist and an evaluation pool whose evaluators have accepted, with expertise."""
    from kipp.judging import pools
    from kipp.screening import services as screening

    screening.ensure_default_checklist(actor, edition)
    categories = [c.id for c in edition.categories]
    evaluators = [login for login in LOGINS if login.role is Role.EVALUATOR]
    for n, login in enumerate(evaluators):
        member = pools.invite_to_pool(actor, edition, StageKind.EVALUATION, email=login.email, name=login.name,
                                      role=Role.EVALUATOR, affiliation=login.affiliation)
        person = db.session.scalar(sa.select(User).where(User.email == login.email))
        pools.respond(person, member, True, expertise=[categories[n % len(categories)],
                                                       categories[(n + 3) % len(categories)]])
    panelist = next(login for login in LOGINS if login.role is Role.PANELIST)
    pools.invite_to_pool(actor, edition, StageKind.PANEL_REVIEW, email=panelist.email, name=panelist.name,
                         role=Role.PANELIST)


# A scoring stage under way in KIPP 2023 (a replay for training): twelve screened proposals,
# assigned optimally to the four evaluators and published; three of them have scored
# (one harsh, one lenient), Dr. Evaluator UI has not begun: log in as them to play it.
SEASON_2023 = [
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Sehat Bersama Posyandu Remaja"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "Akta Online Kelurahan"),
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Rumah Gizi Desa"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "KTP Keliling Pulau"),
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Ambulans Desa Terpadu"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "Layanan Dokumen Lansia"),
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Puskesmas Ramah Disabilitas"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "Antrian Daring Dukcapil"),
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Tanggap Stunting Terpadu"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "Sahabat Disabilitas Dukcapil"),
    ("Pemerintah Kabupaten Banyuwangi", "Dinas Kesehatan", "Obat Antar Rumah"),
    ("Pemerintah Kota Manado", "Dinas Kependudukan dan Pencatatan Sipil", "Kartu Identitas Anak Sekolah"),
]
# How each evaluator who has already scored tends to score (added to a proposal's merit).
JUDGE_BIAS = {"evaluator@kipp.demo": 0, "evaluator.sulut@kipp.demo": -12, "evaluator.unhas@kipp.demo": 8}


def _scoring_season(actor: User, edition: Edition, by_name: dict[str, Agency], units: dict[tuple[str, str], int],
                    now: dt.datetime) -> None:
    from kipp.proposals.models import Proposal, ProposalAnswer
    from kipp.proposals.states import ProposalStatus
    from kipp.scoring import services as scoring

    umum = next(g for g in edition.groups if g.code is GroupCode.UMUM)
    upps = {u.unit_id: u for u in db.session.scalars(sa.select(User).where(User.role == Role.UPP))}
    submitted_at = dt.datetime(2023, 5, 5, 3, 0, tzinfo=dt.timezone.utc)
    merit = {}
    for n, (agency_name, unit_name, title) in enumerate(SEASON_2023):
        unit_id = units[(agency_name, unit_name)]
        proposal = Proposal(edition_id=edition.id, group_id=umum.id, category_id=edition.categories[n % 4].id,
                            agency_id=by_name[agency_name].id, unit_id=unit_id, created_by_id=upps[unit_id].id,
                            title=title, innovation_start_date=dt.date(2020, 1 + n % 12, 1),
                            video_url="https://www.youtube.com/watch?v=kipp-demo", is_application=False,
                            status=ProposalStatus.ADMIN_PASSED, submitted_at=submitted_at,
                            number=f"2023-U-demo-{n}",  # numbered from its id below, as submission does
                            submitted_by_id=actor.id)
        db.session.add(proposal)
        db.session.flush()
        proposal.number = f"2023-U-{proposal.id:05d}"
        proposal.answers = [ProposalAnswer(section_id=s.id, text=f"{title}: {s.title_id.lower()} — jawaban contoh "
                                           f"yang diringkas untuk demo.", word_count=8) for s in umum.sections]
        merit[proposal.id] = 62 + (n * 7) % 30
    _evaluators_assigned(actor, edition, fields=4)
    scheme = scoring.create_scheme(actor, edition, StageKind.EVALUATION)
    scoring.update_settings(actor, scheme, deadline=now + dt.timedelta(days=5), passing_grade=Decimal("75"),
                            disagreement_threshold=Decimal("5"))
    aspects = scheme.aspects_of(GroupCode.UMUM)
    for email, bias in JUDGE_BIAS.items():
        person = db.session.scalar(sa.select(User).where(User.email == email))
        member = db.session.scalar(sa.select(PoolMember).where(
            PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.EVALUATION,
            PoolMember.user_id == person.id))
        for proposal_id, _member_id in sorted(p for p in scoring.published_pairs(scheme) if p[1] == member.id):
            proposal = db.session.get(Proposal, proposal_id)
            values = {a.key: str(max(0, min(100, merit[proposal_id] + bias + (i * 5) % 11 - 5)))
                      for i, a in enumerate(aspects)}
            scoring.save_sheet(person, scheme, member, proposal, version=0, values=values,
                               comments={a.key: "Cukup jelas; bukti terbatas." for a in aspects}, submit=True,
                               now=now - dt.timedelta(days=2 - (proposal_id % 3)))


# A whole season to play through the selection rounds (KIPP 2022, a scaled-down replay): proposals
# from every cluster and both groups, screened and fully scored by the four evaluators, the
# evaluation stage still open. Tier sizes are scaled down so that a person can play every round
# in the browser: 8 umum nominees, 5 finalists, 3 winners; 3 khusus nominees, 2 finalists, 1 winner.
ROUNDS_TITLES = [
    "Layanan Kesehatan Bergerak", "Klinik Digital Terpadu", "Statistik Desa Terbuka", "Data Kemiskinan Satu Pintu",
    "Puskesmas Keliling Kepulauan", "Pajak Daerah Dalam Genggaman", "Dukcapil Jemput Bola", "Izin Usaha Sehari Jadi",
    "Posyandu Remaja Banyuwangi", "Sekolah Siaga Bencana", "Ambulans Laut Sumba", "Bidan Desa Terhubung",
    "Trayek Angkot Pintar", "Tiket Kereta Ramah Lansia", "Air Bersih Tepat Waktu", "Aduan Pelanggan Sehari Selesai",
    "Rekam Medis Elektronik Rujukan", "Sensus Ekonomi Daring", "Beasiswa Anak Nelayan", "Akta Lahir Dari Rumah Sakit",
    "Perizinan Bangunan Terbuka", "Pasar Rakyat Digital", "Kader Gizi Desa", "Sekolah Inklusif Sumba",
    "Halte Ramah Disabilitas", "Stasiun Tanpa Hambatan", "Meteran Air Pintar", "Layanan Lansia Terpadu",
    "Konsultasi Hukum Gratis", "Satu Data Bencana",
]
KHUSUS_TITLES = ["Smart Kampung Lanjutan", "Mal Pelayanan Publik Generasi Dua", "Kartu Sehat Keluarga Lanjutan",
                 "Dukcapil Online Plus", "Klinik Apung Nusantara", "Antrean Rumah Sakit Terpadu"]
ROUNDS_TIERS = {GroupCode.UMUM: (8, 5, 3), GroupCode.KHUSUS: (3, 2, 1)}


def _rounds_season(actor: User, by_name: dict[str, Agency], units: dict[tuple[str, str], int],
                   now: dt.datetime) -> None:
    from kipp.innovations.models import Innovation
    from kipp.judging import pools
    from kipp.proposals.models import Proposal, ProposalAnswer
    from kipp.proposals.states import ProposalStatus
    from kipp.scoring import services as scoring

    edition = editions.create_from_template(actor, year=2022, name="KIPP 2022")
    edition.theme = "Replay latihan: semua putaran seleksi, dari penilaian TE sampai pengumuman."
    start = now - dt.timedelta(days=60)
    for kind in STAGE_ORDER:
        stage = edition.stage(kind)
        if stage is None:
            continue
        if kind in (StageKind.SUBMISSION, StageKind.SCREENING):
            opens, closes = start, start + dt.timedelta(days=20)
            start = closes
        else:
            # The later rounds' windows start now, so that each can be opened when the play reaches it.
            opens, closes = now - dt.timedelta(hours=1), now + dt.timedelta(days=DEMO_STAGE_DAYS[kind] + 14)
        editions.update_stage(actor, stage, kind=kind, name_id=stage.name_id, name_en=stage.name_en,
                              opens_at=opens, closes_at=closes)
    for group in edition.groups:
        group.nominee_count, group.finalist_count, group.winner_count = ROUNDS_TIERS.get(group.code, (0, 0, 0))
        group.min_3t = 1 if group.code is GroupCode.UMUM else 0
    groups = {g.code: g for g in edition.groups}
    agency_units = [(name, unit_names[0]) for name, _type, _region, _is_3t, unit_names in AGENCIES]
    submitted_at = edition.stage(StageKind.SUBMISSION).closes_at - dt.timedelta(days=1)
    plan = [(GroupCode.UMUM, t) for t in ROUNDS_TITLES] + [(GroupCode.KHUSUS, t) for t in KHUSUS_TITLES]
    merit: dict[int, int] = {}
    for n, (code, title) in enumerate(plan):
        agency_name, unit_name = agency_units[n % len(agency_units)]
        agency, unit_id = by_name[agency_name], units[(agency_name, unit_name)]
        group = groups[code]
        innovation = Innovation(agency_id=agency.id, unit_id=unit_id, title=title,
                                start_date=dt.date(2018 + n % 3, 1 + n % 12, 1))
        db.session.add(innovation)
        db.session.flush()
        proposal = Proposal(edition_id=edition.id, group_id=group.id, category_id=edition.categories[n % 5].id,
                            agency_id=agency.id, unit_id=unit_id, created_by_id=actor.id, title=title,
                            innovation_id=innovation.id, innovation_start_date=innovation.start_date,
                            video_url="https://www.youtube.com/watch?v=kipp-demo", is_application=False,
                            status=ProposalStatus.ADMIN_PASSED, submitted_at=submitted_at,
                            number=f"2022-demo-{n}", submitted_by_id=actor.id)
        db.session.add(proposal)
        db.session.flush()
        proposal.number = f"2022-{'U' if code is GroupCode.UMUM else 'K'}-{proposal.id:05d}"
        proposal.answers = [ProposalAnswer(
            section_id=s.id, word_count=12,
            text=(f"{title}: layanan yang memangkas waktu tunggu warga dan dapat ditiru daerah lain."
                  if s.key == "ringkasan" else f"{title}: {s.title_id.lower()} — jawaban contoh untuk replay."))
            for s in group.sections]
        merit[proposal.id] = 58 + (n * 11) % 37
    for n, login in enumerate(login for login in LOGINS if login.role is Role.PANELIST):
        person = db.session.scalar(sa.select(User).where(User.email == login.email))
        for kind in (StageKind.PANEL_REVIEW, StageKind.PRESENTATION):
            member = pools.invite_to_pool(actor, edition, kind, email=login.email, name=login.name,
                                          role=Role.PANELIST, affiliation=login.affiliation)
            pools.respond(person, member, True)
            member.is_chair = kind is StageKind.PANEL_REVIEW and n == 0
    _evaluators_assigned(actor, edition, fields=5)
    scheme = scoring.create_scheme(actor, edition, StageKind.EVALUATION)
    scoring.update_settings(actor, scheme, passing_grade=Decimal("65"), disagreement_threshold=Decimal("8"))
    members = {m.id: m for m in db.session.scalars(sa.select(PoolMember).where(
        PoolMember.edition_id == edition.id, PoolMember.stage == StageKind.EVALUATION))}
    biases = {0: 0, 1: -6, 2: 4, 3: 2}
    for n, (proposal_id, member_id) in enumerate(sorted(scoring.published_pairs(scheme))):
        proposal = db.session.get(Proposal, proposal_id)
        member = members[member_id]
        bias = biases[sorted(members).index(member_id) % 4]
        aspects = scheme.aspects_of(proposal.group.code)
        values = {a.key: str(max(0, min(100, merit[proposal_id] + bias + (i * 3 + n) % 7 - 3)))
                  for i, a in enumerate(aspects)}
        scoring.save_sheet(member.user, scheme, member, proposal, version=0, values=values,
                           comments={a.key: "Dinilai untuk replay." for a in aspects}, submit=True,
                           now=now - dt.timedelta(days=3))
    _stand(edition, now, open_kind=StageKind.EVALUATION)


def _evaluators_assigned(actor: User, edition: Edition, *, fields: int) -> None:
    """The four demo evaluators accept the evaluation pool (each expert in one of the first ``fields``
    categories) and the optimal assignment, two evaluators per proposal, is solved and published."""
    from kipp.assignment import services as assignment
    from kipp.judging import pools
    from kipp.judging.models import AssignmentRun, RunStatus

    categories = [c.id for c in edition.categories]
    for n, login in enumerate(login for login in LOGINS if login.role is Role.EVALUATOR):
        member = pools.invite_to_pool(actor, edition, StageKind.EVALUATION, email=login.email, name=login.name,
                                      role=Role.EVALUATOR, affiliation=login.affiliation)
        person = db.session.scalar(sa.select(User).where(User.email == login.email))
        pools.respond(person, member, True, expertise=[categories[n % fields]])
    edition.reviewers_per_proposal = 2
    run = AssignmentRun(edition_id=edition.id, stage=StageKind.EVALUATION, params={"k": 2}, requested_by_id=actor.id)
    db.session.add(run)
    db.session.flush()
    assignment.solve_run(0, run_id=run.id)
    if run.status is not RunStatus.DONE:
        raise RuntimeError(f"the demo assignment did not solve: {run.result}")
    assignment.publish(actor, edition, StageKind.EVALUATION)


# Past results, so that eligibility has a history to check from the first day.
PAST_RESULTS = [
    ("Pemerintah Kabupaten Banyuwangi", "Mal Pelayanan Publik Banyuwangi", dt.date(2016, 4, 1),
     [(2018, AwardTier.TOP_99), (2018, AwardTier.TOP_45)]),
    ("Pemerintah Kabupaten Banyuwangi", "Smart Kampung", dt.date(2015, 1, 5), [(2021, AwardTier.TOP_99)]),
    ("Pemerintah Kota Manado", "Manado Smart City Dukcapil", dt.date(2019, 8, 17), [(2022, AwardTier.TOP_99)]),
]


def _past_results(actor: User, by_name: dict[str, Agency], units: dict[tuple[str, str], int],
                  current: Edition) -> None:
    for agency_name, title, started, awards in PAST_RESULTS:
        innovation = innovations.create_innovation(actor, agency=by_name[agency_name], title=title,
                                                   start_date=started)
        for year, tier in awards:
            innovations.add_award(actor, innovation, year=year, tier=tier, source="demo")
        if any(tier is AwardTier.TOP_45 for _year, tier in awards):
            innovations.invite_khusus(actor, current, innovation)


def _proposals(by_name: dict[str, Agency], units: dict[tuple[str, str], int], edition: Edition,
               now: dt.datetime) -> None:
    """A draft, one with its Admin Lokal, and one submitted, made the way agencies make them."""
    from kipp.proposals import services as proposals

    people = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.like("%@kipp.demo")))}
    umum = next(g for g in edition.groups if g.code is GroupCode.UMUM)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    def draft(upp_email: str, title: str, *, complete: bool) -> Any:
        upp = people[upp_email]
        proposal = proposals.start_draft(upp, edition=edition, group=umum, now=now)
        answers = {s.id: f"{title}: jawaban contoh untuk bagian {s.title_id}." for s in umum.sections}
        proposals.save_draft(upp, proposal, version=proposal.version, now=now, answers=answers,
                             sdg_numbers=[3, 16], fields={
                                 "title": title, "category_id": edition.categories[0].id,
                                 "innovation_start_date": dt.date(2020, 2, 1),
                                 "video_url": "https://www.youtube.com/watch?v=kipp-demo", "is_application": False})
        if complete:
            for section in umum.sections:
                if section.evidence_required:
                    proposals.attach_file(upp, proposal, filename=f"bukti-{section.key}.pdf", data=pdf,
                                          section_id=section.id, now=now)
            for document in edition.documents:
                if document.applies_to(umum.code):
                    proposals.attach_file(upp, proposal, filename=f"{document.key}.pdf", data=pdf,
                                          document_id=document.id, now=now)
        return proposal

    draft("upp.dukcapil.manado@kipp.demo", "Dukcapil Jemput Bola Lansia", complete=False)
    # A small season for the secretariat to screen: submitted proposals from two agencies.
    for n, title in enumerate(["Kartu Sehat Desa", "Layanan Akta Kelahiran Sekolah", "Sistem Antrean Puskesmas",
                               "Klinik Gizi Keliling", "Ambulans Laut Pulau"]):
        upp_email = "upp.dinkes.banyuwangi@kipp.demo" if n % 2 == 0 else "upp.dukcapil.manado@kipp.demo"
        admin_email = "admin.banyuwangi@kipp.demo" if n % 2 == 0 else "admin.manado@kipp.demo"
        seasonal = draft(upp_email, title, complete=True)
        proposals.send_to_admin_lokal(people[upp_email], seasonal, now=now)
        proposals.submit(people[admin_email], seasonal, now=now)
    waiting = draft("upp.dinkes.banyuwangi@kipp.demo", "Ambulans Desa Siaga", complete=True)
    proposals.send_to_admin_lokal(people["upp.dinkes.banyuwangi@kipp.demo"], waiting, now=now)
    submitted = draft("upp.dinkes.banyuwangi@kipp.demo", "Posyandu Digital Banyuwangi", complete=True)
    proposals.send_to_admin_lokal(people["upp.dinkes.banyuwangi@kipp.demo"], submitted, now=now)
    proposals.submit(people["admin.banyuwangi@kipp.demo"], submitted, now=now)


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
