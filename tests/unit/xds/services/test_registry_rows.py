"""Model <-> storage rows: patient keys, indexed columns, and lossless registry form bytes."""

from __future__ import annotations

import dataclasses

from hub.core.registry_query import EntryCodeField, EntryCodeList, ObjectHeader, ObjectKind, StoredObject
from tests import xds_builders as b
from xds import CX, AvailabilityStatus, RegistryObject, assign_identities
from xds.services.registry_rows import decode, entry_row, patient_key, registry_write, status_value, time_key


def normal(obj: RegistryObject) -> RegistryObject:
    """identifier_ids is a set of (scheme, id) pairs; the reader lists them in document order."""
    return dataclasses.replace(obj, identifier_ids=tuple(sorted(obj.identifier_ids)))


def test_patient_key_is_the_cpr_or_the_canonical_cx() -> None:
    assert patient_key(CX(b.PATIENT, "1.2.208.176.1.2")) == b.PATIENT
    assert patient_key(CX("abc", "1.3.6.1.4.1.21367.2005.3.7")) == "abc^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"
    assert patient_key(None) is None


def test_status_and_time_keys() -> None:
    assert status_value(AvailabilityStatus.DEPRECATED) == "Deprecated" and status_value(None) == "Approved"
    assert time_key("2024") == 20240101000000 and time_key("20240312") == 20240312000000
    assert time_key("not a time") is None and time_key(None) is None


def test_entry_row_columns() -> None:
    objects, _ = assign_identities(b.submission(b.document_entry(content=b"x")).objects)
    row = entry_row(objects.document_entries[0])
    assert row.header.patient_key == b.PATIENT and row.object_type == "stable"
    assert (EntryCodeField.CLASS, "001", "1.2.208.184.100.9") in row.codes
    assert (EntryCodeList.EVENT, "ALAL21", "1.2.208.176.2.4") in row.code_lists
    assert row.creation_key == 20240312081500 and row.authors == ("^Jensen^Jens^^^^^^^&ISO",)


def test_registry_form_round_trip_is_lossless() -> None:
    objects, _ = assign_identities(
        b.submission(b.document_entry(content=b"x"), folders=(b.folder(),)).objects
    )
    write = registry_write(objects, {})
    stored = [
        StoredObject(ObjectKind.DOCUMENT_ENTRY, write.entries[0].header),
        StoredObject(ObjectKind.SUBMISSION_SET, write.submission_sets[0].header),
        StoredObject(ObjectKind.FOLDER, write.folders[0].header),
        *(StoredObject(ObjectKind.ASSOCIATION, a.header) for a in write.associations),
    ]
    decoded = decode(stored)
    expected = [*objects.document_entries, *objects.submission_sets, *objects.folders, *objects.associations]
    assert [normal(o) for o in decoded] == [normal(o) for o in expected]
    assert all(a.header.patient_key == b.PATIENT for a in write.associations)
    assert decode([]) == []
    assert isinstance(write.entries[0].header, ObjectHeader)
