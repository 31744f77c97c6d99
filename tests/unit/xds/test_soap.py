"""SOAP 1.2 + WS-Addressing envelopes and faults (ITI TF-2x Appendix V, SOAP 1.2 Part 1 §5.4)."""

from __future__ import annotations

import pytest
from lxml import etree

from hub.core.errors import UnsafeXmlError
from xds.errors import FaultCode, SoapEnvelopeError
from xds.namespaces import SOAP12, WSA, WSSE
from xds.soap import (
    REGISTRY_ACTIONS,
    REPOSITORY_ACTIONS,
    WSA_FAULT_ACTION,
    Action,
    build_envelope,
    envelope_bytes,
    fault_envelope,
    parse_envelope,
)

REQUEST = f"""<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:wsse="{WSSE}">
  <s:Header>
    <a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>
    <a:MessageID>urn:uuid:6f3c0b8e-4d0e-4f57-9a6f-3c1b1d5b6d11</a:MessageID>
    <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
    <a:To>https://hub.example/xds/registry</a:To>
    <wsse:Security>
      <Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="x">signed</Assertion>
    </wsse:Security>
    <medcom:Header xmlns:medcom="http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd">dgws</medcom:Header>
  </s:Header>
  <s:Body><query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/></s:Body>
</s:Envelope>""".encode()


def test_parse_request_envelope() -> None:
    envelope = parse_envelope(REQUEST)
    assert envelope.action == Action.ITI_18.value
    assert envelope.message_id == "urn:uuid:6f3c0b8e-4d0e-4f57-9a6f-3c1b1d5b6d11"
    assert envelope.reply_to == "http://www.w3.org/2005/08/addressing/anonymous"
    assert envelope.to == "https://hub.example/xds/registry"
    assert etree.QName(envelope.body).localname == "AdhocQueryRequest"
    assert envelope.require_action(REGISTRY_ACTIONS) is Action.ITI_18
    # the Security header is handed on untouched
    assert envelope.security is not None
    assert envelope.security[0].text == "signed" and envelope.security[0].get("ID") == "x"
    assert [etree.QName(h).localname for h in envelope.headers] == ["Header"]


def test_wrong_action_for_the_endpoint_is_a_sender_fault() -> None:
    envelope = parse_envelope(REQUEST)
    with pytest.raises(SoapEnvelopeError) as caught:
        envelope.require_action(REPOSITORY_ACTIONS)
    assert caught.value.code is FaultCode.SENDER
    assert caught.value.subcode == "wsa:ActionNotSupported"


def test_response_actions() -> None:
    assert Action.ITI_41.response.value == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    assert Action.ITI_43.response.value == "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    assert Action.ITI_57.response.value == "urn:ihe:iti:2010:UpdateDocumentSetResponse"
    assert Action.ITI_62.response.value == "urn:ihe:iti:2010:DeleteDocumentSetResponse"
    assert {a.response for a in REGISTRY_ACTIONS | REPOSITORY_ACTIONS} == {
        Action.ITI_41_RESPONSE,
        Action.ITI_42_RESPONSE,
        Action.ITI_43_RESPONSE,
        Action.ITI_18_RESPONSE,
        Action.ITI_57_RESPONSE,
        Action.ITI_62_RESPONSE,
    }


@pytest.mark.parametrize(
    ("xml", "message_id", "code"),
    [
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
            "SOAP-VERSION-MISMATCH",
            FaultCode.VERSION_MISMATCH,
        ),
        (b"<Envelope/>", "SOAP-NOT-ENVELOPE", FaultCode.SENDER),
        (
            f'<s:Envelope xmlns:s="{SOAP12}"><s:Header/></s:Envelope>'.encode(),
            "SOAP-NO-BODY",
            FaultCode.SENDER,
        ),
        (
            f'<s:Envelope xmlns:s="{SOAP12}"><s:Body/></s:Envelope>'.encode(),
            "SOAP-BODY-CONTENT",
            FaultCode.SENDER,
        ),
        (
            f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><a/><b/></s:Body></s:Envelope>'.encode(),
            "SOAP-BODY-CONTENT",
            FaultCode.SENDER,
        ),
        (
            f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><a/></s:Body></s:Envelope>'.encode(),
            "SOAP-NO-ACTION",
            FaultCode.SENDER,
        ),
    ],
)
def test_malformed_envelopes(xml: bytes, message_id: str, code: FaultCode) -> None:
    with pytest.raises(SoapEnvelopeError) as caught:
        parse_envelope(xml)
    assert caught.value.issues[0].message_id == message_id
    assert caught.value.code is code


def test_hostile_envelope_is_refused_by_the_safe_parser() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&b;</s:Body></s:Envelope>'
    )
    with pytest.raises(UnsafeXmlError):
        parse_envelope(bomb)


def test_build_response_envelope_relates_to_request() -> None:
    body = etree.Element("{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryResponse")
    envelope = build_envelope(
        Action.ITI_42_RESPONSE, body, relates_to="urn:uuid:req", message_id="urn:uuid:resp"
    )
    parsed = parse_envelope(envelope_bytes(envelope))
    assert parsed.action == Action.ITI_42_RESPONSE.value
    assert parsed.relates_to == "urn:uuid:req"
    assert parsed.message_id == "urn:uuid:resp"
    action = envelope.find(f"{{{SOAP12}}}Header/{{{WSA}}}Action")
    assert action is not None and action.get(f"{{{SOAP12}}}mustUnderstand") == "1"


def test_build_envelope_generates_message_id_and_to() -> None:
    envelope = build_envelope("urn:x", etree.Element("payload"), to="https://peer")
    parsed = parse_envelope(envelope)
    assert parsed.message_id is not None and parsed.message_id.startswith("urn:uuid:")
    assert parsed.to == "https://peer"


def test_fault_envelope() -> None:
    envelope = fault_envelope(
        "missing MIME part",
        code=FaultCode.SENDER,
        subcode="wsa:InvalidAddressingHeader",
        relates_to="urn:uuid:r",
    )
    parsed = parse_envelope(envelope_bytes(envelope))
    assert parsed.action == WSA_FAULT_ACTION
    assert parsed.relates_to == "urn:uuid:r"
    ns = {"s": SOAP12}
    assert parsed.body.xpath("string(s:Code/s:Value)", namespaces=ns) == "s:Sender"
    assert (
        parsed.body.xpath("string(s:Code/s:Subcode/s:Value)", namespaces=ns) == "wsa:InvalidAddressingHeader"
    )
    assert parsed.body.xpath("string(s:Reason/s:Text)", namespaces=ns) == "missing MIME part"
    assert parsed.body.xpath("string(s:Reason/s:Text/@xml:lang)", namespaces=ns) == "en"


def test_receiver_fault_without_subcode() -> None:
    envelope = fault_envelope("database down", code=FaultCode.RECEIVER)
    fault = parse_envelope(envelope).body
    assert fault.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode") is None
    assert fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "s:Receiver"
