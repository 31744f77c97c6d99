"""Replay scope "message" (DGWS: one ID card, many messages) and the verified-card cache (real signatures)."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from hub.core.errors import AuthenticationError
from hub.core.settings import ReplayScope
from security import DevCredentialRequest, DevIssuer, IdCardVerifier, InMemoryReplayCache, Role
from security.saml.card_cache import VerifiedCardCache, card_key
from security.saml.idcard import read_id_card_untrusted
from tests.unit.security.saml.test_verifier import NS, SAML, envelope

WSA = "http://www.w3.org/2005/08/addressing"
MEDCOM = "http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingVerifier(IdCardVerifier):
    """The real verifier; counts the XML-Signature checks it actually runs."""

    checks = 0

    def _cryptographic_check(
        self, data: bytes, signature: etree._Element, id_attribute: str
    ) -> etree._Element | None:
        self.checks += 1
        return super()._cryptographic_check(data, signature, id_attribute)


def verifier(
    issuer: DevIssuer,
    *,
    scope: ReplayScope = ReplayScope.MESSAGE,
    cache: int = 100,
    clock: Clock | None = None,
) -> CountingVerifier:
    return CountingVerifier(
        [issuer.certificate],
        replay_cache=InMemoryReplayCache(clock=clock) if clock else InMemoryReplayCache(),
        clock_skew=timedelta(seconds=60),
        replay_scope=scope,
        verified_card_cache_size=cache,
        **({"clock": clock} if clock else {}),  # type: ignore[arg-type]
    )


def card(issuer: DevIssuer) -> bytes:
    return issuer.issue_id_card(DevCredentialRequest(role=Role.PHYSICIAN))


def message(id_card: bytes, message_id: str | None, *, medcom: bool = False) -> bytes:
    """A SOAP 1.2 envelope with the card, and the message id as wsa:MessageID (or DGWS medcom:MessageID)."""
    root = etree.fromstring(envelope(id_card))
    header = root.find("soap:Header", NS)
    assert header is not None
    if message_id is not None:
        if medcom:
            linking = etree.SubElement(
                etree.SubElement(header, f"{{{MEDCOM}}}Header"), f"{{{MEDCOM}}}Linking"
            )
            etree.SubElement(linking, f"{{{MEDCOM}}}MessageID").text = message_id
        else:
            etree.SubElement(header, f"{{{WSA}}}MessageID").text = message_id
    return etree.tostring(root)


def refused(v: IdCardVerifier, data: bytes, fragment: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        v.verify(data, min_auth_level=3)
    assert fragment in info.value.message, info.value.message


def test_one_card_serves_many_messages_each_accepted_once(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer), card(issuer)
    first = v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    second = v.verify(message(genuine, "urn:uuid:2"), min_auth_level=3)
    assert first == second and first.roles == frozenset({Role.PHYSICIAN})
    refused(v, message(genuine, "urn:uuid:1"), "already used")  # the same message again
    assert v.checks == 1  # the card's signature was checked once, then remembered


def test_dgws_medcom_message_id_is_used_without_wsa(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer), card(issuer)
    v.verify(message(genuine, "m-1", medcom=True), min_auth_level=3)
    v.verify(message(genuine, "m-2", medcom=True), min_auth_level=3)
    refused(v, message(genuine, "m-2", medcom=True), "already used")


@pytest.mark.parametrize(
    ("message_id", "fragment"),
    [
        (None, "needs a SOAP header with wsa:MessageID"),
        ("   ", "needs a SOAP header"),
        ("x" * 513, "at most 512"),
        ("a\u0085b", "printable"),
    ],
)
def test_message_scope_needs_a_usable_message_id(
    issuer: DevIssuer, message_id: str | None, fragment: str
) -> None:
    refused(verifier(issuer), message(card(issuer), message_id), fragment)


def test_message_scope_refuses_a_bare_assertion(issuer: DevIssuer) -> None:
    refused(verifier(issuer), card(issuer), "needs a SOAP header")


def test_card_scope_refuses_the_second_message_of_a_card(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer, scope=ReplayScope.CARD), card(issuer)
    v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    refused(v, message(genuine, "urn:uuid:2"), "already used")
    assert v.checks == 2  # no cache in card scope: each card is new, so it is checked each time


def test_a_cached_card_still_expires(issuer: DevIssuer) -> None:
    clock = Clock()
    v, genuine = verifier(issuer, clock=clock), card(issuer)
    v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    expires = read_id_card_untrusted(genuine).not_on_or_after
    assert expires is not None
    clock.now = expires + timedelta(minutes=2)
    refused(v, message(genuine, "urn:uuid:2"), "expired")


def test_a_cached_card_is_still_refused_below_the_door_level(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer), card(issuer)
    v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    with pytest.raises(AuthenticationError, match="below the minimum 5"):
        v.verify(message(genuine, "urn:uuid:2"), min_auth_level=5)


def test_a_cached_card_does_not_excuse_wrapping_in_a_later_message(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer), card(issuer)
    v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    root = etree.fromstring(message(genuine, "urn:uuid:2"))
    security = root.find("soap:Header/wsse:Security", NS)
    assert security is not None
    evil = deepcopy(security[0])
    evil.remove(evil.find("ds:Signature", NS))  # type: ignore[arg-type]
    security.append(evil)  # a second, unsigned copy next to the cached genuine card
    refused(v, etree.tostring(root), "2 SAML assertions")
    assert v.checks == 1


def test_changed_bytes_miss_the_cache_and_fail_the_signature(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer), card(issuer)
    v.verify(message(genuine, "urn:uuid:1"), min_auth_level=3)
    tampered = genuine.replace(b"ZXCVB", b"ZXCVC")
    assert tampered != genuine
    refused(v, message(tampered, "urn:uuid:2"), "signature is invalid")
    assert v.checks == 2


def test_cache_size_zero_checks_every_message(issuer: DevIssuer) -> None:
    v, genuine = verifier(issuer, cache=0), card(issuer)
    for n in range(3):
        v.verify(message(genuine, f"urn:uuid:{n}"), min_auth_level=3)
    assert v.checks == 3


# -------------------------------------------------------------------------------- the cache on its own


def _card_expiring(issuer: DevIssuer) -> tuple[bytes, datetime]:
    data = card(issuer)
    read = read_id_card_untrusted(data)
    assert read.not_on_or_after is not None
    return data, read.not_on_or_after


def test_cache_is_bounded_least_recently_used_first(issuer: DevIssuer) -> None:
    cache = VerifiedCardCache(2)
    cards = [card(issuer) for _ in range(3)]
    keys = [card_key(c) for c in cards]
    for key, data in zip(keys[:2], cards[:2], strict=True):
        cache.put(key, read_id_card_untrusted(data))
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[2], read_id_card_untrusted(cards[2]))
    assert len(cache) == 2 and cache.get(keys[1]) is None and cache.get(keys[0]) is not None


def test_cache_drops_expired_cards_and_size_zero_keeps_nothing(issuer: DevIssuer) -> None:
    clock = Clock()
    data, expires = _card_expiring(issuer)
    cache = VerifiedCardCache(10, clock=clock)
    cache.put(card_key(data), read_id_card_untrusted(data))
    clock.now = expires
    assert cache.get(card_key(data)) is None and len(cache) == 0
    off = VerifiedCardCache(0)
    off.put(card_key(data), read_id_card_untrusted(data))
    assert len(off) == 0
    with pytest.raises(ValueError, match="negative"):
        VerifiedCardCache(-1)


def test_the_key_is_the_exact_bytes(issuer: DevIssuer) -> None:
    data = card(issuer)
    assert card_key(data) == card_key(bytes(data)) != card_key(data + b" ")
    assert SAML.encode() in data
