"""The rubric a new scheme starts with: five bands on the scheme's scale, each aspect's
own name in the description. The secretariat edits them per edition."""

from __future__ import annotations

# Band boundaries as fractions of the scale (0-100: 0-40, 41-60, 61-75, 76-85, 86-100),
# with what each band means, in Indonesian and English.
BANDS = (
    (0.86, 1.00, "Sangat menonjol: {aspect} dijelaskan lengkap, terukur dan didukung bukti yang kuat.",
     "Outstanding: {aspect} is fully explained, measured and backed by strong evidence."),
    (0.76, 0.85, "Baik sekali: {aspect} jelas dan didukung bukti; ada sedikit kekurangan.",
     "Very good: {aspect} is clear and evidenced, with minor gaps."),
    (0.61, 0.75, "Baik: {aspect} cukup jelas, tetapi bukti atau ukurannya belum lengkap.",
     "Good: {aspect} is reasonably clear, but evidence or measures are incomplete."),
    (0.41, 0.60, "Cukup: {aspect} dijelaskan secara umum dengan bukti terbatas.",
     "Fair: {aspect} is described in general terms with little evidence."),
    (0.00, 0.40, "Kurang: {aspect} tidak dijelaskan, tidak relevan atau tanpa bukti.",
     "Weak: {aspect} is missing, off the point or without evidence."),
)


def default_bands(low: int, high: int) -> list[tuple[int, int, str, str]]:
    """The bands on a scale, highest first, covering it without gaps (a short scale
    gets fewer bands): (low, high, description_id, description_en)."""
    span = high - low
    bands: list[tuple[int, int, str, str]] = []
    for start, _end, text_id, text_en in BANDS:
        band_low = low + round(start * span)
        band_high = high if not bands else bands[-1][0] - 1
        if band_low <= band_high:
            bands.append((band_low, band_high, text_id, text_en))
    if bands and bands[-1][0] > low:
        bands[-1] = (low, *bands[-1][1:])
    return bands


# The panel's aspects of the presentation and interview, the same for every group. The national
# rubric is not public (kipp-domain §4 [U]); these are a starting point the secretariat edits.
# (key, title in Indonesian, title in English, weight)
PRESENTATION_ASPECTS = (
    ("kejelasan_presentasi", "Kejelasan presentasi", "Clarity of the presentation", 20),
    ("penguasaan_inovasi", "Penguasaan inovasi dan datanya", "Mastery of the innovation and its data", 30),
    ("jawaban_wawancara", "Jawaban dalam wawancara", "Answers in the interview", 30),
    ("komitmen_keberlanjutan", "Komitmen pimpinan dan keberlanjutan", "Leadership commitment and sustainability",
     20),
)
# Aspects whose weighted mean breaks a tie of presentation totals, in order.
PRESENTATION_TIE_BREAK = "penguasaan_inovasi,jawaban_wawancara"
