"""DGWS/SOSI ID cards (SAML 2.0 assertions): reading, verification against pinned issuers, replay defence.

DANISH-STANDARDS.md §3.1 (DGWS 1.0.1), SAML 2.0 Core, XML Signature 1.1.
"""

from security.saml.idcard import (
    IdCard,
    IdCardType,
    SamlAttribute,
    principal_from_id_card,
    read_id_card,
    read_id_card_untrusted,
)
from security.saml.replay import InMemoryReplayCache, ReplayCache, ReplayClaim
from security.saml.verifier import IdCardVerifier, load_trusted_certificates

__all__ = [
    "IdCard",
    "IdCardType",
    "IdCardVerifier",
    "InMemoryReplayCache",
    "ReplayCache",
    "ReplayClaim",
    "SamlAttribute",
    "load_trusted_certificates",
    "principal_from_id_card",
    "read_id_card",
    "read_id_card_untrusted",
]
