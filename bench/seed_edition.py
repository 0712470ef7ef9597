"""Seed a benchmark database: one edition, 600 agencies, ~1,200 units and 3,500 proposals.

    .venv/bin/python bench/seed_edition.py [--agencies 600] [--proposals 3500] [--seed 2027]

The database named by KIPP_BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench) is dropped and created
again, built by the real migrations, and loaded with the regions. The rows go
in with SQLAlchemy core bulk inserts. The status mix follows KIPP 2022
(kipp-domain §1: of 3,478 registered, 2,454 submitted, 612 left at the UPP and
412 at the Admin Lokal); every proposal has an answer for every section of its
group, one to three SDGs, and submitted ones have their files.

The secretariat login for bench/proposals_overview.py is printed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench"
BENCH_EMAIL = "sekretariat@kipp.bench"
BENCH_PASSWORD = "bench-Sandi-2027"
YEAR = 2027

# Share of each status (KIPP 2022: 70.6% submitted, 17.6% at the UPP, 11.8% at the Admin Lokal).
STATUS_MIX = {
    "submitted": 0.675,
    "draft": 0.145,
    "returned": 0.03,
    "with_admin_lokal": 0.11,
    "withdrawn": 0.01,
    "not_submitted": 0.03,
}
KHUSUS_SHARE = 0.06  # 2023: 144 of 2,135 passed screening were khusus

CENTRAL = {  # cluster -> (type, count); no region
    "kementerian": ("kementerian", 34),
    "lembaga": ("lembaga", 40),
    "bumn": ("bumn", 40),
}
BUMD_COUNT = 28
KOTA_COUNT = 90

UNIT_NAMES = [
    "Dinas Kesehatan", "Dinas Pendidikan", "Dinas Kependudukan dan Pencatatan Sipil", "RSUD",
    "Dinas Penanaman Modal dan PTSP", "Dinas Sosial", "Dinas Perhubungan", "Badan Pendapatan Daerah",
    "Dinas Komunikasi dan Informatika", "Dinas Pertanian", "Puskesmas Kecamatan", "Dinas Lingkungan Hidup",
    "Direktorat Pelayanan", "Biro Organisasi", "Pusat Data dan Informasi", "Kantor Pelayanan",
]
TITLE_WORDS = [
    "Sistem", "Layanan", "Inovasi", "Digital", "Terpadu", "Keliling", "Sehat", "Cerdas", "Desa", "Kota",
    "Pintar", "Mandiri", "Cepat", "Ramah", "Anak", "Ibu", "Lansia", "Petani", "Nelayan", "UMKM", "Sekolah",
    "Gizi", "Stunting", "Air", "Bersih", "Sampah", "Pajak", "Izin", "Online", "Jemput", "Bola", "Kesehatan",
    "Pendidikan", "Adminduk", "Terintegrasi", "Inklusif", "Disabilitas", "Bencana", "Tanggap", "Aplikasi",
]
VOCABULARY = (
    "pelayanan publik masyarakat inovasi program kegiatan pemerintah daerah data warga layanan dinas "
    "peningkatan kualitas akses waktu biaya proses prosedur digital aplikasi sistem informasi petugas "
    "kecamatan desa kelurahan kesehatan pendidikan ekonomi dampak manfaat hasil capaian target indikator "
    "tahun sebelum sesudah meningkat menurun persen jumlah penerima sasaran kelompok rentan perempuan anak "
    "lansia disabilitas kolaborasi pemangku kepentingan anggaran regulasi keberlanjutan replikasi adaptasi "
    "evaluasi monitoring survei kepuasan pengaduan transparansi akuntabilitas efektif efisien partisipasi"
).split()


def _words(rng: random.Random, n: int) -> str:
    if n <= 0:
        return ""
    text = rng.choices(VOCABULARY, k=n)
    # Sentences of about fifteen words, so the printed proposal looks like prose.
    for i in range(0, n, 15):
        text[i] = text[i].capitalize()
    return " ".join(w + ("." if (i + 1) % 15 == 0 or i == n - 1 else "") for i, w in enumerate(text))


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    return start + (end - start) * rng.random()


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *, returning: bool = False,
            batch: int = 2000) -> list[int]:
    ids: list[int] = []
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        if returning:
            result = conn.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk)
            ids.extend(result.scalars())
        else:
            conn.execute(sa.insert(table), chunk)
    return ids


def seed(url: str, *, agencies: int = 600, proposals: int = 3500, seed_value: int = YEAR) -> dict[str, Any]:
    from tests.conftest import build_app, create_database, migrate_and_load

    from kipp.accounts.models import User
    from kipp.accounts.passwords import hash_password
    from kipp.accounts.roles import Role
    from kipp.agencies.models import Agency, Region, Unit
    from kipp.db import utcnow
    from kipp.editions.kinds import GroupCode, StageKind
    from kipp.editions.services import create_from_template
    from kipp.extensions import db
    from kipp.proposals.models import Proposal, ProposalAnswer, ProposalFile, proposal_sdgs

    rng = random.Random(seed_value)
    started = time.perf_counter()
    admin_url, name = url.rsplit("/", 1)
    create_database(admin_url + "/postgres", name)
    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    migrate_and_load(app)
    print(f"database {name} created and migrated in {time.perf_counter() - started:.1f} s")

    with app.app_context():
        edition = create_from_template(None, year=YEAR, name=f"KIPP {YEAR}")
        secretariat = User(email=BENCH_EMAIL, name="Sekretariat Bench", role=Role.SECRETARIAT,
                           password_hash=hash_password(BENCH_PASSWORD), locale="id")
        db.session.add(secretariat)
        db.session.commit()
        groups = {g.code: g for g in edition.groups}
        sections = {g.id: list(g.sections) for g in edition.groups}
        categories = [c.id for c in edition.categories]
        documents = {g.id: [d for d in edition.documents if d.applies_to(g.code)] for g in edition.groups}
        stage = edition.stage(StageKind.SUBMISSION)
        opens, closes = stage.opens_at, stage.closes_at
        regions = db.session.execute(sa.select(Region.code, Region.name, Region.level)).all()
        edition_id, secretariat_id = edition.id, secretariat.id
        group_ids = {code: g.id for code, g in groups.items()}

    provinces = sorted((c, n) for c, n, level in regions if level == 1)
    kabupaten = [(c, n) for c, n, level in regions if level == 2 and n.startswith("Kabupaten")]
    kota = [(c, n) for c, n, level in regions if level == 2 and n.startswith("Kota")]
    rng.shuffle(kabupaten)
    rng.shuffle(kota)

    now = utcnow()
    agency_rows: list[dict[str, Any]] = []

    def agency(name: str, type_: str, cluster: str, region: str | None, is_3t: bool = False) -> None:
        agency_rows.append({"name": name, "type": type_, "cluster": cluster, "region_code": region,
                            "is_3t": is_3t, "active": True, "created_at": now, "updated_at": now})

    for cluster, (type_, count) in CENTRAL.items():
        label = {"kementerian": "Kementerian", "lembaga": "Badan", "bumn": "PT Persero"}[cluster]
        for i in range(count):
            agency(f"{label} Bench {i + 1:02d}", type_, "bumn_bumd" if type_ == "bumn" else cluster, None)
    for code, region_name in provinces:
        agency(f"Pemerintah Provinsi {region_name}", "provinsi", "provinsi", code)
    fixed = len(agency_rows) + KOTA_COUNT + BUMD_COUNT
    for code, region_name in kabupaten[: max(0, agencies - fixed)]:
        agency(f"Pemerintah {region_name}", "kabupaten", "kabupaten", code, is_3t=rng.random() < 0.2)
    for code, region_name in kota[:KOTA_COUNT]:
        agency(f"Pemerintah {region_name}", "kota", "kota", code)
    for i, (code, region_name) in enumerate(rng.sample(kabupaten + kota, BUMD_COUNT)):
        agency(f"PDAM Bench {i + 1:02d} {region_name}", "bumd", "bumn_bumd", code)
    agency_rows = agency_rows[:agencies]

    with app.app_context():
        conn = db.session.connection()
        agency_ids = _insert(conn, Agency.__table__, agency_rows, returning=True)
        unit_rows, unit_agency = [], []
        for agency_id in agency_ids:
            for unit_name in rng.sample(UNIT_NAMES, rng.choice((1, 2, 2, 3))):
                unit_rows.append({"agency_id": agency_id, "name": unit_name, "active": True,
                                  "created_at": now, "updated_at": now})
                unit_agency.append(agency_id)
        unit_ids = _insert(conn, Unit.__table__, unit_rows, returning=True)
        admin_rows = [{"email": f"admin{a}@kipp.bench", "name": f"Admin Lokal {a}", "role": Role.ADMIN_LOKAL,
                       "agency_id": a, "locale": "id", "active": True, "must_change_password": False,
                       "created_at": now, "updated_at": now} for a in agency_ids]
        admin_ids = dict(zip(agency_ids, _insert(conn, User.__table__, admin_rows, returning=True)))
        upp_rows = [{"email": f"upp{u}@kipp.bench", "name": f"UPP {u}", "role": Role.UPP, "agency_id": a,
                     "unit_id": u, "locale": "id", "active": True, "must_change_password": False,
                     "created_at": now, "updated_at": now}
                    for u, a in zip(unit_ids, unit_agency)]
        upp_ids = dict(zip(unit_ids, _insert(conn, User.__table__, upp_rows, returning=True)))

        statuses = rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()), k=proposals)
        proposal_rows = []
        for i, status in enumerate(statuses):
            pick = rng.randrange(len(unit_ids))
            unit_id, agency_id = unit_ids[pick], unit_agency[pick]
            group_code = GroupCode.KHUSUS if rng.random() < KHUSUS_SHARE else GroupCode.UMUM
            created = _between(rng, opens, opens + (closes - opens) * 0.8)
            submitted = _between(rng, created, closes) if status in ("submitted", "withdrawn") else None
            updated = submitted or _between(rng, created, closes)
            application = rng.random() < 0.4
            title = " ".join(rng.sample(TITLE_WORDS, rng.randint(2, 5)))
            proposal_rows.append({
                "edition_id": edition_id, "group_id": group_ids[group_code], "category_id": rng.choice(categories),
                "agency_id": agency_id, "unit_id": unit_id, "title": f"{title} {i + 1}",
                "innovation_start_date": dt.date(rng.randint(2015, YEAR - 2), rng.randint(1, 12), rng.randint(1, 28)),
                "video_url": f"https://www.youtube.com/watch?v=bench{i:05d}" if status != "draft" else None,
                "is_application": application,
                "spbe": {"nama_aplikasi": f"Aplikasi {title}", "terintegrasi_spbe": rng.random() < 0.5,
                         "alamat": f"https://aplikasi{i}.go.id"} if application else None,
                "status": status, "number": None, "submitted_at": submitted,
                "submitted_by_id": admin_ids[agency_id] if submitted else None,
                "withdrawn_reason": "Ditarik atas permintaan instansi." if status == "withdrawn" else None,
                "created_by_id": upp_ids[unit_id], "version": 1, "created_at": created, "updated_at": updated,
            })
        # Numbers in the order of submission, as the submission service hands them out.
        numbered = sorted((r for r in proposal_rows if r["submitted_at"]), key=lambda r: r["submitted_at"])
        for n, row in enumerate(numbered, start=1):
            row["number"] = f"KIPP-{YEAR}-{n:05d}"
        proposal_ids = _insert(conn, Proposal.__table__, proposal_rows, returning=True)

        sdg_rows, answer_rows, file_rows = [], [], []
        for pid, row in zip(proposal_ids, proposal_rows):
            for number in rng.sample(range(1, 18), rng.randint(1, 3)):
                sdg_rows.append({"proposal_id": pid, "sdg_number": number})
            finished = row["status"] not in ("draft", "returned")
            for section in sections[row["group_id"]]:
                limit = section.word_limit or 300
                share = rng.uniform(0.6, 1.02) if finished else rng.choice((0, 0, rng.uniform(0.1, 0.9)))
                text = _words(rng, int(limit * share))
                answer_rows.append({"proposal_id": pid, "section_id": section.id, "text": text,
                                    "word_count": len(text.split()), "updated_at": row["updated_at"]})
            if row["submitted_at"]:
                for doc in documents[row["group_id"]]:
                    file_rows.append(_file(rng, pid, row, document_id=doc.id, name=f"{doc.key}.pdf"))
                for section in rng.sample(sections[row["group_id"]][1:], 2):
                    file_rows.append(_file(rng, pid, row, section_id=section.id, name=f"bukti-{section.key}.pdf"))
        _insert(conn, proposal_sdgs, sdg_rows)
        _insert(conn, ProposalAnswer.__table__, answer_rows)
        _insert(conn, ProposalFile.__table__, file_rows)
        db.session.commit()
        counts = dict(db.session.execute(
            sa.select(Proposal.status, sa.func.count()).group_by(Proposal.status)
        ).all())
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()
    summary = {
        "edition_id": edition_id, "secretariat_id": secretariat_id, "agencies": len(agency_ids),
        "units": len(unit_ids), "proposals": len(proposal_ids), "answers": len(answer_rows),
        "files": len(file_rows), "sdg_links": len(sdg_rows),
        "by_status": {s.value: n for s, n in counts.items()}, "seconds": round(time.perf_counter() - started, 1),
    }
    return summary


def _file(rng: random.Random, pid: int, row: dict[str, Any], *, name: str, document_id: int | None = None,
          section_id: int | None = None) -> dict[str, Any]:
    return {
        "proposal_id": pid, "section_id": section_id, "document_id": document_id, "original_name": name,
        "stored_name": f"{rng.getrandbits(128):032x}", "content_type": "application/pdf",
        "size_bytes": rng.randint(80_000, 4_000_000), "sha256": f"{rng.getrandbits(256):064x}",
        "uploaded_by_id": row["created_by_id"], "uploaded_at": row["created_at"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=600)
    parser.add_argument("--proposals", type=int, default=3500)
    parser.add_argument("--seed", type=int, default=YEAR)
    args = parser.parse_args()
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    summary = seed(url, agencies=args.agencies, proposals=args.proposals, seed_value=args.seed)
    for key, value in summary.items():
        print(f"{key:>15}: {value}")
    print(f"secretariat login: {BENCH_EMAIL} / {BENCH_PASSWORD}")


if __name__ == "__main__":
    main()
