"""Public pages of an edition, without login: its published announcements (kipp-domain §6, §9 'Public')."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.editions.queries import edition_of_year
from kipp.screening import services

bp = Blueprint("public", __name__, url_prefix="/public")


def _edition(year: int) -> Edition:
    edition = edition_of_year(year)
    if edition is None:
        abort(404)
    return edition


@bp.route("/<int:year>/")
def edition(year: int) -> Any:
    chosen = _edition(year)
    return render_template("public/edition.html", edition=chosen,
                           announcements=services.published_announcements(chosen, now=utcnow()))


@bp.route("/<int:year>/announcements/<int:announcement_id>")
def announcement(year: int, announcement_id: int) -> Any:
    chosen = _edition(year)
    found = services.published_announcement(chosen, announcement_id, now=utcnow())
    if found is None:
        abort(404)
    return render_template("public/announcement.html", edition=chosen, announcement=found)
