"""Edition vocabulary: groups and stage kinds (a leaf module)."""

from __future__ import annotations

import enum


class GroupCode(str, enum.Enum):
    UMUM = "umum"
    KHUSUS = "khusus"
    REPLIKASI = "replikasi"


class StageKind(str, enum.Enum):
    """The steps of an edition, in the order KIPP runs them (kipp-domain §1)."""

    SUBMISSION = "submission"
    SCREENING = "screening"
    EVALUATION = "evaluation"
    PANEL_REVIEW = "panel_review"
    OBJECTION = "objection"
    PRESENTATION = "presentation"
    FIELD_VERIFICATION = "field_verification"
    FINAL = "final"
    ANNOUNCEMENT = "announcement"


STAGE_ORDER = list(StageKind)
