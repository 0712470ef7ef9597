"""The default administrative screening checklist: kipp-domain §6's reasons as plain data (a leaf module).

Each item is phrased as the reason an entry fails; an item "passes" when the
reason does not apply. Editions get a copy (``services.ensure_default_checklist``)
and edit, deactivate or reorder it there. Item 7 is marked [U] in the domain
facts (not confirmed as an explicit fail reason), so it is kept but can be
deactivated per edition.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonSpec:
    code: str
    title_id: str
    title_en: str
    guidance_id: str
    guidance_en: str


DEFAULT_REASONS: tuple[ReasonSpec, ...] = (
    ReasonSpec(
        "A1",
        "Usia inovasi kurang dari batas minimal",
        "Innovation younger than the edition's minimum age",
        "Periksa tanggal mulai inovasi dan buktinya (SK, dokumen peluncuran) terhadap usia minimal kelompok "
        "pada edisi ini, dihitung mundur dari penutupan pengajuan.",
        "Check the innovation's start date and its evidence (decree, launch documents) against the group's "
        "minimum age in this edition, counted back from the submission close.",
    ),
    ReasonSpec(
        "A2",
        "Isian atau dokumen tidak lengkap",
        "Incomplete fields or documents",
        "Semua bagian proposal terisi dan semua dokumen wajib terlampir serta dapat dibuka.",
        "Every section is answered and every mandatory document is attached and can be opened.",
    ),
    ReasonSpec(
        "A3",
        "Jawaban asal-asalan",
        "Perfunctory answers",
        "Jawaban tidak menjawab pertanyaan, berulang, diisi sekadarnya, atau disalin dari bagian lain.",
        "Answers that do not answer the question, repeat themselves, are filler, or are copied from another "
        "section.",
    ),
    ReasonSpec(
        "A4",
        "Judul yang sama diajukan lebih dari satu kali",
        "The same title used for more than one proposal",
        "Bandingkan dengan proposal lain pada edisi ini (judul yang sama atau nyaris sama).",
        "Compare with the other proposals of this edition (the same or nearly the same title).",
    ),
    ReasonSpec(
        "A5",
        "Kelompok tidak sesuai atau riwayat penghargaan tidak memenuhi syarat",
        "Wrong group or ineligible award history",
        "Misalnya: peraih Top Inovasi yang mendaftar di kelompok umum, atau Top 99 dua kali.",
        "For example: a past Top winner entering the general group, or an innovation twice in the Top 99.",
    ),
    ReasonSpec(
        "A6",
        "SK inovator, surat pernyataan, atau bukti dukung tidak ada",
        "Missing SK innovator, statement letters or evidence",
        "SK dari pejabat berwenang yang menyebut inovator, surat-surat pernyataan yang diwajibkan, dan bukti "
        "dukung setiap aspek.",
        "The decree of an authorised official naming the innovator, the required statement letters, and the "
        "evidence for each aspect.",
    ),
    ReasonSpec(
        "A7",
        "Melebihi kuota, atau kelompok khusus tanpa undangan",
        "Over quota, or khusus without an invitation",
        "Jumlah proposal instansi pada kelompok ini melebihi kuota, atau proposal kelompok khusus tanpa undangan "
        "Menteri.",
        "The agency has more proposals in this group than its quota, or a khusus proposal without the "
        "Minister's invitation.",
    ),
    ReasonSpec(
        "A8",
        "Tidak sesuai tema atau kategori",
        "Off theme or off category",
        "Inovasi tidak sesuai dengan tema edisi atau kategori yang dipilih.",
        "The innovation does not fit the edition's theme or the chosen category.",
    ),
)
