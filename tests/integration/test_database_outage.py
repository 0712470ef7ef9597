"""While the database cannot be reached (restarting, failing over), pages say so with a 503 in the
person's language and background saves get an answer their script understands, never a bare 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build_app

pytestmark = pytest.mark.integration

# PostgreSQL's port on this machine is 5432; nothing listens here.
UNREACHABLE = "postgresql+psycopg://kipp@127.0.0.1:6398/kipp?connect_timeout=1"


@pytest.fixture()
def client(tmp_path: Path):
    return build_app(UNREACHABLE, tmp_path).test_client()


def test_a_page_that_needs_the_database_answers_503_in_bahasa_indonesia(client) -> None:
    response = client.post("/login", data={"email": "sekretariat@kipp.demo", "password": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    page = response.get_data(as_text=True)
    assert '<html lang="id">' in page
    assert "tidak dapat menjangkau basis datanya" in page and "Coba lagi" in page


def test_the_chosen_language_is_kept_without_the_database(client) -> None:
    assert client.post("/language", data={"locale": "en"}).status_code in (302, 303)
    page = client.post("/login", data={"email": "a@b.id", "password": "x"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "cannot reach its database" in page


def test_a_background_save_gets_a_json_answer(client) -> None:
    response = client.post("/login", data={"email": "a@b.id", "password": "x"},
                           headers={"X-Requested-With": "fetch"})
    assert response.status_code == 503
    assert response.get_json()["code"] == "unavailable"


def test_a_logged_in_person_gets_the_same_answer(client) -> None:
    # Their cookie names a session only the database can confirm.
    with client.session_transaction() as cookie:
        cookie["_user_id"], cookie["login_session"] = "1", "a-session-token"
    response = client.get("/score/")
    assert response.status_code == 503
    assert "tidak dapat menjangkau basis datanya" in response.get_data(as_text=True)
