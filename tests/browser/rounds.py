"""The gestures the selection rounds are played with in a browser, shared by the plays that use them."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect


def log_in(page: Any, email: str, password: str) -> None:
    page.wait_for_load_state()  # a form's answer still on its way would set the session again
    page.context.clear_cookies()
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button").first.click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def confirmed(page: Any, form: Any) -> None:
    """Submit a form that asks "are you sure?", answering yes."""
    page.once("dialog", lambda dialog: dialog.accept())
    form.locator("button").last.click()


def take_step(page: Any, edition_id: int, *, expect_text: str | None = None, force: str | None = None) -> None:
    """The edition's next step on its progress page (open or close the current stage)."""
    page.goto(f"/admin/progress/{edition_id}")
    card = page.get_by_test_id("next-step")
    expect(card).to_be_visible()
    if expect_text:
        expect(card).to_contain_text(expect_text)
    if force:
        page.locator("textarea[name=force_reason]").fill(force)
    page.once("dialog", lambda dialog: dialog.accept())
    card.locator("button").click()
    expect(page.locator(".alert-success").first).to_be_visible()


def scheme_and_assignment(page: Any, edition_id: int, stage: str, *, per_proposal: int | None = None) -> None:
    """A scored stage made ready: its scheme set up, the optimal assignment computed and published."""
    page.goto(f"/admin/scoring/{edition_id}/{stage}")
    page.locator("form[action$='/create'] button").click()
    page.goto(f"/admin/assignment/{edition_id}/{stage}")
    if per_proposal is not None:
        page.locator("input[name=per_proposal]").fill(str(per_proposal))
    page.locator("form[action$='/run'] button").click()
    expect(page.get_by_test_id("run-status")).to_contain_text("OPTIMAL")
    confirmed(page, page.locator("form[action$='/publish']"))


def open_the_panels_consolidation(page: Any, edition_id: int) -> None:
    """The secretariat lets the panel see its scores (from the plenary page), as the chair's plenary needs."""
    page.goto(f"/admin/editions/{edition_id}/plenary")
    confirmed(page, page.get_by_test_id("reveal"))
    expect(page.get_by_test_id("revealed")).to_be_visible()


def object_to_a_finalist(browser: Any, base_url: str, year: int, *, contact: str, reason: str,
                         finalists: int) -> None:
    """A member of the public, without an account, objects to the first finalist listed."""
    public = browser.new_context(base_url=base_url, locale="id-ID")
    visitor = public.new_page()
    visitor.goto(f"/public/{year}/finalists")
    links = visitor.locator("a[href$='/objection']")
    expect(links).to_have_count(finalists)
    links.first.click()
    visitor.locator("input[name=name]").fill("Warga Peduli")
    visitor.locator("input[name=contact]").fill(contact)
    visitor.locator("textarea[name=reason]").fill(reason)
    visitor.locator("form button").last.click()
    expect(visitor.get_by_test_id("reference")).to_contain_text(f"SGH/{year}/")
    public.close()


def rule_on_the_objection(page: Any, edition_id: int, *, decision: str, ruling: str) -> None:
    page.goto(f"/admin/editions/{edition_id}/objections")
    page.locator("a[href*='/objections/']").filter(has_text=re.compile("SGH")).first.click()
    page.locator(f"input[name=decision][value={decision}]").check()
    page.locator("textarea[name=ruling]").fill(ruling)
    page.locator("input[name=final]").check()
    confirmed(page, page.locator("form[action$='/ruling']"))
    expect(page.locator(".alert-success").first).to_be_visible()


def confirm_the_finalists(page: Any, edition_id: int, *, decree: str, date: str) -> None:
    page.goto(f"/admin/editions/{edition_id}/objections")
    form = page.locator("form[action$='/objections/confirm']")
    form.locator("input[name=decree_number]").fill(decree)
    form.locator("input[name=decree_date]").fill(date)
    confirmed(page, form)
    expect(page.locator(".alert-success").first).to_be_visible()
