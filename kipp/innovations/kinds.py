"""Award tiers an innovation can hold (a leaf module)."""

from __future__ import annotations

import enum


class AwardTier(str, enum.Enum):
    TOP_99 = "top99"
    FINALIST_KHUSUS = "finalist_khusus"  # Top 15 of kelompok khusus
    TOP_15_REPLIKASI = "top15_replikasi"
    TOP_45 = "top45"  # Top Inovasi Pelayanan Publik Terpuji (Top 9/25/35/40 in earlier years)
    OUTSTANDING = "outstanding"  # Outstanding Achievement (kelompok khusus winner)
    TOP_5_REPLIKASI = "top5_replikasi"


# The winners' tiers ("Top Terpuji" in the decrees).
WINNER_TIERS = frozenset({AwardTier.TOP_45, AwardTier.OUTSTANDING, AwardTier.TOP_5_REPLIKASI})
# Any tier from the finalists up: what "a past Top innovation" means for replication.
TOP_TIERS = frozenset(AwardTier)

TIER_LABELS = {
    AwardTier.TOP_99: "Top 99",
    AwardTier.FINALIST_KHUSUS: "Finalis kelompok khusus",
    AwardTier.TOP_15_REPLIKASI: "Top 15 replikasi",
    AwardTier.TOP_45: "Top 45 (Top Inovasi Terpuji)",
    AwardTier.OUTSTANDING: "Outstanding Achievement",
    AwardTier.TOP_5_REPLIKASI: "Top 5 replikasi",
}
