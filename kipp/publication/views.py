"""The secretariat's publication: results, certificates, workbook, outcome notices."""

from __future__ import annotations

from flask import Blueprint

from kipp.accounts.roles import Role
from kipp.web import audience

bp = Blueprint("publication", __name__)
audience(bp, Role.SECRETARIAT)
