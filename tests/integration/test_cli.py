"""The operator's commands."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.agencies.models import Agency, Region
from kipp.audit.models import AuditEvent
from kipp.editions.models import Edition

pytestmark = pytest.mark.integration


@pytest.fixture()
def cli(app, db_session):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["kipp", *args])
        return result

    return invoke


def test_create_secretariat_with_a_temporary_password(cli, db_session):
    result = cli("create-secretariat", "--email", "Kepala.Sekretariat@menpan.go.id", "--name", "Kepala")
    assert result.exit_code == 0, result.output
    assert "Temporary password" in result.output
    user = db_session.scalar(sa.select(User).where(User.email == "kepala.sekretariat@menpan.go.id"))
    assert user.must_change_password and user.role.value == "secretariat"
    again = cli("create-secretariat", "--email", "kepala.sekretariat@menpan.go.id", "--name", "Kepala")
    assert again.exit_code != 0 and "sudah ada" in again.output  # commands speak Bahasa Indonesia


def test_create_secretariat_refuses_a_weak_password(cli):
    result = cli("create-secretariat", "--email", "a@menpan.go.id", "--name", "A", "--password", "short")
    assert result.exit_code != 0 and "10 characters" in result.output


def test_regions_are_all_there_and_loading_again_changes_nothing(cli, db_session):
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level == 1)) == 38
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level == 2)) == 514
    manado = db_session.get(Region, "71.71")
    assert manado.name == "Kota Manado" and manado.parent.name == "Sulawesi Utara" and manado.kind == "kota"
    result = cli("load-regions")
    assert result.exit_code == 0 and "0 added, 0 renamed" in result.output


def test_import_agencies_reports_each_rejected_row(cli, db_session, tmp_path):
    source = tmp_path / "instansi.csv"
    source.write_text(
        "nama;jenis;kode_wilayah;3t\n"
        "Pemerintah Kota Ambon;Kota;81.71;tidak\n"
        "Pemerintah Kota Keliru;Kota;81.01;tidak\n"
        "Pemerintah Kabupaten Asmat;Kabupaten;94.05;ya\n",
        encoding="utf-8",
    )
    result = cli("import-agencies", str(source))
    assert result.exit_code == 0, result.output
    assert "row 3 rejected" in result.output and "81.01" in result.output
    names = set(db_session.scalars(sa.select(Agency.name)))
    assert "Pemerintah Kota Ambon" in names and "Pemerintah Kota Keliru" not in names
    assert db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "agency.imported")) is not None


def test_import_dry_run_changes_nothing(cli, db_session, tmp_path):
    source = tmp_path / "instansi.csv"
    source.write_text("nama,jenis,kode_wilayah\nPemerintah Kota Ternate,Kota,82.71\n", encoding="utf-8")
    result = cli("import-agencies", str(source), "--dry-run")
    assert result.exit_code == 0 and "nothing was saved" in result.output
    assert db_session.scalar(sa.select(Agency).where(Agency.name == "Pemerintah Kota Ternate")) is None


def test_seed_demo_once_then_it_only_lists_the_logins(cli, db_session):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    assert "sekretariat@kipp.demo" in first.output and "Demo data created" in first.output
    # KIPP 2022 (the rounds to play), KIPP 2023 (scoring under way) and the current edition.
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Edition)) == 3
    second = cli("seed-demo")
    assert "already there" in second.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Edition)) == 3
