"""The panel's review is blind: no figure derived from a colleague's sheet (a score, total, mean,
count, rank, order or flag, nor the list built from them) reaches a panelist, the chair included,
before the panel review's scheme reveals it, on any page, JSON answer or notice a judge can reach.
The plenary's list is not built while panel sheets are missing, unless the secretariat forces it
with a written reason; even then the panel sees it only once consolidation is open.

The scene is the issue's: a KIPP 2022-like panel, blind and not revealed, the chair has submitted
every sheet and the other panelist none (then three of four). Totals end in .30 so that each one,
and each mean (2 x 64.30 - 79.30 = 49.30), is findable in any format ("64.30", "64,3", ...).
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any, Iterable

import pytest
import sqlalchemy as sa
from flask import url_for

from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from kipp.extensions import db
from kipp.notifications.models import EmailMessage, Notification
from kipp.scoring.models import ScoreSheet, Visibility
from kipp.selection.models import Shortlist, ShortlistKind
from kipp.selection.services import FILTERS
from tests.conftest import Login
from tests.integration.test_route_access import ACCESS, ANYONE_LOGGED_IN, PUBLIC
from tests.scoring_factories import aspect_keys, expected_total, fill
from tests.shortlist_factories import panel_scene, settle

pytestmark = pytest.mark.integration

# Each nominee's panel total as (chair, colleague); the colleague's sheets come later.
CHAIR = {"K2": 79, "M1": 74, "B1": 69, "K1": 59}
COLLEAGUE = {"K2": 49, "M1": 45, "B1": 41}  # K1's sheet stays missing
REASON = "Sidang pleno dijadwalkan besok; satu panelis berhalangan mengisi seluruh lembar."

# Every GET page a judge can reach that names nothing of the panel review: not walked, and why.
NOT_WALKED = {
    "static": "the app's own files",
    "home.healthz": "answers {status: ok}",
    "auth.accept_invitation": "a token page for someone not logged in",
    "auth.reset_password": "a token page for someone not logged in",
    "field.visit": "a field visit of the final round; the scene has none",
    "review.download": "a file of the proposal itself, as its agency uploaded it",
    "scoring_judge.slides": "a finalist's presentation slides, as its agency uploaded them",
    "public.announcement": "the screening's announcements, published before any scoring",
    "public_objections.objection": "a finalist's objection form; the scene has no finalist",
    "results.verify": "a certificate's check; the scene has no certificate",
}


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def plus_30(stage: Any, proposal: Any, whole: int) -> dict[str, int]:
    """Every aspect ``whole``, the signifikansi (30% of the weight) one more: a total of whole.30."""
    return {key: whole + (key == "signifikansi") for key in aspect_keys(stage.scheme, proposal)}


def variants(value: Decimal) -> list[str]:
    """How a figure may be written: 64.30, 64,30, 64.3, 64,3 (the one-place forms find the others)."""
    one_place = f"{value:.1f}"
    return [one_place, one_place.replace(".", ",")]


def leaks(body: str, figures: Iterable[Decimal]) -> list[str]:
    return [form for value in figures for form in variants(value) if form in body]


def _nominees(scene: Any) -> list[Any]:
    return [scene.proposals[name] for name in CHAIR]


# Per endpoint a judge can open with GET, the arguments of each of its pages about the scene.
PAGES = {
    **{endpoint: lambda scene: [{}] for endpoint in (
        "home.index", "auth.login", "auth.forgot_password", "auth.profile", "auth.change_password", "inbox.index",
        "judge.invitations", "judge.conflicts", "field.index", "scoring_judge.dashboard", "scoring_chair.index")},
    "scoring_judge.sheet": lambda scene: [{"stage": stage, "proposal_id": p.id}
                                          for stage in ("evaluation", "panel_review") for p in _nominees(scene)],
    "scoring_chair.consolidation": lambda scene: [{"edition_id": scene.edition.id, "stage": "panel_review"}],
    "scoring_chair.proposal": lambda scene: [{"edition_id": scene.edition.id, "stage": "panel_review",
                                              "proposal_id": p.id} for p in _nominees(scene)],
    "review.proposal": lambda scene: [{"proposal_id": p.id} for p in _nominees(scene)],
    "plenary.index": lambda scene: [{"edition_id": scene.edition.id, "group": g.code.value, "show": show}
                                    for g in scene.edition.groups for show in FILTERS],
    **{endpoint: lambda scene: [{"year": scene.edition.year}] for endpoint in (
        "public.edition", "public_objections.finalists", "public_objections.receipt", "public_objections.status",
        "results.index")},
}


def judge_pages(app: Any, scene: Any) -> dict[str, list[str]]:
    with app.test_request_context():
        return {endpoint: [url_for(endpoint, **values) for values in pages(scene)]
                for endpoint, pages in PAGES.items()}


def reachable_by_judges(app: Any) -> set[str]:
    """GET endpoints open to a panelist or an evaluator by the access table (a route not in it yet
    fails test_route_access first), and the plenary, which the panel reads."""
    def for_judges(access: Any) -> bool:
        return access in (PUBLIC, ANYONE_LOGGED_IN) or bool({Role.PANELIST, Role.EVALUATOR} & set(access))

    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and (
        rule.endpoint.startswith("plenary.") or for_judges(ACCESS.get(rule.endpoint, ())))}


def walk(app: Any, client: Any, scene: Any, person: Any, figures: list[Decimal]) -> tuple[list[str], dict[str, str]]:
    """Every page, JSON answer and notice ``person`` can reach, searched for ``figures``: where each
    was found, and the plenary pages' text."""
    login = Login(client)
    login(person)
    found: list[str] = []
    plenary: dict[str, str] = {}
    for endpoint, urls in judge_pages(app, scene).items():
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 302, 404), (url, response.status_code)
            body = text(response)
            found += [f"{url}: {form}" for form in leaks(body, figures)]
            if endpoint == "plenary.index":
                plenary[url] = body
    # The autosave's JSON (a draft of a sheet not yet submitted: the colleague's K1, the chair's own).
    proposal = scene.proposals["K1"]
    member = next(m for m in scene.panel.members if m.user_id == person.id)
    own = plus_30(scene.panel, proposal, 20)
    with app.test_request_context():
        autosave = url_for("scoring_judge.autosave", stage="panel_review", proposal_id=proposal.id)
    response = client.post(autosave, data={"version": _version(scene, member, proposal),
                                           **{f"score-{k}": v for k, v in own.items()}})
    found += [f"autosave: {form}" for form in leaks(text(response), figures)]
    login.logout()
    notices = [n.message for n in _all(Notification, Notification.user_id == person.id)]
    mails = [f"{m.subject}\n{m.body_text}" for m in _all(EmailMessage, sa.or_(
        EmailMessage.user_id == person.id, EmailMessage.recipient == person.email))]
    found += [f"notice: {form}" for body in notices + mails for form in leaks(body, figures)]
    return found, plenary


def blind_walk(app: Any, client: Any, scene: Any, person: Any, figures: list[Decimal]) -> dict[str, str]:
    found, plenary = walk(app, client, scene, person, figures)
    assert found == [], f"{person.name} read a colleague's figures: {found}"
    return plenary


def _all(model: Any, where: Any) -> list[Any]:
    return list(db.session.scalars(sa.select(model).where(where)))


def _version(scene: Any, member: Any, proposal: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(ScoreSheet.version).where(
        ScoreSheet.scheme_id == scene.panel.scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id == member.id)) or 0


def plenary_list(db_session: Any, scene: Any) -> Shortlist | None:
    db_session.expire_all()
    return db_session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition.id,
                                                        Shortlist.kind == ShortlistKind.FINALISTS))


def build_is_refused(client: Any, db_session: Any, scene: Any, why: str) -> str:
    """The logged-in person sees the build disabled with ``why``, and a build posted anyway is refused
    with it. Returns the plenary page."""
    plenary = f"/admin/editions/{scene.edition.id}/plenary"
    page = text(client.get(plenary))
    assert 'data-testid="build" disabled' in page and why in page
    assert why in text(client.post(f"{plenary}/build", follow_redirects=True))
    assert plenary_list(db_session, scene) is None
    return page


@pytest.fixture()
def scene(app, db_session):
    """KIPP 2022's panel open, blind and not revealed: the chair has submitted all four sheets."""
    scene = panel_scene(app, year=2022, plan={name: (None, None) for name in CHAIR}, revealed=False)
    chair_member = scene.panel.members[0]
    for name, whole in CHAIR.items():
        proposal = scene.proposals[name]
        fill(scene.panel, chair_member, proposal, plus_30(scene.panel, proposal, whole))
    settle(app)
    return scene


def totals(scene: Any, plan: dict[str, int]) -> dict[str, Decimal]:
    return {name: expected_total(scene.panel, scene.proposals[name], plus_30(scene.panel, scene.proposals[name], n))
            for name, n in plan.items()}


def test_the_panel_sees_no_colleague_figure_before_the_reveal(app, client, db_session, scene, login):
    chair_totals = totals(scene, CHAIR)
    assert chair_totals["K2"] == Decimal("79.30")
    plenary = f"/admin/editions/{scene.edition.id}/plenary"

    # The chair may not build: the panel's scores are hidden from the panel, and sheets are missing.
    login(scene.chair)
    build_is_refused(client, db_session, scene, "stay hidden from the panel, its chair included")
    login.logout()

    # The secretariat may not build either while sheets are missing, unless it forces it with a reason.
    login(scene.secretariat)
    page = build_is_refused(client, db_session, scene, "4 panel sheets of the nominees are not submitted yet")
    assert 'data-testid="force"' in page
    response = client.post(f"{plenary}/build", data={"force": "1", "reason": "  "})
    assert response.status_code == 422 and "Write why the list is built before every panel sheet is in" in text(
        response)
    assert plenary_list(db_session, scene) is None
    built = text(client.post(f"{plenary}/build", data={"force": "1", "reason": REASON}, follow_redirects=True))
    assert "The proposed decision was built" in built
    shortlist = plenary_list(db_session, scene)
    assert (shortlist.forced_reason, shortlist.forced_missing, shortlist.built_by_id) == (
        REASON, 4, scene.secretariat.id)
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "shortlist.finalists_forced"))
    assert event is not None and event.after["forced"] == {"reason": REASON, "missing_sheets": 4}
    page = text(client.get(plenary))
    assert 'data-testid="forced"' in page and REASON in page and "79.30" in page  # the secretariat sees all
    login.logout()

    # The other panelist, with nothing submitted, reads none of the chair's figures anywhere.
    pages = blind_walk(app, client, scene, scene.panelist, list(chair_totals.values()))
    assert all('data-testid="hidden-until-reveal"' in body and 'data-testid="entry"' not in body
               and REASON not in body for body in pages.values())

    # The colleague submits three sheets; the secretariat rebuilds (one still missing). Neither
    # panelist can derive the other's scores from the means.
    colleague_member = scene.panel.members[1]
    for name, whole in COLLEAGUE.items():
        proposal = scene.proposals[name]
        fill(scene.panel, colleague_member, proposal, plus_30(scene.panel, proposal, whole))
    settle(app)
    colleague_totals = totals(scene, COLLEAGUE)
    means = {name: ((chair_totals[name] + colleague_totals[name]) / 2).quantize(Decimal("0.01"))
             for name in COLLEAGUE}
    assert means["K2"] == Decimal("64.30") and colleague_totals["K2"] == Decimal("49.30")
    login(scene.secretariat)
    client.post(f"{plenary}/build", data={"force": "1", "reason": REASON})
    assert plenary_list(db_session, scene).forced_missing == 1
    login.logout()
    blind_walk(app, client, scene, scene.chair, [*colleague_totals.values(), *means.values()])
    blind_walk(app, client, scene, scene.panelist, [*chair_totals.values(), *means.values()])

    # The secretariat opens consolidation from the plenary page: now the panel reads the list, the
    # means and the reason.
    login(scene.secretariat)
    page = text(client.get(plenary))
    action = re.search(r'data-testid="reveal".*?<form method="post" action="([^"]+)"', page, re.S).group(1)
    assert 'data-testid="revealed"' in text(client.post(action, follow_redirects=True))
    assert 'data-testid="reveal"' not in text(client.get(plenary))
    login.logout()
    for person in (scene.panelist, scene.chair):
        found, pages = walk(app, client, scene, person, list(means.values()))
        assert any("/plenary" in where and "64.3" in where for where in found), found  # the walk sees them
        page = next(body for url, body in pages.items() if "group=umum&show=all" in url)
        assert 'data-testid="hidden-until-reveal"' not in page and page.count('data-testid="entry"') == 4
        assert 'data-testid="panel-score">64.30<' in page and REASON in page
    # The chair records now, but does not build while a sheet is missing (only the secretariat forces).
    login(scene.chair)
    refused = text(client.post(f"{plenary}/build", follow_redirects=True))
    assert "1 panel sheet of the nominees is not submitted yet" in refused
    assert client.post(f"{plenary}/build", data={"force": "1", "reason": REASON}).status_code == 404


def test_every_page_a_judge_can_reach_is_walked(app):
    """A new page for judges fails here until the walk above reads it (or says why it need not)."""
    assert sorted(reachable_by_judges(app) - set(PAGES) - set(NOT_WALKED)) == []
    assert set(PAGES) & set(NOT_WALKED) == set()


def test_the_secretariat_cannot_freeze_the_plenary_before_the_panel_sees_its_scores(
        app, client, db_session, scene, login):
    chair_member, colleague_member = scene.panel.members
    fill(scene.panel, colleague_member, scene.proposals["K1"], plus_30(scene.panel, scene.proposals["K1"], 50))
    for name, whole in COLLEAGUE.items():
        fill(scene.panel, colleague_member, scene.proposals[name], plus_30(scene.panel, scene.proposals[name], whole))
    settle(app)
    login(scene.secretariat)
    plenary = f"/admin/editions/{scene.edition.id}/plenary"
    assert "The proposed decision was built" in text(client.post(f"{plenary}/build", follow_redirects=True))
    assert plenary_list(db_session, scene).forced_reason is None
    assert 'data-testid="freeze" disabled' in text(client.get(plenary))
    response = client.post(f"{plenary}/freeze", data={"minutes": "Berita acara."}, follow_redirects=True)
    assert "open consolidation of the panel review before freezing" in text(response)
    assert plenary_list(db_session, scene).frozen_at is None


@pytest.mark.parametrize("visibility, plenary_open", [(Visibility.OPEN, True), (Visibility.AFTER_OWN, False)])
def test_the_schemes_visibility_decides_what_the_panel_reads(app, client, db_session, scene, login, visibility,
                                                              plenary_open):
    """An open scheme shows the panel its figures at once; "after their own" shows a judge the others'
    sheets of a proposal they have submitted, but not the plenary, which ranks proposals they never held."""
    scene.panel.scheme.visibility = visibility
    db_session.commit()
    colleague_member = scene.panel.members[1]
    for name in CHAIR:
        fill(scene.panel, colleague_member, scene.proposals[name], plus_30(scene.panel, scene.proposals[name], 40))
    settle(app)
    login(scene.secretariat)
    client.post(f"/admin/editions/{scene.edition.id}/plenary/build")
    login.logout()
    login(scene.panelist)
    page = text(client.get(f"/admin/editions/{scene.edition.id}/plenary"))
    assert (page.count('data-testid="entry"') == 4) is plenary_open
    assert ('data-testid="hidden-until-reveal"' in page) is not plenary_open
    sheet = text(client.get(f"/score/panel_review/{scene.proposals['K2'].id}"))
    assert 'data-testid="colleagues"' in sheet and "79.30" in sheet


def test_a_judge_reads_a_round_state_only_once_the_stage_that_decided_it_is_open(client, db_session, scene, login):
    """Nominated or not is decided by the evaluators' sheets: an evaluator of a blind evaluation reads
    on their pages the state as the agency does, until the secretariat opens its consolidation."""
    evaluator = scene.evaluation.members[0].user
    pages = {name: [f"/score/evaluation/{scene.proposals[name].id}", f"/review/{scene.proposals[name].id}"]
             for name in ("K1", "K3")}  # nominated, and not

    def states() -> set[str]:
        login(evaluator)
        found = {re.search(r'class="doc-status">([^<]*)<', text(client.get(url))).group(1)
                 for urls in pages.values() for url in urls}
        login.logout()
        return found

    assert states() == {"Passed administrative screening"}
    login(scene.secretariat)
    client.post(f"/admin/scoring/{scene.edition.id}/evaluation/reveal")
    login.logout()
    assert states() == {"Nominee", "Not nominated"}
