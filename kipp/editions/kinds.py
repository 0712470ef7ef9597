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


class StageStatus(str, enum.Enum):
    """Where a stage stands; only the secretariat moves it on (kipp.progress)."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    SKIPPED = "skipped"  # not held this edition (field verification when the edition has none)


class PlacesMode(str, enum.Enum):
    """How a group's nominee places are shared among the agency clusters."""

    PROPORTIONAL = "proportional"  # to the proposals that passed screening
    MANUAL = "manual"  # as the secretariat set them
    NONE = "none"  # the plain ranking
