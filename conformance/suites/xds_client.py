"""A small XDS.b SOAP client: builds SOAP 1.2 / MTOM requests, posts them, reads the answers.

IHE ITI TF-2x Appendix V (SOAP 1.2 + WS-Addressing, MTOM/XOP) for ITI-41/42/43/18/57/62.  Used by the NIST
testkit runner (``conformance.suites.nist_xds``) against any hub (in-process through
``httpx.ASGITransport`` or a ``--target`` URL), and by the tests.  ITI-41 and ITI-43 go as MTOM; the
registry transactions as plain ``application/soap+xml`` (ITI-42 may also be sent as MTOM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from lxml import etree

from hub.core.xml_safety import parse_xml
from xds import (
    Action,
    Attachment,
    DocumentRequest,
    ParsedResponse,
    RemoveObjectsRequest,
    SubmitObjectsRequest,
    build_envelope,
    envelope_bytes,
    mtom_response,
    new_content_id,
    parse_response,
    provide_and_register_element,
    read_mtom,
    remove_objects_request_element,
    retrieve_request_element,
    submit_objects_request_element,
)

SOAP_XML = "application/soap+xml; charset=UTF-8"
_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
_XOP = "http://www.w3.org/2004/08/xop/include"
_XDSB = "urn:ihe:iti:xds-b:2007"
_MAX_RESPONSE_PART = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SoapReply:
    """One answer: HTTP status, the SOAP body payload, its parsed response (when not a fault), the fault
    reason (when a fault) and any attachments by Content-ID (ITI-43)."""

    status_code: int
    payload: etree._Element | None
    response: ParsedResponse | None
    fault: str | None = None
    attachments: dict[str, bytes] = field(default_factory=dict)

    @property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(e.error_code for e in self.response.errors) if self.response else ()

    @property
    def error_count(self) -> int:
        """Errors of the reply (warnings left out); a SOAP Fault is one."""
        if self.response is None:
            return 1 if self.fault is not None else 0
        return sum(1 for e in self.response.errors if not e.severity.endswith("Warning"))

    @property
    def status(self) -> str:
        """The status URN's last segment (``Success``, ``Failure``, ``PartialSuccess``) or ``Fault``."""
        if self.response is None:
            return "Fault"
        return self.response.status.rsplit(":", 1)[-1]

    def documents(self) -> dict[str, bytes]:
        """ITI-43: document uniqueId -> bytes."""
        found: dict[str, bytes] = {}
        if self.payload is None:
            return found
        for item in self.payload.iterfind(f"{{{_XDSB}}}DocumentResponse"):
            uid = (item.findtext(f"{{{_XDSB}}}DocumentUniqueId") or "").strip()
            include = item.find(f"{{{_XDSB}}}Document/{{{_XOP}}}Include")
            if include is not None:
                cid = (include.get("href") or "")[4:]
                found[uid] = self.attachments.get(cid, b"")
        return found


def read_reply(status_code: int, content_type: str, body: bytes) -> SoapReply:
    """Parse an HTTP answer of a SOAP door (plain or MTOM)."""
    attachments: dict[str, bytes] = {}
    if content_type.lower().startswith("multipart/related"):
        with read_mtom(content_type, body, max_part_bytes=_MAX_RESPONSE_PART) as message:
            root_bytes = message.root.read_bytes()
            attachments = {cid: part.read_bytes() for cid, part in message.parts.items()}
    else:
        root_bytes = body
    envelope = parse_xml(root_bytes, max_bytes=max(len(root_bytes), 1))
    soap_body = envelope.find(f"{{{_SOAP12}}}Body")
    payload = next((c for c in soap_body if isinstance(c.tag, str)), None) if soap_body is not None else None
    if payload is None:
        return SoapReply(status_code, None, None, fault="no SOAP body payload")
    if payload.tag == f"{{{_SOAP12}}}Fault":
        reason = payload.findtext(f"{{{_SOAP12}}}Reason/{{{_SOAP12}}}Text") or ""
        return SoapReply(status_code, payload, None, fault=reason)
    return SoapReply(status_code, payload, parse_response(payload), attachments=attachments)


class XdsClient:
    """Posts XDS.b transactions to a hub's SOAP doors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        registry_url: str = "/xds/registry",
        repository_url: str = "/xds/repository",
        security_header: etree._Element | None = None,
        headers: Mapping[str, str] | None = None,
        soap_headers: Sequence[etree._Element] = (),
    ) -> None:
        self.http = http
        self.registry_url = registry_url
        self.repository_url = repository_url
        self.security_header = security_header
        self.soap_headers = tuple(soap_headers)  # more SOAP header blocks, e.g. a DGWS HSUID header
        self.headers = dict(headers or {})

    def url_for(self, action: Action) -> str:
        return self.repository_url if action in (Action.ITI_41, Action.ITI_43) else self.registry_url

    async def call(
        self,
        action: Action | str,
        body: etree._Element,
        *,
        attachments: Sequence[Attachment] = (),
        mtom: bool = False,
        url: str | None = None,
    ) -> SoapReply:
        """Send ``body`` with ``action`` (a raw string sends any action, for negative tests)."""
        extra: tuple[etree._Element, ...] = (
            (self.security_header,) if self.security_header is not None else ()
        )
        extra += self.soap_headers
        envelope = envelope_bytes(build_envelope(action, body, extra_headers=extra))
        target = url or (self.url_for(action) if isinstance(action, Action) else self.registry_url)
        if mtom or attachments:
            action_value = action.value if isinstance(action, Action) else action
            framed = mtom_response(envelope, attachments, action=action_value)
            content, content_type = framed.body(), framed.content_type
        else:
            content, content_type = envelope, SOAP_XML
        answer = await self.http.post(
            target, content=content, headers={**self.headers, "content-type": content_type}
        )
        return read_reply(answer.status_code, answer.headers.get("content-type", ""), answer.content)

    async def provide_and_register(
        self, submit: SubmitObjectsRequest, documents: Mapping[str, tuple[bytes, str]]
    ) -> SoapReply:
        """ITI-41 as MTOM; ``documents`` maps the DocumentEntry id to (bytes, mimeType)."""
        ids = {doc_id: new_content_id("doc") for doc_id in documents}
        attachments = [Attachment.from_bytes(ids[d], data, mime) for d, (data, mime) in documents.items()]
        body = provide_and_register_element(submit, ids)
        return await self.call(Action.ITI_41, body, attachments=attachments, mtom=True)

    async def register(self, submit: SubmitObjectsRequest) -> SoapReply:
        return await self.call(Action.ITI_42, submit_objects_request_element(submit))

    async def update(self, submit: SubmitObjectsRequest) -> SoapReply:
        return await self.call(Action.ITI_57, submit_objects_request_element(submit))

    async def delete(self, entry_uuids: Sequence[str]) -> SoapReply:
        return await self.call(
            Action.ITI_62, remove_objects_request_element(RemoveObjectsRequest(tuple(entry_uuids)))
        )

    async def query(self, request: etree._Element) -> SoapReply:
        return await self.call(Action.ITI_18, request)

    async def retrieve(self, requests: Sequence[DocumentRequest]) -> SoapReply:
        return await self.call(Action.ITI_43, retrieve_request_element(requests), mtom=True)
