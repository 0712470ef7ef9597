import pytest

from tests.factories import SecretariatFactory

pytestmark = pytest.mark.integration


def test_login_page_speaks_indonesian_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="id"' in page.get_data(as_text=True)


def test_secretariat_logs_in_and_sees_counts(client, login):
    user = SecretariatFactory()
    login(user)
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-testid="count-agencies"' in page.get_data(as_text=True)
