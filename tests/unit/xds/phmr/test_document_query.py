"""FHIR DocumentReference search parameters -> FindDocuments (xds.phmr.document_query)."""

from __future__ import annotations

import pytest

from hub.core.errors import InvalidInputError
from hub.core.registry_query import EntryCodeField, EntryCodeList
from hub.fhir.search import default_registry
from xds import CX, AvailabilityStatus
from xds.phmr import DocumentSearch, translate
from xds.phmr.document_query import PatientSource
from xds.stored_queries import QueryCode

CPR = "2512484916"
PATIENT = ("patient.identifier", f"urn:oid:1.2.208.176.1.2|{CPR}")
REGISTRY = default_registry()


def _t(*params: tuple[str, str]) -> DocumentSearch:
    return translate(REGISTRY, list(params), default_count=50, max_count=1000)


def test_patient_by_identifier_defaults_to_current() -> None:
    search = _t(PATIENT)
    assert search.patient is not None and search.patient.cx == CX(CPR, "1.2.208.176.1.2")
    assert search.query.statuses == frozenset({AvailabilityStatus.APPROVED})
    f = search.entry_filter(search.patient.cx)
    assert f.patient_key == CPR and f.statuses == ("Approved",)
    assert (search.count, search.offset) == (50, 0)


@pytest.mark.parametrize(
    "param",
    [
        ("patient:identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"),
        ("subject:identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"),
        ("patient.identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"),
    ],
)
def test_patient_identifier_forms(param: tuple[str, str]) -> None:
    search = _t(param)
    assert search.patient is not None and search.patient.source is PatientSource.IDENTIFIER
    assert search.patient.cx == CX(CPR, "1.2.208.176.1.2")


def test_patient_reference_is_resolved_later() -> None:
    search = _t(("patient", "Patient/abc"))
    assert search.patient is not None
    assert search.patient.source is PatientSource.RESOURCE and search.patient.patient_id == "abc"


def test_status_codes_and_repeats() -> None:
    search = _t(
        PATIENT,
        ("status", "current,superseded"),
        ("type", "http://loinc.org|53576-5"),
        ("category", "001"),  # no system: the Danish classCode system
        ("format", "urn:oid:1.2.208.184.100.10|urn:ad:dk:medcom:phmr-v1.3:full"),
        ("facility", "550621000005101"),
        ("setting", "http://snomed.info/sct|408443003,http://snomed.info/sct|394579002"),
        ("event", "urn:oid:1.2.208.176.2.1|NPU03804"),
        ("event", "urn:oid:1.2.208.176.2.1|DNK05472"),
    )
    q = search.query
    assert q.statuses == frozenset({AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED})
    assert q.type_codes is not None and q.type_codes.groups == (
        (QueryCode("53576-5", "2.16.840.1.113883.6.1"),),
    )
    assert q.class_codes is not None and q.class_codes.groups == ((QueryCode("001", "1.2.208.184.100.9"),),)
    assert q.healthcare_facility_type_codes is not None
    assert q.practice_setting_codes is not None and len(q.practice_setting_codes.groups[0]) == 2  # OR
    assert q.event_codes is not None and len(q.event_codes.groups) == 2  # AND
    f = search.entry_filter(CX(CPR, "1.2.208.176.1.2"))
    fields = {field for field, _ in f.codes}
    assert fields == {
        EntryCodeField.TYPE,
        EntryCodeField.CLASS,
        EntryCodeField.FORMAT,
        EntryCodeField.FACILITY,
        EntryCodeField.PRACTICE,
    }
    assert {kind for kind, _ in f.code_lists} == {EntryCodeList.EVENT}


def test_date_prefixes_become_creation_time_ranges() -> None:
    q = _t(PATIENT, ("date", "ge2024-03-01"), ("date", "lt2024-04-01T00:00:00Z")).query
    assert q.creation_time is not None
    assert (q.creation_time.from_, q.creation_time.to) == ("20240301000000", "20240401000000")
    le = _t(PATIENT, ("date", "le2024-03-31")).query.creation_time
    assert le is not None and le.to == "20240401000000" and le.from_ is None  # through the end of the day
    gt = _t(PATIENT, ("date", "gt2024-03")).query.creation_time
    assert gt is not None and gt.from_ == "20240401000000"
    eq = _t(PATIENT, ("creation", "2024-03-12")).query.creation_time
    assert eq is not None and (eq.from_, eq.to) == ("20240312000000", "20240313000000")


def test_zoned_date_is_converted_to_utc() -> None:
    q = _t(PATIENT, ("date", "ge2024-03-01T10:00:00+02:00")).query
    assert q.creation_time is not None and q.creation_time.from_ == "20240301080000"


def test_period_maps_to_service_times() -> None:
    q = _t(PATIENT, ("period", "ge2024-03-01"), ("period", "le2024-03-10")).query
    assert q.service_stop_time is not None and q.service_stop_time.from_ == "20240301000000"
    assert q.service_start_time is not None and q.service_start_time.to == "20240311000000"
    inside = _t(PATIENT, ("period", "2024-03")).query
    assert inside.service_start_time is not None and inside.service_start_time.from_ == "20240301000000"
    assert inside.service_stop_time is not None and inside.service_stop_time.to == "20240401000000"


def test_identifier_and_id_select_entries_without_patient() -> None:
    uuid = "urn:uuid:7d1f9e0a-3c2b-4a55-8e1d-0b9c8a7f6e5d"
    search = _t(("identifier", f"urn:oid:1.2.208.184|5a0c1f3e,urn:ietf:rfc:3986|{uuid}"))
    assert search.patient is None and search.selection is not None
    assert search.selection.unique_ids == ("1.2.208.184^5a0c1f3e",)
    assert search.selection.entry_uuids == (uuid,)
    f = search.entry_filter(None)
    assert f.patient_key is None and f.selection == search.selection
    assert {"Approved", "Deprecated"} <= set(f.statuses)  # an id finds superseded documents too
    by_id = _t(("_id", "0e0e0e0e-1111-4222-8333-444444444444"), PATIENT)
    assert by_id.selection is not None
    assert by_id.selection.entry_uuids == ("urn:uuid:0e0e0e0e-1111-4222-8333-444444444444",)
    assert by_id.entry_filter(CX(CPR, "1.2.208.176.1.2")).patient_key == CPR


def test_entered_in_error_matches_nothing() -> None:
    assert _t(PATIENT, ("status", "entered-in-error")).impossible
    assert not _t(PATIENT, ("status", "current")).impossible


def test_paging_parameters() -> None:
    search = _t(PATIENT, ("_count", "5000"), ("_offset", "20"))
    assert (search.count, search.offset) == (1000, 20)
    with pytest.raises(InvalidInputError):
        _t(PATIENT, ("_offset", "x"))


def test_unknown_parameters_are_reported_not_applied() -> None:
    assert _t(PATIENT, ("nonsense", "1")).ignored == ("nonsense",)


@pytest.mark.parametrize(
    "params",
    [
        [],  # no patient, no identifier
        [("status", "current")],
        [PATIENT, ("patient.identifier", "urn:oid:1.2.208.176.1.2|0101010101")],  # two patients
        [("patient.identifier", "urn:oid:1.2.208.176.1.2|1,urn:oid:1.2.208.176.1.2|2")],
        [PATIENT, ("date", "ne2024-03-01")],
        [PATIENT, ("date", "ge2024-03-01,le2024-04-01")],
        [PATIENT, ("type", "53576-5"), ("event", "NPU03804")],  # event has no default system
        [PATIENT, ("type:not", "http://loinc.org|53576-5")],
        [PATIENT, ("description", "x")],
        [PATIENT, ("_sort", "date")],
        [PATIENT, ("_include", "DocumentReference:subject")],
        [("patient.name", "Nancy")],
        [("identifier", "urn:oid:1.2|a"), ("_id", "b")],  # repeated ids would be an AND of different ids
    ],
)
def test_what_the_registry_cannot_answer_is_a_400(params: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInputError):
        _t(*params)
