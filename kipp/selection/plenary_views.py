"""The panel's plenary: ranking, composition, the decision on the finalists."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("plenary", __name__)
audience(bp, Role.SECRETARIAT, Role.PANELIST)
