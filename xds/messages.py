"""Request bodies of the XDS.b transactions, read and written.

- ITI-41 ``xdsb:ProvideAndRegisterDocumentSetRequest`` (ITI TF-2b 3.41.4.1.2): a SubmitObjectsRequest plus
  ``xdsb:Document id=…`` elements holding an ``xop:Include`` or inline base64 content.
- ITI-43 ``xdsb:RetrieveDocumentSetRequest`` (ITI TF-2b 3.43.4.1.2): DocumentRequest list.
- ITI-62 ``lcm:RemoveObjectsRequest`` (ITI TF-2b 3.62.4.1.2): an ObjectRefList.

ITI-42/57 bodies are plain SubmitObjectsRequests (:mod:`xds.ebrim_parse`); ITI-18 is
:mod:`xds.stored_queries`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from xds.ebrim_parse import parse_submit_objects_request
from xds.ebrim_write import submit_objects_request_element
from xds.errors import MtomError, RegistryError, XdsError, XdsErrorCode
from xds.model import SubmitObjectsRequest
from xds.mtom import MimePart, MtomMessage
from xds.namespaces import LCM, RIM, XDSB, XOP, lcm, rim, xdsb

_REPOSITORY_METADATA = XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR


@dataclass(frozen=True, slots=True)
class ProvideAndRegisterRequest:
    """ITI-41 request: metadata and the documents keyed by ``xdsb:Document/@id`` (= ExtrinsicObject id)."""

    submit: SubmitObjectsRequest
    documents: dict[str, MimePart]


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """One ``xdsb:DocumentRequest`` of ITI-43."""

    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveObjectsRequest:
    """ITI-62 request: the entryUUIDs to delete and the optional ``deletionScope``."""

    object_ids: tuple[str, ...]
    deletion_scope: str | None = None


def parse_provide_and_register(body: etree._Element, mtom: MtomMessage | None) -> ProvideAndRegisterRequest:
    """Read an ITI-41 body; ``mtom`` is the multipart message it came in (None for plain SOAP)."""
    if body.tag != xdsb("ProvideAndRegisterDocumentSetRequest"):
        raise XdsError.single(
            XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR,
            f"expected xdsb:ProvideAndRegisterDocumentSetRequest, found {body.tag}",
        )
    submit_element = body.find(lcm("SubmitObjectsRequest"))
    if submit_element is None:
        raise XdsError.single(
            XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR,
            "ProvideAndRegister request has no SubmitObjectsRequest",
        )
    submit = parse_submit_objects_request(submit_element)
    documents: dict[str, MimePart] = {}
    errors: list[RegistryError] = []
    for element in body.iterchildren(xdsb("Document")):
        doc_id = element.get("id")
        if not doc_id:
            errors.append(
                RegistryError(XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR, "xdsb:Document without an id")
            )
            continue
        if doc_id in documents:
            errors.append(
                RegistryError(
                    XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR,
                    f"xdsb:Document id {doc_id!r} repeated",
                    doc_id,
                )
            )
            continue
        documents[doc_id] = _document_content(element, doc_id, mtom)
    if errors:
        for part in documents.values():
            part.close()
        raise XdsError("ProvideAndRegister documents are inconsistent", errors)
    return ProvideAndRegisterRequest(submit=submit, documents=documents)


def _document_content(element: etree._Element, doc_id: str, mtom: MtomMessage | None) -> MimePart:
    include = element.find(f"{{{XOP}}}Include")
    if include is not None:
        href = include.get("href")
        if not href:
            raise MtomError(f"xop:Include of document {doc_id!r} has no href", message_id="MTOM-NO-HREF")
        if mtom is None:
            raise MtomError(
                f"document {doc_id!r} uses xop:Include but the request is not MTOM",
                message_id="MTOM-NOT-MTOM",
            )
        return mtom.part(href)
    try:
        data = base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MtomError(f"document {doc_id!r} is not valid base64", message_id="MTOM-BAD-BASE64") from exc
    return MimePart.from_bytes(None, data, "application/octet-stream")


def parse_retrieve_request(body: etree._Element) -> tuple[DocumentRequest, ...]:
    """Read an ITI-43 body; an empty or incomplete DocumentRequest is an XDSRepositoryError finding."""
    if body.tag != xdsb("RetrieveDocumentSetRequest"):
        raise XdsError.single(
            XdsErrorCode.XDS_REPOSITORY_ERROR, f"expected xdsb:RetrieveDocumentSetRequest, found {body.tag}"
        )
    requests: list[DocumentRequest] = []
    errors: list[RegistryError] = []
    for index, element in enumerate(body.iterchildren(xdsb("DocumentRequest")), start=1):
        repository = (element.findtext(xdsb("RepositoryUniqueId")) or "").strip()
        unique_id = (element.findtext(xdsb("DocumentUniqueId")) or "").strip()
        home = (element.findtext(xdsb("HomeCommunityId")) or "").strip() or None
        if not repository or not unique_id:
            errors.append(
                RegistryError(
                    XdsErrorCode.XDS_REPOSITORY_ERROR,
                    f"DocumentRequest {index} needs RepositoryUniqueId and DocumentUniqueId",
                    f"DocumentRequest[{index}]",
                )
            )
            continue
        requests.append(DocumentRequest(repository, unique_id, home))
    if not requests and not errors:
        errors.append(RegistryError(XdsErrorCode.XDS_REPOSITORY_ERROR, "RetrieveDocumentSetRequest is empty"))
    if errors:
        raise XdsError("RetrieveDocumentSetRequest is malformed", errors)
    return tuple(requests)


def parse_remove_objects_request(body: etree._Element) -> RemoveObjectsRequest:
    """Read an ITI-62 body (ObjectRefList only; an AdhocQuery selection is not allowed by ITI-62)."""
    if body.tag != lcm("RemoveObjectsRequest"):
        raise XdsError.single(
            XdsErrorCode.XDS_REGISTRY_ERROR, f"expected lcm:RemoveObjectsRequest, found {body.tag}"
        )
    ids = tuple(ref.get("id", "") for ref in body.iterfind(f"{rim('ObjectRefList')}/{rim('ObjectRef')}"))
    if not ids or not all(ids):
        raise XdsError.single(
            XdsErrorCode.XDS_REGISTRY_ERROR, "RemoveObjectsRequest needs an ObjectRefList of ObjectRef ids"
        )
    return RemoveObjectsRequest(object_ids=ids, deletion_scope=body.get("deletionScope"))


# ---------------------------------------------------------------------------------------------- writing


def provide_and_register_element(
    submit: SubmitObjectsRequest, document_content_ids: Mapping[str, str]
) -> etree._Element:
    """An ITI-41 body whose documents are ``xop:Include`` references (document id -> Content-ID)."""
    root = etree.Element(
        xdsb("ProvideAndRegisterDocumentSetRequest"), nsmap={"xdsb": XDSB, "lcm": LCM, "rim": RIM, "xop": XOP}
    )
    root.append(submit_objects_request_element(submit))
    for doc_id, content_id in document_content_ids.items():
        document = etree.SubElement(root, xdsb("Document"), id=doc_id)
        etree.SubElement(document, f"{{{XOP}}}Include", href=f"cid:{content_id}")
    return root


def retrieve_request_element(requests: Sequence[DocumentRequest]) -> etree._Element:
    root = etree.Element(xdsb("RetrieveDocumentSetRequest"), nsmap={"xdsb": XDSB})
    for request in requests:
        element = etree.SubElement(root, xdsb("DocumentRequest"))
        if request.home_community_id:
            etree.SubElement(element, xdsb("HomeCommunityId")).text = request.home_community_id
        etree.SubElement(element, xdsb("RepositoryUniqueId")).text = request.repository_unique_id
        etree.SubElement(element, xdsb("DocumentUniqueId")).text = request.document_unique_id
    return root


def remove_objects_request_element(request: RemoveObjectsRequest) -> etree._Element:
    root = etree.Element(lcm("RemoveObjectsRequest"), nsmap={"lcm": LCM, "rim": RIM})
    if request.deletion_scope:
        root.set("deletionScope", request.deletion_scope)
    ref_list = etree.SubElement(root, rim("ObjectRefList"))
    for object_id in request.object_ids:
        etree.SubElement(ref_list, rim("ObjectRef"), id=object_id)
    return root
