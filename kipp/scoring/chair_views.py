"""A team chair's consolidation of their team's proposals (being built)."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("scoring_chair", __name__, url_prefix="/score/team")
audience(bp, Role.EVALUATOR, Role.PANELIST)
