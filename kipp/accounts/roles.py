"""The five kinds of people kipp serves (a leaf module: imports nothing of kipp)."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    SECRETARIAT = "secretariat"
    ADMIN_LOKAL = "admin_lokal"
    UPP = "upp"
    EVALUATOR = "evaluator"
    PANELIST = "panelist"

    @property
    def belongs_to_agency(self) -> bool:
        return self in (Role.ADMIN_LOKAL, Role.UPP)

    @property
    def is_judge(self) -> bool:
        return self in (Role.EVALUATOR, Role.PANELIST)


# Lazy translations would import flask_babel here; the labels are looked up
# through kipp.i18n.role_label instead so this module stays a leaf.
ROLE_LABELS = {
    Role.SECRETARIAT: "Secretariat",
    Role.ADMIN_LOKAL: "Admin Lokal",
    Role.UPP: "Innovation unit (UPP)",
    Role.EVALUATOR: "Evaluator (Tim Evaluasi)",
    Role.PANELIST: "Panelist (Tim Panel Independen)",
}
