"""security.saml.verifier: ID-card verification and every hostile assertion of issue 6 (real signatures)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.verifier import XMLVerifier

from hub.core.errors import AuthenticationError, UnsafeXmlError
from hub.core.xml_safety import parse_xml
from security import DevCredentialRequest, DevIssuer, IdCardVerifier, InMemoryReplayCache, PurposeOfUse, Role
from tests.unit.security.conftest import CardSigner

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS = {"saml": SAML, "ds": DS, "wsse": WSSE, "soap": SOAP}


def envelope(*cards: bytes, body: bytes = b"<x:Query xmlns:x='urn:x'/>", header_extra: bytes = b"") -> bytes:
    inner = b"".join(cards)
    return (
        b'<soap:Envelope xmlns:soap="' + SOAP.encode() + b'" xmlns:wsse="' + WSSE.encode() + b'">'
        b"<soap:Header><wsse:Security>" + inner + header_extra + b"</wsse:Security></soap:Header>"
        b"<soap:Body>" + body + b"</soap:Body></soap:Envelope>"
    )


def make_verifier(*certificates: object, audience: str | None = None) -> IdCardVerifier:
    return IdCardVerifier(
        list(certificates),  # type: ignore[arg-type]
        replay_cache=InMemoryReplayCache(),
        clock_skew=timedelta(seconds=60),
        audience=audience,
    )


@pytest.fixture
def trusted(issuer: DevIssuer) -> IdCardVerifier:
    return make_verifier(issuer.certificate)


def card(issuer: DevIssuer, **fields: object) -> bytes:
    request = DevCredentialRequest(**{"role": Role.PHYSICIAN, **fields})  # type: ignore[arg-type]
    return issuer.issue_id_card(request)


def refused(v: IdCardVerifier, message: bytes | etree._Element, fragment: str, level: int = 3) -> None:
    with pytest.raises(AuthenticationError) as info:
        v.verify(message, min_auth_level=level)
    assert fragment in info.value.message, info.value.message


# ------------------------------------------------------------------------------------------------ happy path


def test_valid_card_in_an_envelope(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    p = trusted.verify(envelope(card(issuer, purpose=PurposeOfUse.TREATMENT)), min_auth_level=4)
    assert p.roles == frozenset({Role.PHYSICIAN})
    assert (p.authorisation_id, p.organisation_sor, p.purpose_of_use) == (
        "ZXCVB",
        "123456789012345",
        PurposeOfUse.TREATMENT,
    )
    assert p.authentication_level == 4 and p.issuer == "telehub-dev-sts" and p.token_id


def test_bare_assertion_and_parsed_security_element(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    assert trusted.verify(card(issuer), min_auth_level=3).roles == frozenset({Role.PHYSICIAN})
    security = parse_xml(envelope(card(issuer))).find("soap:Header/wsse:Security", NS)
    assert security is not None
    assert trusted.verify(security, min_auth_level=3).organisation_sor == "123456789012345"


def test_system_and_citizen_cards(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    system = trusted.verify(card(issuer, role=Role.SYSTEM, authentication_level=3), min_auth_level=3)
    assert system.roles == frozenset({Role.SYSTEM}) and system.it_system == "telehub-dev"
    citizen = trusted.verify(card(issuer, role=Role.CITIZEN, cpr="0202021234"), min_auth_level=3)
    assert citizen.roles == frozenset({Role.CITIZEN}) and citizen.cpr == "0202021234"


def test_emergency_override_attributes(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    p = trusted.verify(
        card(issuer, purpose=PurposeOfUse.EMERGENCY, reason="Akut, bevidstløs"), min_auth_level=3
    )
    assert p.emergency_override and p.override_reason == "Akut, bevidstløs"


def test_key_info_may_be_absent_the_pinned_certificate_is_used(
    trusted: IdCardVerifier, issuer: DevIssuer
) -> None:
    root = etree.fromstring(card(issuer))
    key_info = root.find("ds:Signature/ds:KeyInfo", NS)
    assert key_info is not None
    key_info.getparent().remove(key_info)  # type: ignore[union-attr]
    assert trusted.verify(etree.tostring(root), min_auth_level=3).roles == frozenset({Role.PHYSICIAN})


# ------------------------------------------------------------------------------------ hostile: trust & crypto


def test_no_trusted_issuer_configured(issuer: DevIssuer) -> None:
    refused(make_verifier(), card(issuer), "no trusted issuer certificate")


def test_unsigned_assertion(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    root = etree.fromstring(card(issuer))
    signature = root.find("ds:Signature", NS)
    root.remove(signature)  # type: ignore[arg-type]
    refused(trusted, etree.tostring(root), "not signed")


def test_untrusted_signer(trusted: IdCardVerifier, rogue_issuer: DevIssuer) -> None:
    refused(trusted, card(rogue_issuer), "untrusted certificate")


def test_embedded_certificate_with_an_unreadable_subject(
    trusted: IdCardVerifier, rogue_issuer: DevIssuer
) -> None:
    """cryptography parses the subject lazily: invalid UTF-8 in it surfaced as a 500 (found by fuzzing)."""
    der = rogue_issuer.certificate.public_bytes(Encoding.DER)
    name = rogue_issuer.certificate.subject.rfc4514_string().removeprefix("CN=").encode()
    at = der.find(name, der.find(name) + 1)  # the second Name is the subject (the first is the issuer)
    broken = der[:at] + b"\xff" + der[at + 1 :]
    certificate = x509.load_der_x509_certificate(broken)  # loads: the subject is only parsed when read
    with pytest.raises(ValueError):
        certificate.subject.rfc4514_string()
    genuine = card(rogue_issuer)
    embedded = parse_xml(genuine).findtext(".//ds:X509Certificate", namespaces=NS)
    assert embedded
    hostile = genuine.replace(embedded.encode(), base64.b64encode(broken))
    refused(trusted, hostile, "untrusted certificate (subject unreadable)")


def test_rogue_signature_with_the_trusted_certificate_in_key_info(
    trusted: IdCardVerifier, issuer: DevIssuer, rogue_issuer: DevIssuer
) -> None:
    """Copying the trusted certificate into KeyInfo does not help: the signature must verify with it."""
    forged = etree.fromstring(card(rogue_issuer))
    genuine = etree.fromstring(card(issuer))
    forged_cert = forged.find("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    genuine_cert = genuine.find("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    assert forged_cert is not None and genuine_cert is not None
    forged_cert.text = genuine_cert.text
    refused(trusted, etree.tostring(forged), "signature is invalid")


def test_modified_content_breaks_the_digest(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    tampered = card(issuer).replace(b"<saml:AttributeValue>physician<", b"<saml:AttributeValue>admin<")
    refused(trusted, tampered, "signature is invalid")


def test_modified_signature_value(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    root = etree.fromstring(card(issuer))
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    assert value is not None and value.text
    value.text = ("A" if value.text[0] != "A" else "B") + value.text[1:]
    refused(trusted, etree.tostring(root), "signature is invalid")


# ------------------------------------------------------------------------------- hostile: signature wrapping


def test_moved_signature(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    root = parse_xml(envelope(card(issuer)))
    assertion = root.find(".//saml:Assertion", NS)
    security = root.find(".//wsse:Security", NS)
    assert assertion is not None and security is not None
    signature = assertion.find("ds:Signature", NS)
    assert signature is not None
    security.append(signature)  # detached from the assertion, still referencing #IDCard
    refused(trusted, etree.tostring(root), "moved signature")


def test_duplicated_assertion(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    genuine = card(issuer)
    refused(trusted, envelope(genuine, genuine), "2 SAML assertions")


def test_evil_assertion_wrapping_the_genuine_one(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    """XSW: an unsigned admin assertion first, the genuine signed one hidden inside it."""
    genuine = etree.fromstring(card(issuer))
    evil = deepcopy(genuine)
    evil.remove(evil.find("ds:Signature", NS))  # type: ignore[arg-type]
    for value in evil.iterfind(".//saml:AttributeValue", NS):
        if value.text == "physician":
            value.text = "admin"
    advice = etree.SubElement(evil, f"{{{SAML}}}Advice")
    advice.append(genuine)
    refused(trusted, envelope(etree.tostring(evil)), "2 SAML assertions")


def test_evil_assertion_carrying_the_genuine_signature(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    """XSW: the genuine signature moved onto modified content (and the original removed)."""
    genuine = etree.fromstring(card(issuer))
    for value in genuine.iterfind(".//saml:AttributeValue", NS):
        if value.text == "ZXCVB":
            value.text = "BCDFG"
    refused(trusted, envelope(etree.tostring(genuine)), "signature is invalid")


def test_duplicate_id_elsewhere_in_the_message(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    decoy = b'<wsu:Timestamp xmlns:wsu="urn:wsu" wsu:Id="IDCard"/>'
    refused(trusted, envelope(card(issuer), header_extra=decoy), "occurs more than once")


def test_assertion_outside_the_security_header(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    refused(trusted, envelope(body=card(issuer)), "wsse:Security")


def test_comment_injection_in_name_id(card_signer: CardSigner, make_card: Callable[..., str]) -> None:
    signed = card_signer.sign(make_card(name_id="0101011234"))
    injected = signed.replace(b">0101011234<", b">0101<!-- x -->011234<")
    assert injected != signed
    # The attack is real: exclusive C14N drops comments, so the signature still verifies...
    XMLVerifier().verify(injected, x509_cert=card_signer.certificate)
    # ...but a comment inside an ID card is refused outright.
    refused(make_verifier(card_signer.certificate), injected, "comment injection")


def test_replayed_assertion_id(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    genuine = envelope(card(issuer))
    trusted.verify(genuine, min_auth_level=3)
    refused(trusted, genuine, "already used")


def test_signature_must_reference_the_assertion(
    card_signer: CardSigner, make_card: Callable[..., str]
) -> None:
    xml = make_card().replace("<saml:Issuer>", '<saml:Issuer id="Other">', 1)
    signed = card_signer.sign(xml, reference="#Other")
    refused(make_verifier(card_signer.certificate), signed, "must reference exactly '#IDCard'")


def test_two_different_ids(card_signer: CardSigner, make_card: Callable[..., str]) -> None:
    xml = make_card().replace('id="IDCard"', 'id="IDCard" ID="Other"', 1)
    refused(make_verifier(card_signer.certificate), card_signer.sign(xml), "two different ids")


def test_encrypted_assertion_is_refused(trusted: IdCardVerifier) -> None:
    encrypted = f'<saml:EncryptedAssertion xmlns:saml="{SAML}"/>'.encode()
    refused(trusted, envelope(encrypted), "encrypted assertions are not supported")


def test_no_assertion(trusted: IdCardVerifier) -> None:
    refused(trusted, envelope(), "no SAML assertion")


def test_doctype_is_refused_before_anything_else(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    with pytest.raises(UnsafeXmlError):
        trusted.verify(b'<!DOCTYPE x [<!ENTITY e "boom">]>' + card(issuer), min_auth_level=3)


# ------------------------------------------------------------------------------- hostile: conditions & policy


def test_expired_card(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    past = datetime.now(UTC) - timedelta(hours=3)
    refused(trusted, card(issuer, issued_at=past, lifetime=timedelta(hours=1)), "expired")


def test_not_yet_valid_card(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    future = datetime.now(UTC) + timedelta(hours=1)
    refused(trusted, card(issuer, issued_at=future), "not yet valid")


def test_clock_skew_tolerates_small_drift(issuer: DevIssuer) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=20)
    assert make_verifier(issuer.certificate).verify(card(issuer, issued_at=soon), min_auth_level=3).subject


def test_wrong_audience(issuer: DevIssuer) -> None:
    v = make_verifier(issuer.certificate, audience="urn:telehub")
    refused(v, card(issuer, audience="urn:another-service"), "audience")
    refused(v, card(issuer), "audience")  # no AudienceRestriction at all
    assert v.verify(card(issuer, audience="urn:telehub"), min_auth_level=3).subject


def test_authentication_level_below_the_door_minimum(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    refused(trusted, card(issuer, authentication_level=3), "below the minimum 4", level=4)


def test_card_without_conditions(card_signer: CardSigner, make_card: Callable[..., str]) -> None:
    refused(
        make_verifier(card_signer.certificate), card_signer.sign(make_card(conditions=False)), "Conditions"
    )


def test_dgws_card_without_card_id_cannot_be_replay_protected(
    card_signer: CardSigner, make_card: Callable[..., str]
) -> None:
    refused(make_verifier(card_signer.certificate), card_signer.sign(make_card(unique_id=None)), "IDCardID")


def test_card_attributes_that_break_the_principal_rules(
    card_signer: CardSigner, make_card: Callable[..., str]
) -> None:
    bad = make_card(
        extra='<saml:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse">'
        "<saml:AttributeValue>research</saml:AttributeValue></saml:Attribute>"
    )
    refused(make_verifier(card_signer.certificate), card_signer.sign(bad), "purpose of use")


def test_plain_saml_assertion_with_capital_id(card_signer: CardSigner, make_card: Callable[..., str]) -> None:
    xml = make_card(card_id="_a1b2", id_attr="ID")
    p = make_verifier(card_signer.certificate).verify(
        card_signer.sign(xml, reference="#_a1b2", id_attribute="ID"), min_auth_level=3
    )
    assert p.roles == frozenset({Role.PHYSICIAN}) and p.token_id == "card-1"


def test_replay_is_keyed_on_the_card_id_not_the_constant_xml_id(
    card_signer: CardSigner, make_card: Callable[..., str]
) -> None:
    """Every DGWS card has id="IDCard"; two different cards must both pass, the same card only once."""
    v = make_verifier(card_signer.certificate)
    v.verify(card_signer.sign(make_card(unique_id="card-A")), min_auth_level=3)
    v.verify(card_signer.sign(make_card(unique_id="card-B")), min_auth_level=3)
    refused(v, card_signer.sign(make_card(unique_id="card-A")), "already used")


def test_assertion_nested_inside_a_bare_assertion(trusted: IdCardVerifier, issuer: DevIssuer) -> None:
    """XSW without an envelope: the document IS an (evil) assertion hiding the genuine one in Advice."""
    genuine = etree.fromstring(card(issuer))
    evil = deepcopy(genuine)
    evil.remove(evil.find("ds:Signature", NS))  # type: ignore[arg-type]
    etree.SubElement(evil, f"{{{SAML}}}Advice").append(genuine)
    refused(trusted, etree.tostring(evil), "2 SAML assertions")
