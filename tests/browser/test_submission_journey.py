"""A submission season in a real browser: UPP drafts, Admin Lokal returns it, UPP fixes, Admin Lokal submits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles_in_browser import log_in, log_out

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "bukti-dukung.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return path


def fill_everything(page: Any, evidence: Path, title: str) -> None:
    page.locator("#title").fill(title)
    page.locator("#category_id").select_option(index=1)
    page.locator("#innovation_start_date").fill("2019-07-01")
    page.locator("#sdg-16").check()
    for area in page.locator("textarea[name^=answer-]").all():
        area.fill("Inovasi ini memangkas waktu layanan dari tujuh hari menjadi satu hari.")
    for upload in page.locator("input[type=file]").all():
        upload.set_input_files(str(evidence))
    page.locator("#video_url").fill("https://www.youtube.com/watch?v=kipp2027")
    page.locator("#app-no").check()


def test_upp_to_admin_lokal_and_back_then_submitted(page: Any, browser: Any, live_server: str, evidence: Path) -> None:
    log_in(page, "upp.dukcapil.manado@kipp.demo")
    page.goto("/proposals/new")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+/edit$"))
    proposal_url = page.url.removesuffix("/edit")
    fill_everything(page, evidence, "Adminduk Keliling Manado")
    page.locator("button[name=next][value=send]").click()
    expect(page.get_by_test_id("complete")).to_be_visible()
    page.locator(f"form[action$='/send'] button").click()
    expect(page.get_by_test_id("holder")).to_have_text(re.compile("Admin Lokal"))

    admin = browser.new_context(base_url=live_server).new_page()
    log_in(admin, "admin.manado@kipp.demo")
    admin.goto("/proposals/")
    admin.get_by_role("link", name="Adminduk Keliling Manado").click()
    admin.locator("textarea[name=comment]").fill("Tambahkan data jumlah penerima layanan.")
    admin.locator("form[action$='/return'] button").click()
    expect(admin.get_by_test_id("holder")).to_contain_text("UPP")

    page.goto(proposal_url)
    expect(page.get_by_test_id("return-comment")).to_contain_text("Tambahkan data jumlah penerima layanan.")
    page.goto(proposal_url + "/edit")
    page.locator("textarea[name^=answer-]").nth(4).fill("Penerima layanan: 12.000 warga pada 2026, naik dari 3.000.")
    page.locator("button[name=next][value=send]").click()
    page.locator("form[action$='/send'] button").click()

    admin.goto(proposal_url)
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator("form[action$='/submit'] button").click()
    expect(admin.get_by_test_id("number")).to_have_text(re.compile(r"^\d{4}-U-\d{5}$"))
    number = admin.get_by_test_id("number").inner_text()
    admin.context.close()

    page.goto("/notifications/")
    expect(page.get_by_test_id("notifications")).to_contain_text(number)
    page.goto(proposal_url + "/edit")
    expect(page).to_have_url(proposal_url)  # read-only now


def test_text_survives_an_ended_session(page: Any, browser: Any, live_server: str) -> None:
    log_in(page, "upp.dinkes.banyuwangi@kipp.demo")
    page.goto("/proposals/new")
    page.locator("button[type=submit]").click()
    edit_url = page.url
    page.locator("#title").fill("Puskesmas Tanpa Antre")
    expect(page.get_by_test_id("save-status")).to_contain_text(re.compile(r"\d\d:\d\d"))
    page.context.clear_cookies()  # the session ends while the person types
    first_answer = page.locator("textarea[name^=answer-]").first
    first_answer.fill("Teks yang diketik setelah sesi berakhir tidak boleh hilang.")
    expect(page.get_by_test_id("save-error")).to_be_visible()
    page.goto(edit_url)
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill("upp.dinkes.banyuwangi@kipp.demo")
    page.get_by_label("Kata sandi").fill("kipp-demo-2026")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(edit_url)
    expect(page.locator("#restore-banner")).to_be_visible()
    page.locator("#restore-button").click()
    expect(page.locator("textarea[name^=answer-]").first).to_have_value(
        "Teks yang diketik setelah sesi berakhir tidak boleh hilang.")
    expect(page.get_by_test_id("save-status")).to_contain_text(re.compile(r"\d\d:\d\d"))
    page.reload()
    expect(page.locator("textarea[name^=answer-]").first).to_have_value(
        "Teks yang diketik setelah sesi berakhir tidak boleh hilang.")
    expect(page.locator("#title")).to_have_value("Puskesmas Tanpa Antre")
