"""ebRIM 3.0 XML -> XDS model (ITI TF-3 4.2.3: ExtrinsicObject, RegistryPackage, Association, ObjectRef).

Reading is lossless: slots, classifications and external identifiers that have no typed field land in the
``extra_*`` fields; localized names keep ``xml:lang``/``charset``; ids, lids, home and status are kept.
Only the fixed ``objectType`` of Classification/ExternalIdentifier/RegistryPackage/Association elements and
the fixed ``Name`` of typed ExternalIdentifiers (``XDSDocumentEntry.uniqueId`` …) are not kept: the writer
emits their canonical values.

Content that cannot be typed (a bad CX, a non-integer size, an unknown status or association type, two
classCodes …) is collected as ``XDSRegistryMetadataError`` findings and raised once, all together, as
:class:`xds.errors.XdsMetadataError`.  Missing attributes are NOT parse errors: the registry rules report
them.  XML bytes are parsed only through :func:`hub.core.xml_safety.parse_xml`.
"""

from __future__ import annotations

from typing import TypeVar

from lxml import etree

from hub.core.xml_safety import parse_xml
from xds.codes import (
    AssociationType,
    AvailabilityStatus,
    ClassificationNode,
    ClassificationScheme,
    DocumentEntryType,
    IdentificationScheme,
    SubmissionSetStatus,
)
from xds.ebrim_elements import ElementReader
from xds.errors import XdsErrorCode, XdsMetadataError
from xds.model import (
    Association,
    DocumentEntry,
    Folder,
    ObjectRef,
    RegistryObjectList,
    Slot,
    SubmissionSet,
    SubmitObjectsRequest,
)
from xds.namespaces import LCM, lcm, rim

_CS = ClassificationScheme
_IS = IdentificationScheme


def parse_submit_objects_request(data: bytes | etree._Element) -> SubmitObjectsRequest:
    """Read an ``lcm:SubmitObjectsRequest`` (bytes or element) into the model."""
    element = parse_xml(data) if isinstance(data, bytes) else data
    if element.tag != lcm("SubmitObjectsRequest"):
        raise XdsMetadataError.single(
            XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
            f"expected lcm:SubmitObjectsRequest ({LCM}), found {element.tag}",
        )
    reader = ElementReader()
    request_slots: tuple[Slot, ...] = ()
    slot_list = element.find(rim("RequestSlotList"))
    if slot_list is not None:
        request_slots = reader.slots(slot_list)
    object_list = element.find(rim("RegistryObjectList"))
    objects = RegistryObjectList()
    if object_list is None:
        reader.error("SubmitObjectsRequest has no rim:RegistryObjectList", None)
    else:
        objects = _parse_list(object_list, reader)
    reader.raise_if_errors("SubmitObjectsRequest")
    return SubmitObjectsRequest(
        objects=objects,
        request_slots=request_slots,
        id=element.get("id"),
        comment=element.get("comment"),
    )


def parse_registry_object_list(element: etree._Element) -> RegistryObjectList:
    """Read a ``rim:RegistryObjectList`` (e.g. of an AdhocQueryResponse with LeafClass objects)."""
    reader = ElementReader()
    objects = _parse_list(element, reader)
    reader.raise_if_errors("RegistryObjectList")
    return objects


def _parse_list(element: etree._Element, reader: ElementReader) -> RegistryObjectList:
    children = [c for c in element if isinstance(c.tag, str)]
    # Packages are told apart by a marker Classification, nested or at the top level.
    markers: dict[str, tuple[ClassificationNode, str | None]] = {}
    for child in children:
        if child.tag == rim("Classification") and child.get("classificationNode"):
            node = _marker_node(child.get("classificationNode"))
            target = child.get("classifiedObject")
            if node is not None and target:
                markers[target] = (node, child.get("id"))
    entries: list[DocumentEntry] = []
    sets: list[SubmissionSet] = []
    folders: list[Folder] = []
    associations: list[Association] = []
    refs: list[ObjectRef] = []
    classifications = []
    identifiers = []
    for child in children:
        tag = child.tag
        if tag == rim("ExtrinsicObject"):
            entries.append(_document_entry(child, reader))
        elif tag == rim("RegistryPackage"):
            package = _package(child, reader, markers)
            if isinstance(package, SubmissionSet):
                sets.append(package)
            elif isinstance(package, Folder):
                folders.append(package)
        elif tag == rim("Association"):
            association = _association(child, reader)
            if association is not None:
                associations.append(association)
        elif tag == rim("ObjectRef"):
            refs.append(ObjectRef(id=child.get("id", ""), home=child.get("home")))
        elif tag == rim("Classification"):
            if _marker_node(child.get("classificationNode")) is None:
                classifications.append(reader.classification(child))
        elif tag == rim("ExternalIdentifier"):
            identifiers.append(reader.external_identifier(child))
        else:
            reader.error(f"unsupported registry object {etree.QName(tag).localname!r}", child.get("id"))
    return RegistryObjectList(
        document_entries=tuple(entries),
        submission_sets=tuple(sets),
        folders=tuple(folders),
        associations=tuple(associations),
        object_refs=tuple(refs),
        classifications=tuple(classifications),
        external_identifiers=tuple(identifiers),
    )


def _marker_node(value: str | None) -> ClassificationNode | None:
    """The package kind a top-level Classification marks, or None."""
    for node in (ClassificationNode.SUBMISSION_SET, ClassificationNode.FOLDER):
        if value == node.value:
            return node
    return None


def _document_entry(element: etree._Element, reader: ElementReader) -> DocumentEntry:
    entry_id = element.get("id", "")
    obj = reader.object_parts(element, entry_id)
    object_type = DocumentEntryType.STABLE
    raw_type = element.get("objectType")
    try:
        object_type = DocumentEntryType(raw_type)
    except ValueError:
        reader.error(f"ExtrinsicObject objectType {raw_type!r} is neither stable nor on-demand", entry_id)
    slots = obj.take_slots(
        "creationTime",
        "serviceStartTime",
        "serviceStopTime",
        "hash",
        "size",
        "repositoryUniqueId",
        "URI",
        "languageCode",
        "legalAuthenticator",
        "sourcePatientId",
    )
    multi = obj.take_multi_slots("sourcePatientInfo", "urn:ihe:iti:xds:2013:referenceIdList")
    size = None
    if slots.get("size") is not None:
        size = reader.integer(slots["size"], "size", entry_id)
    limited = obj.take_flag_node(ClassificationNode.DOC_LIMITED_METADATA.value)
    return DocumentEntry(
        **obj.common(),
        object_type=object_type,
        unique_id=obj.take_identifier(_IS.DOC_UNIQUE_ID.value),
        patient_id=reader.cx(obj.take_identifier(_IS.DOC_PATIENT_ID.value), "patientId", entry_id),
        source_patient_id=reader.cx(slots.get("sourcePatientId"), "sourcePatientId", entry_id),
        source_patient_info=multi["sourcePatientInfo"],
        class_code=obj.take_code(_CS.DOC_CLASS_CODE.value, "classCode"),
        type_code=obj.take_code(_CS.DOC_TYPE_CODE.value, "typeCode"),
        format_code=obj.take_code(_CS.DOC_FORMAT_CODE.value, "formatCode"),
        confidentiality_codes=obj.take_codes(_CS.DOC_CONFIDENTIALITY_CODE.value),
        healthcare_facility_type_code=obj.take_code(
            _CS.DOC_HEALTHCARE_FACILITY_TYPE_CODE.value, "healthcareFacilityTypeCode"
        ),
        practice_setting_code=obj.take_code(_CS.DOC_PRACTICE_SETTING_CODE.value, "practiceSettingCode"),
        event_codes=obj.take_codes(_CS.DOC_EVENT_CODE.value),
        language_code=slots.get("languageCode"),
        mime_type=element.get("mimeType"),
        title=obj.name,
        comments=obj.description,
        creation_time=slots.get("creationTime"),
        service_start_time=slots.get("serviceStartTime"),
        service_stop_time=slots.get("serviceStopTime"),
        hash=slots.get("hash"),
        size=size,
        repository_unique_id=slots.get("repositoryUniqueId"),
        uri=slots.get("URI"),
        legal_authenticator=slots.get("legalAuthenticator"),
        authors=obj.take_authors(_CS.DOC_AUTHOR.value),
        reference_ids=multi["urn:ihe:iti:xds:2013:referenceIdList"],
        limited_metadata=limited is not None,
        limited_metadata_id=limited or None,
        **obj.extras(),
    )


def _package(
    element: etree._Element,
    reader: ElementReader,
    markers: dict[str, tuple[ClassificationNode, str | None]],
) -> SubmissionSet | Folder | None:
    package_id = element.get("id", "")
    obj = reader.object_parts(element, package_id)
    nested_ss = obj.take_flag_node(ClassificationNode.SUBMISSION_SET.value)
    nested_fol = obj.take_flag_node(ClassificationNode.FOLDER.value)
    kinds: dict[ClassificationNode, str | None] = {}
    if nested_ss is not None:
        kinds[ClassificationNode.SUBMISSION_SET] = nested_ss or None
    if nested_fol is not None:
        kinds[ClassificationNode.FOLDER] = nested_fol or None
    if package_id in markers:
        node, marker_id = markers[package_id]
        kinds.setdefault(node, marker_id)
    if len(kinds) != 1:
        problem = "both a SubmissionSet and a Folder" if kinds else "neither a SubmissionSet nor a Folder"
        reader.error(f"RegistryPackage {package_id!r} is classified as {problem}", package_id)
        return None
    node, marker_id = next(iter(kinds.items()))
    if node is ClassificationNode.SUBMISSION_SET:
        slots = obj.take_slots("submissionTime")
        recipients = obj.take_multi_slots("intendedRecipient")["intendedRecipient"]
        limited = obj.take_flag_node(ClassificationNode.SS_LIMITED_METADATA.value)
        return SubmissionSet(
            **obj.common(),
            unique_id=obj.take_identifier(_IS.SS_UNIQUE_ID.value),
            source_id=obj.take_identifier(_IS.SS_SOURCE_ID.value),
            patient_id=reader.cx(obj.take_identifier(_IS.SS_PATIENT_ID.value), "patientId", package_id),
            submission_time=slots.get("submissionTime"),
            content_type_code=obj.take_code(_CS.SS_CONTENT_TYPE_CODE.value, "contentTypeCode"),
            authors=obj.take_authors(_CS.SS_AUTHOR.value),
            intended_recipients=recipients,
            title=obj.name,
            comments=obj.description,
            limited_metadata=limited is not None,
            limited_metadata_id=limited or None,
            node_classification_id=marker_id,
            **obj.extras(),
        )
    slots = obj.take_slots("lastUpdateTime")
    limited = obj.take_flag_node(ClassificationNode.FOLDER_LIMITED_METADATA.value)
    return Folder(
        **obj.common(),
        unique_id=obj.take_identifier(_IS.FOLDER_UNIQUE_ID.value),
        patient_id=reader.cx(obj.take_identifier(_IS.FOLDER_PATIENT_ID.value), "patientId", package_id),
        codes=obj.take_codes(_CS.FOLDER_CODE_LIST.value),
        last_update_time=slots.get("lastUpdateTime"),
        title=obj.name,
        comments=obj.description,
        limited_metadata=limited is not None,
        limited_metadata_id=limited or None,
        node_classification_id=marker_id,
        **obj.extras(),
    )


def _association(element: etree._Element, reader: ElementReader) -> Association | None:
    assoc_id = element.get("id", "")
    obj = reader.object_parts(element, assoc_id)
    raw_type = element.get("associationType")
    source, target = element.get("sourceObject"), element.get("targetObject")
    ok = True
    try:
        association_type = AssociationType(raw_type)
    except ValueError:
        reader.error(f"unknown associationType {raw_type!r}", assoc_id or None)
        ok = False
    if not source or not target:
        reader.error("Association needs both sourceObject and targetObject", assoc_id or None)
        ok = False
    slots = obj.take_slots(
        "SubmissionSetStatus", "PreviousVersion", "OriginalStatus", "NewStatus", "AssociationPropagation"
    )
    ss_status = _enum(reader, SubmissionSetStatus, slots.get("SubmissionSetStatus"), assoc_id)
    original = _enum(reader, AvailabilityStatus, slots.get("OriginalStatus"), assoc_id)
    new = _enum(reader, AvailabilityStatus, slots.get("NewStatus"), assoc_id)
    propagation = slots.get("AssociationPropagation")
    if propagation not in (None, "yes", "no"):
        reader.error(f"AssociationPropagation must be 'yes' or 'no', not {propagation!r}", assoc_id)
    if not ok:
        return None
    return Association(
        **obj.common(),
        association_type=association_type,
        source=source or "",
        target=target or "",
        submission_set_status=ss_status,
        previous_version=slots.get("PreviousVersion"),
        original_status=original,
        new_status=new,
        association_propagation=None if propagation is None else propagation == "yes",
        name=obj.name,
        description=obj.description,
        **obj.extras(),
    )


_E = TypeVar("_E", SubmissionSetStatus, AvailabilityStatus)


def _enum(reader: ElementReader, kind: type[_E], value: str | None, location: str) -> _E | None:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        reader.error(f"{value!r} is not one of {allowed}", location or None)
        return None
