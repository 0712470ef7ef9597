"""``flask db upgrade`` from every earlier release, with data in it, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import build_app, create_database, drop_database
from tests.services import POSTGRES_URL, need

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _revisions() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_step_by_step_keeps_data_and_downgrade_works(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql":
        need("postgresql")
        name = f"kipp_migrate_{os.getpid()}"
        url = create_database(POSTGRES_URL, name)
    else:
        url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    app = build_app(url, tmp_path)
    from kipp.extensions import db

    try:
        with app.app_context():
            revisions = _revisions()
            assert len(revisions) >= 2
            upgrade(revision=revisions[0])
            db.session.execute(sa.text(
                "INSERT INTO editions (year, name, created_at, updated_at) "
                "VALUES (2023, 'KIPP 2023', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ))
            db.session.commit()
            for revision in revisions[1:]:
                upgrade(revision=revision)
            row = db.session.execute(sa.text("SELECT name, max_file_mb FROM editions")).one()
            assert tuple(row) == ("KIPP 2023", 10)
            db.session.commit()
            downgrade(revision="base")
            tables = sa.inspect(db.engine).get_table_names()
            assert set(tables) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_database(POSTGRES_URL, name)
