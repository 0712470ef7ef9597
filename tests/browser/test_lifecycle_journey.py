"""A small edition played from submission to the published Top 45, every round in a real browser.

60 proposals from 12 agencies in every cluster (one in a 3T region), 4 evaluators and 2 panelists.
What earlier issues' browser tests already drive page by page (drafting a whole proposal,
screening one by one, typing every score sheet) is done here through the services, as the
people would have done it; every step of the selection rounds, and each stage's opening and
closing, is done in the browser by the person whose step it is: the secretariat, the Admin
Lokal, the panel's chair, an evaluator on a field visit, an anonymous member of the public.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser import rounds
from tests.browser.conftest import open_tab, serve
from tests.conftest import TEST_PASSWORD, build_app, migrate_and_load
from tests.services import need

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
AGENCIES = [  # (name, type, region, 3T)
    ("Kementerian Sosial Uji", "kementerian", "31", False), ("Kementerian Agama Uji", "kementerian", "31", False),
    ("Lembaga Arsip Uji", "lembaga", "31", False), ("Badan Pangan Uji", "lembaga", "31", False),
    ("Pemerintah Provinsi Jambi Uji", "provinsi", "15", False), ("Pemerintah Provinsi Bali Uji", "provinsi", "51", False),
    ("Pemerintah Kabupaten Sumba Uji", "kabupaten", "53.18", True),
    ("Pemerintah Kabupaten Sleman Uji", "kabupaten", "34.04", False),
    ("Pemerintah Kota Malang Uji", "kota", "35.73", False), ("Pemerintah Kota Padang Uji", "kota", "13.71", False),
    ("PT Pos Uji (Persero)", "bumn", "32", False), ("Perumda Air Uji", "bumd", "12", False),
]
TIERS = {"umum": (16, 8, 4), "khusus": (4, 2, 1)}


class Scene:
    """The live server and a way to act in its database as the people off-screen would."""

    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self.ids: dict[str, Any] = {}

    def do(self, work: Callable[..., Any]) -> Any:
        from kipp.extensions import db

        with self.app.app_context():
            result = work()
            db.session.commit()
            return result


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    need("browser")
    instance = tmp_path_factory.mktemp("lifecycle")
    app = build_app(f"sqlite:///{instance / 'lifecycle.sqlite3'}", instance, WTF_CSRF_ENABLED=True,
                    env={"KIPP_BASE_URL": "http://127.0.0.1:0"})
    migrate_and_load(app)
    for base_url in serve(app):
        world = Scene(app, base_url)
        world.do(lambda: _set_up(world))
        yield world


def _set_up(world: Scene) -> None:
    """People, agencies, the edition and its judges' pools, as the secretariat set them up before."""
    from kipp.accounts import services as accounts
    from kipp.accounts.roles import Role
    from kipp.agencies import services as agencies
    from kipp.agencies.kinds import AgencyType
    from kipp.db import utcnow
    from kipp.editions import services as editions
    from kipp.editions.kinds import StageKind
    from kipp.innovations import services as innovations
    from kipp.innovations.kinds import AwardTier
    from kipp.judging import pools

    now = utcnow()
    person = lambda email, role, **kw: accounts.create_with_password(  # noqa: E731
        email=email, name=email.split("@")[0].replace(".", " ").title(), role=role, password=TEST_PASSWORD,
        must_change=False, **kw)
    secretariat = person("sekretariat@uji-e2e.go.id", Role.SECRETARIAT)
    year = now.year  # the award history takes no year after the current one
    edition = editions.create_from_template(secretariat, year=year, name=f"KIPP {year} (uji)")
    editions.update_selection_settings(secretariat, edition, weight_evaluation=Decimal(30), weight_panel=Decimal(20),
                                       weight_presentation=Decimal(40), weight_field=Decimal(10),
                                       field_verification=True, bootstrap_samples=300)
    for group in edition.groups:
        group.nominee_count, group.finalist_count, group.winner_count = TIERS[group.code.value]
    start = now - dt.timedelta(days=3)
    for stage in edition.stages:
        editions.update_stage(secretariat, stage, kind=stage.kind, name_id=stage.name_id, name_en=stage.name_en,
                              opens_at=start, closes_at=now + dt.timedelta(days=30))
    world.ids.update(edition=edition.id, year=year)
    for n, (name, kind, region, is_3t) in enumerate(AGENCIES):
        agency = agencies.create_agency(secretariat, name=name, type=AgencyType(kind), region_code=region, is_3t=is_3t)
        unit = agencies.create_unit(secretariat, agency, name=f"Unit Layanan {n + 1}")
        person(f"admin{n}@uji-e2e.go.id", Role.ADMIN_LOKAL, actor=secretariat, agency_id=agency.id)
        person(f"upp{n}@uji-e2e.go.id", Role.UPP, actor=secretariat, agency_id=agency.id, unit_id=unit.id)
        if n < 6:  # a past Top 45 of the agency, invited to kelompok khusus
            innovation = innovations.create_innovation(secretariat, agency=agency, unit=unit,
                                                       title=f"Inovasi Terpuji Lama {n + 1}", start_date=dt.date(2016, 1, 1))
            innovations.add_award(secretariat, innovation, year=2019, tier=AwardTier.TOP_45, source="uji")
            innovations.invite_khusus(secretariat, edition, innovation)
    categories = [c.id for c in edition.categories]
    for n in range(4):
        email = f"evaluator{n}@uji-e2e.go.id"
        member = pools.invite_to_pool(secretariat, edition, StageKind.EVALUATION, email=email, name=f"Evaluator {n}",
                                      role=Role.EVALUATOR, affiliation=f"Universitas {n}")
        pools.respond(member.user, member, True, expertise=[categories[n], categories[n + 4]])
    for n in range(2):
        email = f"panelis{n}@uji-e2e.go.id"
        for kind in (StageKind.PANEL_REVIEW, StageKind.PRESENTATION):
            member = pools.invite_to_pool(secretariat, edition, kind, email=email, name=f"Panelis {n}",
                                          role=Role.PANELIST, affiliation="Ombudsman RI")
            pools.respond(member.user, member, True)
    for email, role in (("evaluator0@uji-e2e.go.id", Role.EVALUATOR), ("panelis1@uji-e2e.go.id", Role.PANELIST)):
        member = pools.invite_to_pool(secretariat, edition, StageKind.FIELD_VERIFICATION, email=email,
                                      name=email.split("@")[0], role=role)
        pools.respond(member.user, member, True)
    _passwords()


def _passwords() -> None:
    """Judges invited to the pools accept their invitations and choose a password (the test's)."""
    from kipp.accounts.models import User
    from kipp.accounts.passwords import hash_password
    from kipp.extensions import db

    hashed = hash_password(TEST_PASSWORD)
    for user in db.session.scalars(sa.select(User).where(User.password_hash.is_(None))):
        user.password_hash, user.must_change_password = hashed, False


@pytest.fixture()
def page(browser: Any, scene: Scene, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A tab on this module's own server (the other browser tests share the demo's)."""
    yield from open_tab(browser, scene.base_url, request, timeout_ms=20_000)


# --- the people in the browser ---------------------------------------------------------------------

def log_in(page: Any, email: str) -> None:
    rounds.log_in(page, email, TEST_PASSWORD)


def log_out(page: Any) -> None:
    page.wait_for_load_state()  # a form's answer still on its way would set the session again
    page.context.clear_cookies()


def step(page: Any, scene: Scene) -> None:
    rounds.take_step(page, scene.ids["edition"])


def status_of(page: Any, scene: Scene, kind: str) -> str:
    page.goto(f"/admin/progress/{scene.ids['edition']}")
    return page.locator(f"tr[data-stage={kind}]").get_attribute("data-status")


# --- the play ---------------------------------------------------------------------------------------

def test_a_small_edition_from_submission_to_the_published_top_45(page: Any, browser: Any, scene: Scene) -> None:
    edition_id, year = scene.ids["edition"], scene.ids["year"]
    log_in(page, "sekretariat@uji-e2e.go.id")

    # 1. Submission: the secretariat opens it; the agencies draft and submit (one Admin Lokal in the browser).
    step(page, scene)
    assert status_of(page, scene, "submission") == "open"
    waiting = scene.do(_draft_and_submit)
    log_out(page)
    log_in(page, "admin0@uji-e2e.go.id")
    page.goto(f"/proposals/{waiting}")
    rounds.confirmed(page, page.locator("form[action$='/submit']"))
    expect(page.get_by_test_id(f"status-{waiting}")).to_contain_text("Diajukan")
    log_out(page)

    # Time passes: the deadline is behind us. The secretariat closes the submission stage.
    scene.do(lambda: _move_window("submission", ends_in=dt.timedelta(minutes=-1)))
    log_in(page, "sekretariat@uji-e2e.go.id")
    step(page, scene)

    # 2. Screening: the decisions (services), the numbered announcement (browser), the stage closed.
    step(page, scene)
    scene.do(_screen)
    page.goto(f"/admin/screening/announcements?edition={edition_id}")
    form = page.get_by_test_id("publish-form")
    form.locator("input[name=number]").fill(f"B/187/PP.00.05/{year}")
    rounds.confirmed(page, form)
    expect(page.get_by_test_id("public-announcements").or_(page.locator(".alert-success")).first).to_be_visible()
    step(page, scene)
    assert status_of(page, scene, "screening") == "closed"

    # 3. Evaluation: the scheme, the optimal assignment (2 evaluators each), published; scored; closed.
    rounds.scheme_and_assignment(page, edition_id, "evaluation", per_proposal=2)
    step(page, scene)
    scene.do(lambda: _score("evaluation", spread=30))
    step(page, scene)
    assert status_of(page, scene, "evaluation") == "closed"

    # 4. Nominees: built exactly under the cluster places and the 3T minimum; one departure; frozen.
    page.goto(f"/admin/editions/{edition_id}/nominees")
    page.get_by_test_id("build").click()
    expect(page.get_by_test_id("ranking")).to_be_visible()
    expect(page.get_by_test_id("composition")).to_be_visible()
    chosen = page.locator("tr[data-testid=entry].table-success")
    expect(chosen).to_have_count(16)
    last_chosen = chosen.last.locator("form[data-testid=choice]")
    last_chosen.locator("input[name=reason]").fill("Duplikasi dengan inovasi nasional")
    last_chosen.locator("button").click()
    expect(page.get_by_test_id("departure").first).to_be_visible()
    rounds.confirmed(page, page.locator("form[action$='/nominees/freeze']"))
    expect(page.get_by_test_id("frozen")).to_be_visible()

    # 5. The panel: its scheme, pairs of panelists, the stage opened; the chair's plenary.
    rounds.scheme_and_assignment(page, edition_id, "panel_review", per_proposal=2)
    step(page, scene)
    scene.do(lambda: _score("panel_review", spread=20))
    page.goto(f"/admin/editions/{edition_id}/plenary")
    page.get_by_test_id("chair").locator("select").select_option(label="Panelis 0")
    page.get_by_test_id("chair").locator("button").click()
    expect(page.get_by_test_id("chair-name")).to_have_text("Panelis 0")
    rounds.open_the_panels_consolidation(page, edition_id)
    log_out(page)

    log_in(page, "panelis0@uji-e2e.go.id")
    expect(page.get_by_test_id("plenary-summary")).to_be_visible()
    page.get_by_test_id("plenary-summary").locator("a").click()
    page.get_by_test_id("build").click()
    expect(page.locator("tr[data-testid=entry].table-success")).to_have_count(8)
    outside = page.locator("tr[data-testid=entry]:not(.table-success)").first.locator("form[data-testid=choice]")
    outside.locator("input[name=reason]").fill("Dampak luas bagi daerah tertinggal")
    outside.locator("button").click()
    inside = page.locator("tr[data-testid=entry].table-success:has(input[name=reason])").last.locator(
        "form[data-testid=choice]")
    inside.locator("input[name=reason]").fill("Belum berkelanjutan menurut klarifikasi")
    inside.locator("button").click()
    page.locator("textarea[name=minutes]").fill("Berita acara sidang pleno TPI: delapan finalis umum disepakati.")
    page.locator("form[action$='/plenary/minutes'] button").click()
    rounds.confirmed(page, page.locator("form[action$='/plenary/freeze']"))
    expect(page.get_by_test_id("frozen")).to_be_visible()
    log_out(page)
    log_in(page, "sekretariat@uji-e2e.go.id")
    step(page, scene)
    assert status_of(page, scene, "panel_review") == "closed"

    # 6. The objection window: announced, an objection from the public, a ruling, the decree.
    step(page, scene)
    rounds.object_to_a_finalist(
        browser, scene.base_url, year, contact="warga@example.id", finalists=10,
        reason="Inovasi ini sudah dihentikan sejak tahun lalu; layanan di lapangan tidak lagi berjalan seperti diklaim.")
    rounds.rule_on_the_objection(page, edition_id, decision="upheld",
                                 ruling="Sanggahan terbukti: layanan telah berhenti sejak Maret.")
    scene.do(lambda: _move_window("objection", ends_in=dt.timedelta(minutes=-1)))
    rounds.confirm_the_finalists(page, edition_id, decree=f"B/200/PP.00.05/{year}",
                                 date=dt.date.today().isoformat())
    step(page, scene)

    # 7. Presentations: the rubric, the schedule, the Admin Lokal's confirmation, the whole panel, attendance.
    page.goto(f"/admin/scoring/{edition_id}/presentation")
    page.locator("form[action$='/create'] button").click()
    page.goto(f"/admin/editions/{edition_id}/presentations")
    form = page.locator("form[action$='/presentations/generate']")
    form.locator("input[name=first_day]").fill((dt.date.today() + dt.timedelta(days=3)).isoformat())
    form.locator("input[name=skip_weekends]").uncheck()
    form.locator("input[name=meeting_url]").fill("https://zoom.us/j/1234567890")
    form.locator("button").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    rounds.confirmed(page, page.locator("form[action$='/assign-panel']"))
    expect(page.locator(".alert-success").first).to_be_visible()
    slot = scene.do(_a_finalist_slot)
    log_out(page)
    log_in(page, slot["admin"])
    page.goto(f"/presentations/{slot['id']}")
    page.locator("input[name=presenter_name]").fill("Kepala Dinas")
    page.locator("form[action$='/confirm'] button").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    page.locator("input[name=slides]").set_input_files(files=[{"name": "paparan.pdf", "mimeType": "application/pdf",
                                                               "buffer": PDF}])
    page.locator("input[name=video_url]").fill("https://www.youtube.com/watch?v=kipp-uji")
    page.locator("form[action$='/materials'] button").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    log_out(page)
    log_in(page, "sekretariat@uji-e2e.go.id")
    step(page, scene)
    scene.do(_slots_took_place)
    page.goto(f"/admin/editions/{edition_id}/presentations")
    buttons = page.locator("button[data-testid^=presented-]")
    finalists = [b.get_attribute("data-testid").removeprefix("presented-") for b in buttons.all()]
    assert len(finalists) == 9
    for n, proposal_id in enumerate(finalists):
        which = "no-show" if n == 0 else "presented"
        page.get_by_test_id(f"{which}-{proposal_id}").click()
        expect(page.locator(".alert-success").first).to_be_visible()
    scene.do(lambda: _score("presentation", spread=25))
    step(page, scene)

    # 8. Field verification: a visit with a panelist and an evaluator, recorded by the evaluator.
    page.goto(f"/admin/editions/{edition_id}/field")
    form = page.locator("form[action$='/field/plan']")
    form.locator("select[name=proposal_id]").select_option(index=1)
    form.locator("input[name=visit_date]").fill((dt.date.today() + dt.timedelta(days=1)).isoformat())
    form.locator("input[name=location]").fill("Kantor pelayanan, pusat kota")
    for box in form.locator("input[name=member_ids]").all():
        box.check()
    form.locator("button").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    step(page, scene)
    log_out(page)
    log_in(page, "evaluator0@uji-e2e.go.id")
    page.goto("/judge/field/")
    page.locator("table a[href^='/judge/field/']").first.click()
    page.locator("textarea[name=findings]").fill("Layanan berjalan; warga mengonfirmasi manfaatnya.")
    page.locator("input[name=score]").fill("88")
    page.locator("form button").last.click()
    expect(page.locator(".alert-success").first).to_be_visible()
    log_out(page)
    log_in(page, "sekretariat@uji-e2e.go.id")
    step(page, scene)

    # 9. The final result: the formula, one consensus adjustment, frozen with the decree.
    step(page, scene)
    page.goto(f"/admin/editions/{edition_id}/final")
    page.get_by_test_id("build").click()
    expect(page.locator("tr[data-testid=entry].table-success")).to_have_count(4)
    expect(page.get_by_test_id("not-eligible")).to_have_count(1)  # the no-show
    page.locator("textarea[name=minutes]").first.fill("Berita acara: TPI menyepakati Top 45 secara musyawarah.")
    page.locator("form[action$='/final/minutes'] button").click()
    form = page.locator("form[action$='/final/freeze']")
    form.locator("input[name=decree_number]").fill(f"B/300/PP.00.05/{year}")
    form.locator("input[name=decree_date]").fill(dt.date.today().isoformat())
    rounds.confirmed(page, form)
    expect(page.get_by_test_id("frozen")).to_be_visible()
    step(page, scene)

    # 10. Announcement: published; certificates; the public page; the agency's certificate; the history.
    step(page, scene)
    page.goto(f"/admin/editions/{edition_id}/publication")
    rounds.confirmed(page, page.locator("form[action$='/publication/publish']"))
    expect(page.locator(".alert-success").first).to_be_visible()
    page.goto(f"/admin/editions/{edition_id}/publication")
    with page.expect_download() as download:
        page.locator("a[href$='certificates.zip']").click()
    assert download.value.suggested_filename.endswith(".zip")
    step(page, scene)
    assert status_of(page, scene, "announcement") == "closed"
    expect(page.get_by_test_id("edition-done")).to_be_visible()

    public = browser.new_context(base_url=scene.base_url, locale="id-ID")
    visitor = public.new_page()
    visitor.goto(f"/public/{year}/results")
    expect(visitor.locator("body")).to_contain_text("Top 45")
    public.close()

    winner = scene.do(_a_winner)
    log_out(page)
    log_in(page, winner["admin"])
    page.goto("/results/")
    with page.expect_download() as download:
        page.locator("a[href$='certificate.pdf']").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    log_out(page)
    log_in(page, "sekretariat@uji-e2e.go.id")
    page.goto(f"/admin/innovations/{winner['innovation']}")
    expect(page.locator("body")).to_contain_text(f"B/300/PP.00.05/{year}")  # the winners' decree
    expect(page.locator("body")).to_contain_text(f"B/200/PP.00.05/{year}")  # the finalists' decree


# --- what happens off-screen ---------------------------------------------------------------------------

def _edition() -> Any:
    from kipp.editions.models import Edition
    from kipp.extensions import db

    return db.session.scalars(sa.select(Edition).order_by(Edition.id.desc())).first()


def _move_window(kind: str, *, ends_in: dt.timedelta) -> None:
    from kipp.db import utcnow
    from kipp.editions.kinds import StageKind

    stage = _edition().stage(StageKind(kind))
    stage.opens_at, stage.closes_at = utcnow() - dt.timedelta(days=5), utcnow() + ends_in


def _draft_and_submit() -> int:
    """Every agency's units draft complete proposals; the Admin Lokal submits all but one."""
    from kipp.accounts.models import User
    from kipp.accounts.roles import Role
    from kipp.extensions import db
    from kipp.innovations.models import Innovation
    from kipp.proposals import services as proposals

    edition = _edition()
    groups = {g.code.value: g for g in edition.groups}
    people = {u.email: u for u in db.session.scalars(sa.select(User))}
    innovations = {i.agency_id: i for i in db.session.scalars(sa.select(Innovation))}
    waiting = None
    for n in range(60):
        khusus = n >= 54  # the six agencies with a past Top 45 enter it in kelompok khusus
        agency_no = n - 54 if khusus else n % 12
        upp, admin = people[f"upp{agency_no}@uji-e2e.go.id"], people[f"admin{agency_no}@uji-e2e.go.id"]
        group = groups["khusus" if khusus else "umum"]
        innovation = innovations[upp.agency_id] if khusus else None
        proposal = proposals.start_draft(upp, edition=edition, group=group, innovation=innovation)
        title = innovation.title if khusus else f"Layanan Publik Inovatif {n + 1}"
        proposals.save_draft(upp, proposal, version=proposal.version, sdg_numbers=[3, 16], answers={
            s.id: f"{title}: jawaban untuk bagian {s.title_id}." for s in group.sections}, fields={
            "title": title, "category_id": edition.categories[n % len(edition.categories)].id,
            "innovation_start_date": dt.date(2019, 1 + n % 12, 1),
            "video_url": "https://www.youtube.com/watch?v=kipp-uji", "is_application": False})
        for section in group.sections:
            if section.evidence_required:
                proposals.attach_file(upp, proposal, filename=f"bukti-{section.key}.pdf", data=PDF,
                                      section_id=section.id)
        for document in edition.documents:
            if document.applies_to(group.code):
                proposals.attach_file(upp, proposal, filename=f"{document.key}.pdf", data=PDF,
                                      document_id=document.id)
        proposals.send_to_admin_lokal(upp, proposal)
        if n == 0:
            waiting = proposal.id
            continue
        proposals.submit(admin, proposal)
    assert people["admin0@uji-e2e.go.id"].role is Role.ADMIN_LOKAL
    return waiting


def _screen() -> None:
    from kipp.extensions import db
    from kipp.proposals.models import Proposal
    from kipp.proposals.services import _transition
    from kipp.proposals.states import Action, ProposalStatus

    secretariat = _secretariat()
    for n, proposal in enumerate(db.session.scalars(sa.select(Proposal).where(
            Proposal.status == ProposalStatus.SUBMITTED).order_by(Proposal.id))):
        _transition(proposal, Action.FAIL_SCREENING if n in (7, 19) else Action.PASS_SCREENING, actor=secretariat,
                    comment=None if n not in (7, 19) else "SK inovator tidak dilampirkan.")


def _secretariat() -> Any:
    from kipp.accounts.models import User
    from kipp.extensions import db

    return db.session.scalar(sa.select(User).where(User.email == "sekretariat@uji-e2e.go.id"))


def _score(stage: str, *, spread: int) -> None:
    """Every expected sheet of the stage, submitted by its judge: a proposal's merit plus the judge's bias."""
    from kipp.editions.kinds import StageKind
    from kipp.extensions import db
    from kipp.judging.models import PoolMember
    from kipp.proposals.models import Proposal
    from kipp.scoring import services as scoring

    edition = _edition()
    scheme = scoring.scheme_for(edition, StageKind(stage))
    members = {m.id: m for m in db.session.scalars(sa.select(PoolMember).where(PoolMember.edition_id == edition.id))}
    for proposal_id, member_id in sorted(scoring.published_pairs(scheme)):
        proposal = db.session.get(Proposal, proposal_id)
        member = members[member_id]
        merit = 100 - spread + (proposal_id * 37) % spread
        values = {a.key: str(min(100, max(0, merit + (member_id % 3) - 1))) for a in
                  scheme.aspects_of(proposal.group.code)}
        scoring.save_sheet(member.user, scheme, member, proposal, version=0, values=values,
                           comments={k: "Dinilai." for k in values}, submit=True)


def _a_finalist_slot() -> dict[str, Any]:
    from kipp.accounts.models import User
    from kipp.accounts.roles import Role
    from kipp.extensions import db
    from kipp.presentations.models import PresentationSlot

    slot = db.session.scalars(sa.select(PresentationSlot).order_by(PresentationSlot.starts_at)).first()
    admin = db.session.scalar(sa.select(User).where(User.agency_id == slot.proposal.agency_id,
                                                    User.role == Role.ADMIN_LOKAL))
    return {"id": slot.id, "admin": admin.email}


def _slots_took_place() -> None:
    """The presentation days have come and gone."""
    from kipp.db import utcnow
    from kipp.extensions import db
    from kipp.presentations.models import PresentationSlot

    for n, slot in enumerate(db.session.scalars(sa.select(PresentationSlot).order_by(PresentationSlot.starts_at))):
        slot.starts_at = utcnow() - dt.timedelta(hours=12) + dt.timedelta(minutes=25 * n)
        slot.starts_at = min(slot.starts_at, utcnow() - dt.timedelta(minutes=5))


def _a_winner() -> dict[str, Any]:
    from kipp.accounts.models import User
    from kipp.accounts.roles import Role
    from kipp.extensions import db
    from kipp.proposals.models import Proposal
    from kipp.proposals.states import ProposalStatus

    proposal = db.session.scalars(sa.select(Proposal).where(Proposal.status == ProposalStatus.WINNER)
                                  .order_by(Proposal.id)).first()
    admin = db.session.scalar(sa.select(User).where(User.agency_id == proposal.agency_id,
                                                    User.role == Role.ADMIN_LOKAL))
    return {"admin": admin.email, "innovation": proposal.innovation_id}
