"""ebRIM 3.0 <-> model (ITI TF-3 4.2.3): parsing, writing, golden file, lossless round trips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from hub.core.errors import InvalidInputError, UnsafeXmlError
from tests.conftest import testdata_path
from tests.unit.xds.conftest import GOLDEN
from xds.codes import AssociationType, AvailabilityStatus, DocumentEntryType, SubmissionSetStatus
from xds.ebrim_parse import parse_registry_object_list, parse_submit_objects_request
from xds.ebrim_write import registry_object_list_element, submit_objects_request_element, to_bytes
from xds.errors import XdsErrorCode, XdsMetadataError
from xds.identifiers import assign_identities
from xds.model import InternationalString, LocalizedString, SubmitObjectsRequest

LCM_TAG = "{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest"


def _wrap(objects_xml: str) -> bytes:
    return (
        '<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
        'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>'
        f"{objects_xml}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    ).encode()


def test_document_entry_fields(dk_request: SubmitObjectsRequest) -> None:
    (entry,) = dk_request.objects.document_entries
    assert entry.entry_uuid == "Document01"
    assert entry.object_type is DocumentEntryType.STABLE
    assert entry.unique_id == "1.2.208.184^a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
    assert entry.patient_id is not None and entry.patient_id.id == "2512489996"
    assert entry.source_patient_info == ("PID-5|Berggren^Nancy^Ann^^", "PID-7|19481225", "PID-8|F")
    assert entry.class_code is not None and entry.class_code.key == ("001", "1.2.208.184.100.9")
    assert entry.class_code.display_text == "Klinisk rapport"
    assert [c.code for c in entry.confidentiality_codes] == ["N"]
    assert [c.code for c in entry.event_codes] == ["NPU03011"]
    assert entry.format_code is not None and entry.format_code.code == "urn:ad:dk:medcom:phmr-v1.3:full"
    assert entry.size == 0 and entry.hash == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert entry.title == InternationalString(
        (LocalizedString("Hjemmemonitorering for 2512489996", "da-DK", "UTF-8"),)
    )
    assert entry.comments == InternationalString(())
    assert entry.version == "1"
    assert entry.authors[0].id == "urn:uuid:4e0a1d0a-0d3b-4c55-9d1a-7c1b3c5a0001"
    assert entry.authors[0].person == "^Jensen^Jens^^^^^^^&ISO"
    # unknown parts are kept, not dropped
    assert [s.name for s in entry.extra_slots] == ["urn:telehub:test:extra"]
    assert entry.extra_slots[0].values == ("kept", "as is")
    assert [c.node_representation for c in entry.extra_classifications] == ["unknown-scheme-kept"]
    assert dict(entry.identifier_ids) == {
        "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427": "urn:uuid:4e0a1d0a-0d3b-4c55-9d1a-7c1b3c5a0002"
    }


def test_packages_and_associations(dk_request: SubmitObjectsRequest) -> None:
    objects = dk_request.objects
    (submission_set,) = objects.submission_sets
    (folder,) = objects.folders
    assert submission_set.node_classification_id == "SSMarker"
    assert submission_set.source_id == "1.2.208.176.43210.8.10.99"
    assert submission_set.content_type_code is not None and submission_set.content_type_code.code == "53576-5"
    assert folder.codes[0].key == ("ALAL21", "1.2.208.176.2.4")
    assert folder.node_classification_id is None
    assert objects.classifications == ()  # both package markers were consumed
    kinds = [(a.source, a.association_type, a.target) for a in objects.associations]
    assert ("SubmissionSet01", AssociationType.HAS_MEMBER, "Assoc03") in kinds
    assert objects.associations[0].submission_set_status is SubmissionSetStatus.ORIGINAL
    assert set(objects.by_id()) == {
        "Document01",
        "SubmissionSet01",
        "Folder01",
        "Assoc01",
        "Assoc02",
        "Assoc03",
        "Assoc04",
    }


def test_written_xml_matches_golden_file(dk_request: SubmitObjectsRequest) -> None:
    written = etree.tostring(
        submit_objects_request_element(dk_request), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    assert written == (GOLDEN / "dk_phmr_submission.written.xml").read_bytes()


def test_round_trip_is_lossless(dk_request: SubmitObjectsRequest) -> None:
    again = parse_submit_objects_request(to_bytes(submit_objects_request_element(dk_request)))
    assert again == dk_request


def test_registry_object_list_round_trip(dk_request: SubmitObjectsRequest) -> None:
    element = registry_object_list_element(dk_request.objects)
    assert parse_registry_object_list(element) == dk_request.objects


def test_registry_form_is_schema_valid(dk_request: SubmitObjectsRequest) -> None:
    """Once the registry assigned ids (ebRIM requires an id on every Identifiable) the XML is XSD-valid;
    the submitted form, faithful to its input, lacks ids on some Classifications and is not."""
    schema_file = testdata_path("xds", "schemas", "gematik-api-telematik", "ext", "ebRS", "lcm.xsd")
    schema = etree.XMLSchema(etree.parse(str(schema_file)))
    assert not schema.validate(submit_objects_request_element(dk_request))
    objects, _ = assign_identities(dk_request.objects)
    registered = SubmitObjectsRequest(objects=objects)
    assert schema.validate(submit_objects_request_element(registered)), schema.error_log


def _nist_requests() -> list[Path]:
    root = testdata_path("xds", "nist-testkit")
    found = []
    for path in sorted(root.rglob("*.xml")):
        data = path.read_bytes()
        if b"SubmitObjectsRequest" in data and b"xsd:lcm:3.0" in data and b"ExtrinsicObject" in data:
            found.append(path)
    return found


def _nist_element(path: Path) -> etree._Element:
    # Test plans fill $placeholders$ at run time; give them a CX-shaped value so patient ids parse.
    data = re.sub(rb"\$(\w+)\$", rb"X\1^^^&amp;1.2.3&amp;ISO", path.read_bytes())
    element = etree.fromstring(data)
    found = element if element.tag == LCM_TAG else element.find(f".//{LCM_TAG}")
    assert found is not None, path
    return found


@pytest.mark.needs_testdata
def test_nist_testkit_metadata_round_trips() -> None:
    paths = _nist_requests()
    assert len(paths) > 50
    round_tripped = 0
    for path in paths:
        try:
            first = parse_submit_objects_request(_nist_element(path))
        except XdsMetadataError:
            continue  # a deliberately broken test input
        written = submit_objects_request_element(first)
        assert parse_submit_objects_request(to_bytes(written)) == first, path
        round_tripped += 1
    assert round_tripped >= len(paths) - 5


@pytest.mark.needs_testdata
def test_nist_round_trip_output_is_schema_valid() -> None:
    schema_file = testdata_path("xds", "schemas", "gematik-api-telematik", "ext", "ebRS", "lcm.xsd")
    schema = etree.XMLSchema(etree.parse(str(schema_file)))
    for path in _nist_requests()[:40]:
        try:
            request = parse_submit_objects_request(_nist_element(path))
        except XdsMetadataError:
            continue
        assert schema.validate(submit_objects_request_element(request)), (path, schema.error_log)


def _errors(xml: bytes) -> list[str]:
    with pytest.raises(XdsMetadataError) as caught:
        parse_submit_objects_request(xml)
    assert all(e.error_code is XdsErrorCode.XDS_REGISTRY_METADATA_ERROR for e in caught.value.errors)
    return [e.code_context for e in caught.value.errors]


def test_all_metadata_errors_are_collected() -> None:
    xml = _wrap(
        '<rim:ExtrinsicObject id="D" objectType="urn:uuid:bad" mimeType="text/xml">'
        '<rim:Slot name="size"><rim:ValueList><rim:Value>12x</rim:Value></rim:ValueList></rim:Slot>'
        '<rim:Slot name="hash"><rim:ValueList><rim:Value>a</rim:Value><rim:Value>b</rim:Value>'
        "</rim:ValueList></rim:Slot>"
        '<rim:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" '
        'value="no-authority"/>'
        "</rim:ExtrinsicObject>"
        '<rim:Association id="A" associationType="HasMember" sourceObject="S" targetObject="D"/>'
        '<rim:RegistryPackage id="P"/>'
    )
    messages = _errors(xml)
    assert len(messages) == 6
    assert any("objectType" in m for m in messages)
    assert any("size" in m for m in messages)
    assert any("'hash' must have exactly one value" in m for m in messages)
    assert any("patientId" in m for m in messages)
    assert any("associationType 'HasMember'" in m for m in messages)
    assert any("RegistryPackage 'P'" in m for m in messages)


def test_package_without_marker_and_double_codes() -> None:
    code = (
        '<rim:Classification classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" '
        'nodeRepresentation="{c}"><rim:Slot name="codingScheme"><rim:ValueList><rim:Value>1.2</rim:Value>'
        "</rim:ValueList></rim:Slot></rim:Classification>"
    )
    xml = _wrap(
        '<rim:ExtrinsicObject id="D" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
        + code.format(c="a")
        + code.format(c="b")
        + '</rim:ExtrinsicObject><rim:RegistryPackage id="P"/>'
    )
    messages = _errors(xml)
    assert any("classCode appears 2 times" in m for m in messages)
    assert any("neither a SubmissionSet nor a Folder" in m for m in messages)


def test_classification_of_another_object_and_unknown_status() -> None:
    xml = _wrap(
        '<rim:ExtrinsicObject id="D" status="urn:bogus" '
        'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
        '<rim:Classification classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" '
        'classifiedObject="Other" nodeRepresentation="x"/>'
        "</rim:ExtrinsicObject>"
    )
    messages = _errors(xml)
    assert any("classifies 'Other'" in m for m in messages)
    assert any("unknown status" in m for m in messages)


def test_unsupported_object_and_wrong_root() -> None:
    assert any("unsupported registry object" in m for m in _errors(_wrap('<rim:Service id="s"/>')))
    with pytest.raises(XdsMetadataError):
        parse_submit_objects_request(b"<other/>")


def test_missing_object_list_is_an_error() -> None:
    xml = b'<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>'
    assert any("RegistryObjectList" in m for m in _errors(xml))


def test_request_slots_and_top_level_extras_round_trip() -> None:
    xml = (
        b'<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
        b'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="req" comment="c">'
        b'<rim:RequestSlotList><rim:Slot name="x"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList>'
        b"</rim:Slot></rim:RequestSlotList><rim:RegistryObjectList>"
        b'<rim:ObjectRef id="urn:uuid:11111111-1111-1111-1111-111111111111" home="urn:oid:1.2"/>'
        b'<rim:Classification id="c1" classifiedObject="X" classificationScheme="urn:uuid:s" '
        b'nodeRepresentation="n"/>'
        b'<rim:ExternalIdentifier id="e1" registryObject="X" identificationScheme="urn:uuid:s" value="v"/>'
        b'<rim:Association id="a" '
        b'associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" '
        b'sourceObject="S" targetObject="urn:uuid:11111111-1111-1111-1111-111111111111">'
        b'<rim:Slot name="OriginalStatus"><rim:ValueList>'
        b"<rim:Value>urn:oasis:names:tc:ebxml-regrep:StatusType:Approved</rim:Value></rim:ValueList></rim:Slot>"
        b'<rim:Slot name="NewStatus"><rim:ValueList>'
        b"<rim:Value>urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated</rim:Value></rim:ValueList></rim:Slot>"
        b'<rim:Slot name="AssociationPropagation"><rim:ValueList><rim:Value>no</rim:Value></rim:ValueList>'
        b"</rim:Slot></rim:Association>"
        b"</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    )
    request = parse_submit_objects_request(xml)
    assert request.id == "req" and request.comment == "c"
    assert request.request_slots[0].values == ("1",)
    assert request.objects.object_refs[0].home == "urn:oid:1.2"
    (association,) = request.objects.associations
    assert association.original_status is AvailabilityStatus.APPROVED
    assert association.new_status is AvailabilityStatus.DEPRECATED
    assert association.association_propagation is False
    assert parse_submit_objects_request(to_bytes(submit_objects_request_element(request))) == request


def test_hostile_xml_goes_through_the_safe_parser() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&x;'
        b"</lcm:SubmitObjectsRequest>"
    )
    with pytest.raises(UnsafeXmlError):
        parse_submit_objects_request(xxe)
    with pytest.raises(InvalidInputError):
        parse_submit_objects_request(b"<lcm:SubmitObjectsRequest")
