"""Every route in the URL map, for every role: who may open it and who gets 404.

A route added without a line here fails ``test_every_route_is_listed``.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from kipp.accounts.models import LoginSession
from kipp.accounts.roles import Role
from kipp.innovations.kinds import AwardTier
from kipp.db import utcnow
from kipp.notifications.models import EmailMessage, Notification
from kipp.outbox.models import OutboxMessage
from kipp.proposals import uploads
from kipp.proposals.models import KhususInvitation, Proposal, ProposalFile
from tests.innovation_factories import AwardFactory, InnovationFactory
from tests.conftest import Login
from tests.factories import (
    AdminLokalFactory,
    EvaluatorFactory,
    PanelistFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)

pytestmark = pytest.mark.integration

PUBLIC = "public"  # anyone, logged in or not
ANYONE_LOGGED_IN = "logged-in"
SEC = frozenset({Role.SECRETARIAT})
LOCAL = frozenset({Role.ADMIN_LOKAL})
AGENCY = frozenset({Role.ADMIN_LOKAL, Role.UPP})
JUDGES = frozenset({Role.EVALUATOR, Role.PANELIST})

ACCESS: dict[str, Any] = {
    "static": PUBLIC,
    "home.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": PUBLIC,
    "home.index": ANYONE_LOGGED_IN,
    "auth.change_password": ANYONE_LOGGED_IN,
    "auth.profile": ANYONE_LOGGED_IN,
    "auth.end_session": ANYONE_LOGGED_IN,  # one's own other session (the world gives each role one)
    "auth.end_other_sessions": ANYONE_LOGGED_IN,
    **{e: SEC for e in (
        "accounts.index", "accounts.invite", "accounts.detail", "accounts.deactivate", "accounts.reactivate",
        "accounts.resend_invitation", "accounts.temporary_password",
        "agencies.index", "agencies.create", "agencies.detail", "agencies.edit", "agencies.deactivate",
        "agencies.reactivate", "agencies.add_unit", "agencies.edit_unit", "agencies.deactivate_unit",
        "agencies.reactivate_unit", "agencies.import_agencies", "agencies.import_template", "agencies.regions",
        "agencies.province",
        "audit.index",
        "editions.index", "editions.copy", "editions.create_from_template", "editions.general", "editions.groups",
        "editions.edit_group", "editions.delete_group", "editions.sections", "editions.group_sections",
        "editions.edit_section", "editions.delete_section", "editions.move_section", "editions.categories",
        "editions.edit_category", "editions.delete_category", "editions.move_category", "editions.documents",
        "editions.edit_document", "editions.delete_document", "editions.move_document", "editions.sdgs",
        "editions.stages", "editions.edit_stage", "editions.delete_stage",
        "notifications.mailbox", "notifications.message", "notifications.retry",
        "notifications.resend_failed_message", "notifications.resend_all_failed",
    )},
    "inbox.index": ANYONE_LOGGED_IN,
    "inbox.open_notification": ANYONE_LOGGED_IN,
    "inbox.read_all": ANYONE_LOGGED_IN,
    **{e: SEC for e in (
        "innovations.index", "innovations.create", "innovations.detail", "innovations.edit",
        "innovations.add_award", "innovations.remove_award", "innovations.import_results",
        "innovations.import_template", "innovations.khusus", "innovations.khusus_edition", "innovations.invite",
        "innovations.revoke",
        "proposals_admin.index", "proposals_admin.funnel", "proposals_admin.export_xlsx", "proposals_admin.detail",
        "proposals_admin.print_pdf", "deadlines.index",
        "assignment.stage", "assignment.status", "assignment.run", "assignment.publish", "assignment.add",
        "assignment.remove", "assignment.pin", "assignment.withdraw", "assignment.swap",
    )},
    **{e: AGENCY for e in (
        "agency_proposals.index", "agency_proposals.new", "agency_proposals.detail", "agency_proposals.edit",
        "agency_proposals.autosave", "agency_proposals.download", "agency_proposals.delete_file",
        "agency_proposals.send", "agency_proposals.return_to_unit", "agency_proposals.submit",
        "agency_proposals.withdraw", "agency_proposals.print_pdf",
    )},
    **{e: JUDGES for e in ("review.proposal", "review.download", "judge.invitations", "judge.conflicts",
                           "judge.declare")},
    "judge.respond": frozenset({Role.EVALUATOR}),  # the world's member id is the evaluator's own
    **{e: SEC for e in (
        "pools.index", "pools.stage", "pools.invite", "pools.member", "pools.remove_member", "pools.set_team",
        "pools.teams", "pools.edit_team", "pools.delete_team", "pools.conflicts",
    )},
    **{e: SEC for e in (
        "screening.index", "screening.claim_next", "screening.review", "screening.save", "screening.claim",
        "screening.release", "screening.confirm", "screening.proposal_file", "screening.checklist",
        "screening.create_checklist", "screening.settings", "screening.edit_reason", "screening.toggle_reason",
        "screening.move_reason", "screening.announcements", "screening.statistics",
    )},
    **{e: LOCAL for e in ("correction.index", "correction.detail", "correction.resubmit")},
    **{e: SEC for e in (
        "scoring.index", "scoring.stage", "scoring.create", "scoring.remind", "scoring.reveal", "scoring.recompute",
        "scoring.status", "scoring.settings", "scoring.aspect", "scoring.consolidation", "scoring.proposal",
        "scoring.reconcile", "scoring.add_judge", "scoring.reopen", "scoring.ranking", "pools.set_chair",
        "scoring_reports.charts", "scoring_reports.sheets_xlsx", "scoring_reports.ranking_xlsx",
    )},
    # The world's judges are both assigned the proposal and chair its team, consolidation open.
    **{e: JUDGES for e in (
        "scoring_judge.dashboard", "scoring_judge.sheet", "scoring_judge.save", "scoring_judge.autosave",
        "scoring_judge.declare_conflict", "scoring_chair.index", "scoring_chair.consolidation",
        "scoring_chair.proposal", "scoring_chair.reconcile",
    )},
    "public.edition": PUBLIC,
    "public.announcement": PUBLIC,
    # The selection rounds (issue 6).
    **{e: SEC for e in (
        "progress.index", "progress.edition", "progress.step", "editions.selection",
        "selection.nominees", "selection.nominee_settings", "selection.build_nominees", "selection.nominee_entry",
        "selection.freeze_nominees", "selection.final", "selection.build_final", "selection.final_entry",
        "selection.final_minutes", "selection.freeze_final",
        # The world's panelist is not in the panel review pool; its members' access is in test_plenary.py.
        "plenary.index", "plenary.build", "plenary.entry", "plenary.minutes", "plenary.freeze", "plenary.chair",
        "objections.index", "objections.detail", "objections.evidence", "objections.rule", "objections.confirm",
        "presentations.index", "presentations.generate", "presentations.slot", "presentations.attendance",
        "presentations.slides", "presentations.assign_panel",
        "verification.index", "verification.plan", "verification.visit", "verification.record",
        "verification.cancel",
        "publication.index", "publication.publish", "publication.regenerate", "publication.archive",
        "publication.certificate", "publication.results_xlsx",
    )},
    **{e: PUBLIC for e in ("public_objections.finalists", "public_objections.objection",
                           "public_objections.receipt", "public_objections.status", "results.index",
                           "results.verify")},
    **{e: AGENCY for e in ("agency_presentations.index", "agency_presentations.slot",
                           "agency_presentations.slides", "agency_results.index", "agency_results.outcome",
                           "agency_results.certificate")},
    **{e: LOCAL for e in ("agency_presentations.confirm", "agency_presentations.materials")},
    **{e: JUDGES for e in ("field.index", "field.visit", "field.record", "scoring_judge.slides")},
    **{e: LOCAL for e in (
        "local.agency", "local.add_unit", "local.edit_unit", "local.deactivate_unit", "local.reactivate_unit",
        "local.new_upp", "local.person", "local.deactivate", "local.reactivate", "local.resend_invitation",
        "local.temporary_password",
    )},
}

ROLES = [None, *Role]

# Routes that name the world's finalist (or its stage) rather than its draft proposal.
FINALIST_ROUTES = {"public_objections.objection", "agency_results.outcome", "agency_results.certificate",
                   "publication.certificate", "scoring_judge.slides"}


def test_every_route_is_listed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - set(ACCESS)) == [], "routes without an access rule in this file"
    assert sorted(set(ACCESS) - endpoints) == [], "access rules for routes that no longer exist"


@pytest.fixture()
def world(db_session):
    """One of everything a URL can name, inside the Admin Lokal's own agency."""
    from kipp.editions.services import create_from_template

    admin = AdminLokalFactory()
    unit = UnitFactory(agency=admin.agency)
    target = UppFactory(unit=unit)
    edition = create_from_template(None, year=2031, name="KIPP 2031")
    group = edition.groups[0]
    mail = EmailMessage(recipient="x@example.go.id", subject="s", body_text="b", transport="outbox")
    db_session.add(mail)
    failed_task = OutboxMessage(task="kipp.notifications.send_email", retry_until=utcnow(), failed_at=utcnow(),
                                payload={"user_id": 0, "template": "-", "secret_url": None, "context": {}})
    db_session.add(failed_task)
    upp = UppFactory(unit=unit)
    logins = {
        Role.SECRETARIAT: SecretariatFactory(),
        Role.ADMIN_LOKAL: admin,
        Role.UPP: upp,
        Role.EVALUATOR: EvaluatorFactory(),
        Role.PANELIST: PanelistFactory(),
    }
    innovation = InnovationFactory(agency=admin.agency, unit=unit)
    award = AwardFactory(innovation=innovation, year=2019, tier=AwardTier.TOP_45)
    db_session.flush()
    invitation = KhususInvitation(edition_id=edition.id, innovation_id=innovation.id, invited_by_id=logins[Role.SECRETARIAT].id)
    proposal = Proposal(edition=edition, group=group, agency_id=admin.agency_id, unit_id=unit.id,
                        created_by_id=upp.id, title="Inovasi Uji Akses")
    db_session.add_all([invitation, proposal])
    db_session.flush()
    stored, digest = uploads.store(b"%PDF-1.4 test", "pdf")
    attached = ProposalFile(proposal_id=proposal.id, section_id=group.sections[0].id, original_name="bukti.pdf",
                            stored_name=stored, content_type="application/pdf", size_bytes=13, sha256=digest,
                            uploaded_by_id=upp.id)
    db_session.add(attached)
    from kipp.editions.kinds import StageKind
    from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember

    members = {}
    for role in (Role.EVALUATOR, Role.PANELIST):
        members[role] = PoolMember(edition_id=edition.id, stage=StageKind.EVALUATION, user_id=logins[role].id,
                                   status=InvitationStatus.ACCEPTED)
        db_session.add(members[role])
    db_session.flush()
    from kipp.judging.models import Team

    team = Team(edition_id=edition.id, stage=StageKind.EVALUATION, name="Tim Uji")
    db_session.add(team)
    db_session.flush()
    for member in members.values():
        member.team_id, member.is_chair = team.id, True
    assignment = None
    for role, member in members.items():
        assignment = Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=proposal.id,
                                member_id=member.id, state=AssignmentState.PUBLISHED)
        db_session.add(assignment)
    db_session.flush()
    from kipp.screening import services as screening
    from kipp.screening.models import Announcement

    reason = screening.ensure_default_checklist(None, edition)[0]
    announcement = Announcement(edition_id=edition.id, kind="screening", number="B/1/PP.00.05/2031",
                                title="Hasil seleksi administrasi", published_by_id=logins[Role.SECRETARIAT].id)
    db_session.add(announcement)
    db_session.flush()
    from kipp.scoring import services as scoring
    from kipp.scoring.models import ScoreSheet, SheetStatus

    scheme = scoring.create_scheme(None, edition, StageKind.EVALUATION)
    scoring.reveal(None, scheme)
    sheet = ScoreSheet(scheme_id=scheme.id, proposal_id=proposal.id, member_id=members[Role.PANELIST].id,
                       status=SheetStatus.SUBMITTED, submitted_at=edition.created_at, scores={},
                       weighted_total=70)
    db_session.add(sheet)
    db_session.flush()
    values_of_rounds = _rounds_world(db_session, edition, admin, unit, upp, logins)
    notifications, other_sessions = {}, {}
    for role, person in logins.items():
        note = Notification(user_id=person.id, kind="test", message="m", link="/")
        other = LoginSession(user_id=person.id, token_hash=f"{person.id:064d}", device="Firefox · Windows")
        db_session.add_all([note, other])
        db_session.flush()
        notifications[role], other_sessions[role] = note.id, other.id
    db_session.flush()
    values = {
        "user_id": target.id, "agency_id": admin.agency_id, "unit_id": unit.id, "code": "71", "fmt": "csv",
        "token": "not-a-real-token", "edition_id": edition.id, "group_id": group.id,
        "section_id": group.sections[0].id, "category_id": edition.categories[0].id,
        "document_id": edition.documents[0].id, "stage_id": edition.stages[0].id, "direction": "down",
        "message_id": mail.id, "outbox_id": failed_task.id, "filename": "css/kipp.css", "innovation_id": innovation.id, "award_id": award.id,
        "invitation_id": invitation.id, "proposal_id": proposal.id, "file_id": attached.id,
        "notification_id": notifications[Role.SECRETARIAT], "session_id": other_sessions[Role.SECRETARIAT], "stage": "evaluation", "assignment_id": assignment.id,
        "member_id": members[Role.EVALUATOR].id, "reason_id": reason.id, "change": "deactivate", "year": 2031,
        "announcement_id": announcement.id, "team_id": team.id, "kind": "agency", "sheet_id": sheet.id,
        "aspect_id": scheme.aspects[0].id, **values_of_rounds,
    }
    return logins, values, (notifications, other_sessions)


def _rounds_world(db_session, edition, admin, unit, upp, logins):
    """The edition's finalist (in the Admin Lokal's agency, the UPP's unit), announced, confirmed and
    published, with an objection, a presentation slot with slides and a field visit by both judges."""
    import datetime as dt

    from kipp.db import utcnow
    from kipp.editions.kinds import StageKind
    from kipp.innovations.kinds import AwardTier
    from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
    from kipp.objections.models import Objection
    from kipp.presentations.models import PresentationSlot
    from kipp.proposals.models import StoredFile
    from kipp.proposals.states import ProposalStatus
    from kipp.publication.certificates import verification_code
    from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
    from kipp.verification.models import FieldVisit
    from tests.selection_factories import set_stages

    now = utcnow()
    secretariat = logins[Role.SECRETARIAT]
    edition.field_verification = True
    set_stages(edition, now, open_kind=StageKind.OBJECTION)
    finalist = Proposal(edition=edition, group=edition.groups[0], agency_id=admin.agency_id, unit_id=unit.id,
                        created_by_id=upp.id, title="Inovasi Finalis Uji Akses", status=ProposalStatus.CONFIRMED,
                        number="2031-U-99999", submitted_at=now)
    db_session.add(finalist)
    db_session.flush()
    for kind, extra in ((ShortlistKind.FINALISTS, {"confirmed_at": now, "confirmed_by_id": secretariat.id}),
                        (ShortlistKind.WINNERS, {"published_at": now, "published_by_id": secretariat.id})):
        shortlist = Shortlist(edition_id=edition.id, kind=kind, frozen_at=now, frozen_by_id=secretariat.id,
                              decree_number="B/1/2031", **extra)
        shortlist.entries.append(ShortlistEntry(proposal_id=finalist.id, group_code=edition.groups[0].code, rank=1,
                                                cluster=admin.agency.cluster, proposed=True, chosen=True,
                                                tier=AwardTier.TOP_99 if kind is ShortlistKind.FINALISTS
                                                else AwardTier.TOP_45))
        db_session.add(shortlist)
    stored, digest = uploads.store(b"%PDF-1.4 bukti", "pdf")
    evidence = StoredFile(original_name="bukti.pdf", stored_name=stored, content_type="application/pdf",
                          size_bytes=14, sha256=digest)
    stored, digest = uploads.store(b"%PDF-1.4 slides", "pdf")
    slides = StoredFile(original_name="slides.pdf", stored_name=stored, content_type="application/pdf",
                        size_bytes=15, sha256=digest)
    db_session.add_all([evidence, slides])
    db_session.flush()
    objection = Objection(edition_id=edition.id, proposal_id=finalist.id, reference="SGH/2031/00001", name="Warga",
                          contact="warga@example.id", reason="Data yang diajukan tidak sesuai kenyataan. " * 3,
                          evidence_id=evidence.id, client_hash="0" * 64)
    slot = PresentationSlot(edition_id=edition.id, proposal_id=finalist.id, starts_at=now - dt.timedelta(hours=1),
                            presentation_minutes=7, interview_minutes=13, slides_id=slides.id)
    visit = FieldVisit(edition_id=edition.id, proposal_id=finalist.id, visit_date=now.date(), location="Kantor")
    db_session.add_all([objection, slot, visit])
    db_session.flush()
    for stage in (StageKind.PRESENTATION, StageKind.FIELD_VERIFICATION):
        for role in (Role.EVALUATOR, Role.PANELIST):
            member = PoolMember(edition_id=edition.id, stage=stage, user_id=logins[role].id,
                                status=InvitationStatus.ACCEPTED)
            db_session.add(member)
            db_session.flush()
            db_session.add(Assignment(edition_id=edition.id, stage=stage, proposal_id=finalist.id,
                                      member_id=member.id, state=AssignmentState.PUBLISHED))
    from kipp.scoring import services as scoring

    scoring.create_scheme(None, edition, StageKind.PRESENTATION)
    db_session.flush()
    return {"finalist_id": finalist.id, "objection_id": objection.id, "slot_id": slot.id, "visit_id": visit.id,
            "certificate_code": verification_code(finalist.id, AwardTier.TOP_99)}


def _url(rule: Any, values: dict[str, Any]) -> str:
    from flask import url_for

    if rule.endpoint in FINALIST_ROUTES:
        values = {**values, "proposal_id": values["finalist_id"], "stage": "presentation"}
    if rule.endpoint == "results.verify":
        values = {**values, "code": values["certificate_code"]}
    return url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_each_route_answers_each_role_as_listed(app, client, db_session, world, role):
    logins, values, (notifications, other_sessions) = world
    db_session.commit()  # the world outlives the per-request savepoints below
    if role is not None:
        Login(client)(logins[role])
        # One's own notification and one's own other session.
        values = {**values, "notification_id": notifications[role], "session_id": other_sessions[role]}
    connection = db_session.get_bind()
    checked = 0
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.endpoint))
    for rule in rules:
        access = ACCESS[rule.endpoint]
        with app.test_request_context():
            url = _url(rule, values)
        allowed = access == PUBLIC or (role is not None and (access == ANYONE_LOGGED_IN or role in access))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout" and role is not None:
                continue  # would end the walk; logging out is tested on its own
            db_session.close()
            savepoint = connection.begin_nested()  # each request's changes are undone before the next
            response = client.open(url, method=method)
            db_session.close()
            savepoint.rollback()
            status = response.status_code
            where = f"{method} {url} as {role.value if role else 'anonymous'}"
            if allowed:
                assert status not in (403, 404, 500), f"{where} answered {status}"
            elif role is None:
                assert status == 302 and "/login" in response.headers["Location"], f"{where} answered {status}"
            else:
                assert status == 404, f"{where} answered {status}, expected 404"
            checked += 1
    assert checked > 90
