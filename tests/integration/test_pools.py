"""Pools of judges through the test client: invitations, answers, teams, declared conflicts, the matrix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.kinds import AgencyType, Cluster
from kipp.audit.models import AuditEvent
from kipp.editions.kinds import StageKind
from kipp.judging import pools
from kipp.judging.conflicts import (
    conflict_matrix,
    conflicts_for,
    declaration_facts,
    judge_facts,
    proposal_facts,
)
from kipp.judging.models import (
    Assignment,
    AssignmentState,
    ConflictDeclaration,
    ConflictKind,
    InvitationStatus,
    PoolMember,
    Severity,
    Team,
)
from kipp.notifications.models import Notification
from kipp.proposals.states import ProposalStatus
from tests.conftest import Login, build_app
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    PanelistFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)
from tests.proposal_factories import ProposalFactory

pytestmark = pytest.mark.integration

EVALUATION = StageKind.EVALUATION.value


@pytest.fixture(autouse=True)
def _english(db_session):
    """Services called outside a request speak Bahasa Indonesia; these tests read English."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def edition(db_session):
    from kipp.editions.services import create_from_template

    return create_from_template(None, year=2031, name="KIPP 2031")


def member_of(user, edition, stage=StageKind.EVALUATION, status=InvitationStatus.ACCEPTED, **values):
    from kipp.extensions import db

    member = PoolMember(edition_id=edition.id, stage=stage, user_id=user.id, status=status, **values)
    db.session.add(member)
    db.session.flush()
    return member


def pool_url(edition, *parts, stage=EVALUATION) -> str:
    return "/".join([f"/admin/pools/{edition.id}/{stage}", *map(str, parts)])


# --- invitations ---------------------------------------------------------------------------------


def test_inviting_a_new_evaluator_creates_the_account_and_emails_both_links(client, login, outbox_mail, db_session,
                                                                            edition):
    login(SecretariatFactory())
    categories = [edition.categories[0].id, edition.categories[2].id]
    response = client.post(pool_url(edition, "invite"), data={
        "name": "Prof. Baru", "email": "Prof.Baru@Example.ac.id", "role": "evaluator", "agency_id": 0,
        "affiliation": "Universitas Sam Ratulangi", "home_region_code": "71.71", "max_load": 25,
        "expertise": categories,
    })
    assert response.status_code == 302, text(response)[:2000]
    user = db_session.scalar(sa.select(User).where(User.email == "prof.baru@example.ac.id"))
    assert user.role is Role.EVALUATOR and user.affiliation == "Universitas Sam Ratulangi" and not user.has_password
    member = db_session.scalar(sa.select(PoolMember).where(PoolMember.user_id == user.id))
    assert (member.status, member.stage, member.max_load, member.home_region_code) == (
        InvitationStatus.INVITED, StageKind.EVALUATION, 25, "71.71")
    assert sorted(c.id for c in member.expertise) == sorted(categories)
    mails = [m for m in outbox_mail() if m.recipient == "prof.baru@example.ac.id"]
    assert len(mails) == 2  # the link to set a password, and the invitation to the pool
    assert any("/judge/" in m.body_text for m in mails)
    note = db_session.scalar(sa.select(Notification).where(Notification.user_id == user.id))
    assert note.kind == "pool_invitation" and note.link == "/judge/"

    page = client.get(pool_url(edition, ""))
    assert page.status_code == 200 and "Prof. Baru" in text(page) and "Kota Manado" in text(page)
    edit = client.get(pool_url(edition, "members", member.id))
    assert edit.status_code == 200 and text(edit).count("checked") == 2  # the expertise, as recorded


def test_an_existing_evaluator_is_reused_and_a_panelist_is_refused(client, login, outbox_mail, db_session, edition):
    login(SecretariatFactory())
    evaluator = EvaluatorFactory()
    panelist = PanelistFactory()
    users_before = db_session.scalar(sa.select(sa.func.count()).select_from(User))
    response = client.post(pool_url(edition, "invite"), data={
        "name": "Ignored", "email": evaluator.email.upper(), "role": "evaluator", "agency_id": 0,
    })
    assert response.status_code == 302
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
    member = db_session.scalar(sa.select(PoolMember).where(PoolMember.user_id == evaluator.id))
    assert member.status is InvitationStatus.INVITED and evaluator.name != "Ignored"
    assert [m.recipient for m in outbox_mail()] == [evaluator.email]  # the pool invitation only

    again = client.post(pool_url(edition, "invite"), data={"name": "x", "email": evaluator.email, "role": "evaluator",
                                                           "agency_id": 0})
    assert again.status_code == 200 and "is already in the pool of this stage" in text(again)

    wrong = client.post(pool_url(edition, "invite"), data={"name": "x", "email": panelist.email, "role": "evaluator",
                                                           "agency_id": 0})
    assert wrong.status_code == 200
    assert "belongs to a Panelist (Tim Panel Independen), who cannot join the pool of this stage" in text(wrong)
    assert db_session.scalar(sa.select(PoolMember).where(PoolMember.user_id == panelist.id)) is None

    # The same panelist fits the panel review.
    panel = client.post(pool_url(edition, "invite", stage="panel_review"),
                        data={"name": "x", "email": panelist.email, "role": "panelist", "agency_id": 0})
    assert panel.status_code == 302


def test_invitation_checks_its_fields(db_session, edition):
    secretariat = SecretariatFactory()
    with pytest.raises(pools.PoolError) as error:
        pools.invite_to_pool(secretariat, edition, StageKind.EVALUATION, email="a@example.ac.id", name="A",
                             role=Role.PANELIST)
    assert error.value.field == "role"
    with pytest.raises(pools.PoolError, match="Unknown region code: 99.99"):
        pools.invite_to_pool(secretariat, edition, StageKind.EVALUATION, email="a@example.ac.id", name="A",
                             role=Role.EVALUATOR, home_region_code="99.99")
    with pytest.raises(pools.PoolError, match="cannot be negative"):
        pools.invite_to_pool(secretariat, edition, StageKind.EVALUATION, email="a@example.ac.id", name="A",
                             role=Role.EVALUATOR, max_load=-1)
    with pytest.raises(pools.PoolError, match="no pool of judges"):
        pools.invite_to_pool(secretariat, edition, StageKind.SUBMISSION, email="a@example.ac.id", name="A",
                             role=Role.EVALUATOR)
    with pytest.raises(pools.PoolError, match="no such category"):
        pools.invite_to_pool(secretariat, edition, StageKind.EVALUATION, email="a@example.ac.id", name="A",
                             role=Role.EVALUATOR, expertise=[-5])
    # Field verification takes evaluators and panelists alike (at least one TPI and one TE member).
    for factory in (EvaluatorFactory, PanelistFactory):
        person = factory()
        pools.invite_to_pool(secretariat, edition, StageKind.FIELD_VERIFICATION, email=person.email, name="",
                             role=person.role)


# --- answers -------------------------------------------------------------------------------------


def test_only_the_invited_person_accepts_or_declines(app, client, login, db_session, edition):
    evaluator, other = EvaluatorFactory(), EvaluatorFactory()
    invited = member_of(evaluator, edition, status=InvitationStatus.INVITED)
    second = member_of(evaluator, edition, stage=StageKind.FIELD_VERIFICATION, status=InvitationStatus.INVITED)
    category = edition.categories[1]

    intruder = app.test_client()
    Login(intruder)(other)
    assert intruder.post(f"/judge/invitations/{invited.id}", data={f"m{invited.id}-answer": "accept"}
                         ).status_code == 404

    login(evaluator)
    page = client.get("/judge/")
    assert page.status_code == 200 and "KIPP 2031" in text(page)
    done = client.post(f"/judge/invitations/{invited.id}",
                       data={f"m{invited.id}-answer": "accept", f"m{invited.id}-expertise": [category.id]})
    assert done.status_code == 302
    db_session.refresh(invited)
    assert invited.status is InvitationStatus.ACCEPTED and invited.responded_at is not None
    assert [c.id for c in invited.expertise] == [category.id]

    declined = client.post(f"/judge/invitations/{second.id}", data={f"m{second.id}-answer": "decline"})
    assert declined.status_code == 302
    db_session.refresh(second)
    assert second.status is InvitationStatus.DECLINED

    twice = client.post(f"/judge/invitations/{second.id}", data={f"m{second.id}-answer": "accept"},
                        follow_redirects=True)
    assert "already been answered" in text(twice)
    db_session.refresh(second)
    assert second.status is InvitationStatus.DECLINED
    actions = set(db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "pool_members")))
    assert {"pool.accepted", "pool.declined"} <= actions


# --- members and teams ---------------------------------------------------------------------------


def test_teams_are_created_filled_renamed_and_deleted_only_when_empty(client, login, db_session, edition):
    login(SecretariatFactory())
    first, second = member_of(EvaluatorFactory(), edition), member_of(EvaluatorFactory(), edition)

    assert client.post(pool_url(edition, "teams"), data={"name": "Tim A", "max_load": 60}).status_code == 302
    duplicate = client.post(pool_url(edition, "teams"), data={"name": "tim a"})
    assert duplicate.status_code == 200 and "already has a team called" in text(duplicate)
    team = db_session.scalar(sa.select(Team).where(Team.edition_id == edition.id))
    assert (team.name, team.max_load, team.stage) == ("Tim A", 60, StageKind.EVALUATION)

    for member in (first, second):
        moved = client.post(pool_url(edition, "members", member.id, "team"), data={f"m{member.id}-team_id": team.id})
        assert moved.status_code == 302
    db_session.refresh(team)
    assert {m.id for m in team.members} == {first.id, second.id}
    page = client.get(pool_url(edition, "teams"))
    assert page.status_code == 200 and first.user.name in text(page)

    refused = client.post(pool_url(edition, "teams", team.id, "delete"), follow_redirects=True)
    assert "still has members" in text(refused)
    assert client.post(pool_url(edition, "teams", team.id), data={"name": "Tim Alfa", "max_load": ""}
                       ).status_code == 302
    db_session.refresh(team)
    assert (team.name, team.max_load) == ("Tim Alfa", None)

    # Editing a member moves them out of the team and records what the secretariat knows.
    agency = AgencyFactory()
    saved = client.post(pool_url(edition, "members", first.id), data={
        "expertise": [edition.categories[0].id], "max_load": 10, "home_region_code": "71", "team_id": 0,
        "agency_id": agency.id, "affiliation": "",
    })
    assert saved.status_code == 302, text(saved)[:2000]
    db_session.refresh(first)
    assert (first.team_id, first.max_load, first.home_region_code, first.user.agency_id) == (None, 10, "71", agency.id)
    client.post(pool_url(edition, "members", second.id, "team"), data={f"m{second.id}-team_id": 0})
    assert client.post(pool_url(edition, "teams", team.id, "delete")).status_code == 302
    assert db_session.get(Team, team.id) is None

    # A member without assignments can be removed.
    assert client.post(pool_url(edition, "members", second.id, "remove")).status_code == 302
    assert db_session.get(PoolMember, second.id) is None


def test_a_team_of_another_stage_is_refused(db_session, edition):
    secretariat = SecretariatFactory()
    member = member_of(EvaluatorFactory(), edition)
    panel_team = pools.create_team(secretariat, edition, StageKind.PANEL_REVIEW, name="Pasangan 1")
    with pytest.raises(pools.PoolError, match="another stage"):
        pools.set_team(secretariat, member, panel_team)
    with pytest.raises(pools.PoolError, match="Enter a name"):
        pools.create_team(secretariat, edition, StageKind.EVALUATION, name="  ")


# --- conflicts -----------------------------------------------------------------------------------


def test_declaring_a_conflict_on_an_assigned_proposal_removes_the_assignment(client, login, db_session, edition):
    secretariat = SecretariatFactory()
    evaluator = EvaluatorFactory()
    member = member_of(evaluator, edition)
    target = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED)
    kept = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED)
    assigned = Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=target.id,
                          member_id=member.id, state=AssignmentState.PUBLISHED)
    other = Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=kept.id, member_id=member.id,
                       state=AssignmentState.PUBLISHED)
    db_session.add_all([assigned, other])
    db_session.flush()

    login(evaluator)
    page = client.get("/judge/conflicts")
    assert page.status_code == 200 and "A conflict with one proposal" in text(page)
    unknown = client.post(f"/judge/conflicts/{edition.id}/proposal",
                          data={"proposal-proposal_number": "2031-U-99999", "proposal-reason": "Kerabat"})
    assert unknown.status_code == 200 and "Choose one of the proposals assigned to you." in text(unknown)
    no_reason = client.post(f"/judge/conflicts/{edition.id}/proposal",
                            data={"proposal-proposal_number": target.number, "proposal-reason": ""})
    assert no_reason.status_code == 200 and assigned.state is AssignmentState.PUBLISHED

    done = client.post(f"/judge/conflicts/{edition.id}/proposal",
                       data={"proposal-proposal_number": target.number.lower(),
                             "proposal-reason": "Adik saya memimpin unit ini."})
    assert done.status_code == 302
    db_session.refresh(assigned)
    db_session.refresh(other)
    assert assigned.state is AssignmentState.REMOVED
    assert other.state is AssignmentState.PUBLISHED
    declaration = db_session.scalar(sa.select(ConflictDeclaration).where(ConflictDeclaration.user_id == evaluator.id))
    assert (declaration.kind, declaration.proposal_id, declaration.severity) == (
        ConflictKind.PROPOSAL, target.id, Severity.HARD)
    removal = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "assignment.removed_for_conflict"))
    assert removal.object_id == str(assigned.id) and removal.before == {"state": "published"}
    note = db_session.scalar(sa.select(Notification).where(Notification.user_id == secretariat.id))
    assert note.kind == "assignment_removed_conflict" and target.title in note.message
    assert note.link == f"/admin/pools/{edition.id}/evaluation/conflicts"

    mine = client.get("/judge/conflicts")
    assert "Adik saya memimpin unit ini." in text(mine) and target.title in text(mine)
    # No longer the judge's, the proposal is no longer offered.
    offered = re.search(r'<select[^>]*name="proposal-proposal_number".*?</select>', text(mine), re.S).group(0)
    assert target.number not in offered and kept.number in offered
    again = client.post(f"/judge/conflicts/{edition.id}/proposal",
                        data={"proposal-proposal_number": target.number, "proposal-reason": "Lagi"},
                        follow_redirects=True)
    assert "Choose one of the proposals assigned to you." in text(again)
    twice = client.post(f"/judge/conflicts/{edition.id}/agency",
                        data={"agency-agency_id": kept.agency_id, "agency-reason": "Lagi"}, follow_redirects=True)
    assert twice.status_code == 200
    twice = client.post(f"/judge/conflicts/{edition.id}/agency",
                        data={"agency-agency_id": kept.agency_id, "agency-reason": "Lagi"}, follow_redirects=True)
    assert "already declared this conflict" in text(twice)


def _without_csrf(response) -> bytes:
    """The page without its CSRF token (signed with the time, it differs on every page)."""
    token = re.search(rb'<meta name="csrf-token" content="([^"]+)">', response.data).group(1)
    return response.data.replace(token, b"")


def test_declaring_tells_a_judge_nothing_of_proposals_not_theirs(client, login, db_session, edition):
    """Someone else's proposal and a number that does not exist get byte-identical answers; only
    the judge's own proposals are offered, and agencies and regions stay free to declare."""
    evaluator, colleague = EvaluatorFactory(), EvaluatorFactory()
    mine = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED, title="Inovasi Saya")
    theirs = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED, title="Inovasi Rahasia Orang Lain")
    unpublished = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED, title="Inovasi Belum Terbit")
    member, other = member_of(evaluator, edition), member_of(colleague, edition)
    db_session.add_all([
        Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=mine.id, member_id=member.id,
                   state=AssignmentState.PUBLISHED),
        Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=theirs.id, member_id=other.id,
                   state=AssignmentState.PUBLISHED),
        Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=unpublished.id,
                   member_id=member.id, state=AssignmentState.DRAFT),
    ])
    db_session.flush()
    login(evaluator)
    page = text(client.get(f"/judge/conflicts?edition={edition.id}"))
    offered = re.search(r'<select[^>]*name="proposal-proposal_number".*?</select>', page, re.S).group(0)
    assert mine.number in offered and "Inovasi Saya" in offered
    assert theirs.number not in offered and unpublished.number not in offered

    answers = []
    for number in (theirs.number, "2031-U-99999", theirs.number.lower(), unpublished.number):
        response = client.post(f"/judge/conflicts/{edition.id}/proposal",
                               data={"proposal-proposal_number": number, "proposal-reason": "Kerabat"})
        assert response.status_code == 200
        answers.append(_without_csrf(response))
    assert len(set(answers)) == 1
    assert b"Choose one of the proposals assigned to you." in answers[0]
    assert b"Inovasi Rahasia Orang Lain" not in answers[0]
    assert "Inovasi Rahasia Orang Lain" not in text(client.get(f"/judge/conflicts?edition={edition.id}"))

    free = client.post(f"/judge/conflicts/{edition.id}/agency",
                       data={"agency-agency_id": theirs.agency_id, "agency-reason": "Bekas kantor saya"})
    assert free.status_code == 302
    assert db_session.scalars(sa.select(ConflictDeclaration.kind).where(
        ConflictDeclaration.user_id == evaluator.id)).all() == [ConflictKind.AGENCY]
    # The service keeps the rule for every caller, the scoring page's included.
    with pytest.raises(pools.PoolError, match="assigned to you"):
        pools.declare_conflict(evaluator, edition, kind=ConflictKind.PROPOSAL, proposal=theirs, reason="Kerabat")


def test_an_old_declaration_of_another_proposal_shows_only_its_number(client, login, db_session, edition):
    evaluator = EvaluatorFactory()
    member_of(evaluator, edition)
    theirs = ProposalFactory(edition=edition, status=ProposalStatus.SUBMITTED, title="Inovasi Rahasia Orang Lain")
    db_session.add(ConflictDeclaration(edition_id=edition.id, user_id=evaluator.id, kind=ConflictKind.PROPOSAL,
                                       proposal_id=theirs.id, severity=Severity.HARD, reason="Dari dulu"))
    db_session.flush()
    login(evaluator)
    listed = text(client.get("/judge/conflicts"))
    assert theirs.number in listed and "Dari dulu" in listed and "Inovasi Rahasia Orang Lain" not in listed


def test_a_declared_region_removes_team_assignments_it_covers(client, login, db_session, edition):
    secretariat = SecretariatFactory()
    evaluator = EvaluatorFactory()
    team = pools.create_team(secretariat, edition, StageKind.EVALUATION, name="Tim B")
    member_of(evaluator, edition, team_id=team.id)
    minahasa = AgencyFactory(name="Pemerintah Kabupaten Minahasa", type=AgencyType.KABUPATEN,
                             cluster=Cluster.KABUPATEN, region_code="71.02")
    gorontalo = AgencyFactory(name="Pemerintah Kota Gorontalo", region_code="75.71")
    covered = ProposalFactory(edition=edition, unit=UnitFactory(agency=minahasa), status=ProposalStatus.SUBMITTED)
    elsewhere = ProposalFactory(edition=edition, unit=UnitFactory(agency=gorontalo), status=ProposalStatus.SUBMITTED)
    rows = [Assignment(edition_id=edition.id, stage=StageKind.EVALUATION, proposal_id=p.id, team_id=team.id,
                       state=AssignmentState.DRAFT) for p in (covered, elsewhere)]
    db_session.add_all(rows)
    db_session.flush()

    login(evaluator)
    done = client.post(f"/judge/conflicts/{edition.id}/region",
                       data={"region-region_code": "71", "region-reason": "Saya pernah bekerja di Pemprov Sulut."})
    assert done.status_code == 302
    assert [r.state for r in rows] == [AssignmentState.REMOVED, AssignmentState.DRAFT]

    agency_done = client.post(f"/judge/conflicts/{edition.id}/agency",
                              data={"agency-agency_id": gorontalo.id, "agency-reason": "Konsultan di sana."})
    assert agency_done.status_code == 302
    assert rows[1].state is AssignmentState.REMOVED


def test_a_judge_outside_the_edition_cannot_declare(client, login, db_session, edition):
    login(EvaluatorFactory())
    assert client.post(f"/judge/conflicts/{edition.id}/agency",
                       data={"agency-agency_id": 0, "agency-reason": "x"}).status_code == 404
    page = client.get("/judge/conflicts")
    assert page.status_code == 200 and "not in a pool of judges yet" in text(page)


def test_conflict_matrix_equals_the_rule_applied_pairwise(client, login, db_session, edition):
    edition.coi_same_province = "soft"
    sulut = AgencyFactory(name="Pemerintah Provinsi Sulawesi Utara", type=AgencyType.PROVINSI,
                          cluster=Cluster.PROVINSI, region_code="71")
    manado = AgencyFactory(name="Pemerintah Kota Manado", region_code="71.71")
    minahasa = AgencyFactory(name="Pemerintah Kabupaten Minahasa", type=AgencyType.KABUPATEN,
                             cluster=Cluster.KABUPATEN, region_code="71.02")
    gorontalo = AgencyFactory(name="Pemerintah Kota Gorontalo", region_code="75.71")
    ministry = AgencyFactory(name="Kementerian Uji", type=AgencyType.KEMENTERIAN, cluster=Cluster.KEMENTERIAN,
                             region_code="31")
    proposals = [ProposalFactory(edition=edition, unit=UnitFactory(agency=a), status=ProposalStatus.SUBMITTED)
                 for a in (sulut, manado, minahasa, gorontalo, ministry, manado)]
    ProposalFactory(edition=edition, unit=UnitFactory(agency=manado))  # a draft: not in the competition
    ProposalFactory(edition=edition, unit=UnitFactory(agency=manado), status=ProposalStatus.WITHDRAWN)

    from_province = EvaluatorFactory(agency=sulut)
    from_ministry = EvaluatorFactory(agency=ministry)
    academic = EvaluatorFactory()
    declined = EvaluatorFactory(agency=manado)
    members = [member_of(from_province, edition), member_of(from_ministry, edition, home_region_code="75"),
               member_of(academic, edition, status=InvitationStatus.INVITED)]
    member_of(declined, edition, status=InvitationStatus.DECLINED)
    db_session.add_all([
        ConflictDeclaration(edition_id=edition.id, user_id=academic.id, kind=ConflictKind.REGION, region_code="71",
                            severity=Severity.SOFT, reason="Alumni"),
        ConflictDeclaration(edition_id=edition.id, user_id=academic.id, kind=ConflictKind.PROPOSAL,
                            proposal_id=proposals[4].id, reason="Pembimbing"),
        ConflictDeclaration(edition_id=edition.id, user_id=from_ministry.id, kind=ConflictKind.AGENCY,
                            agency_id=manado.id, reason="Mantan pegawai"),
    ])
    db_session.flush()

    matrix = conflict_matrix(edition, StageKind.EVALUATION)
    judges = judge_facts(edition, StageKind.EVALUATION, members)
    facts = proposal_facts(edition, proposals)
    declarations = declaration_facts(edition)
    pairwise = {}
    for judge in judges:
        for proposal in facts:
            found = conflicts_for(judge, proposal, declarations=declarations, province_rule="soft")
            if found:
                pairwise[(proposal.id, judge.member_id)] = found
    assert matrix == pairwise
    assert {member_id for _, member_id in matrix} == {m.id for m in members}  # the declined one is left out
    province, ministry_member, academic_member = (m.id for m in members)
    codes = {key: [c.code for c in found] for key, found in matrix.items()}
    assert codes[(proposals[0].id, province)] == ["own_agency"]
    assert codes[(proposals[1].id, province)] == ["same_province_agency"]
    assert codes[(proposals[1].id, ministry_member)] == ["declared_agency"]
    assert codes[(proposals[3].id, ministry_member)] == ["same_province_home"]  # home region Gorontalo
    assert codes[(proposals[4].id, ministry_member)] == ["own_agency"]
    assert codes[(proposals[4].id, academic_member)] == ["declared_proposal"]
    assert (proposals[3].id, province) not in matrix
    assert matrix[(proposals[1].id, province)][0].severity is Severity.SOFT
    # Explicit lists give the same pairs for those members and proposals.
    assert conflict_matrix(edition, StageKind.EVALUATION, members[:1], [p.id for p in proposals[:2]]) == {
        key: value for key, value in matrix.items() if key[1] == province and key[0] in {p.id for p in proposals[:2]}
    }

    login(SecretariatFactory())
    page = client.get(pool_url(edition, "conflicts"))
    assert page.status_code == 200 and "Mantan pegawai" in text(page)
    assert "Works at Pemerintah Provinsi Sulawesi Utara, the agency of this proposal." in text(page)
    member_page = client.get(pool_url(edition, "members", province))
    assert member_page.status_code == 200 and "Kota Manado" in text(member_page)


# --- who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [AdminLokalFactory, UppFactory, EvaluatorFactory, PanelistFactory])
def test_pools_are_for_the_secretariat_only(client, login, db_session, edition, factory):
    login(factory())
    assert client.get("/admin/pools/").status_code == 404
    assert client.get(pool_url(edition, "")).status_code == 404


@pytest.mark.parametrize("factory", [SecretariatFactory, AdminLokalFactory, UppFactory])
def test_judge_pages_are_for_judges_only(client, login, db_session, factory):
    login(factory())
    assert client.get("/judge/").status_code == 404
    assert client.get("/judge/conflicts").status_code == 404


def test_each_role_sees_its_own_pages(client, login, db_session, edition):
    login(SecretariatFactory())
    assert client.get("/admin/pools/").status_code == 200
    for stage in pools.JUDGING_STAGES:
        for page in ("", "invite", "teams", "conflicts"):
            assert client.get(pool_url(edition, page, stage=stage.value)).status_code == 200, (stage, page)
    assert client.get(pool_url(edition, "", stage="submission")).status_code == 404
    login.logout()
    login(PanelistFactory())
    assert client.get("/judge/").status_code == 200
