"""An agency learns nothing of a round before the round is announced, wherever it looks.

An edition is played round by round with four proposals of four agencies alike in everything but
their fate: WINNER is chosen at every round, LOSER becomes a finalist that does not win, PANEL is
nominated but passed over by the panel's plenary, and EARLY is not nominated. At each state, each
proposal's Admin Lokal and UPP walk every route the URL map gives them (the routes
``test_route_access`` opens to an agency, for GET and POST, with their own proposal's ids), their
proposal's PDF, and the emails the development outbox holds for them. With each agency's own
names, numbers and ids replaced by placeholders, proposals whose difference is not announced yet
must show exactly the same thing; once it is, they differ as the announcement says.

Templates rendered for an agency never read a proposal's state themselves
(``status``, ``holder``, ``events``, ``updated_at``): they take it from ``disclosed(p)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import url_for

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode, StageKind, StageStatus
from kipp.editions.models import Edition as EditionModel
from kipp.extensions import db
from kipp.innovations.kinds import AwardTier
from kipp.notifications.models import EmailMessage, Notification
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.proposals import uploads
from kipp.proposals.models import Proposal, ProposalFile
from kipp.proposals.services import _transition
from kipp.proposals.states import Action, ProposalStatus
from kipp.publication.certificates import verification_code
from kipp.screening.models import Announcement
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from kipp.selection.services import write_award_history
from tests.conftest import Login
from tests.factories import AdminLokalFactory, AgencyFactory, SecretariatFactory, UnitFactory, UppFactory
from tests.innovation_factories import InnovationFactory
from tests.integration.test_route_access import ACCESS, ANYONE_LOGGED_IN, PUBLIC
from tests.proposal_factories import ProposalFactory
from tests.selection_factories import set_stages

pytestmark = pytest.mark.integration

YEAR = 2026  # the award history takes no future year
WINNER, LOSER, PANEL, EARLY = "Alfa", "Bravo", "Charlie", "Delta"
FINALISTS_DECREE, WINNERS_DECREE = f"B/99/PP.00.05/{YEAR}", f"B/45/PP.00.05/{YEAR}"
AGENCY_ROLES = (Role.ADMIN_LOKAL, Role.UPP)
# What a template must not read of a proposal for an agency: the disclosure gives it.
RAW_STATE = frozenset({"status", "holder", "events", "updated_at"})
# Posted to every form route: enough for each to get past its own checks to the proposal's state.
FORM = {"reason": "Alasan uji yang cukup panjang.", "comment": "Komentar uji.", "presenter_name": "Penyaji Uji",
        "video_url": "https://example.org/video", "version": "1"}
# Forms about people and the session, not proposals (a temporary password is random by design).
NOT_POSTED = ("auth.", "local.")
NOT_WALKED = {"static", "auth.logout", "auth.set_language"}


@dataclass
class Entrant:
    """One proposal and the two people of its agency who read about it (by id: the walk closes the
    session between requests, as a real server does)."""

    label: str
    proposal_id: int
    admin_id: int
    upp_id: int
    unit_id: int
    file_id: int
    slot_id: int | None = None

    @property
    def proposal(self) -> Proposal:
        return db.session.get(Proposal, self.proposal_id)

    def person(self, role: Role) -> Any:
        return db.session.get(User, self.admin_id if role is Role.ADMIN_LOKAL else self.upp_id)


@dataclass
class Scene:
    edition_id: int
    secretariat_id: int
    entrants: dict[str, Entrant] = field(default_factory=dict)

    @property
    def edition(self) -> Any:
        return db.session.get(EditionModel, self.edition_id)

    @property
    def secretariat(self) -> Any:
        return db.session.get(User, self.secretariat_id)

    def proposal(self, label: str) -> Proposal:
        return self.entrants[label].proposal


# --- the edition, round by round -----------------------------------------------------------------


def screened_edition() -> Scene:
    """Four proposals of four agencies (same type, region, group and category), passed screening."""
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=YEAR, name=f"KIPP {YEAR}")
    scene = Scene(edition.id, SecretariatFactory().id)
    group = next(g for g in edition.groups if g.code is GroupCode.UMUM)
    for label in (WINNER, LOSER, PANEL, EARLY):
        agency = AgencyFactory(name=f"Instansi {label}")
        unit = UnitFactory(agency=agency, name=f"Unit {label}")
        admin = AdminLokalFactory(agency=agency, name=f"Admin {label}", email=f"admin.{label.lower()}@example.go.id")
        upp = UppFactory(unit=unit, name=f"UPP {label}", email=f"upp.{label.lower()}@example.go.id")
        # Submitted: numbered, and its innovation on record (as submission does).
        proposal = ProposalFactory(edition=edition, unit=unit, group=group, category=edition.categories[0],
                                   created_by=upp, status=ProposalStatus.SUBMITTED, number=f"{YEAR}-U-{label}",
                                   title=f"Inovasi {label}", answered=True,
                                   innovation=InnovationFactory(agency=agency, unit=unit, title=f"Inovasi {label}"))
        _transition(proposal, Action.PASS_SCREENING, actor=scene.secretariat)
        stored, digest = uploads.store(b"%PDF-1.4 bukti yang sama", "pdf")
        attached = ProposalFile(proposal_id=proposal.id, section_id=group.sections[0].id, original_name="bukti.pdf",
                                stored_name=stored, content_type="application/pdf", size_bytes=24, sha256=digest,
                                uploaded_by_id=upp.id)
        db.session.add(attached)
        db.session.flush()
        scene.entrants[label] = Entrant(label, proposal.id, admin.id, upp.id, unit.id, attached.id)
    db.session.add(Announcement(edition_id=edition.id, kind="screening", number=f"B/1/PP.00.05/{YEAR}",
                                title="Hasil seleksi administrasi", published_by_id=scene.secretariat.id))
    return scene


def frozen_list(scene: Scene, kind: ShortlistKind, chosen: dict[str, bool], tier: dict[bool, Any],
                **extra: Any) -> Shortlist:
    shortlist = Shortlist(edition_id=scene.edition_id, kind=kind, frozen_at=utcnow(),
                          frozen_by_id=scene.secretariat.id, minutes="Berita acara (uji).", **extra)
    for rank, (label, is_chosen) in enumerate(chosen.items(), start=1):
        proposal = scene.proposal(label)
        shortlist.entries.append(ShortlistEntry(
            proposal_id=proposal.id, group_code=GroupCode.UMUM, rank=rank, score=Decimal(90 - rank),
            cluster=proposal.agency.cluster, is_3t=False, province_code="71", proposed=is_chosen, chosen=is_chosen,
            tier=tier[is_chosen]))
    db.session.add(shortlist)
    return shortlist


def freeze_nominees(scene: Scene) -> None:
    """The Tim Evaluasi's nominee list frozen; the panel has not started."""
    set_stages(scene.edition, utcnow(), open_kind=StageKind.PANEL_REVIEW)
    scene.edition.stage(StageKind.PANEL_REVIEW).status = StageStatus.PLANNED
    chosen = {WINNER: True, LOSER: True, PANEL: True, EARLY: False}
    for label, is_chosen in chosen.items():
        _transition(scene.proposal(label), Action.NOMINATE if is_chosen else Action.PASS_OVER_NOMINATION,
                    actor=scene.secretariat)
    frozen_list(scene, ShortlistKind.NOMINEES, chosen, {True: None, False: None})


def freeze_plenary(scene: Scene) -> None:
    """The panel's plenary decision frozen; the objection window (the announcement) not open yet."""
    set_stages(scene.edition, utcnow(), open_kind=StageKind.OBJECTION)
    scene.edition.stage(StageKind.OBJECTION).status = StageStatus.PLANNED
    chosen = {WINNER: True, LOSER: True, PANEL: False}
    for label, is_chosen in chosen.items():
        _transition(scene.proposal(label), Action.MAKE_FINALIST if is_chosen else Action.PASS_OVER_FINALIST,
                    actor=scene.secretariat)
    frozen_list(scene, ShortlistKind.FINALISTS, chosen, {True: AwardTier.TOP_99, False: None})


def open_objection_window(client: Any, scene: Scene) -> None:
    """The secretariat takes the edition's next step: the finalists are announced."""
    response = client.post(f"/admin/progress/{scene.edition_id}/step", data={
        "stage_id": scene.edition.stage(StageKind.OBJECTION).id, "move": "open"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def present_finalists(scene: Scene) -> None:
    """Confirmed by decree after the window; both finalists presented; the final round open."""
    now = utcnow()
    confirmed = db.session.scalar(sa.select(Shortlist).where(Shortlist.edition_id == scene.edition_id,
                                                             Shortlist.kind == ShortlistKind.FINALISTS))
    confirmed.confirmed_at, confirmed.confirmed_by_id = now, scene.secretariat.id
    confirmed.decree_number, confirmed.decree_date = FINALISTS_DECREE, dt.date(YEAR, 6, 20)
    set_stages(scene.edition, now, open_kind=StageKind.FINAL)
    starts = (now - dt.timedelta(days=1)).replace(microsecond=0)
    for label in (WINNER, LOSER):
        entrant = scene.entrants[label]
        _transition(entrant.proposal, Action.CONFIRM_FINALIST, actor=scene.secretariat)
        slot = PresentationSlot(edition_id=scene.edition_id, proposal_id=entrant.proposal_id, starts_at=starts,
                                presentation_minutes=7, interview_minutes=13, attendance=Attendance.PRESENTED,
                                attendance_at=starts)
        db.session.add(slot)
        _transition(entrant.proposal, Action.RECORD_PRESENTED, actor=scene.secretariat)
        db.session.flush()
        entrant.slot_id = slot.id


def freeze_final(scene: Scene) -> None:
    """The panel's final result frozen with its decree (and the award history written), unpublished."""
    chosen = {WINNER: True, LOSER: False}
    for label, is_chosen in chosen.items():
        _transition(scene.proposal(label), Action.AWARD if is_chosen else Action.CLOSE_AS_FINALIST,
                    actor=scene.secretariat, comment=WINNERS_DECREE)
    frozen_list(scene, ShortlistKind.WINNERS, chosen, {True: AwardTier.TOP_45, False: None},
                decree_number=WINNERS_DECREE, decree_date=dt.date(YEAR, 7, 31))
    write_award_history(scene.secretariat, scene.edition, finalists=[scene.proposal(WINNER), scene.proposal(LOSER)],
                        winners={scene.proposal(WINNER).id}, decree=WINNERS_DECREE)


def publish(client: Any, scene: Scene) -> None:
    set_stages(scene.edition, utcnow(), open_kind=StageKind.ANNOUNCEMENT)
    db.session.commit()
    response = client.post(f"/admin/editions/{scene.edition_id}/publication/publish")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


# --- what an agency reaches ----------------------------------------------------------------------


def agency_routes(app: Any, role: Role) -> list[tuple[Any, str]]:
    """(rule, method) of every route the access table opens to ``role``."""
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = ACCESS.get(rule.endpoint, ())  # a route missing there fails test_every_route_is_listed
        if rule.endpoint in NOT_WALKED or not (access in (PUBLIC, ANYONE_LOGGED_IN) or role in access):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "POST" and rule.endpoint.startswith(NOT_POSTED):
                continue
            routes.append((rule, method))
    return routes


def url_values(scene: Scene, entrant: Entrant, notification_id: int | None) -> dict[str, Any]:
    return {"proposal_id": entrant.proposal_id, "file_id": entrant.file_id, "slot_id": entrant.slot_id or 0,
            "notification_id": notification_id or 0, "user_id": entrant.upp_id, "unit_id": entrant.unit_id,
            "year": YEAR, "token": "bukan-token", "announcement_id": _announcement_id(scene),
            "code": verification_code(entrant.proposal_id, AwardTier.TOP_45)}


def _announcement_id(scene: Scene) -> int:
    return db.session.scalar(sa.select(Announcement.id).where(Announcement.edition_id == scene.edition_id))


class PdfSource:
    """WeasyPrint stand-in: the PDF's "text" is the HTML it was asked to print (cheap, and readable)."""

    def __init__(self, string: str, **kwargs: Any) -> None:
        self.string = string

    def write_pdf(self, **kwargs: Any) -> bytes:
        return b"%PDF-source\n" + self.string.encode()


def body_text(response: Any) -> str:
    data = response.get_data()
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(f"{sheet.title}: {row}" for sheet in book for row in sheet.iter_rows(values_only=True))
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(f"{n}: {archive.read(n)!r}" for n in archive.namelist())
    return html.unescape(data.decode("utf-8", errors="replace"))


def normalised(text: str, entrant: Entrant) -> str:
    """The text with the ids, times and tokens replaced by placeholders (the agencies' names are
    replaced when two are compared: a public list names both)."""
    text = text.replace(verification_code(entrant.proposal_id, AwardTier.TOP_45), "<code>")
    # Ids (in paths, data attributes, form values, queries and at a test id's end) differ from one
    # agency to the next and say nothing of the state.
    text = re.sub(r"(?<=/)\d+(?=[/\"'?#<\s.]|$)", "<id>", text)
    text = re.sub(r"([?&]\w+=|(?:data-[\w-]+|value)=\"|data-testid=\"[\w-]+?-)\d+(?=[\"&#<\s]|$)", r"\1<id>", text)
    text = re.sub(r"\d\d-\d\d-\d{4} \d\d:\d\d(:\d\d)? WIB|\d\d:\d\d:\d\d WIB", "<time>", text)
    text = re.sub(r"[\w-]{20,}\.[\w.-]{10,}", "<token>", text)  # signed tokens (CSRF, links)
    return text


class RawReads:
    """The template engine's attribute lookup, noting each read of a proposal's own state (the walk
    renders only for agencies, who must get it from ``disclosed(p)``)."""

    def __init__(self, getattr_: Any) -> None:
        self.getattr = getattr_
        self.route = ""
        self.found: dict[str, set[str]] = {}

    def __call__(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Proposal) and attribute in RAW_STATE:
            self.found.setdefault(self.route, set()).add(f"proposal.{attribute}")
        return self.getattr(obj, attribute)


def walk(app: Any, client: Any, db_session: Any, scene: Scene, entrant: Entrant, role: Role,
         raw_reads: RawReads) -> dict[str, str]:
    """Everything ``role`` of the entrant's agency reaches about it, normalised, by route."""
    person = entrant.person(role)
    name, email = person.name, person.email
    notification_id = db_session.scalar(sa.select(sa.func.max(Notification.id)).where(
        Notification.user_id == person.id))
    values = url_values(scene, entrant, notification_id)
    connection = db_session.get_bind()
    seen: dict[str, str] = {}
    for rule, method in agency_routes(app, role):
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
        where = f"{method} {rule.endpoint}"
        raw_reads.route = where
        db_session.close()
        savepoint = connection.begin_nested()  # a form's effect is undone before the next route
        response = client.open(url, method=method, data=FORM if method == "POST" else None)
        with client.session_transaction() as session:
            flashed = session.pop("_flashes", [])
        db_session.close()
        savepoint.rollback()
        assert response.status_code < 500, f"{where} as {name} answered {response.status_code}"
        seen[where] = normalised(f"{response.status_code} {response.headers.get('Location', '')}\n"
                                 f"{flashed}\n{body_text(response)}", entrant)
    mail = db_session.scalars(sa.select(EmailMessage).where(EmailMessage.recipient == email)
                              .order_by(EmailMessage.id)).all()
    seen["emails"] = normalised("\n\n".join(f"{m.subject}\n{m.body_text}" for m in mail), entrant)
    return seen


def without_names(text: str, labels: tuple[str, ...]) -> str:
    """The compared agencies' names, people, titles and numbers (each made of its label) as one."""
    return re.sub("|".join(labels), "<entrant>", text, flags=re.IGNORECASE)


def assert_same(views: dict[str, dict[str, str]], labels: tuple[str, ...], role: Role, state: str) -> None:
    first, *others = labels
    for other in others:
        for where in views[first]:
            mine, theirs = without_names(views[first][where], labels), without_names(views[other][where], labels)
            if mine != theirs:
                diff = "\n".join(list(difflib.unified_diff(
                    mine.splitlines(), theirs.splitlines(), first, other, lineterm="", n=1))[:40])
                pytest.fail(f"{state}: {role.value} of {first} and of {other} see different things at {where}, "
                            f"though what sets them apart is not announced:\n{diff}")


def shown_status(views: dict[str, str]) -> str:
    match = re.search(r'data-testid="status-<id>">([^<]+)<', views["GET agency_proposals.detail"])
    assert match, views["GET agency_proposals.detail"][:2000]
    return match.group(1)


# --- the walk ------------------------------------------------------------------------------------


@pytest.fixture()
def certificate_folder(app, tmp_path):
    before = app.config.get("KIPP_CERTIFICATE_PATH")
    app.config["KIPP_CERTIFICATE_PATH"] = str(tmp_path / "certificates")
    yield
    app.config["KIPP_CERTIFICATE_PATH"] = before


def test_agencies_see_the_same_of_chosen_and_passed_over_proposals_until_each_round_is_announced(
        app, db_session, monkeypatch, certificate_folder):
    import weasyprint

    monkeypatch.setattr(weasyprint, "HTML", PdfSource)
    raw_reads = RawReads(app.jinja_env.getattr)
    scene = screened_edition()
    db_session.commit()
    secretariat = Login(app.test_client())(scene.secretariat)
    clients = {(label, role): Login(app.test_client())(entrant.person(role))
               for label, entrant in scene.entrants.items() for role in AGENCY_ROLES}

    def look(state: str) -> dict[tuple[str, Role], dict[str, str]]:
        db_session.commit()
        db_session.expire_all()
        with monkeypatch.context() as watch:
            watch.setattr(app.jinja_env, "getattr", raw_reads)
            return {(label, role): walk(app, clients[label, role], db_session, scene, entrant, role, raw_reads)
                    for label, entrant in scene.entrants.items() for role in AGENCY_ROLES}

    def check(views: Any, state: str, *labels: str) -> None:
        """The proposals of ``labels`` look alike to their agencies; no template read a state itself."""
        for role in AGENCY_ROLES:
            if labels:
                assert_same({label: views[label, role] for label in labels}, labels, role, state)
        assert not raw_reads.found, f"{state}: templates read a proposal's own state for an agency: {raw_reads.found}"

    freeze_nominees(scene)
    views = look("nominees frozen")
    check(views, "nominees frozen", WINNER, LOSER, PANEL, EARLY)
    walked = views[EARLY, Role.ADMIN_LOKAL]
    assert len(walked) > 40 and "GET correction.detail" in walked and "POST agency_proposals.autosave" in walked
    assert shown_status(walked) == "Passed administrative screening"
    assert "Held by: the secretariat" in walked["GET agency_proposals.print_pdf"]  # the PDF's text

    freeze_plenary(scene)
    views = look("plenary frozen")
    check(views, "plenary frozen", WINNER, LOSER, PANEL, EARLY)

    db_session.commit()
    open_objection_window(secretariat, scene)
    views = look("finalists announced")
    check(views, "finalists announced", WINNER, LOSER)
    for role in AGENCY_ROLES:
        assert shown_status(views[WINNER, role]) == "Finalist (objection window)"
        assert shown_status(views[PANEL, role]) == "Not a finalist"
        assert shown_status(views[EARLY, role]) == "Not nominated"
        assert f"is a finalist of KIPP {YEAR}" in views[WINNER, role]["emails"]
        assert "is not among the finalists" in views[PANEL, role]["emails"]
        assert views[PANEL, role]["GET agency_proposals.detail"] != views[EARLY, role]["GET agency_proposals.detail"]

    present_finalists(scene)
    before_the_result = look("finalists presented")
    check(before_the_result, "finalists presented", WINNER, LOSER)

    freeze_final(scene)
    views = look("final result frozen")
    check(views, "final result frozen", WINNER, LOSER)
    # Nothing of the frozen result shows: every agency sees what it saw before the panel agreed it.
    for key, seen in views.items():
        for where in seen:
            assert seen[where] == before_the_result[key][where], f"the frozen result shows at {where} for {key}"

    publish(secretariat, scene)
    views = look("results published")
    check(views, "results published")
    for role in AGENCY_ROLES:
        assert shown_status(views[WINNER, role]) == "Winner"
        assert shown_status(views[LOSER, role]) == "Finalist"
        assert views[WINNER, role]["GET agency_results.outcome"] != views[LOSER, role]["GET agency_results.outcome"]
