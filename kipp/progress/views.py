"""Where an edition stands and the secretariat's next step (one action per stage move)."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("progress", __name__)
audience(bp, Role.SECRETARIAT)
