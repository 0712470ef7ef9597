"""The demo's KIPP 2022, played as the README tells a new user to: from the scored evaluation to the
published Top 45 with certificates, entirely in the browser (issue 6's "Done when")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from tests.browser import rounds
from tests.browser.conftest import demo_app, open_tab, serve
from tests.services import need

pytestmark = pytest.mark.browser

PASSWORD = "kipp-demo-2026"
WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh demo of its own: the play changes KIPP 2022 for good."""
    need("browser")
    yield from serve(demo_app(tmp_path_factory.mktemp("demo-rounds")))


@pytest.fixture()
def page(browser: Any, demo_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_tab(browser, demo_server, request, timeout_ms=20_000)


def log_in(page: Any, email: str) -> None:
    rounds.log_in(page, email, PASSWORD)


def step(page: Any, edition_id: int, expect_text: str) -> None:
    """The edition's next step, checked to be the one the play expects."""
    rounds.take_step(page, edition_id, expect_text=expect_text)


def score_all(page: Any, email: str, stage: str) -> int:
    """A panelist scores every sheet waiting for them in ``stage`` and submits it."""
    log_in(page, email)
    done = 0
    while True:
        page.goto("/score/")
        following = page.get_by_test_id("next-unfinished")
        if following.count() == 0:
            return done
        following.first.click()
        if f"/score/{stage}/" not in page.url:
            return done
        for i, box in enumerate(page.locator("input[type=number]").all()):
            box.fill(str(70 + (done * 7 + i * 3) % 25))
        page.once("dialog", lambda d: d.accept())
        page.get_by_test_id("submit-sheet").click()
        expect(page.get_by_test_id("sheet-locked")).to_be_visible()
        done += 1


def test_the_demo_2022_season_from_scored_proposals_to_the_published_top_45(page: Any, browser: Any,
                                                                              demo_server: str) -> None:
    log_in(page, "sekretariat@kipp.demo")
    page.goto("/admin/progress/")
    picker = page.locator("select[data-navigate-select]")
    target = picker.locator("option", has_text="KIPP 2022").get_attribute("value")
    picker.select_option(label="KIPP 2022")
    page.wait_for_url("**" + target)
    edition_id = int(target.rstrip("/").split("/")[-1])

    # The evaluation is fully scored: close it, then the nominees.
    step(page, edition_id, "Penilaian proposal oleh Tim Evaluasi")
    page.goto(f"/admin/editions/{edition_id}/nominees")
    page.get_by_test_id("build").click()
    expect(page.locator("tr[data-testid=entry].table-success")).to_have_count(8)  # umum: 8 nominees
    expect(page.get_by_test_id("displacements")).to_be_visible()  # the cluster places moved someone
    rounds.confirmed(page, page.locator("form[action$='/nominees/freeze']"))
    expect(page.get_by_test_id("frozen")).to_be_visible()

    # The panel: its scheme, two panelists per nominee, the stage opened, every sheet scored.
    rounds.scheme_and_assignment(page, edition_id, "panel_review")
    step(page, edition_id, "Penilaian Tim Panel Independen")
    assert score_all(page, "panelis@kipp.demo", "panel_review") == 11  # 8 umum + 3 khusus nominees
    assert score_all(page, "panelis.kasn@kipp.demo", "panel_review") == 11

    # The chair's plenary, once the secretariat has let the panel see its scores.
    log_in(page, "sekretariat@kipp.demo")
    rounds.open_the_panels_consolidation(page, edition_id)
    log_in(page, "panelis@kipp.demo")
    page.get_by_test_id("plenary-summary").locator("a").click()
    page.get_by_test_id("build").click()
    expect(page.locator("tr[data-testid=entry].table-success")).to_have_count(5)
    page.locator("textarea[name=minutes]").fill("Berita acara sidang pleno TPI KIPP 2022 (replay).")
    page.locator("form[action$='/plenary/minutes'] button").click()
    rounds.confirmed(page, page.locator("form[action$='/plenary/freeze']"))
    expect(page.get_by_test_id("frozen")).to_be_visible()

    # The objection window: announced, an objection from the public, ruled, the window ended, confirmed.
    log_in(page, "sekretariat@kipp.demo")
    step(page, edition_id, "Penilaian Tim Panel Independen")
    step(page, edition_id, "Uji publik dan masa sanggah")
    rounds.object_to_a_finalist(
        browser, demo_server, 2022, contact="0812 3456 7890", finalists=7,  # 5 umum + 2 khusus finalists
        reason="Saya ragu data penerima manfaat yang dilaporkan sesuai kenyataan di lapangan.")
    rounds.rule_on_the_objection(page, edition_id, decision="rejected",
                                 ruling="Data penerima manfaat telah diverifikasi dan sesuai.")
    page.goto(f"/admin/editions/{edition_id}/stages")  # to play on, the window ends now
    page.get_by_test_id("stage-objection").locator("a[href*='/stages/']").first.click()
    now = dt.datetime.now(WIB)
    page.locator("input[name=opens_at]").fill((now - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("input[name=closes_at]").fill((now - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("form button[type=submit]").first.click()
    expect(page.locator(".alert-success").first).to_be_visible()
    rounds.confirm_the_finalists(page, edition_id, decree="B/250/PP.00.05/2022", date="2022-06-20")
    step(page, edition_id, "Uji publik dan masa sanggah")

    # Presentations: the rubric, the schedule, the whole panel; the sessions recorded at the time they took
    # place; attendance; every presentation scored.
    page.goto(f"/admin/scoring/{edition_id}/presentation")
    page.locator("form[action$='/create'] button").click()
    page.goto(f"/admin/editions/{edition_id}/presentations")
    form = page.locator("form[action$='/presentations/generate']")
    form.locator("input[name=first_day]").fill((dt.date.today() + dt.timedelta(days=3)).isoformat())
    form.locator("button").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    rounds.confirmed(page, page.locator("form[action$='/assign-panel']"))
    expect(page.locator(".alert-success").first).to_be_visible()
    step(page, edition_id, "Presentasi dan wawancara")
    page.goto(f"/admin/editions/{edition_id}/presentations")
    slots = [href for a in page.locator("a[href*='/presentations/']").all()
             if re.search(r"/presentations/\d+$", href := a.get_attribute("href") or "")]
    assert len(slots) == 7
    for n, href in enumerate(slots):
        page.goto(href)
        took_place = dt.datetime.now(WIB) - dt.timedelta(hours=6) + dt.timedelta(minutes=25 * n)
        page.locator("input[name=starts_at]").fill(took_place.strftime("%Y-%m-%dT%H:%M"))
        page.locator("form:has(input[name=starts_at]) button").first.click()
        expect(page.locator(".alert-success").first).to_be_visible()
    page.goto(f"/admin/editions/{edition_id}/presentations")
    for button in page.locator("button[data-testid^=presented-]").all():
        proposal_id = button.get_attribute("data-testid").removeprefix("presented-")
        page.get_by_test_id(f"presented-{proposal_id}").click()
        expect(page.locator(".alert-success").first).to_be_visible()
    assert score_all(page, "panelis@kipp.demo", "presentation") == 7
    assert score_all(page, "panelis.kasn@kipp.demo", "presentation") == 7
    log_in(page, "sekretariat@kipp.demo")
    step(page, edition_id, "Presentasi dan wawancara")

    # The final result (no field verification in 2022), frozen with the decree.
    step(page, edition_id, "Rekapitulasi dan penetapan Top Inovasi")
    page.goto(f"/admin/editions/{edition_id}/final")
    page.get_by_test_id("build").click()
    expect(page.locator("tr[data-testid=entry].table-success")).to_have_count(3)  # umum: 3 winners
    page.locator("textarea[name=minutes]").first.fill("Berita acara: Top Inovasi 2022 (replay) disepakati.")
    page.locator("form[action$='/final/minutes'] button").click()
    form = page.locator("form[action$='/final/freeze']")
    form.locator("input[name=decree_number]").fill("B/300/PP.00.05/2022")
    form.locator("input[name=decree_date]").fill("2022-07-29")
    rounds.confirmed(page, form)
    expect(page.get_by_test_id("frozen")).to_be_visible()
    step(page, edition_id, "Rekapitulasi dan penetapan Top Inovasi")

    # Published, with certificates, and the edition done.
    step(page, edition_id, "Pengumuman dan penganugerahan")
    page.goto(f"/admin/editions/{edition_id}/publication")
    rounds.confirmed(page, page.locator("form[action$='/publication/publish']"))
    expect(page.locator(".alert-success").first).to_be_visible()
    page.goto(f"/admin/editions/{edition_id}/publication")
    with page.expect_download() as download:
        page.locator("a[href$='certificates.zip']").click()
    assert download.value.suggested_filename.endswith(".zip")
    step(page, edition_id, "Pengumuman dan penganugerahan")
    expect(page.get_by_test_id("edition-done")).to_be_visible()
    public = browser.new_context(base_url=demo_server, locale="id-ID")
    visitor = public.new_page()
    visitor.goto("/public/2022/results")
    expect(visitor.locator("body")).to_contain_text("Top 45 Inovasi Pelayanan Publik Terpuji")
    expect(visitor.locator("body")).to_contain_text("Outstanding Achievement of Public Service Innovation")
    public.close()
