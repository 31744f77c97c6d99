"""Danish value sets written from the profile facts, checked against the MedCom IG files where present."""

from __future__ import annotations

import json

import pytest

from tests.conftest import testdata_path
from xds.danish_valuesets import (
    CLASS_CODES,
    CONFIDENTIALITY_CODES,
    FACILITY_TYPE_EXAMPLES,
    FORMAT_CODES,
    PRACTICE_SETTING_EXAMPLES,
    TYPE_CODES,
    DanishOid,
    is_cpr,
    is_sctid,
    known_display,
)


def test_members() -> None:
    assert CLASS_CODES.contains(DanishOid.CLASS_CODES.value, "001")
    assert CLASS_CODES.display(DanishOid.CLASS_CODES.value, "001") == "Klinisk rapport"
    assert TYPE_CODES.contains(DanishOid.LOINC.value, "53576-5")
    assert TYPE_CODES.contains(DanishOid.MEDCOM_MESSAGE_CODES.value, "HCOM")
    assert FORMAT_CODES.contains(DanishOid.FORMAT_CODES.value, "urn:ad:dk:medcom:phmr-v2.1:full")
    assert CONFIDENTIALITY_CODES.contains(DanishOid.CONFIDENTIALITY.value, "N")
    assert not CONFIDENTIALITY_CODES.contains(DanishOid.CONFIDENTIALITY.value, "R")
    assert not CLASS_CODES.contains(None, "001")


def test_snomed_examples_are_valid_sctids() -> None:
    assert all(is_sctid(code) for code in (*FACILITY_TYPE_EXAMPLES, *PRACTICE_SETTING_EXAMPLES))
    for bad in ("22232008", "12345", "0223200", "2223200x", "22232119"):
        assert not is_sctid(bad), bad


def test_cpr_shape() -> None:
    assert is_cpr("2512489996")
    for bad in ("251248999", "3212489996", "2513489996", "25124899x6", "0012489996"):
        assert not is_cpr(bad), bad


@pytest.mark.needs_testdata
def test_medcom_format_codes_for_phmr_qrd_qfdd_are_covered() -> None:
    path = testdata_path(
        "dk", "medcom-fhir", "ig", "xdsmetadata", "1.0.1", "CodeSystem-MedCom-ihe-formatcode-CS.json"
    )
    codes = [c["code"] for c in json.loads(path.read_text(encoding="utf-8"))["concept"]]
    # The SDS maternity CPD variant is not among the profile facts the value set was written from.
    relevant = [
        c
        for c in codes
        if any(k in c for k in ("phmr", "qrd", "qfdd", "apd", "pdc", "cpd-v", "plr")) and ":sds:" not in c
    ]
    assert relevant
    missing = [c for c in relevant if not FORMAT_CODES.contains(DanishOid.FORMAT_CODES.value, c)]
    assert missing == []


@pytest.mark.needs_testdata
def test_medcom_facility_type_value_set_codes_are_sctids() -> None:
    path = testdata_path(
        "dk",
        "medcom-fhir",
        "ig",
        "xdsmetadata",
        "1.0.1",
        "ValueSet-MedCom-ihe-core-HealthcareFacilityTypeCode-VS.json",
    )
    value_set = json.loads(path.read_text(encoding="utf-8"))
    codes = [c["code"] for include in value_set["compose"]["include"] for c in include.get("concept", [])]
    assert len(codes) > 30
    assert [c for c in codes if not is_sctid(c)] == []


def test_known_displays_come_from_the_value_sets_and_the_examples() -> None:
    assert known_display(DanishOid.CLASS_CODES.value, "001") == "Klinisk rapport"
    assert known_display(DanishOid.SNOMED_CT.value, "22232009") == "hospital"
    assert known_display(DanishOid.SNOMED_CT.value, "408443003") == "almen medicin"
    assert known_display(DanishOid.SNOMED_CT.value, "1") is None
