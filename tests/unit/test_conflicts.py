"""Conflict-of-interest rules on hand-made facts (no app, no database)."""

from __future__ import annotations

import random

import pytest

from kipp.agencies.kinds import AgencyType
from kipp.judging.conflicts import (
    DeclarationFacts,
    JudgeFacts,
    ProposalFacts,
    conflict_pairs,
    conflicts_for,
    province_severity,
    worst,
)
from kipp.judging.models import ConflictKind, Severity

pytestmark = pytest.mark.unit

# Agencies, with Kemendagri region codes: Sulawesi Utara (71) and two of its kab/kota, Gorontalo (75), DKI (31).
PROV_SULUT = (1, AgencyType.PROVINSI, "71", "Pemerintah Provinsi Sulawesi Utara")
KOTA_MANADO = (2, AgencyType.KOTA, "71.71", "Pemerintah Kota Manado")
KAB_MINAHASA = (3, AgencyType.KABUPATEN, "71.02", "Pemerintah Kabupaten Minahasa")
KOTA_GORONTALO = (4, AgencyType.KOTA, "75.71", "Pemerintah Kota Gorontalo")
KEMENTERIAN = (5, AgencyType.KEMENTERIAN, "31", "Kementerian Uji")
PROV_DKI = (6, AgencyType.PROVINSI, "31", "Pemerintah Provinsi DKI Jakarta")
BUMN_IN_MANADO = (7, AgencyType.BUMN, "71.71", "PT Uji (Persero)")
BUMD_SULUT = (8, AgencyType.BUMD, "71", "PT Bank SulutGo")
PROVINCES = {"71": "Sulawesi Utara", "75": "Gorontalo", "31": "DKI Jakarta"}


def judge(agency=None, *, home=None, user_id=10, member_id=100):
    if agency is None:
        return JudgeFacts(member_id=member_id, user_id=user_id, home_region_code=home, name="Prof. Uji",
                          home_region_name=home and f"Region {home}")
    agency_id, agency_type, region, name = agency
    return JudgeFacts(member_id=member_id, user_id=user_id, agency_id=agency_id, agency_type=agency_type,
                      agency_region_code=region, home_region_code=home, name="Dr. Uji", agency_name=name,
                      home_region_name=home and f"Region {home}")


def proposal(agency, *, proposal_id=1000):
    agency_id, agency_type, region, name = agency
    return ProposalFacts(id=proposal_id, agency_id=agency_id, agency_type=agency_type, agency_region_code=region,
                         label=f"2031-U-{proposal_id:05d}", agency_name=name,
                         province_name=PROVINCES.get(region.split(".")[0]) if region else None)


def declared(kind, *, user_id=10, severity=Severity.HARD, **target):
    return DeclarationFacts(user_id=user_id, kind=kind, severity=severity, reason="Pernah bekerja di sana",
                            target="the target", **target)


def codes(found):
    return [(c.code, c.severity) for c in found]


def test_own_agency_is_always_hard_and_says_why():
    for rule in ("hard", "soft", "off"):
        found = conflicts_for(judge(KOTA_MANADO), proposal(KOTA_MANADO), declarations=[], province_rule=rule)
        assert codes(found) == [("own_agency", Severity.HARD)]  # the same-province rule adds nothing here
    assert found[0].reason == "Works at Pemerintah Kota Manado, the agency of this proposal."


@pytest.mark.parametrize(("rule", "expected"), [
    ("hard", [("same_province_agency", Severity.HARD)]),
    ("soft", [("same_province_agency", Severity.SOFT)]),
    ("off", []),
])
def test_province_against_kota_in_it_follows_the_edition_setting(rule, expected):
    found = conflicts_for(judge(PROV_SULUT), proposal(KOTA_MANADO), declarations=[], province_rule=rule)
    assert codes(found) == expected


def test_kota_and_kabupaten_of_one_province_conflict_by_the_same_rule():
    found = conflicts_for(judge(KOTA_MANADO), proposal(KAB_MINAHASA), declarations=[], province_rule="hard")
    assert codes(found) == [("same_province_agency", Severity.HARD)]
    assert found[0].reason == ("Works at Pemerintah Kota Manado, in the same province (Sulawesi Utara) as "
                               "Pemerintah Kabupaten Minahasa.")
    # and the kota against its own province's government
    back = conflicts_for(judge(KOTA_MANADO), proposal(PROV_SULUT), declarations=[], province_rule="soft")
    assert codes(back) == [("same_province_agency", Severity.SOFT)]


def test_no_conflict_across_provinces():
    assert conflicts_for(judge(PROV_SULUT), proposal(KOTA_GORONTALO), declarations=[], province_rule="hard") == []
    assert conflicts_for(judge(home="75.71"), proposal(KOTA_MANADO), declarations=[], province_rule="hard") == []


def test_a_bumd_is_a_regional_affiliation():
    found = conflicts_for(judge(BUMD_SULUT), proposal(KOTA_MANADO), declarations=[], province_rule="hard")
    assert codes(found) == [("same_province_agency", Severity.HARD)]


def test_central_agencies_are_not_in_a_province():
    # A ministry seated in Jakarta and DKI's own government: no conflict either way.
    assert conflicts_for(judge(KEMENTERIAN), proposal(PROV_DKI), declarations=[], province_rule="hard") == []
    assert conflicts_for(judge(PROV_DKI), proposal(KEMENTERIAN), declarations=[], province_rule="hard") == []
    # A BUMN seated in Manado is not one of Sulawesi Utara's regional agencies.
    assert conflicts_for(judge(PROV_SULUT), proposal(BUMN_IN_MANADO), declarations=[], province_rule="hard") == []


def test_home_region_counts_even_for_a_central_agency_or_a_university():
    found = conflicts_for(judge(KEMENTERIAN, home="71.02"), proposal(KOTA_MANADO), declarations=[],
                          province_rule="soft")
    assert codes(found) == [("same_province_home", Severity.SOFT)]
    assert found[0].reason == ("Home region Region 71.02 is in the same province (Sulawesi Utara) as "
                               "Pemerintah Kota Manado.")
    university = conflicts_for(judge(home="71"), proposal(KAB_MINAHASA), declarations=[], province_rule="hard")
    assert codes(university) == [("same_province_home", Severity.HARD)]


def test_declared_province_covers_its_kabupaten_and_kota_and_a_kota_only_itself():
    province = [declared(ConflictKind.REGION, region_code="71")]
    for target in (PROV_SULUT, KOTA_MANADO, KAB_MINAHASA, BUMD_SULUT):
        found = conflicts_for(judge(), proposal(target), declarations=province, province_rule="off")
        assert codes(found) == [("declared_region", Severity.HARD)], target
    assert conflicts_for(judge(), proposal(KOTA_GORONTALO), declarations=province, province_rule="off") == []
    assert conflicts_for(judge(), proposal(BUMN_IN_MANADO), declarations=province, province_rule="off") == []

    kota = [declared(ConflictKind.REGION, region_code="71.71", severity=Severity.SOFT)]
    assert codes(conflicts_for(judge(), proposal(KOTA_MANADO), declarations=kota, province_rule="off")) == [
        ("declared_region", Severity.SOFT)]
    assert conflicts_for(judge(), proposal(KAB_MINAHASA), declarations=kota, province_rule="off") == []
    assert conflicts_for(judge(), proposal(PROV_SULUT), declarations=kota, province_rule="off") == []


def test_declared_single_proposal_and_agency():
    mine = [declared(ConflictKind.PROPOSAL, proposal_id=1001), declared(ConflictKind.AGENCY, agency_id=5)]
    assert codes(conflicts_for(judge(), proposal(KOTA_MANADO, proposal_id=1001), declarations=mine,
                               province_rule="hard")) == [("declared_proposal", Severity.HARD)]
    assert conflicts_for(judge(), proposal(KOTA_MANADO, proposal_id=1002), declarations=mine,
                         province_rule="hard") == []
    found = conflicts_for(judge(), proposal(KEMENTERIAN), declarations=mine, province_rule="hard")
    assert codes(found) == [("declared_agency", Severity.HARD)]
    assert found[0].reason == "Declared a conflict with the target: Pernah bekerja di sana"


def test_only_the_judges_own_declarations_count():
    someone_else = [declared(ConflictKind.AGENCY, agency_id=2, user_id=99)]
    assert conflicts_for(judge(), proposal(KOTA_MANADO), declarations=someone_else, province_rule="hard") == []


def test_several_conflicts_are_listed_hard_first():
    mine = [declared(ConflictKind.REGION, region_code="71.02", severity=Severity.SOFT),
            declared(ConflictKind.AGENCY, agency_id=3)]
    found = conflicts_for(judge(KOTA_MANADO), proposal(KAB_MINAHASA), declarations=mine, province_rule="soft")
    assert codes(found) == [("declared_agency", Severity.HARD), ("same_province_agency", Severity.SOFT),
                            ("declared_region", Severity.SOFT)]
    assert worst(found) is Severity.HARD
    assert worst(found[1:]) is Severity.SOFT
    assert worst([]) is None


def test_unknown_province_setting_is_refused():
    assert province_severity("hard") is Severity.HARD
    with pytest.raises(ValueError):
        province_severity("sometimes")


AGENCIES = [PROV_SULUT, KOTA_MANADO, KAB_MINAHASA, KOTA_GORONTALO, KEMENTERIAN, PROV_DKI, BUMN_IN_MANADO,
            BUMD_SULUT, (9, AgencyType.LEMBAGA, None, "Lembaga Uji")]
HOMES = [None, None, "71", "71.71", "71.02", "75", "75.71", "31.71"]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("rule", ["hard", "soft", "off"])
def test_the_indexed_matrix_equals_the_rule_applied_to_every_pair(seed, rule):
    rng = random.Random(seed)
    judges = [
        judge(rng.choice([None, *AGENCIES]), home=rng.choice(HOMES), user_id=10 + j, member_id=100 + j)
        for j in range(12)
    ]
    proposals = [proposal(rng.choice(AGENCIES), proposal_id=1000 + i) for i in range(40)]
    declarations = []
    for j in judges:
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(list(ConflictKind))
            target = {
                ConflictKind.AGENCY: {"agency_id": rng.choice(AGENCIES)[0]},
                ConflictKind.REGION: {"region_code": rng.choice(["71", "71.71", "75", "31", "31.71"])},
                ConflictKind.PROPOSAL: {"proposal_id": rng.choice(proposals).id},
            }[kind]
            declarations.append(declared(kind, user_id=j.user_id, severity=rng.choice(list(Severity)), **target))

    matrix = conflict_pairs(judges, proposals, declarations=declarations, province_rule=rule)
    pairwise = {}
    for j in judges:
        for p in proposals:
            found = conflicts_for(j, p, declarations=declarations, province_rule=rule)
            if found:
                pairwise[(p.id, j.member_id)] = found
    assert matrix == pairwise
    assert matrix  # the data is rich enough to have some
