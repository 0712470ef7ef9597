import pytest

from kipp.config import ConfigError, load_config

pytestmark = pytest.mark.unit


def test_production_refuses_to_start_without_its_required_settings(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, {"KIPP_ENV": "production", "KIPP_SECRET_KEY": "x" * 40})
    message = str(error.value)
    assert "KIPP_DATABASE_URL" in message and "KIPP_REDIS_URL" in message
    assert "KIPP_SECRET_KEY" not in message


def test_embedded_default_generates_one_secret_and_keeps_it(tmp_path):
    first = load_config(tmp_path, {})
    second = load_config(tmp_path, {})
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kipp.sqlite3'}"
    assert first["KIPP_REDIS_URL"] is None
    assert first["SESSION_COOKIE_SECURE"] is False


def test_two_instances_do_not_share_a_secret(tmp_path):
    a = load_config(tmp_path / "a", {})
    b = load_config(tmp_path / "b", {})
    assert a["SECRET_KEY"] != b["SECRET_KEY"]


def test_short_secret_and_bad_numbers_are_named(tmp_path):
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(tmp_path, {"KIPP_SECRET_KEY": "short"})
    with pytest.raises(ConfigError, match="whole number"):
        load_config(tmp_path, {"KIPP_RESET_TOKEN_HOURS": "two"})
    with pytest.raises(ConfigError, match="KIPP_ENV"):
        load_config(tmp_path, {"KIPP_ENV": "staging"})


def test_postgres_short_url_uses_psycopg_and_production_cookies_are_secure(tmp_path):
    config = load_config(
        tmp_path,
        {"KIPP_ENV": "production", "KIPP_SECRET_KEY": "s" * 40, "KIPP_DATABASE_URL": "postgresql://u@db/kipp",
         "KIPP_REDIS_URL": "redis://r:6379/0"},
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/kipp"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"
