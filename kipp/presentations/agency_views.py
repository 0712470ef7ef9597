"""The agency's presentation slot: confirmation and materials."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("agency_presentations", __name__)
audience(bp, Role.ADMIN_LOKAL, Role.UPP)
