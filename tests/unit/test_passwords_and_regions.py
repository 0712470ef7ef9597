import pytest

from kipp.accounts.passwords import (
    generate_temporary_password,
    hash_password,
    password_problems,
    verify_password,
)
from kipp.agencies.kinds import AgencyType, region_kind, region_problem
from kipp.notifications.mail import parse_smtp_url

pytestmark = pytest.mark.unit


def test_hashes_are_argon2id_and_verify():
    hashed = hash_password("sandi-yang-panjang")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "sandi-yang-panjang")
    assert not verify_password(hashed, "sandi-yang-salah")
    assert not verify_password(None, "apa saja")


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("pendek", ["too_short"]),
        (" spasi-di-depan-x", ["surrounding_spaces"]),
        ("budi.santoso2026!", ["contains_email"]),
        ("aaaaaaaaaaaa", ["too_repetitive"]),
        ("Sandi-Baru-Kuat-77", []),
    ],
)
def test_password_policy(password, problems):
    assert password_problems(password, email="budi.santoso@example.go.id") == problems


def test_temporary_passwords_avoid_ambiguous_characters():
    for _ in range(50):
        temporary = generate_temporary_password()
        assert len(temporary) == 14 and not set(temporary) & set("O0Il1")
        assert password_problems(temporary) == []


@pytest.mark.parametrize(
    ("code", "kind"), [("71", "provinsi"), ("71.71", "kota"), ("71.01", "kabupaten"), ("11.70", "kabupaten")]
)
def test_region_kind_from_official_code(code, kind):
    assert region_kind(code) == kind


def test_region_must_fit_agency_type():
    assert region_problem(AgencyType.KOTA, "71.71") is None
    assert region_problem(AgencyType.KOTA, "71.01") == "region_must_be_kota"
    assert region_problem(AgencyType.PROVINSI, "71.71") == "region_must_be_provinsi"
    assert region_problem(AgencyType.KABUPATEN, None) == "region_required"
    assert region_problem(AgencyType.KEMENTERIAN, None) is None
    assert region_problem(AgencyType.BUMN, "31") is None
    assert region_problem(AgencyType.LEMBAGA, "7.1") == "region_code_invalid"


def test_smtp_url_parsing():
    assert parse_smtp_url("smtp://mailpit:1025") == {
        "host": "mailpit", "port": 1025, "username": None, "password": None, "ssl": False, "starttls": False}
    secure = parse_smtp_url("smtps://user%40x:p%40ss@mail.go.id")
    assert secure["port"] == 465 and secure["username"] == "user@x" and secure["password"] == "p@ss"
    assert parse_smtp_url("smtp://h:587?starttls=1")["starttls"] is True
    with pytest.raises(ValueError):
        parse_smtp_url("http://h")
