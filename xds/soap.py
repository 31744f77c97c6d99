"""SOAP 1.2 envelopes with WS-Addressing for the XDS.b transactions (IHE ITI TF-2x Appendix V).

ITI TF-2x V.3.2: requests carry ``wsa:Action`` (mustUnderstand) and ``wsa:MessageID``; responses carry
the response Action and ``wsa:RelatesTo`` = the request MessageID.  SOAP 1.2 Part 1 §5.4 defines the
Fault (Code/Value, Subcode, Reason/Text).  WS-Addressing 1.0 SOAP Binding §6 names the faults
``wsa:MessageAddressingHeaderRequired`` and ``wsa:ActionNotSupported``.

The ``wsse:Security`` header is handed on untouched (as the parsed element) for the security layer to
verify; nothing here reads or changes it.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from lxml import etree

from hub.core.xml_safety import parse_xml
from xds.errors import FaultCode, SoapEnvelopeError
from xds.namespaces import SOAP11, SOAP12, WSA, WSSE

WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
WSA_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"


class Action(enum.Enum):
    """WS-Addressing actions of the XDS.b transactions (ITI TF-2b 3.41.5, 3.42.5, 3.43.5, 3.18.5;
    ITI TF-2b 3.57.5; ITI TF-2b 3.62.5)."""

    ITI_41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
    ITI_41_RESPONSE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    ITI_42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
    ITI_42_RESPONSE = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"
    ITI_43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
    ITI_43_RESPONSE = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    ITI_18 = "urn:ihe:iti:2007:RegistryStoredQuery"
    ITI_18_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    ITI_57 = "urn:ihe:iti:2010:UpdateDocumentSet"
    ITI_57_RESPONSE = "urn:ihe:iti:2010:UpdateDocumentSetResponse"
    ITI_62 = "urn:ihe:iti:2010:DeleteDocumentSet"
    ITI_62_RESPONSE = "urn:ihe:iti:2010:DeleteDocumentSetResponse"

    @property
    def response(self) -> Action:
        """The response action of a request action."""
        return _RESPONSES[self]


_RESPONSES = {
    Action.ITI_41: Action.ITI_41_RESPONSE,
    Action.ITI_42: Action.ITI_42_RESPONSE,
    Action.ITI_43: Action.ITI_43_RESPONSE,
    Action.ITI_18: Action.ITI_18_RESPONSE,
    Action.ITI_57: Action.ITI_57_RESPONSE,
    Action.ITI_62: Action.ITI_62_RESPONSE,
}

REGISTRY_ACTIONS = frozenset({Action.ITI_42, Action.ITI_18, Action.ITI_57, Action.ITI_62})
REPOSITORY_ACTIONS = frozenset({Action.ITI_41, Action.ITI_43})


@dataclass(frozen=True, slots=True)
class SoapEnvelope:
    """A parsed SOAP 1.2 request: WS-Addressing values, the untouched Security header, the body payload.

    ``action`` is the raw ``wsa:Action`` text; :meth:`require_action` turns it into an :class:`Action`.
    """

    action: str
    body: etree._Element
    message_id: str | None = None
    relates_to: str | None = None
    to: str | None = None
    reply_to: str | None = None
    security: etree._Element | None = None
    headers: tuple[etree._Element, ...] = ()

    def require_action(self, allowed: frozenset[Action]) -> Action:
        """The action as an :class:`Action` if it is one of ``allowed``; otherwise a Sender fault."""
        for action in allowed:
            if action.value == self.action:
                return action
        raise SoapEnvelopeError(
            f"action {self.action!r} is not supported at this endpoint",
            subcode="wsa:ActionNotSupported",
            message_id="SOAP-ACTION-NOT-SUPPORTED",
        )


def _text(header: etree._Element | None, local: str) -> str | None:
    if header is None:
        return None
    element = header.find(f"{{{WSA}}}{local}")
    if element is None:
        return None
    if local == "ReplyTo":
        address = element.find(f"{{{WSA}}}Address")
        return (address.text or "").strip() if address is not None else None
    return (element.text or "").strip()


def parse_envelope(data: bytes | etree._Element) -> SoapEnvelope:
    """Parse a SOAP 1.2 envelope; every structural problem is a :class:`SoapEnvelopeError`."""
    root = parse_xml(data) if isinstance(data, bytes) else data
    if root.tag == f"{{{SOAP11}}}Envelope":
        raise SoapEnvelopeError(
            "SOAP 1.1 is not supported; XDS.b requires SOAP 1.2",
            code=FaultCode.VERSION_MISMATCH,
            message_id="SOAP-VERSION-MISMATCH",
        )
    if root.tag != f"{{{SOAP12}}}Envelope":
        raise SoapEnvelopeError(f"not a SOAP 1.2 Envelope: {root.tag}", message_id="SOAP-NOT-ENVELOPE")
    header = root.find(f"{{{SOAP12}}}Header")
    body = root.find(f"{{{SOAP12}}}Body")
    if body is None:
        raise SoapEnvelopeError("SOAP Envelope has no Body", message_id="SOAP-NO-BODY")
    payload = [child for child in body if isinstance(child.tag, str)]
    if len(payload) != 1:
        raise SoapEnvelopeError(
            f"SOAP Body must hold exactly one element, found {len(payload)}", message_id="SOAP-BODY-CONTENT"
        )
    action = _text(header, "Action")
    if not action:
        raise SoapEnvelopeError(
            "the WS-Addressing Action header is missing",
            subcode="wsa:MessageAddressingHeaderRequired",
            message_id="SOAP-NO-ACTION",
        )
    security = header.find(f"{{{WSSE}}}Security") if header is not None else None
    others = tuple(
        child
        for child in (header if header is not None else ())
        if isinstance(child.tag, str) and etree.QName(child).namespace not in (WSA, WSSE)
    )
    return SoapEnvelope(
        action=action,
        body=payload[0],
        message_id=_text(header, "MessageID"),
        relates_to=_text(header, "RelatesTo"),
        to=_text(header, "To"),
        reply_to=_text(header, "ReplyTo"),
        security=security,
        headers=others,
    )


def new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def build_envelope(
    action: Action | str,
    body: etree._Element,
    *,
    relates_to: str | None = None,
    message_id: str | None = None,
    to: str | None = None,
    extra_headers: tuple[etree._Element, ...] = (),
) -> etree._Element:
    """A SOAP 1.2 envelope with WS-Addressing headers (Action mustUnderstand) around ``body``."""
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12, "a": WSA})
    header = etree.SubElement(envelope, f"{{{SOAP12}}}Header")
    action_element = etree.SubElement(header, f"{{{WSA}}}Action")
    action_element.set(f"{{{SOAP12}}}mustUnderstand", "1")
    action_element.text = action.value if isinstance(action, Action) else action
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = message_id or new_message_id()
    if relates_to:
        etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    if to:
        to_element = etree.SubElement(header, f"{{{WSA}}}To")
        to_element.set(f"{{{SOAP12}}}mustUnderstand", "1")
        to_element.text = to
    for extra in extra_headers:
        header.append(extra)
    etree.SubElement(envelope, f"{{{SOAP12}}}Body").append(body)
    return envelope


def fault_element(
    reason: str,
    *,
    code: FaultCode = FaultCode.SENDER,
    subcode: str | None = None,
    lang: str = "en",
) -> etree._Element:
    """``env:Fault`` with Code/Value (+ Subcode/Value) and Reason/Text (SOAP 1.2 Part 1 §5.4)."""
    nsmap: dict[str, str] = {"s": SOAP12}
    if subcode and subcode.startswith("wsa:"):
        nsmap["wsa"] = WSA
    fault = etree.Element(f"{{{SOAP12}}}Fault", nsmap=nsmap)
    code_element = etree.SubElement(fault, f"{{{SOAP12}}}Code")
    etree.SubElement(code_element, f"{{{SOAP12}}}Value").text = f"s:{code.value}"
    if subcode:
        sub = etree.SubElement(code_element, f"{{{SOAP12}}}Subcode")
        etree.SubElement(sub, f"{{{SOAP12}}}Value").text = subcode
    reason_element = etree.SubElement(fault, f"{{{SOAP12}}}Reason")
    text = etree.SubElement(reason_element, f"{{{SOAP12}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    text.text = reason
    return fault


def fault_envelope(
    reason: str,
    *,
    code: FaultCode = FaultCode.SENDER,
    subcode: str | None = None,
    relates_to: str | None = None,
) -> etree._Element:
    """A complete Fault response (WS-Addressing fault action, RelatesTo the request when known)."""
    return build_envelope(
        WSA_FAULT_ACTION,
        fault_element(reason, code=code, subcode=subcode),
        relates_to=relates_to,
    )


def envelope_bytes(envelope: etree._Element) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
