"""XDS model -> ebRIM 3.0 XML (ITI TF-3 4.2.3; element order per ebRIM 3.0 rim.xsd).

Every RegistryObject is written as ``Slot*, Name?, Description?, VersionInfo?, Classification*,
ExternalIdentifier*``; typed slots come first in a fixed order, then the kept extra slots.  Marker
Classifications (SubmissionSet/Folder kind, limitedMetadata) are written nested in their package or entry.
Ids that the model does not know (``None``) are not invented here: the registry assigns UUIDs before it
stores anything (see :func:`xds.identifiers.assign_entry_uuids`).  Output is deterministic, so golden
files compare byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from xds.codes import (
    EXTERNAL_IDENTIFIER_NAMES,
    ClassificationNode,
    ClassificationScheme,
    IdentificationScheme,
    ObjectTypeUrn,
)
from xds.model import (
    Association,
    Author,
    Classification,
    Code,
    DocumentEntry,
    ExternalIdentifier,
    Folder,
    InternationalString,
    RegistryObject,
    RegistryObjectList,
    Slot,
    SubmissionSet,
    SubmitObjectsRequest,
)
from xds.namespaces import LCM, RIM, XML, lcm, rim

_CS = ClassificationScheme
_IS = IdentificationScheme


def submit_objects_request_element(request: SubmitObjectsRequest) -> etree._Element:
    """``lcm:SubmitObjectsRequest`` with its request slots and registry object list."""
    root = etree.Element(lcm("SubmitObjectsRequest"), nsmap={"lcm": LCM, "rim": RIM})
    _set(root, "id", request.id)
    _set(root, "comment", request.comment)
    if request.request_slots:
        slot_list = etree.SubElement(root, rim("RequestSlotList"))
        _slots(slot_list, request.request_slots)
    root.append(registry_object_list_element(request.objects))
    return root


def registry_object_list_element(objects: RegistryObjectList) -> etree._Element:
    """``rim:RegistryObjectList``: entries, submission sets, folders, associations, refs, extras."""
    root = etree.Element(rim("RegistryObjectList"), nsmap={"rim": RIM})
    for entry in objects.document_entries:
        root.append(document_entry_element(entry))
    for submission_set in objects.submission_sets:
        root.append(submission_set_element(submission_set))
    for folder in objects.folders:
        root.append(folder_element(folder))
    for association in objects.associations:
        root.append(association_element(association))
    for ref in objects.object_refs:
        element = etree.SubElement(root, rim("ObjectRef"), id=ref.id)
        _set(element, "home", ref.home)
    for classification in objects.classifications:
        root.append(_classification(classification))
    for identifier in objects.external_identifiers:
        root.append(_external_identifier(identifier))
    return root


def to_bytes(element: etree._Element) -> bytes:
    """Serialise with an XML declaration, UTF-8, no pretty-printing (golden files use the same)."""
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


def document_entry_element(entry: DocumentEntry) -> etree._Element:
    element = etree.Element(rim("ExtrinsicObject"), nsmap={"rim": RIM})
    element.set("id", entry.entry_uuid)
    _common_attributes(element, entry)
    _set(element, "mimeType", entry.mime_type)
    element.set("objectType", entry.object_type.value)
    _slot(element, "creationTime", entry.creation_time)
    _slot(element, "hash", entry.hash)
    _slot(element, "languageCode", entry.language_code)
    _slot(element, "legalAuthenticator", entry.legal_authenticator)
    _slot(element, "repositoryUniqueId", entry.repository_unique_id)
    _slot(element, "serviceStartTime", entry.service_start_time)
    _slot(element, "serviceStopTime", entry.service_stop_time)
    _slot(element, "size", None if entry.size is None else str(entry.size))
    _slot(element, "sourcePatientId", entry.source_patient_id.format() if entry.source_patient_id else None)
    _multi_slot(element, "sourcePatientInfo", entry.source_patient_info)
    _slot(element, "URI", entry.uri)
    _multi_slot(element, "urn:ihe:iti:xds:2013:referenceIdList", entry.reference_ids)
    _slots(element, entry.extra_slots)
    _names(element, entry.title, entry.comments)
    _version(element, entry)
    parent = entry.entry_uuid
    for author in entry.authors:
        element.append(_author(author, _CS.DOC_AUTHOR, parent))
    _code(element, entry.class_code, _CS.DOC_CLASS_CODE, parent)
    for code in entry.confidentiality_codes:
        _code(element, code, _CS.DOC_CONFIDENTIALITY_CODE, parent)
    for code in entry.event_codes:
        _code(element, code, _CS.DOC_EVENT_CODE, parent)
    _code(element, entry.format_code, _CS.DOC_FORMAT_CODE, parent)
    _code(element, entry.healthcare_facility_type_code, _CS.DOC_HEALTHCARE_FACILITY_TYPE_CODE, parent)
    _code(element, entry.practice_setting_code, _CS.DOC_PRACTICE_SETTING_CODE, parent)
    _code(element, entry.type_code, _CS.DOC_TYPE_CODE, parent)
    if entry.limited_metadata:
        _node(element, ClassificationNode.DOC_LIMITED_METADATA, parent, entry.limited_metadata_id)
    _extra_classifications(element, entry.extra_classifications)
    _identifier(element, entry, _IS.DOC_PATIENT_ID, entry.patient_id.format() if entry.patient_id else None)
    _identifier(element, entry, _IS.DOC_UNIQUE_ID, entry.unique_id)
    _extra_identifiers(element, entry.extra_external_identifiers)
    return element


def submission_set_element(submission_set: SubmissionSet) -> etree._Element:
    element = _package_start(submission_set)
    _slot(element, "submissionTime", submission_set.submission_time)
    _multi_slot(element, "intendedRecipient", submission_set.intended_recipients)
    _slots(element, submission_set.extra_slots)
    _names(element, submission_set.title, submission_set.comments)
    _version(element, submission_set)
    parent = submission_set.entry_uuid
    for author in submission_set.authors:
        element.append(_author(author, _CS.SS_AUTHOR, parent))
    _code(element, submission_set.content_type_code, _CS.SS_CONTENT_TYPE_CODE, parent)
    _node(element, ClassificationNode.SUBMISSION_SET, parent, submission_set.node_classification_id)
    if submission_set.limited_metadata:
        _node(element, ClassificationNode.SS_LIMITED_METADATA, parent, submission_set.limited_metadata_id)
    _extra_classifications(element, submission_set.extra_classifications)
    patient = submission_set.patient_id.format() if submission_set.patient_id else None
    _identifier(element, submission_set, _IS.SS_UNIQUE_ID, submission_set.unique_id)
    _identifier(element, submission_set, _IS.SS_SOURCE_ID, submission_set.source_id)
    _identifier(element, submission_set, _IS.SS_PATIENT_ID, patient)
    _extra_identifiers(element, submission_set.extra_external_identifiers)
    return element


def folder_element(folder: Folder) -> etree._Element:
    element = _package_start(folder)
    _slot(element, "lastUpdateTime", folder.last_update_time)
    _slots(element, folder.extra_slots)
    _names(element, folder.title, folder.comments)
    _version(element, folder)
    parent = folder.entry_uuid
    for code in folder.codes:
        _code(element, code, _CS.FOLDER_CODE_LIST, parent)
    _node(element, ClassificationNode.FOLDER, parent, folder.node_classification_id)
    if folder.limited_metadata:
        _node(element, ClassificationNode.FOLDER_LIMITED_METADATA, parent, folder.limited_metadata_id)
    _extra_classifications(element, folder.extra_classifications)
    _identifier(element, folder, _IS.FOLDER_UNIQUE_ID, folder.unique_id)
    _identifier(
        element, folder, _IS.FOLDER_PATIENT_ID, folder.patient_id.format() if folder.patient_id else None
    )
    _extra_identifiers(element, folder.extra_external_identifiers)
    return element


def association_element(association: Association) -> etree._Element:
    element = etree.Element(rim("Association"), nsmap={"rim": RIM})
    _set(element, "id", association.entry_uuid or None)
    _common_attributes(element, association)
    element.set("objectType", ObjectTypeUrn.ASSOCIATION.value)
    element.set("associationType", association.association_type.value)
    element.set("sourceObject", association.source)
    element.set("targetObject", association.target)
    status = association.submission_set_status
    _slot(element, "SubmissionSetStatus", status.value if status else None)
    _slot(element, "PreviousVersion", association.previous_version)
    _slot(
        element, "OriginalStatus", association.original_status.value if association.original_status else None
    )
    _slot(element, "NewStatus", association.new_status.value if association.new_status else None)
    if association.association_propagation is not None:
        _slot(element, "AssociationPropagation", "yes" if association.association_propagation else "no")
    _slots(element, association.extra_slots)
    _names(element, association.name, association.description)
    _version(element, association)
    _extra_classifications(element, association.extra_classifications)
    _extra_identifiers(element, association.extra_external_identifiers)
    return element


# ---------------------------------------------------------------------------------------------- parts


def _set(element: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        element.set(name, value)


def _common_attributes(element: etree._Element, obj: RegistryObject) -> None:
    _set(element, "lid", obj.logical_id)
    _set(element, "home", obj.home_community_id)
    if obj.availability_status is not None:
        element.set("status", obj.availability_status.value)


def _package_start(package: SubmissionSet | Folder) -> etree._Element:
    element = etree.Element(rim("RegistryPackage"), nsmap={"rim": RIM})
    element.set("id", package.entry_uuid)
    _common_attributes(element, package)
    element.set("objectType", ObjectTypeUrn.REGISTRY_PACKAGE.value)
    return element


def _slot(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        _slots(parent, (Slot(name, (value,)),))


def _multi_slot(parent: etree._Element, name: str, values: tuple[str, ...]) -> None:
    if values:
        _slots(parent, (Slot(name, values),))


def _slots(parent: etree._Element, slots: Iterable[Slot]) -> None:
    for slot in slots:
        element = etree.SubElement(parent, rim("Slot"), name=slot.name)
        _set(element, "slotType", slot.slot_type)
        value_list = etree.SubElement(element, rim("ValueList"))
        for value in slot.values:
            etree.SubElement(value_list, rim("Value")).text = value


def _international(parent: etree._Element, local: str, text: InternationalString | None) -> None:
    if text is None:
        return
    element = etree.SubElement(parent, rim(local))
    for string in text.strings:
        localized = etree.SubElement(element, rim("LocalizedString"))
        _set(localized, f"{{{XML}}}lang", string.lang)
        _set(localized, "charset", string.charset)
        localized.set("value", string.value)


def _names(
    parent: etree._Element, name: InternationalString | None, desc: InternationalString | None
) -> None:
    _international(parent, "Name", name)
    _international(parent, "Description", desc)


def _version(parent: etree._Element, obj: RegistryObject) -> None:
    if obj.version is not None or obj.version_comment is not None:
        element = etree.SubElement(parent, rim("VersionInfo"))
        _set(element, "versionName", obj.version)
        _set(element, "comment", obj.version_comment)


def _classification_start(
    parent_id: str, element_id: str | None, scheme: str | None = None
) -> etree._Element:
    element = etree.Element(rim("Classification"))
    _set(element, "id", element_id)
    element.set("objectType", ObjectTypeUrn.CLASSIFICATION.value)
    _set(element, "classificationScheme", scheme)
    element.set("classifiedObject", parent_id)
    return element


def _code(parent: etree._Element, code: Code | None, scheme: ClassificationScheme, parent_id: str) -> None:
    if code is None:
        return
    element = _classification_start(parent_id, code.id, scheme.value)
    element.set("nodeRepresentation", code.code)
    _slot(element, "codingScheme", code.scheme)
    _slots(element, code.extra_slots)
    _international(element, "Name", code.display)
    parent.append(element)


def _author(author: Author, scheme: ClassificationScheme, parent_id: str) -> etree._Element:
    element = _classification_start(parent_id, author.id, scheme.value)
    element.set("nodeRepresentation", "")
    _slot(element, "authorPerson", author.person)
    _multi_slot(element, "authorInstitution", author.institutions)
    _multi_slot(element, "authorRole", author.roles)
    _multi_slot(element, "authorSpecialty", author.specialties)
    _multi_slot(element, "authorTelecommunication", author.telecoms)
    _slots(element, author.extra_slots)
    return element


def _node(parent: etree._Element, node: ClassificationNode, parent_id: str, element_id: str | None) -> None:
    element = _classification_start(parent_id, element_id)
    element.set("classificationNode", node.value)
    parent.append(element)


def _classification(item: Classification) -> etree._Element:
    element = etree.Element(rim("Classification"), nsmap={"rim": RIM})
    _set(element, "id", item.id)
    element.set("objectType", ObjectTypeUrn.CLASSIFICATION.value)
    _set(element, "classificationScheme", item.classification_scheme)
    _set(element, "classificationNode", item.classification_node)
    _set(element, "classifiedObject", item.classified_object)
    _set(element, "nodeRepresentation", item.node_representation)
    _slots(element, item.slots)
    _names(element, item.name, item.description)
    return element


def _extra_classifications(parent: etree._Element, items: Iterable[Classification]) -> None:
    for item in items:
        parent.append(_classification(item))


def _external_identifier(item: ExternalIdentifier) -> etree._Element:
    element = etree.Element(rim("ExternalIdentifier"), nsmap={"rim": RIM})
    _set(element, "id", item.id)
    element.set("objectType", ObjectTypeUrn.EXTERNAL_IDENTIFIER.value)
    element.set("identificationScheme", item.identification_scheme)
    _set(element, "registryObject", item.registry_object)
    element.set("value", item.value)
    _slots(element, item.slots)
    _names(element, item.name, item.description)
    return element


def _extra_identifiers(parent: etree._Element, items: Iterable[ExternalIdentifier]) -> None:
    for item in items:
        parent.append(_external_identifier(item))


def _identifier(
    parent: etree._Element, obj: RegistryObject, scheme: IdentificationScheme, value: str | None
) -> None:
    if value is None:
        return
    element_id = dict(obj.identifier_ids).get(scheme.value)
    item = ExternalIdentifier(
        identification_scheme=scheme.value,
        value=value,
        registry_object=obj.entry_uuid,
        id=element_id,
        name=InternationalString.of(EXTERNAL_IDENTIFIER_NAMES[scheme]),
    )
    parent.append(_external_identifier(item))
