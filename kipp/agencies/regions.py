"""Loading Indonesia's provinces and kabupaten/kota from the package's reference data."""

from __future__ import annotations

import csv
from importlib import resources

import sqlalchemy as sa

from kipp.agencies.models import Region
from kipp.extensions import db

DATA_FILE = "wilayah_provinsi_kabkota.csv"


def read_reference_regions() -> list[dict[str, object]]:
    """Rows of the shipped CSV (source and licence in agencies/data/ATTRIBUTION.md)."""
    text = resources.files("kipp.agencies").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        code = row["kode"].strip()
        level = int(row["tingkat"])
        rows.append(
            {"code": code, "name": row["nama"].strip(), "level": level,
             "parent_code": code.split(".")[0] if level == 2 else None}
        )
    return rows


def load_regions() -> tuple[int, int]:
    """Insert missing regions and correct changed names. Returns (added, updated); idempotent."""
    existing = {r.code: r for r in db.session.scalars(sa.select(Region))}
    added = updated = 0
    # Provinces first, so that every parent exists before its children.
    for row in sorted(read_reference_regions(), key=lambda r: (r["level"], r["code"])):
        region = existing.get(str(row["code"]))
        if region is None:
            db.session.add(Region(**row))
            added += 1
        elif region.name != row["name"]:
            region.name = str(row["name"])
            updated += 1
        if row["level"] == 1:
            db.session.flush()
    db.session.flush()
    return added, updated
