"""A judge scores in a real browser: from the dashboard to a submitted sheet, with the total
computed as they type, drafts that survive an ended session, and a refused sheet that keeps
what was typed. Then the secretariat follows the stage."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles_in_browser import log_in

pytestmark = pytest.mark.browser


def fill_sheet(page: Any, score: str, comment: str = "") -> int:
    aspects = page.get_by_test_id("aspect")
    count = aspects.count()
    for i in range(count):
        aspect = aspects.nth(i)
        aspect.locator("input[type=number]").fill(score)
        if comment:
            aspect.locator("textarea").fill(comment)
    return count


def test_a_judge_scores_from_the_dashboard_to_a_submitted_sheet(page: Any, live_server: str) -> None:
    log_in(page, "evaluator.ui@kipp.demo")
    page.goto("/score/")
    sheets = page.get_by_test_id("my-sheets").first  # KIPP 2023 (newest first); KIPP 2022 is all scored
    expect(sheets).to_be_visible()
    assert sheets.locator("tr[data-status=submitted]").count() == 0
    total_rows = sheets.locator("tbody tr").count()
    assert total_rows >= 3

    page.get_by_test_id("next-unfinished").first.click()
    expect(page.get_by_test_id("proposal-print")).to_be_visible()
    first_url = page.url
    fill_sheet(page, "80")
    expect(page.get_by_test_id("sheet-total")).to_have_text("80.00")
    expect(page.get_by_test_id("save-status")).to_contain_text(re.compile(r"\d{2}[.:]\d{2}"))  # autosaved at …
    page.reload()
    expect(page.locator("input[type=number]").first).to_have_value("80")

    # The session ends while the judge types: nothing is lost.
    page.context.clear_cookies()
    page.locator("textarea[name^=comment-]").first.fill("Dampak terukur di tiga kecamatan.")
    expect(page.get_by_test_id("save-error")).to_be_visible()
    log_in(page, "evaluator.ui@kipp.demo")
    page.goto(first_url)
    page.locator("#restore-button").click()
    expect(page.locator("textarea[name^=comment-]").first).to_have_value("Dampak terukur di tiga kecamatan.")
    expect(page.get_by_test_id("save-error")).to_be_hidden()

    # A top score without a comment is refused; what was typed stays.
    page.locator("input[type=number]").nth(1).fill("100")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit-sheet").click()
    expect(page.get_by_test_id("problem")).to_be_visible()
    expect(page.locator("input[type=number]").nth(1)).to_have_value("100")
    page.locator("textarea[name^=comment-]").nth(1).fill("Sangat menonjol: direplikasi 12 daerah.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit-sheet").click()
    expect(page.get_by_test_id("sheet-locked")).to_be_visible()
    expect(page.locator("input[type=number]").first).to_be_disabled()

    # "Save and next" keeps a draft and opens the next unfinished proposal.
    page.get_by_test_id("next-unfinished").click()
    second_url = page.url
    assert second_url != first_url
    page.locator("input[type=number]").first.fill("70")
    page.get_by_test_id("save-next").click()
    expect(page).not_to_have_url(second_url)
    page.goto("/score/")
    expect(page.get_by_test_id("my-sheets").first.locator("tr[data-status=submitted]")).to_have_count(1)
    expect(page.get_by_test_id("my-sheets").first.locator("tr[data-status=draft]")).to_have_count(1)


def test_the_secretariat_follows_consolidates_ranks_and_exports_the_stage(page: Any, live_server: str) -> None:
    log_in(page, "sekretariat@kipp.demo")
    page.goto("/admin/scoring/")
    stage_row = page.get_by_test_id("stage-row").filter(has_text="KIPP 2023").first
    stage_row.get_by_role("link").first.click()
    expect(page.get_by_test_id("totals")).to_be_visible()
    assert int(page.get_by_test_id("count-expected").inner_text()) == 24
    assert int(page.get_by_test_id("count-submitted").inner_text()) >= 18
    ui_row = page.get_by_test_id("judge-row").filter(has_text="Dr. Evaluator UI")
    expect(ui_row).to_be_visible()
    ui_row.get_by_role("button").click()  # remind this judge
    expect(page.locator(".alert-success").first).to_be_visible()

    page.get_by_test_id("scoring-tabs").get_by_role("link").nth(2).click()  # consolidation
    flagged = page.locator("[data-testid=consolidation-row][data-flagged='1']")
    assert flagged.count() >= 1
    flagged.first.get_by_role("link").first.click()
    matrix = page.get_by_test_id("matrix")
    expect(matrix).to_be_visible()
    expect(page.get_by_test_id("flag")).to_be_visible()
    expect(matrix.get_by_test_id("comment").first).to_contain_text("bukti terbatas")
    reconcile = page.get_by_test_id("reconcile-form")
    reconcile.locator("textarea").fill("Signifikansi dinilai sangat berbeda; mohon ditinjau kembali.")
    page.once("dialog", lambda dialog: dialog.accept())
    reconcile.get_by_role("button").click()
    expect(page.get_by_test_id("reconciliations")).to_contain_text("Signifikansi dinilai sangat berbeda")

    page.get_by_test_id("scoring-tabs").get_by_role("link").nth(3).click()  # ranking
    expect(page.get_by_test_id("ranking")).to_be_visible()
    assert page.get_by_test_id("rank-row").count() == 12
    expect(page.get_by_test_id("how-computed")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("exports").get_by_role("link").last.click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_test_id("scoring-tabs").get_by_role("link").nth(4).click()  # charts
    expect(page.locator("svg").first).to_be_visible()
    assert page.locator("svg").count() >= 3
