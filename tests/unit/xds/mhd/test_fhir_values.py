"""FHIR values read back into XDS values (MHD ITI-65): times, hashes, identifiers, codes, people."""

from __future__ import annotations

import base64
import hashlib

import pytest

from xds.hl7v2 import CX, XCN, XON
from xds.mhd import MhdInputError
from xds.mhd import fhir_values as fv


@pytest.mark.parametrize(
    ("value", "dtm"),
    [
        ("2024", "2024"),
        ("2024-03", "202403"),
        ("2024-03-01", "20240301"),
        ("2024-03-01T10:15:00+01:00", "20240301091500"),
        ("2024-03-01T23:50:50-05:00", "20240302045050"),
        ("2024-03-01T09:15:00.123Z", "20240301091500"),
    ],
)
def test_fhir_times_become_utc_dtm_keeping_date_precision(value: str, dtm: str) -> None:
    assert fv.dtm(value, "x") == dtm


@pytest.mark.parametrize("value", ["2024-03-01T10:15:00", "yesterday", "2024-13-01T00:00:00Z", ""])
def test_times_without_zone_or_not_times_are_refused(value: str) -> None:
    with pytest.raises(MhdInputError, match="x"):
        fv.dtm(value, "x")


def test_absent_values_are_none() -> None:
    assert fv.dtm(None, "x") is None
    assert fv.sha1_hex(None, "x") is None
    assert fv.code(None, "x") is None
    assert fv.codes(None, "x") == ()
    assert fv.unique_id(None, "x") is None


def test_the_attachment_hash_is_the_hex_sha1() -> None:
    digest = hashlib.sha1(b"Hello World").digest()
    assert fv.sha1_hex(base64.b64encode(digest).decode(), "x") == digest.hex()
    with pytest.raises(MhdInputError, match="SHA-1"):
        fv.sha1_hex(base64.b64encode(b"short").decode(), "x")
    with pytest.raises(MhdInputError, match="base64"):
        fv.sha1_hex("not base64!", "x")


def test_sizes_are_non_negative_integers() -> None:
    assert fv.size(11, "x") == 11
    for bad in (-1, True, "11", 1.5):
        with pytest.raises(MhdInputError):
            fv.size(bad, "x")


def test_codes_take_the_first_coding_with_system_and_code() -> None:
    concept = {
        "coding": [
            {"code": "no-system"},
            {"system": "http://loinc.org", "code": "53576-5", "display": "PHMR"},
        ]
    }
    code = fv.code(concept, "type")
    assert code is not None
    assert (code.code, code.scheme, code.display_text) == ("53576-5", "2.16.840.1.113883.6.1", "PHMR")
    oid = fv.code({"system": "urn:oid:1.2.208.184.100.9", "code": "001"}, "format")  # a bare Coding
    assert oid is not None and oid.scheme == "1.2.208.184.100.9"
    with pytest.raises(MhdInputError, match="both system and code"):
        fv.code({"coding": [{"code": "x"}]}, "type")
    with pytest.raises(MhdInputError, match="CodeableConcept"):
        fv.code("53576-5", "type")


def test_unique_ids_follow_the_document_reference_view() -> None:
    assert fv.unique_id({"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3"}, "x") == "1.2.3"
    assert fv.unique_id({"system": "urn:oid:1.2.208.184", "value": "abc"}, "x") == "1.2.208.184^abc"
    with pytest.raises(MhdInputError, match="Identifier"):
        fv.unique_id({"system": "urn:oid:1.2"}, "x")


def test_patient_identifiers_need_an_oid_assigning_authority() -> None:
    cx = fv.identifier_cx({"system": "urn:oid:1.2.208.176.1.2", "value": "2512484916"}, "subject")
    assert cx == CX(id="2512484916", assigning_authority="1.2.208.176.1.2")
    assert cx.format() == "2512484916^^^&1.2.208.176.1.2&ISO"
    with pytest.raises(MhdInputError, match="urn:oid"):
        fv.identifier_cx({"system": "http://example.org/patients", "value": "mrn-1"}, "subject")


def test_people_and_organisations_become_xcn_and_xon() -> None:
    practitioner = {
        "identifier": [{"system": "urn:oid:1.2.208.176.1.3", "value": "BCD12"}],
        "name": [{"family": "Hansen", "given": ["Anne", "Marie", "Sofie"], "prefix": ["Dr."]}],
    }
    assert fv.person(practitioner) == XCN(
        id="BCD12",
        family="Hansen",
        given="Anne",
        further_given="Marie&Sofie",
        prefix="Dr.",
        assigning_authority="1.2.208.176.1.3",
    )
    assert fv.person({"telecom": []}) is None
    organisation = {
        "name": "Aarhus Kommune",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.1", "value": "123"}],
    }
    assert fv.organisation(organisation) == XON("Aarhus Kommune", "1.2.208.176.1.1", "123")
    assert fv.organisation({}, display="Shown") == XON("Shown")
    assert fv.organisation({}) is None
