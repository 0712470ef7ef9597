"""The secretariat screens the demo season, assigns the evaluators optimally and publishes; each judge sees only theirs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles_in_browser import log_in

pytestmark = pytest.mark.browser


def test_screen_assign_publish_and_each_judge_sees_exactly_theirs(page: Any, browser: Any, live_server: str) -> None:
    log_in(page, "sekretariat@kipp.demo")
    page.goto("/admin/screening/")
    page.locator("form[action*='/claim-next'] button").first.click()
    screened = 0
    while "/admin/screening/proposals/" in page.url and screened < 20:
        expect(page.get_by_test_id("check-item").first).to_be_visible()
        for item in page.locator("input[type=radio][value=pass]").all():
            item.check()
        page.get_by_test_id("save-next").click()
        screened += 1
    assert screened >= 6
    expect(page.locator(".alert").first).to_contain_text("lolos")

    page.goto("/admin/editions/")
    edition_link = page.locator("a[href^='/admin/editions/']").filter(has_text=re.compile("KIPP 20")).first
    edition_id = re.search(r"/admin/editions/(\d+)/", edition_link.get_attribute("href")).group(1)
    page.goto(f"/admin/assignment/{edition_id}/evaluation")
    page.locator("form[action$='/run'] button").click()
    expect(page.get_by_test_id("run-status")).to_contain_text("OPTIMAL")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$='/publish'] button").click()
    expect(page.locator(".alert-success").first).to_contain_text("diterbitkan")

    rows = page.get_by_test_id("assignments").locator("tbody tr")
    assigned: dict[str, set[str]] = {}
    for row in rows.all():
        number = row.locator("td").first.inner_text().split("\n")[0].strip()
        for judge in row.locator("td").nth(1).locator("div > span:nth-child(2), div > span:nth-child(3)").all_inner_texts():
            assigned.setdefault(judge.strip(), set()).add(number)

    judge_page = browser.new_context(base_url=live_server).new_page()
    log_in(judge_page, "evaluator.ui@kipp.demo")
    mine = judge_page.get_by_test_id("my-assignments").inner_text()
    # The demo's KIPP 2023 scoring season is theirs too; compare this edition's only.
    year = next(iter(next(iter(assigned.values()))))[:4]
    numbers = {n for n in re.findall(r"\d{4}-U-\d{5}", mine) if n.startswith(year)}
    assert numbers and numbers == assigned.get("Dr. Evaluator UI", numbers)
    first = judge_page.get_by_test_id("my-assignments").locator("a").filter(has_text=year).first
    first.click()
    expect(judge_page.get_by_test_id("proposal-print")).to_be_visible()
    not_mine = judge_page.goto("/review/1")  # the demo's first proposal is a draft nobody judges
    assert not_mine is not None and not_mine.status == 404
    judge_page.context.close()
