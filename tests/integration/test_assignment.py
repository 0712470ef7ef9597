"""Assigning a stage's proposals to judges: optimal, conflict-free, explained, adjustable, published."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.editions.kinds import StageKind
from kipp.judging.models import (
    Assignment,
    AssignmentRun,
    AssignmentState,
    InvitationStatus,
    PoolMember,
    RunStatus,
)
from kipp.proposals.states import ProposalStatus
from tests.conftest import Login
from tests.factories import AgencyFactory, EvaluatorFactory, SecretariatFactory, UnitFactory
from tests.proposal_factories import ProposalFactory

pytestmark = pytest.mark.integration


@pytest.fixture()
def stage(app, db_session):
    """12 screened proposals in two provinces and 5 accepted evaluators, one from Sulawesi Utara's government."""
    from kipp.editions.services import create_from_template

    edition = create_from_template(None, year=2031, name="KIPP 2031")
    manado = AgencyFactory(name="Pemerintah Kota Manado Uji", type=AgencyType.KOTA, cluster=Cluster.KOTA,
                           region_code="71.71")
    banyuwangi = AgencyFactory(name="Pemerintah Kabupaten Banyuwangi Uji", type=AgencyType.KABUPATEN,
                               cluster=Cluster.KABUPATEN, region_code="35.10")
    sulut = AgencyFactory(name="Pemerintah Provinsi Sulawesi Utara Uji", type=AgencyType.PROVINSI,
                          cluster=Cluster.PROVINSI, region_code="71")
    categories = edition.categories
    proposals = []
    for i in range(12):
        agency = manado if i < 4 else banyuwangi
        proposals.append(ProposalFactory(edition=edition, unit=UnitFactory(agency=agency),
                                         status=ProposalStatus.ADMIN_PASSED, group=edition.groups[0],
                                         category=categories[i % 3]))
    members = []
    for i in range(5):
        user = EvaluatorFactory(agency=sulut if i == 0 else None)
        member = PoolMember(edition_id=edition.id, stage=StageKind.EVALUATION, user_id=user.id,
                            status=InvitationStatus.ACCEPTED)
        member.expertise = [categories[i % 3]]
        db_session.add(member)
        members.append(member)
    db_session.commit()
    return {"edition": edition, "proposals": proposals, "members": members, "manado": manado}


def secretariat_client(app):
    client = app.test_client()
    Login(client)(SecretariatFactory())
    return client


def live(db_session, edition):
    return db_session.scalars(sa.select(Assignment).where(
        Assignment.edition_id == edition.id, Assignment.state != AssignmentState.REMOVED)).all()


def test_the_run_assigns_k_judges_without_conflicts_and_balanced(app, db_session, stage):
    client = secretariat_client(app)
    url = f"/admin/assignment/{stage['edition'].id}/evaluation"
    assert client.post(url + "/run").status_code == 302
    run = db_session.scalars(sa.select(AssignmentRun)).one()
    assert run.status is RunStatus.DONE and run.result["status"] == "OPTIMAL"
    assert run.result["solver"] and run.result["solver_version"]
    pairs = live(db_session, stage["edition"])
    per_proposal = Counter(a.proposal_id for a in pairs)
    assert set(per_proposal.values()) == {3} and len(per_proposal) == 12
    assert len({(a.proposal_id, a.member_id) for a in pairs}) == len(pairs)  # nobody twice on a proposal
    sulut_member = stage["members"][0].id
    manado_ids = {p.id for p in stage["proposals"][:4]}
    assert not [a for a in pairs if a.member_id == sulut_member and a.proposal_id in manado_ids]
    loads = Counter(a.member_id for a in pairs)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert all(a.explanation and "affinity" in a.explanation for a in pairs)
    page = client.get(url).get_data(as_text=True)
    assert "OPTIMAL" in page


def test_an_impossible_stage_names_its_shortfall(app, db_session, stage):
    stage["edition"].reviewers_per_proposal = 6  # more than the 5 judges
    db_session.commit()
    client = secretariat_client(app)
    url = f"/admin/assignment/{stage['edition'].id}/evaluation"
    client.post(url + "/run")
    run = db_session.scalars(sa.select(AssignmentRun)).one()
    assert run.status is RunStatus.INFEASIBLE
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="shortfalls"' in page and "needs 6" in page


def test_manual_choices_respect_conflicts_and_survive_a_rerun(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    conflicted = client.post(url + "/add", data={"proposal_id": stage["proposals"][0].id,
                                                 "member_id": stage["members"][0].id}, follow_redirects=True)
    assert "Conflict of interest" in conflicted.get_data(as_text=True)
    client.post(url + "/add", data={"proposal_id": stage["proposals"][5].id, "member_id": stage["members"][1].id})
    client.post(url + "/run")
    pinned = db_session.scalars(sa.select(Assignment).where(Assignment.pinned)).all()
    assert [(a.proposal_id, a.member_id) for a in pinned] == [(stage["proposals"][5].id, stage["members"][1].id)]
    assert pinned[0].state is AssignmentState.DRAFT and Counter(
        a.proposal_id for a in live(db_session, edition))[stage["proposals"][5].id] == 3


def test_published_assignments_reach_exactly_their_judges(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run")
    client.post(url + "/publish")
    pairs = live(db_session, edition)
    assert {a.state for a in pairs} == {AssignmentState.PUBLISHED}
    member = stage["members"][2]
    mine = {a.proposal_id for a in pairs if a.member_id == member.id}
    judge = app.test_client()
    Login(judge)(member.user)
    home = judge.get("/").get_data(as_text=True)
    for proposal in stage["proposals"]:
        shown = proposal.number in home
        assert shown == (proposal.id in mine)
        status = judge.get(f"/review/{proposal.id}").status_code
        assert status == (200 if proposal.id in mine else 404)
    # Files too: an unassigned proposal's file is as absent as the proposal.
    from kipp.proposals import uploads
    from kipp.proposals.models import ProposalFile

    other = next(p for p in stage["proposals"] if p.id not in mine)
    stored, digest = uploads.store(b"%PDF-1.4 bukti", "pdf")
    attached = ProposalFile(proposal_id=other.id, section_id=edition.groups[0].sections[0].id,
                            original_name="bukti.pdf", stored_name=stored, content_type="application/pdf",
                            size_bytes=14, sha256=digest, uploaded_by_id=member.user_id)
    db_session.add(attached)
    db_session.commit()
    assert judge.get(f"/review/{other.id}/files/{attached.id}").status_code == 404


def test_a_withdrawn_judge_moves_only_their_proposals(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run")
    before = {(a.proposal_id, a.member_id) for a in live(db_session, edition)}
    leaving = stage["members"][3]
    theirs = {p for p, m in before if m == leaving.id}
    client.post(url + f"/members/{leaving.id}/withdraw")
    db_session.expire_all()
    after = {(a.proposal_id, a.member_id) for a in live(db_session, edition)}
    assert {pair for pair in before if pair[1] != leaving.id} <= after  # everyone else's pairs stay
    assert all(m != leaving.id for _p, m in after)
    changed = {p for p, _m in after - before}
    assert changed <= theirs
    assert set(Counter(p for p, _m in after).values()) == {3}


def test_a_declared_conflict_gives_the_proposal_a_new_judge_and_moves_nothing_else(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run")
    client.post(url + "/publish")
    before = {(a.proposal_id, a.member_id) for a in live(db_session, edition)}
    member = stage["members"][2]
    proposal = next(p for p in stage["proposals"] if (p.id, member.id) in before)
    judge = app.test_client()
    Login(judge)(member.user)
    response = judge.post(f"/judge/conflicts/{edition.id}/proposal", data={
        "proposal-proposal_number": proposal.number, "proposal-reason": "Saudara kandung memimpin unit ini."})
    assert response.status_code == 302
    db_session.expire_all()
    after = {(a.proposal_id, a.member_id) for a in live(db_session, edition)}
    assert (proposal.id, member.id) not in after
    assert before - {(proposal.id, member.id)} <= after  # nothing else moved
    added = after - before
    assert len(added) == 1 and next(iter(added))[0] == proposal.id
    replacement = db_session.scalars(sa.select(Assignment).where(Assignment.source == "reassigned")).one()
    assert replacement.state is AssignmentState.PUBLISHED
    assert judge.get(f"/review/{proposal.id}").status_code == 404


def test_a_swap_replaces_one_judge_and_keeps_the_rules(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run")
    pairs = live(db_session, edition)
    manado_ids = {p.id for p in stage["proposals"][:4]}
    sulut = stage["members"][0]
    target = next(a for a in pairs if a.proposal_id in manado_ids)
    judges_of = {a.member_id for a in pairs if a.proposal_id == target.proposal_id}
    refused = client.post(url + f"/{target.id}/swap", data={"member_id": sulut.id}, follow_redirects=True)
    assert "Conflict of interest" in refused.get_data(as_text=True)
    free = next(m for m in stage["members"][1:] if m.id not in judges_of)
    client.post(url + f"/{target.id}/swap", data={"member_id": free.id})
    db_session.expire_all()
    now = {(a.proposal_id, a.member_id, a.pinned) for a in live(db_session, edition)
           if a.proposal_id == target.proposal_id}
    assert (target.proposal_id, free.id, True) in now and len(now) == 3
    assert all(member != target.member_id for _p, member, _pin in now)


def test_a_stage_can_assign_to_teams_with_the_same_rules(app, db_session, stage):
    from kipp.judging.models import Team

    edition = stage["edition"]
    members = stage["members"]
    teams = []
    for n, group in enumerate(([members[0], members[1]], [members[2], members[3]], [members[4]])):
        team = Team(edition_id=edition.id, stage=StageKind.EVALUATION, name=f"Tim {n + 1}")
        db_session.add(team)
        db_session.flush()
        for member in group:
            member.team_id = team.id
        teams.append(team)
    db_session.commit()
    client = secretariat_client(app)
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run", data={"by_team": "1", "teams_per_proposal": "1"})
    run = db_session.scalars(sa.select(AssignmentRun)).one()
    assert run.status is RunStatus.DONE and run.params["by_team"] is True
    pairs = live(db_session, edition)
    assert {a.member_id for a in pairs} == {None}
    assert Counter(a.proposal_id for a in pairs) == Counter({p.id: 1 for p in stage["proposals"]})
    manado_ids = {p.id for p in stage["proposals"][:4]}
    # Tim 1 holds the Sulawesi Utara evaluator: never on a Manado proposal.
    assert not [a for a in pairs if a.team_id == teams[0].id and a.proposal_id in manado_ids]
    client.post(url + "/publish")
    judge = app.test_client()
    Login(judge)(members[3].user)  # in Tim 2
    mine = {a.proposal_id for a in live(db_session, edition) if a.team_id == teams[1].id}
    for proposal in stage["proposals"]:
        assert judge.get(f"/review/{proposal.id}").status_code == (200 if proposal.id in mine else 404)


def test_judges_per_proposal_is_chosen_with_each_run_and_kept_for_the_stage(app, db_session, stage):
    client = secretariat_client(app)
    edition = stage["edition"]
    url = f"/admin/assignment/{edition.id}/evaluation"
    client.post(url + "/run", data={"per_proposal": "1"})
    counts = Counter(a.proposal_id for a in live(db_session, edition))
    assert set(counts.values()) == {1} and len(counts) == 12
    page = client.get(url).get_data(as_text=True)
    assert "1 reviewers per proposal" in page and 'name="per_proposal"' in page and 'value="1"' in page
    refused = client.post(url + "/run", data={"per_proposal": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "Give between 1 and 10 judges per proposal." in refused
