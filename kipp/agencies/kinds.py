"""Agency types, clusters and region levels (a leaf module with the pure rules that tie them)."""

from __future__ import annotations

import enum


class AgencyType(str, enum.Enum):
    KEMENTERIAN = "kementerian"
    LEMBAGA = "lembaga"
    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KOTA = "kota"
    BUMN = "bumn"
    BUMD = "bumd"


class Cluster(str, enum.Enum):
    """The six clusters KIPP uses to compose its nominee and finalist lists."""

    KEMENTERIAN = "kementerian"
    LEMBAGA = "lembaga"
    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KOTA = "kota"
    BUMN_BUMD = "bumn_bumd"


DEFAULT_CLUSTER = {
    AgencyType.KEMENTERIAN: Cluster.KEMENTERIAN,
    AgencyType.LEMBAGA: Cluster.LEMBAGA,
    AgencyType.PROVINSI: Cluster.PROVINSI,
    AgencyType.KABUPATEN: Cluster.KABUPATEN,
    AgencyType.KOTA: Cluster.KOTA,
    AgencyType.BUMN: Cluster.BUMN_BUMD,
    AgencyType.BUMD: Cluster.BUMN_BUMD,
}

AGENCY_TYPE_LABELS = {
    AgencyType.KEMENTERIAN: "Kementerian",
    AgencyType.LEMBAGA: "Lembaga",
    AgencyType.PROVINSI: "Pemerintah Provinsi",
    AgencyType.KABUPATEN: "Pemerintah Kabupaten",
    AgencyType.KOTA: "Pemerintah Kota",
    AgencyType.BUMN: "BUMN",
    AgencyType.BUMD: "BUMD",
}

CLUSTER_LABELS = {
    Cluster.KEMENTERIAN: "Kementerian",
    Cluster.LEMBAGA: "Lembaga",
    Cluster.PROVINSI: "Provinsi",
    Cluster.KABUPATEN: "Kabupaten",
    Cluster.KOTA: "Kota",
    Cluster.BUMN_BUMD: "BUMN/BUMD",
}


class RegionLevel(int, enum.Enum):
    PROVINCE = 1
    REGENCY_OR_CITY = 2


def region_kind(code: str) -> str:
    """'provinsi', 'kabupaten' or 'kota' from an official Kemendagri code.

    ``PP`` is a province; ``PP.KK`` is a kabupaten, or a kota when KK >= 71.
    """
    parts = code.split(".")
    if len(parts) == 1 and len(parts[0]) == 2 and parts[0].isdigit():
        return "provinsi"
    if len(parts) == 2 and all(len(p) == 2 and p.isdigit() for p in parts):
        return "kota" if int(parts[1]) >= 71 else "kabupaten"
    raise ValueError(f"not a province or regency/city code: {code!r}")


def province_code(code: str) -> str:
    return code.split(".")[0]


def region_problem(agency_type: AgencyType, region_code: str | None) -> str | None:
    """Why a region does not fit an agency type, or None when it fits.

    Regional governments must sit on a region of their own level; central
    agencies and state enterprises may name a region (their seat) or none.
    """
    if region_code is None:
        if agency_type in (AgencyType.PROVINSI, AgencyType.KABUPATEN, AgencyType.KOTA, AgencyType.BUMD):
            return "region_required"
        return None
    try:
        kind = region_kind(region_code)
    except ValueError:
        return "region_code_invalid"
    expected = {
        AgencyType.PROVINSI: "provinsi",
        AgencyType.KABUPATEN: "kabupaten",
        AgencyType.KOTA: "kota",
    }.get(agency_type)
    if expected and kind != expected:
        return f"region_must_be_{expected}"
    return None
