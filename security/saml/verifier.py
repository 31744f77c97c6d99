"""Verifying a DGWS/SOSI ID card against pinned issuer certificates, with signature-wrapping defences.

XML Signature (https://www.w3.org/TR/xmldsig-core1/) is checked by signxml's ``XMLVerifier``
with an explicit ``SignatureConfiguration``: the ``ds:Signature`` must be a direct child of the
assertion (enveloped, DGWS 1.0.1 ``OCESSignature``), exactly one Reference, RSA/ECDSA with
SHA-2 (SHA-1 only when ``allow_sha1`` is configured for legacy STSs), and the key is a pinned
certificate — never one taken from the message.

Signature wrapping (XSW; Somorovsky et al., "On Breaking SAML", USENIX Security 2012) is
refused before and after the cryptography:

* exactly one ``saml:Assertion`` in the whole message (a duplicated assertion is refused);
* it sits in ``wsse:Security`` (or is the document itself), and its id is unique in the message;
* no comments or processing instructions inside it (comment injection into NameID);
* its own enveloped signature references exactly ``#<its id>`` (a moved signature is refused);
* only signxml's ``signed_xml`` is read afterwards, and it must be that same assertion.

Then SAML 2.0 Core §2.5.1 Conditions (NotBefore / NotOnOrAfter, with clock skew, and the
audience when one is configured), the per-door minimum ``sosi:AuthenticationLevel``, the
mapping to a Principal (a trusted system card acting for the user of its HSUID header:
:mod:`security.saml.hsuid`), and finally the replay cache, by scope (``ReplayScope``): ``card``
remembers the card (its ``sosi:IDCardID``, or the assertion ID for plain SAML) until NotOnOrAfter, so
each card is accepted once; ``message`` remembers card + ``wsa:MessageID`` (else DGWS
``medcom:MessageID``), so a card serves many messages, as DGWS clients use it, and each message is
accepted once.  In ``message`` scope a card whose exact bytes were verified before is not verified
again (:mod:`security.saml.card_cache`); every other check still runs.  Every refusal is an
:class:`~hub.core.errors.AuthenticationError` whose message says which check failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from hub.core.errors import AuthenticationError, ConfigurationError
from hub.core.settings import ReplayScope
from hub.core.xml_safety import parse_xml
from security.principal import Principal
from security.saml.card_cache import VerifiedCardCache, card_key
from security.saml.hsuid import apply_hsuid, find_hsuid
from security.saml.idcard import (
    ASSERTION_TAG,
    ATTR_CARE_PROVIDER_ID,
    DS_NS,
    SAML_NS,
    IdCard,
    IdCardType,
    principal_from_id_card,
    read_id_card,
)
from security.saml.replay import ReplayCache, ReplayClaim

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_SIGNATURE_TAG = f"{{{DS_NS}}}Signature"
_ENCRYPTED_TAG = f"{{{SAML_NS}}}EncryptedAssertion"
_SECURITY_TAG = f"{{{WSSE_NS}}}Security"
_NS = {"ds": DS_NS}
_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
_ATTRIBUTES_EQUAL = etree.XPath("//@*[. = $v]")  # then the names are checked in Python: 3x cheaper
_ID_NAMES = frozenset({"id", "ID", "Id"})
_local = threading.local()
_EMBEDDED_CERTIFICATE = f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
_EMBEDDED_CACHE = 64  # distinct trusted signing certificates remembered by their base64 text
_SOAP_HEADERS = (
    "{http://www.w3.org/2003/05/soap-envelope}Header",
    "{http://schemas.xmlsoap.org/soap/envelope/}Header",
)
_WSA_MESSAGE_ID = "{http://www.w3.org/2005/08/addressing}MessageID"
_DGWS_MESSAGE_ID = (
    "{http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd}Header/"
    "{http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd}Linking/"
    "{http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd}MessageID"
)
_MAX_MESSAGE_ID = 512


def _id_count(root: etree._Element, value: str) -> int:
    """How many elements carry an id/ID/Id attribute (any namespace) equal to ``value``."""
    result = _ATTRIBUTES_EQUAL(root, v=value)
    owners = {
        a.getparent()
        for a in (result if isinstance(result, list) else ())
        if isinstance(a, etree._ElementUnicodeResult) and str(a.attrname).rpartition("}")[2] in _ID_NAMES
    }
    return len(owners)


def load_trusted_certificates(paths: Iterable[Path]) -> tuple[x509.Certificate, ...]:
    """PEM files of trusted ID-card issuers (STS); one file may hold several certificates."""
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load trusted SAML issuer certificate {path}: {exc}") from exc
    return tuple(certificates)


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()


def _signxml_parser() -> etree.XMLParser:
    """signxml re-parses what it verifies; give it the same hardening as hub.core.xml_safety (per thread)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        _local.parser = parser
    return parser


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IdCardVerifier:
    """Verifies ID cards against pinned certificates; one instance serves all threads."""

    def __init__(
        self,
        trusted: Sequence[x509.Certificate],
        *,
        replay_cache: ReplayCache,
        clock_skew: timedelta,
        audience: str | None = None,
        allow_sha1: bool = False,
        replay_scope: ReplayScope = ReplayScope.CARD,
        verified_card_cache_size: int = 10_000,
        hsuid_trusted_providers: Iterable[str] = (),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._trusted = {_fingerprint(c): c for c in trusted}
        self._embedded: dict[str, x509.Certificate] = {}  # X509Certificate text -> the pinned certificate
        self._replay = replay_cache
        self._scope = replay_scope
        # in "card" scope every card is new, so remembering verified cards would only cost memory
        self._verified = (
            VerifiedCardCache(verified_card_cache_size, clock=clock)
            if replay_scope is ReplayScope.MESSAGE and verified_card_cache_size > 0
            else None
        )
        self._skew = clock_skew
        self._hsuid_trusted = frozenset(hsuid_trusted_providers)
        self._audience = audience
        self._clock = clock
        methods, digests = _SIGNATURE_METHODS, _DIGESTS
        if allow_sha1:
            methods = methods | {SignatureMethod.RSA_SHA1}
            digests = digests | {DigestAlgorithm.SHA1}
        # location "./": the ds:Signature must be a direct child of the element handed to signxml.
        self._config = SignatureConfiguration(
            require_x509=True,
            location="./",
            expect_references=1,
            signature_methods=methods,
            digest_algorithms=digests,
        )

    @property
    def trusted_count(self) -> int:
        return len(self._trusted)

    def verify(self, message: bytes | etree._Element, *, min_auth_level: int) -> Principal:
        """The Principal of the one trusted, valid, unreplayed ID card in ``message``.

        ``message`` is a SOAP envelope, a ``wsse:Security`` header or a bare assertion, as bytes
        or as an element of an already parsed document (the whole document is inspected).
        """
        return self.verify_claim(message, min_auth_level=min_auth_level)[0]

    def verify_claim(
        self, message: bytes | etree._Element, *, min_auth_level: int
    ) -> tuple[Principal, ReplayClaim]:
        """As :meth:`verify`, with the replay key that the caller must also claim in the shared store."""
        if not self._trusted:
            raise AuthenticationError("ID cards are not accepted: no trusted issuer certificate configured")
        root = parse_xml(message) if isinstance(message, bytes) else message.getroottree().getroot()
        message_id = _message_id(root) if self._scope is ReplayScope.MESSAGE else None
        assertion = self._the_assertion(root)
        card = self._verified_card(assertion, root)
        self._check_conditions(card)
        principal = self._acting_user(principal_from_id_card(card), card, root)
        level = principal.authentication_level
        if level is None or level < min_auth_level:
            raise AuthenticationError(
                f"ID card authentication level {level} is below the minimum {min_auth_level} for this service"
            )
        replay_key = f"{card.issuer}|{principal.token_id or card.assertion_id}"
        if card.card_type is not None and principal.token_id == card.assertion_id:
            raise AuthenticationError("DGWS ID card lacks sosi:IDCardID: it cannot be guarded against replay")
        if message_id is not None:
            replay_key = f"{replay_key}|{message_id}"
        expires = card.not_on_or_after
        assert expires is not None  # _check_conditions requires it
        claim = ReplayClaim(replay_key, expires + self._skew)
        self._replay.check_and_store(claim.key, claim.expires_at)
        return principal, claim

    def _acting_user(self, principal: Principal, card: IdCard, root: etree._Element) -> Principal:
        """A trusted system card's principal acting for the user of its HSUID header (security.saml.hsuid)."""
        if (
            card.card_type is not IdCardType.SYSTEM
            or card.value(ATTR_CARE_PROVIDER_ID) not in self._hsuid_trusted
        ):
            return principal
        hsuid = find_hsuid(root)
        return principal if hsuid is None else apply_hsuid(principal, hsuid)

    # ------------------------------------------------------------------ structure (before cryptography)

    def _the_assertion(self, root: etree._Element) -> etree._Element:
        if any(True for _ in root.iter(_ENCRYPTED_TAG)):
            raise AuthenticationError("encrypted assertions are not supported: send the ID card unencrypted")
        found = list(root.iter(ASSERTION_TAG))  # includes root itself, and assertions nested in it
        if not found:
            raise AuthenticationError("no SAML assertion (ID card) in the message")
        if len(found) > 1:
            raise AuthenticationError(
                f"{len(found)} SAML assertions in the message: refused (duplicated assertion / wrapping)"
            )
        assertion = found[0]
        parent = assertion.getparent()
        if parent is not None and parent.tag != _SECURITY_TAG:
            raise AuthenticationError("the ID card must be a direct child of the wsse:Security header")
        if any(True for _ in assertion.iter(etree.Comment, etree.ProcessingInstruction)):
            raise AuthenticationError(
                "comment or processing instruction inside the ID card: refused (comment injection)"
            )
        return assertion

    def _verified_card(self, assertion: etree._Element, root: etree._Element) -> IdCard:
        """The card read from the signature-verified assertion (verified now, or before: same bytes)."""
        signature, id_attribute, card_id = self._bound_signature(assertion, root)
        # Verify the assertion on its own: signxml then cannot resolve the reference outside it.
        data = etree.tostring(assertion)
        if self._verified is None:
            return self._signed_card(data, signature, id_attribute, card_id)
        key = card_key(data)
        card = self._verified.get(key)
        if card is None:
            card = self._signed_card(data, signature, id_attribute, card_id)
            self._verified.put(key, card)
        return card

    def _signed_card(self, data: bytes, signature: etree._Element, id_attribute: str, card_id: str) -> IdCard:
        signed = self._cryptographic_check(data, signature, id_attribute)
        if signed is None or signed.tag != ASSERTION_TAG or (signed.get("id") or signed.get("ID")) != card_id:
            raise AuthenticationError("the signed element is not the ID card used: refused (wrapping)")
        return read_id_card(signed)

    def _bound_signature(
        self, assertion: etree._Element, root: etree._Element
    ) -> tuple[etree._Element, str, str]:
        """The assertion's own signature, its id attribute's name and the id: wrapping checks first."""
        lower, upper = assertion.get("id"), assertion.get("ID")
        if lower and upper and lower != upper:
            raise AuthenticationError("ID card carries two different ids (id and ID)")
        card_id = lower or upper
        if not card_id:
            raise AuthenticationError("ID card has no id attribute: its signature cannot be bound to it")
        if _id_count(root, card_id) != 1:
            raise AuthenticationError(
                f"id {card_id!r} occurs more than once in the message: refused (signature wrapping)"
            )
        return self._the_signature(assertion, root, card_id), "id" if lower else "ID", card_id

    def _the_signature(self, assertion: etree._Element, root: etree._Element, card_id: str) -> etree._Element:
        own = assertion.findall("ds:Signature", _NS)
        if not own:
            elsewhere = [
                s
                for s in root.iter(_SIGNATURE_TAG)
                if any(r.get("URI") == f"#{card_id}" for r in s.iterfind("ds:SignedInfo/ds:Reference", _NS))
            ]
            if elsewhere:
                raise AuthenticationError(
                    "the ID card's signature is not inside the assertion: refused (moved signature)"
                )
            raise AuthenticationError("the ID card is not signed")
        if len(own) > 1:
            raise AuthenticationError("the ID card carries more than one signature")
        references = [r.get("URI") for r in own[0].iterfind("ds:SignedInfo/ds:Reference", _NS)]
        if references != [f"#{card_id}"]:
            raise AuthenticationError(
                f"the ID card's signature must reference exactly '#{card_id}', found {references}"
            )
        return own[0]

    def _candidates(self, signature: etree._Element) -> list[x509.Certificate]:
        embedded = signature.findtext(_EMBEDDED_CERTIFICATE)
        if not embedded:
            return list(self._trusted.values())
        known = self._embedded.get(embedded)  # an STS signs with one certificate: decode it once
        if known is not None:
            return [known]
        try:
            certificate = x509.load_der_x509_certificate(_b64(embedded))
        except ValueError as exc:
            raise AuthenticationError("the ID card's X509Certificate is malformed") from exc
        pinned = self._trusted.get(_fingerprint(certificate))
        if pinned is None:
            raise AuthenticationError(
                f"the ID card is signed by an untrusted certificate ({_subject(certificate)})"
            )
        if len(self._embedded) < _EMBEDDED_CACHE:
            self._embedded[embedded] = pinned
        return [pinned]

    def _cryptographic_check(
        self, data: bytes, signature: etree._Element, id_attribute: str
    ) -> etree._Element | None:
        candidates = self._candidates(signature)
        failure: Exception | None = None
        for certificate in candidates:
            try:
                result = XMLVerifier().verify(
                    data,
                    x509_cert=certificate,
                    parser=_signxml_parser(),
                    id_attribute=id_attribute,
                    expect_config=self._config,
                )
            except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
                failure = exc
                continue
            assert not isinstance(result, list)  # expect_references=1
            return result.signed_xml
        raise AuthenticationError(f"the ID card's signature is invalid: {failure}") from failure

    # ------------------------------------------------------------------ conditions

    def _check_conditions(self, card: IdCard) -> None:
        if card.not_before is None or card.not_on_or_after is None:
            raise AuthenticationError("ID card lacks Conditions NotBefore/NotOnOrAfter")
        now = self._clock()
        if now + self._skew < card.not_before:
            raise AuthenticationError(f"ID card is not yet valid (NotBefore {card.not_before.isoformat()})")
        if now - self._skew >= card.not_on_or_after:
            expired = card.not_on_or_after.isoformat()
            raise AuthenticationError(f"ID card has expired (NotOnOrAfter {expired})")
        if self._audience is not None and self._audience not in card.audiences:
            raise AuthenticationError(f"ID card is not meant for audience {self._audience!r}")


def _subject(certificate: x509.Certificate) -> str:
    """The subject for an error message; cryptography parses it lazily, so a malformed one raises here."""
    try:
        return certificate.subject.rfc4514_string()
    except ValueError:
        return "subject unreadable"


def _message_id(root: etree._Element) -> str:
    """The message's ``wsa:MessageID`` (else DGWS ``medcom:MessageID``): the replay key of "message" scope."""
    for tag in _SOAP_HEADERS:
        header = root.find(tag)
        if header is None:
            continue
        found = header.findtext(_WSA_MESSAGE_ID) or header.findtext(_DGWS_MESSAGE_ID)
        value = (found or "").strip()
        if not value:
            break
        if len(value) > _MAX_MESSAGE_ID or not value.isprintable():
            raise AuthenticationError(
                f"the message id must be printable and at most {_MAX_MESSAGE_ID} characters"
            )
        return value
    raise AuthenticationError(
        "message-scoped replay defence needs a SOAP header with wsa:MessageID (or medcom:MessageID)"
    )


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthenticationError("the ID card's X509Certificate is not base64") from exc
