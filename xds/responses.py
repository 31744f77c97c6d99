"""Response bodies: RegistryResponse, AdhocQueryResponse, RetrieveDocumentSetResponse.

ebRS 3.0 §2.1.4-2.1.6 (RegistryResponse, RegistryErrorList/RegistryError), ITI TF-3 4.2.4 (status and
error reporting: Success, PartialSuccess, Failure), ITI TF-2a 3.18.4.2 (AdhocQueryResponse with ObjectRef or
LeafClass), ITI TF-2b 3.43.4.2 (RetrieveDocumentSetResponse, MTOM with xop:Include).  Readers for the same
elements serve the conformance runner and tests.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from xds.ebrim_parse import parse_registry_object_list
from xds.ebrim_write import registry_object_list_element
from xds.errors import RegistryError, RegistryErrorSeverity
from xds.model import ObjectRef, RegistryObjectList
from xds.mtom_write import Attachment, MtomResponse, mtom_response
from xds.namespaces import QUERY, RIM, RS, XDSB, XOP, query, rim, rs, xdsb
from xds.soap import Action, build_envelope, envelope_bytes


class ResponseStatus(enum.Enum):
    """ebRS ResponseStatusType plus the IHE PartialSuccess (ITI TF-3 4.2.4.2)."""

    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"


def status_for(errors: Iterable[RegistryError], *, succeeded_any: bool = False) -> ResponseStatus:
    """Failure when any error-severity finding exists (PartialSuccess instead when ``succeeded_any``,
    for the transactions that allow it: ITI-43, ITI-18 federated); Success otherwise (warnings allowed)."""
    if any(e.is_error for e in errors):
        return ResponseStatus.PARTIAL_SUCCESS if succeeded_any else ResponseStatus.FAILURE
    return ResponseStatus.SUCCESS


def registry_error_list_element(errors: Sequence[RegistryError]) -> etree._Element:
    element = etree.Element(rs("RegistryErrorList"), nsmap={"rs": RS})
    highest = (
        RegistryErrorSeverity.ERROR if any(e.is_error for e in errors) else RegistryErrorSeverity.WARNING
    )
    element.set("highestSeverity", highest.value)
    for error in errors:
        item = etree.SubElement(element, rs("RegistryError"))
        item.set("errorCode", error.error_code.value)
        item.set("codeContext", error.code_context)
        if error.location:
            item.set("location", error.location)
        item.set("severity", error.severity.value)
    return element


def registry_response_element(status: ResponseStatus, errors: Sequence[RegistryError] = ()) -> etree._Element:
    """``rs:RegistryResponse`` (ITI-41/42/57/62 response body)."""
    element = etree.Element(rs("RegistryResponse"), nsmap={"rs": RS})
    element.set("status", status.value)
    if errors:
        element.append(registry_error_list_element(errors))
    return element


def adhoc_query_response_element(
    status: ResponseStatus,
    *,
    objects: RegistryObjectList | None = None,
    object_refs: Sequence[ObjectRef] = (),
    errors: Sequence[RegistryError] = (),
) -> etree._Element:
    """``query:AdhocQueryResponse`` with LeafClass ``objects`` or ``object_refs`` (returnType ObjectRef)."""
    element = etree.Element(query("AdhocQueryResponse"), nsmap={"query": QUERY, "rs": RS, "rim": RIM})
    element.set("status", status.value)
    if errors:
        element.append(registry_error_list_element(errors))
    if objects is not None:
        element.append(registry_object_list_element(objects))
    else:
        ref_list = etree.SubElement(element, rim("RegistryObjectList"))
        for ref in object_refs:
            item = etree.SubElement(ref_list, rim("ObjectRef"), id=ref.id)
            if ref.home:
                item.set("home", ref.home)
    return element


@dataclass(frozen=True, slots=True)
class RetrievedDocument:
    """One ``xdsb:DocumentResponse``: identifiers, mimeType and the content to attach."""

    repository_unique_id: str
    document_unique_id: str
    mime_type: str
    attachment: Attachment
    home_community_id: str | None = None


def retrieve_response_element(
    status: ResponseStatus, documents: Sequence[RetrievedDocument], errors: Sequence[RegistryError] = ()
) -> etree._Element:
    """``xdsb:RetrieveDocumentSetResponse`` with one xop:Include per document."""
    root = etree.Element(xdsb("RetrieveDocumentSetResponse"), nsmap={"xdsb": XDSB, "rs": RS, "xop": XOP})
    root.append(registry_response_element(status, errors))
    for document in documents:
        item = etree.SubElement(root, xdsb("DocumentResponse"))
        if document.home_community_id:
            etree.SubElement(item, xdsb("HomeCommunityId")).text = document.home_community_id
        etree.SubElement(item, xdsb("RepositoryUniqueId")).text = document.repository_unique_id
        etree.SubElement(item, xdsb("DocumentUniqueId")).text = document.document_unique_id
        etree.SubElement(item, xdsb("mimeType")).text = document.mime_type
        content = etree.SubElement(item, xdsb("Document"))
        etree.SubElement(content, f"{{{XOP}}}Include", href=f"cid:{document.attachment.content_id}")
    return root


def retrieve_response(
    documents: Sequence[RetrievedDocument],
    errors: Sequence[RegistryError] = (),
    *,
    relates_to: str | None = None,
) -> MtomResponse:
    """The complete ITI-43 MTOM response; status PartialSuccess when some but not all were found."""
    status = status_for(errors, succeeded_any=bool(documents))
    body = retrieve_response_element(status, documents, errors)
    envelope = build_envelope(Action.ITI_43_RESPONSE, body, relates_to=relates_to)
    return mtom_response(
        envelope_bytes(envelope),
        [d.attachment for d in documents],
        action=Action.ITI_43_RESPONSE.value,
    )


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ReportedError:
    """A RegistryError read from a response (codes kept as strings: peers may send any code)."""

    error_code: str
    code_context: str
    location: str | None
    severity: str


@dataclass(frozen=True, slots=True)
class ParsedResponse:
    """Status, errors and (for queries) objects of a RegistryResponse or AdhocQueryResponse."""

    status: str
    errors: tuple[ReportedError, ...]
    objects: RegistryObjectList | None = None


def parse_response(element: etree._Element) -> ParsedResponse:
    """Read ``rs:RegistryResponse``, ``query:AdhocQueryResponse`` or ``xdsb:RetrieveDocumentSetResponse``."""
    target = element
    if element.tag == xdsb("RetrieveDocumentSetResponse"):
        inner = element.find(rs("RegistryResponse"))
        target = inner if inner is not None else element
    errors = tuple(
        ReportedError(
            error_code=item.get("errorCode", ""),
            code_context=item.get("codeContext", ""),
            location=item.get("location"),
            severity=item.get("severity", RegistryErrorSeverity.ERROR.value),
        )
        for item in target.iterfind(f"{rs('RegistryErrorList')}/{rs('RegistryError')}")
    )
    objects = None
    object_list = target.find(rim("RegistryObjectList"))
    if object_list is not None:
        objects = parse_registry_object_list(object_list)
    return ParsedResponse(status=target.get("status", ""), errors=errors, objects=objects)
