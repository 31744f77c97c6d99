"""entryUUID / logicalId / version rules: ITI-42 new objects and ITI-57 updates (ITI TF-2b 3.57.4.1.3)."""

from __future__ import annotations

import asyncio
import dataclasses

from tests.unit.xds.registry_rules.conftest import (
    OPTIONS,
    InMemoryRegistry,
    document_only,
    registered,
    rename,
    with_status,
)
from xds.codes import AssociationType, AvailabilityStatus, SubmissionSetStatus
from xds.errors import RegistryError, XdsErrorCode
from xds.hl7v2 import CX
from xds.model import Association, RegistryObjectList
from xds.registry_rules import check_register, check_update, gather_registry_state

E = XdsErrorCode
APPROVED, DEPRECATED = AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED


def _update_findings(objects: RegistryObjectList, registry: InMemoryRegistry) -> list[RegistryError]:
    state = asyncio.run(gather_registry_state(objects, registry))
    return check_update(objects, state, OPTIONS)


def _new_version(
    dk_objects: RegistryObjectList, previous_version: str | None = "1"
) -> tuple[RegistryObjectList, InMemoryRegistry]:
    stored = registered(document_only(dk_objects))
    registry = InMemoryRegistry(stored.objects())
    update = rename(document_only(dk_objects), 3)
    old = stored.document_entries[0]
    entry = dataclasses.replace(
        update.document_entries[0], logical_id=old.logical_id, unique_id=old.unique_id, version=None
    )
    membership = dataclasses.replace(update.associations[0], previous_version=previous_version)
    return dataclasses.replace(update, document_entries=(entry,), associations=(membership,)), registry


def test_new_objects_keep_lid_equal_to_id_and_version_1(dk_objects: RegistryObjectList) -> None:
    from xds.registry_rules.versions import check_new_object_versions

    assert check_new_object_versions(dk_objects) == []
    entry = dataclasses.replace(dk_objects.document_entries[0], logical_id="urn:uuid:other", version="2")
    findings = check_new_object_versions(dataclasses.replace(dk_objects, document_entries=(entry,)))
    assert [f.rule_id for f in findings] == ["XDS-VER-01", "XDS-VER-01"]


def test_register_refuses_a_new_version(dk_objects: RegistryObjectList) -> None:
    update, registry = _new_version(dk_objects)
    state = asyncio.run(gather_registry_state(update, registry))
    assert any(f.rule_id == "XDS-VER-01" for f in check_register(update, state, OPTIONS))


def test_valid_document_update(dk_objects: RegistryObjectList) -> None:
    update, registry = _new_version(dk_objects)
    assert _update_findings(update, registry) == []


def test_previous_version_mismatch_nist_20000c(dk_objects: RegistryObjectList) -> None:
    update, registry = _new_version(dk_objects, previous_version="7")
    assert {f.error_code for f in _update_findings(update, registry)} == {E.XDS_METADATA_VERSION_ERROR}
    missing, registry = _new_version(dk_objects, previous_version=None)
    assert {f.error_code for f in _update_findings(missing, registry)} == {
        E.XDS_METADATA_UPDATE_OPERATION_ERROR
    }


def test_no_original_document_nist_15800b(dk_objects: RegistryObjectList) -> None:
    update, _ = _new_version(dk_objects)
    assert {f.error_code for f in _update_findings(update, InMemoryRegistry())} == {
        E.XDS_METADATA_VERSION_ERROR
    }


def test_identity_of_the_updated_document(dk_objects: RegistryObjectList) -> None:
    update, registry = _new_version(dk_objects)
    entry = update.document_entries[0]
    other = CX("0101010101", "1.2.208.176.1.2")
    changed = dataclasses.replace(entry, unique_id="1.2.3^changed", patient_id=other)
    ss = dataclasses.replace(update.submission_sets[0], patient_id=other)
    findings = _update_findings(
        dataclasses.replace(update, document_entries=(changed,), submission_sets=(ss,)), registry
    )
    codes = {f.error_code for f in findings}
    assert E.XDS_METADATA_UPDATE_ERROR in codes and E.XDS_PATIENT_ID_RECONCILIATION_ERROR in codes


def test_previous_version_must_be_approved(dk_objects: RegistryObjectList) -> None:
    update, registry = _new_version(dk_objects)
    old = next(o for o in registry.objects.values() if o.entry_uuid == update.document_entries[0].logical_id)
    registry.objects[old.entry_uuid] = with_status(old, DEPRECATED)
    assert any("not Approved" in f.code_context for f in _update_findings(update, registry))


def test_previous_version_without_logical_id(dk_objects: RegistryObjectList) -> None:
    membership = dataclasses.replace(dk_objects.associations[0], previous_version="1")
    objects = dataclasses.replace(document_only(dk_objects), associations=(membership,))
    assert [f.error_code for f in _update_findings(objects, InMemoryRegistry())] == [
        E.XDS_METADATA_VERSION_ERROR
    ]


def _status_update(
    dk_objects: RegistryObjectList,
    original: AvailabilityStatus | None,
    new: AvailabilityStatus | None,
    target: str | None = None,
) -> tuple[RegistryObjectList, InMemoryRegistry]:
    stored = registered(document_only(dk_objects))
    registry = InMemoryRegistry(stored.objects())
    ss = rename(document_only(dk_objects), 4).submission_sets[0]
    change = Association(
        entry_uuid="Change",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source=ss.entry_uuid,
        target=target or stored.document_entries[0].entry_uuid,
        original_status=original,
        new_status=new,
    )
    return RegistryObjectList(submission_sets=(ss,), associations=(change,)), registry


def test_availability_status_update(dk_objects: RegistryObjectList) -> None:
    ok, registry = _status_update(dk_objects, APPROVED, DEPRECATED)
    assert _update_findings(ok, registry) == []
    wrong, registry = _status_update(dk_objects, DEPRECATED, APPROVED)
    assert [f.rule_id for f in _update_findings(wrong, registry)] == ["XDS-VER-06"]
    bad_new, registry = _status_update(dk_objects, APPROVED, AvailabilityStatus.SUBMITTED)
    assert [f.rule_id for f in _update_findings(bad_new, registry)] == ["XDS-VER-06"]
    no_slots, registry = _status_update(dk_objects, None, DEPRECATED)
    assert [f.error_code for f in _update_findings(no_slots, registry)] == [
        E.XDS_METADATA_UPDATE_OPERATION_ERROR
    ]
    unknown, registry = _status_update(
        dk_objects, APPROVED, DEPRECATED, "urn:uuid:00000000-0000-4000-8000-000000000000"
    )
    findings = _update_findings(unknown, registry)
    assert "XDS-VER-06" in {f.rule_id for f in findings}


def test_status_update_must_start_at_the_submission_set(dk_objects: RegistryObjectList) -> None:
    objects, registry = _status_update(dk_objects, APPROVED, DEPRECATED)
    stray = dataclasses.replace(objects.associations[0], source=next(iter(registry.objects)))
    findings = _update_findings(dataclasses.replace(objects, associations=(stray,)), registry)
    assert E.XDS_METADATA_UPDATE_OPERATION_ERROR in {f.error_code for f in findings}


def test_update_without_submission_set(dk_objects: RegistryObjectList) -> None:
    from xds.registry_rules import RegistryState
    from xds.registry_rules.versions import check_update as versions_only

    assert versions_only(RegistryObjectList(), RegistryState()) == []
    assert SubmissionSetStatus.ORIGINAL.value == "Original"


def _association_update(
    dk_objects: RegistryObjectList, kind: AssociationType, source_status: AvailabilityStatus = APPROVED
) -> tuple[RegistryObjectList, InMemoryRegistry]:
    """ITI-57 Submit Association: a new relationship between two registered DocumentEntries (NIST 21004)."""
    first = registered(document_only(dk_objects))
    second = registered(rename(document_only(dk_objects), 2))
    source = with_status(first.document_entries[0], source_status)
    registry = InMemoryRegistry((*first.objects(), *second.objects(), source))  # later wins
    ss = rename(document_only(dk_objects), 5).submission_sets[0]
    link = Association(
        entry_uuid="NewLink",
        association_type=kind,
        source=first.document_entries[0].entry_uuid,
        target=second.document_entries[0].entry_uuid,
    )
    member = Association(
        entry_uuid="Member",
        association_type=AssociationType.HAS_MEMBER,
        source=ss.entry_uuid,
        target="NewLink",
    )
    return RegistryObjectList(submission_sets=(ss,), associations=(member, link)), registry


def test_update_may_link_two_registered_documents_nist_21004(dk_objects: RegistryObjectList) -> None:
    for kind in (AssociationType.APND, AssociationType.XFRM, AssociationType.SIGNS):
        objects, registry = _association_update(dk_objects, kind)
        assert _update_findings(objects, registry) == [], kind
        # a new submission (ITI-42) still needs the source in the message
        state = asyncio.run(gather_registry_state(objects, registry))
        assert "XDS-ASC-02" in {f.rule_id for f in check_register(objects, state, OPTIONS)}


def test_update_link_from_a_deprecated_document_fails(dk_objects: RegistryObjectList) -> None:
    objects, registry = _association_update(dk_objects, AssociationType.APND, DEPRECATED)
    assert [f.error_code for f in _update_findings(objects, registry)] == [
        E.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR
    ]


def test_update_may_not_replace_between_registered_documents(dk_objects: RegistryObjectList) -> None:
    for kind in (AssociationType.RPLC, AssociationType.XFRM_RPLC):
        objects, registry = _association_update(dk_objects, kind)
        assert "XDS-ASC-02" in {f.rule_id for f in _update_findings(objects, registry)}, kind
