"""The default edition template: KIPP 2023, as plain data (a leaf module).

Sources are the tags of kipp-domain.md. Sourced: the umum aspects and weights
(§3, R12), tier sizes (§1), the 24-month minimum age (§2), the 2021 quota and
categories (§2, §3), the 2023 dates named in §1. Marked [U] below: values the
sources do not give, chosen to be plausible and meant to be edited per edition.

Times are wall-clock WIB (Asia/Jakarta), naive on purpose: shifting a template
to another year keeps "23:59 WIB" at 23:59 WIB. The services convert to UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kipp.editions.kinds import GroupCode, StageKind


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title_id: str
    title_en: str
    weight: Decimal
    word_limit: int | None
    evidence_required: bool
    guidance_id: str
    guidance_en: str


@dataclass(frozen=True)
class GroupSpec:
    code: GroupCode
    name_id: str
    name_en: str
    min_age_months: int
    quota_per_agency: int | None
    by_invitation: bool
    nominee_count: int
    finalist_count: int
    winner_count: int
    winner_title: str
    sections: tuple[SectionSpec, ...]


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class DocumentSpec:
    key: str
    name_id: str
    name_en: str
    group_codes: tuple[GroupCode, ...]  # empty: every group
    mandatory: bool


@dataclass(frozen=True)
class StageSpec:
    kind: StageKind
    name_id: str
    name_en: str
    opens_at: dt.datetime  # naive, WIB
    closes_at: dt.datetime  # naive, WIB


@dataclass(frozen=True)
class EditionTemplate:
    year: int
    name: str
    theme: str | None
    legal_basis: str | None
    groups: tuple[GroupSpec, ...]
    categories: tuple[CategorySpec, ...]
    documents: tuple[DocumentSpec, ...]
    stages: tuple[StageSpec, ...]


def _wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute)


# --- Sections ---------------------------------------------------------------

RINGKASAN = SectionSpec(
    "ringkasan", "Ringkasan", "Summary", Decimal("0"), 200, False,
    "Gambaran singkat inovasi: masalah yang diatasi, solusinya, dan hasil utamanya.",
    "A short overview of the innovation: the problem it tackles, the solution and the main results.",
)
LATAR_BELAKANG = SectionSpec(
    "latar_belakang", "Latar Belakang dan Tujuan", "Background and Objectives", Decimal("10"), 300, True,
    "Masalah yang melatarbelakangi inovasi, data kondisi sebelum inovasi, dan tujuan yang ingin dicapai.",
    "The problem behind the innovation, data on the situation before it, and what it sets out to achieve.",
)
KEBARUAN = SectionSpec(
    "kebaruan", "Kebaruan/Nilai Tambah", "Novelty/Added Value", Decimal("15"), 200, True,
    "Apa yang baru atau berbeda dibandingkan layanan sebelumnya atau layanan serupa, dan nilai tambahnya.",
    "What is new or different from the earlier service or similar services, and the value it adds.",
)
IMPLEMENTASI = SectionSpec(
    "implementasi", "Implementasi Inovasi", "Implementation", Decimal("5"), 200, True,
    "Bagaimana inovasi dijalankan: tahapan, waktu mulai berjalan, dan pihak yang terlibat.",
    "How the innovation is carried out: its steps, when it started running and who is involved.",
)
SIGNIFIKANSI = SectionSpec(
    "signifikansi", "Signifikansi", "Significance", Decimal("30"), 600, True,
    "Dampak dan manfaat yang terukur bagi penerima layanan, dengan data sebelum dan sesudah inovasi.",
    "Measurable impact and benefits for the people served, with data from before and after the innovation.",
)
ADAPTABILITAS = SectionSpec(
    "adaptabilitas", "Adaptabilitas", "Adaptability", Decimal("20"), 300, True,
    "Sejauh mana inovasi telah atau dapat direplikasi dan diadaptasi oleh unit atau instansi lain.",
    "How far the innovation has been, or can be, replicated and adapted by other units or agencies.",
)
SUMBER_DAYA = SectionSpec(
    "sumber_daya", "Sumber Daya", "Resources", Decimal("5"), 200, True,
    "Sumber daya manusia, anggaran, dan sarana prasarana yang digunakan.",
    "The people, budget and facilities the innovation uses.",
)
KEBERLANJUTAN = SectionSpec(
    "keberlanjutan", "Strategi Keberlanjutan", "Sustainability Strategy", Decimal("15"), 500, True,
    "Strategi institusional, sosial, dan manajerial agar inovasi tetap berjalan dan berkembang.",
    "The institutional, social and managerial strategies that keep the innovation running and growing.",
)

UMUM_SECTIONS = (
    RINGKASAN, LATAR_BELAKANG, KEBARUAN, IMPLEMENTASI, SIGNIFIKANSI, ADAPTABILITAS, SUMBER_DAYA, KEBERLANJUTAN,
)


def _reweighted(section: SectionSpec, weight: str) -> SectionSpec:
    return SectionSpec(section.key, section.title_id, section.title_en, Decimal(weight), section.word_limit,
                       section.evidence_required, section.guidance_id, section.guidance_en)


# Kelompok khusus [U]: the main aspects plus the extras of the NTT clone
# (Pembaruan 200, Penguatan Keberlanjutan 300, Evaluasi 300; its second
# "Adaptabilitas" is the main one). The weights are not sourced; they keep
# the umum emphasis and give the extras 20 points, summing to 100.
PEMBARUAN = SectionSpec(
    "pembaruan", "Pembaruan", "Updates Since the Award", Decimal("10"), 200, True,
    "Pembaruan yang dilakukan sejak inovasi meraih penghargaan Top Inovasi.",
    "What has been improved since the innovation won its Top Innovation award.",
)
PENGUATAN_KEBERLANJUTAN = SectionSpec(
    "penguatan_keberlanjutan", "Penguatan Keberlanjutan", "Strengthened Sustainability", Decimal("5"), 300, True,
    "Langkah yang memperkuat keberlanjutan inovasi setelah penghargaan, termasuk regulasi dan anggaran.",
    "Steps that made the innovation more sustainable after the award, including regulation and budget.",
)
EVALUASI = SectionSpec(
    "evaluasi", "Evaluasi", "Evaluation", Decimal("5"), 300, True,
    "Hasil evaluasi dan pemantauan inovasi, serta pelajaran yang diperoleh.",
    "The results of evaluating and monitoring the innovation, and the lessons learned.",
)

KHUSUS_SECTIONS = (
    RINGKASAN,
    _reweighted(LATAR_BELAKANG, "10"),
    _reweighted(KEBARUAN, "10"),
    PEMBARUAN,
    _reweighted(IMPLEMENTASI, "5"),
    _reweighted(SIGNIFIKANSI, "25"),
    _reweighted(ADAPTABILITAS, "15"),
    _reweighted(SUMBER_DAYA, "5"),
    _reweighted(KEBERLANJUTAN, "10"),
    PENGUATAN_KEBERLANJUTAN,
    EVALUASI,
)

# --- Groups -------------------------------------------------------------------

UMUM = GroupSpec(
    code=GroupCode.UMUM,
    name_id="Kelompok Umum",
    name_en="General group",
    min_age_months=24,  # 2 years (2021, 2022)
    quota_per_agency=10,  # last sourced value (2021); 2022-2025 [U]
    by_invitation=False,
    nominee_count=198,  # 2023: 198 umum nominees
    finalist_count=99,
    winner_count=45,
    winner_title="Top 45 Inovasi Pelayanan Publik Terpuji",
    sections=UMUM_SECTIONS,
)

KHUSUS = GroupSpec(
    code=GroupCode.KHUSUS,
    name_id="Kelompok Khusus",
    name_en="Special group",
    min_age_months=24,
    quota_per_agency=None,  # by the Minister's invitation, no quota
    by_invitation=True,
    nominee_count=30,  # 2023: 30 khusus nominees
    finalist_count=15,
    winner_count=5,
    winner_title="Outstanding Achievement of Public Service Innovation",
    sections=KHUSUS_SECTIONS,
)

# --- Categories (2021 list of ten; the exact wording is [U]) ------------------

CATEGORIES = (
    CategorySpec("kemiskinan", "Penanggulangan Kemiskinan", "Poverty Reduction"),
    CategorySpec("pendidikan", "Pendidikan", "Education"),
    CategorySpec("kesehatan", "Kesehatan", "Health"),
    CategorySpec("pangan", "Ketahanan Pangan", "Food Security"),
    CategorySpec("ekonomi_kerja", "Pertumbuhan Ekonomi dan Lapangan Kerja", "Economic Growth and Jobs"),
    CategorySpec("pemberdayaan", "Pemberdayaan Masyarakat", "Community Empowerment"),
    CategorySpec("responsif_gender", "Pelayanan Publik Responsif Gender", "Gender-Responsive Public Service"),
    CategorySpec("lingkungan", "Lingkungan Hidup", "Environment"),
    CategorySpec("tata_kelola", "Tata Kelola Pemerintahan yang Efektif", "Effective Governance"),
    CategorySpec("penegakan_hukum", "Penegakan Hukum", "Law Enforcement"),
)

# --- Required documents (§2; the invitation letter is [U]) --------------------

DOCUMENTS = (
    DocumentSpec("sk_inovator", "SK Inovator (penetapan inovator oleh pejabat berwenang)",
                 "Innovator decree (SK) naming the innovator or team", (), True),
    DocumentSpec("pernyataan_identitas", "Surat Pernyataan Identitas Inovator",
                 "Statement of the innovator's identity", (), True),
    DocumentSpec("pernyataan_implementasi", "Surat Pernyataan Implementasi Inovasi",
                 "Statement that the innovation has been implemented", (), True),
    DocumentSpec("surat_undangan", "Surat Undangan Menteri PANRB",
                 "Invitation letter from the Minister of PANRB", (GroupCode.KHUSUS,), True),
)

# --- Stages (2023, WIB) ---------------------------------------------------------

STAGES = (
    # Launch date [U]; deadline extended from 2 to 6 May 2023 (R9).
    StageSpec(StageKind.SUBMISSION, "Pengajuan proposal", "Proposal submission",
              _wib(2023, 2, 27), _wib(2023, 5, 6, 23, 59)),
    StageSpec(StageKind.SCREENING, "Seleksi administrasi", "Administrative screening",
              _wib(2023, 5, 8), _wib(2023, 5, 19, 23, 59)),  # [U]
    # TE consolidation plenary on 9 June.
    StageSpec(StageKind.EVALUATION, "Penilaian proposal oleh Tim Evaluasi", "Proposal evaluation (Evaluation Team)",
              _wib(2023, 5, 22), _wib(2023, 6, 9, 23, 59)),
    # TPI plenary on 15 June.
    StageSpec(StageKind.PANEL_REVIEW, "Penilaian Tim Panel Independen dan sidang pleno",
              "Independent Panel review and plenary", _wib(2023, 6, 12), _wib(2023, 6, 15, 23, 59)),
    # About five calendar days of public objections.
    StageSpec(StageKind.OBJECTION, "Uji publik dan masa sanggah", "Public test and objection period",
              _wib(2023, 6, 16), _wib(2023, 6, 20, 23, 59)),
    StageSpec(StageKind.PRESENTATION, "Presentasi dan wawancara", "Presentation and interview",
              _wib(2023, 6, 26), _wib(2023, 7, 17, 23, 59)),
    # Not mentioned 2021-2023; an optional window [U].
    StageSpec(StageKind.FIELD_VERIFICATION, "Verifikasi lapangan (opsional)", "Field verification (optional)",
              _wib(2023, 7, 18), _wib(2023, 7, 21, 23, 59)),
    # Recap and TPI agreement, before the end-of-July DID deadline [U].
    StageSpec(StageKind.FINAL, "Rekapitulasi dan penetapan Top Inovasi", "Score recap and final decision",
              _wib(2023, 7, 22), _wib(2023, 7, 30, 23, 59)),
    # Results 31 July; award ceremony 21 November.
    StageSpec(StageKind.ANNOUNCEMENT, "Pengumuman dan penganugerahan", "Announcement and awards",
              _wib(2023, 7, 31), _wib(2023, 11, 21, 23, 59)),
)

TEMPLATE_2023 = EditionTemplate(
    year=2023,
    name="Kompetisi Inovasi Pelayanan Publik 2023",
    theme=None,
    legal_basis="Peraturan Menteri PANRB Nomor 7 Tahun 2021; Pedoman Menteri PANRB Nomor 3 Tahun 2023",
    groups=(UMUM, KHUSUS),
    categories=CATEGORIES,
    documents=DOCUMENTS,
    stages=STAGES,
)
