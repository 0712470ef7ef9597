"""Pure rules of the objection window: contacts, references, the client fingerprint, the window's edges."""

from __future__ import annotations

import datetime as dt

import pytest

from kipp.objections import rules

pytestmark = pytest.mark.unit

UTC = dt.timezone.utc


@pytest.mark.parametrize(("typed", "stored"), [
    ("Warga.Peduli@Example.co.id", "warga.peduli@example.co.id"),
    ("  budi+sanggah@mail.com ", "budi+sanggah@mail.com"),
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("(021) 5790-1234", "+622157901234"),
    ("0274.512345", "+62274512345"),
])
def test_contacts_are_stored_in_one_form(typed, stored):
    assert rules.normalize_contact(typed) == stored


@pytest.mark.parametrize("typed", [
    "", "   ", "budi", "budi@", "@example.com", "budi@example", "budi @example.com", "budi@exa_mple.com",
    "12345", "0812", "+1 415 555 0100", "00812345678", "0812-3456-7890-1234", "08123abc567",
    "a" * 250 + "@example.com",
])
def test_what_is_neither_an_email_nor_an_indonesian_number_is_refused(typed):
    assert rules.normalize_contact(typed) is None


def test_references_count_per_edition_and_read_back_as_typed():
    assert rules.reference(2033, 1) == "SGH/2033/00001"
    assert rules.reference(2033, 12345) == "SGH/2033/12345"
    assert rules.normalize_reference(" sgh/2033/00007 ") == "SGH/2033/00007"
    assert rules.normalize_reference("SGH-2033-00007") == "SGH/2033/00007"


def test_the_client_fingerprint_is_keyed_and_hides_the_address():
    one = rules.client_hash("k" * 40, "203.0.113.9")
    assert len(one) == 64 and "203.0.113.9" not in one
    assert one == rules.client_hash("k" * 40, "203.0.113.9")
    assert one != rules.client_hash("k" * 40, "203.0.113.10")
    assert one != rules.client_hash("x" * 40, "203.0.113.9")


def test_the_window_includes_its_opening_and_excludes_its_closing_moment():
    # 17:00 WIB is 10:00 UTC.
    opens = dt.datetime(2033, 6, 16, 1, 0, tzinfo=UTC)
    closes = dt.datetime(2033, 6, 21, 10, 0, tzinfo=UTC)
    second = dt.timedelta(seconds=1)
    assert rules.window_state(opens, closes, opens - second) is rules.Window.BEFORE
    assert rules.window_state(opens, closes, opens) is rules.Window.OPEN
    assert rules.window_state(opens, closes, closes - second) is rules.Window.OPEN
    assert rules.window_state(opens, closes, closes) is rules.Window.ENDED


def test_the_request_limit_leaves_room_to_refuse_a_large_file_politely():
    limit = rules.request_limit_bytes(10)
    assert limit > 10 * 1024 * 1024  # a file just over the edition's limit still reaches the form
    assert limit < 64 * 1024 * 1024  # and far less than the application's general limit
    assert rules.request_limit_bytes(1) < rules.request_limit_bytes(2)


@pytest.mark.parametrize(("text", "problem"), [
    ("x" * 49, "short"), ("  " + "x" * 49 + "  ", "short"), ("x" * 50, None), ("x" * 5000, None),
    ("x" * 5001, "long"),
])
def test_reason_length_ignores_surrounding_spaces(text, problem):
    assert rules.length_problem(text, rules.REASON_MIN_LENGTH, rules.REASON_MAX_LENGTH) == problem
