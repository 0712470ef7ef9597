"""Where an edition's stages stand, for every module that must know (no changes here).

A stage is PLANNED until the secretariat opens it, OPEN until it closes it (kipp.progress.services),
then CLOSED. The field verification is held only when the edition says so; otherwise it counts
as SKIPPED. A module whose action belongs to a stage calls :func:`require` with the statuses
in which the action makes sense, and the person gets one clear sentence when it does not.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kipp.editions.kinds import STAGE_ORDER, StageKind, StageStatus
from kipp.editions.models import Edition, Stage
from kipp.errors import DomainError
from kipp.i18n import localized

STATUS_LABELS = {
    StageStatus.PLANNED: _l("not started"),
    StageStatus.OPEN: _l("open"),
    StageStatus.CLOSED: _l("closed"),
    StageStatus.SKIPPED: _l("not held"),
}


class StageNotReady(DomainError):
    """An action asked for at a moment its stage does not allow."""


def is_held(edition: Edition, kind: StageKind) -> bool:
    if kind is StageKind.FIELD_VERIFICATION and not edition.field_verification:
        return False
    return edition.stage(kind) is not None


def status_of(edition: Edition, kind: StageKind) -> StageStatus:
    stage = edition.stage(kind)
    if stage is None or not is_held(edition, kind):
        return StageStatus.SKIPPED
    return stage.status


def held_stages(edition: Edition) -> list[Stage]:
    """The edition's stages that are held, in the competition's order."""
    order = {kind: n for n, kind in enumerate(STAGE_ORDER)}
    return sorted((s for s in edition.stages if is_held(edition, s.kind)), key=lambda s: order[s.kind])


def current_stage(edition: Edition) -> Stage | None:
    """The stage the edition is in: the first held stage not closed (None: all done)."""
    return next((s for s in held_stages(edition) if s.status is not StageStatus.CLOSED), None)


def require(edition: Edition, kind: StageKind, *allowed: StageStatus) -> None:
    """Refuse, with a sentence naming the stage and where it stands, unless it is in ``allowed``."""
    status = status_of(edition, kind)
    if status in allowed:
        return
    stage = edition.stage(kind)
    name = localized(stage, "name") if stage is not None else kind.value
    if status is StageStatus.SKIPPED:
        raise StageNotReady(_("This edition does not hold the stage “%(stage)s”.", stage=name), code="stage_not_held")
    wanted = ", ".join(str(STATUS_LABELS[s]) for s in allowed)
    raise StageNotReady(
        _("Not possible now: the stage “%(stage)s” is %(status)s (this needs it %(wanted)s). The edition's progress "
          "page shows what comes next.", stage=name, status=STATUS_LABELS[status], wanted=wanted),
        code="stage_not_ready")
