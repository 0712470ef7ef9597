"""Each role in a real browser: log in, see its own pages, switch language, see nothing else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from kipp.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def log_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def log_out(page: Any) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name=re.compile("Keluar|Log out")).click()


def test_login_page_is_in_bahasa_indonesia(page: Any) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", name="Masuk ke KIPP")).to_be_visible()


def test_secretariat_sees_real_counts_and_its_menus(page: Any) -> None:
    log_in(page, "sekretariat@kipp.demo")
    expect(page.get_by_test_id("count-agencies")).to_have_text("9")
    expect(page.get_by_test_id("count-editions")).to_have_text("3")
    nav = page.locator("#mainnav")
    for label in ("Edisi", "Instansi", "Pengguna", "Jejak audit"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    page.get_by_role("link", name="Jejak audit").click()
    page.get_by_label("Tindakan").select_option("agency.created")
    page.get_by_role("button", name="Saring").click()
    expect(page.get_by_test_id("audit-table")).to_contain_text("Pemerintah Kota Manado")
    expect(page.get_by_test_id("audit-table")).not_to_contain_text("stage.updated")


def test_admin_lokal_sees_its_agency_and_not_the_secretariat(page: Any) -> None:
    log_in(page, "admin.manado@kipp.demo")
    expect(page.get_by_role("heading", name="Pemerintah Kota Manado")).to_be_visible()
    expect(page.locator("#mainnav").get_by_role("link", name="Instansi", exact=True)).to_have_count(0)
    response = page.goto("/admin/agencies/")
    assert response is not None and response.status == 404


def test_upp_sees_its_unit_and_the_open_edition(page: Any) -> None:
    log_in(page, "upp.dukcapil.manado@kipp.demo")
    expect(page.get_by_role("heading", name="Dinas Kependudukan dan Pencatatan Sipil")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("dibuka")
    assert page.goto("/agency/").status == 404


@pytest.mark.parametrize("email", ["evaluator@kipp.demo", "panelis@kipp.demo"])
def test_judges_see_their_home_and_nothing_of_the_agencies(page: Any, email: str) -> None:
    log_in(page, email)
    if email.startswith("evaluator"):  # the demo's KIPP 2023 scoring stage is theirs
        expect(page.get_by_test_id("scoring-summary").filter(has_text="KIPP 2023")).to_contain_text("KIPP 2023")
    else:
        expect(page.locator(".alert-info")).to_contain_text("Belum ada proposal")
    assert page.goto("/admin/people/").status == 404


def test_language_switch_is_remembered_after_logging_in_again(page: Any) -> None:
    log_in(page, "evaluator.sulut@kipp.demo")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("scoring-summary").first).to_contain_text("score sheets submitted")
    log_out(page)
    page.goto("/login")
    page.get_by_label("Email").fill("evaluator.sulut@kipp.demo")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")


def test_secretariat_invites_an_evaluator_who_accepts_by_email(page: Any, browser: Any, live_server: str,
                                                                live_app: Any) -> None:
    log_in(page, "sekretariat@kipp.demo")
    page.goto("/admin/people/invite")
    page.get_by_label("Nama").fill("Dr. Evaluator Baru")
    page.get_by_label("Email").fill("evaluator.baru@kipp.demo")
    page.get_by_label("Peran").select_option("evaluator")
    page.get_by_label("Afiliasi (universitas atau organisasi)").fill("Universitas Hasanuddin")
    page.get_by_role("button", name="Kirim undangan").click()
    expect(page.get_by_role("heading", name=re.compile("Dr. Evaluator Baru"))).to_be_visible()

    page.goto("/admin/mail/")
    page.get_by_test_id("mail-table").get_by_role("link").first.click()
    # The invitation is there, its one-time link is not: only the invitee may follow it.
    expect(page.get_by_test_id("mail-body")).to_contain_text("Dr. Evaluator Baru")
    expect(page.get_by_test_id("mail-body").locator("a[href*='/invitation/']")).to_have_count(0)
    # The demo hands it over as the README says: the server's command line prints the person's mail.
    printed = live_app.test_cli_runner().invoke(args=["kipp", "dev-mail", "evaluator.baru@kipp.demo"]).output
    link = re.search(r"https?://\S+/invitation/\S+", printed).group(0)

    invitee = browser.new_context(base_url=live_server).new_page()
    invitee.goto(link)
    invitee.locator("#password").fill("Sandi-Evaluator-2026")
    invitee.locator("#confirm").fill("Sandi-Evaluator-2026")
    invitee.locator("button[type=submit]").click()
    expect(invitee.get_by_test_id("user-menu")).to_have_text("Dr. Evaluator Baru")
    invitee.context.close()
