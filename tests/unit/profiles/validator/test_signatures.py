"""Bundle.signature as a JWS: verification with the x5c certificate, and the signed payload vs the Bundle."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors

DOCUMENT = "application/fhir+json;canonicalization=http://hl7.org/fhir/canonicalization/json#document"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _certificate(key: PrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "telehub test signer")])
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _sign(key: PrivateKey, algorithm: str, signing_input: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _signed_bundle(key: PrivateKey, algorithm: str, *, detached: bool = False) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": "signed",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:7f0c5a0e-3b1f-4c7e-9a43-2f1c8a7d9b10",
                "resource": {"resourceType": "Basic", "code": {"text": "x"}},
            }
        ],
    }
    content = {k: v for k, v in bundle.items() if k not in ("id", "meta")}
    header = _b64url(orjson.dumps({"alg": algorithm, "x5c": [_certificate(key)]}))
    payload = "" if detached else _b64url(orjson.dumps(content))
    signature = _b64url(_sign(key, algorithm, f"{header}.{payload}".encode()))
    bundle["signature"] = {
        "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.5"}],
        "when": "2024-05-01T08:30:00Z",
        "who": {"display": "telehub test signer"},
        "targetFormat": DOCUMENT,
        "sigFormat": "application/jose",
        "data": base64.b64encode(f"{header}.{payload}.{signature}".encode()).decode(),
    }
    return bundle


def _signature_issues(validator: ProfileValidator, bundle: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (i.severity.value, i.diagnostics)
        for i in validator.validate(bundle)
        if i.message_id == "VAL_SIGNATURE"
    ]


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        (ec.generate_private_key(ec.SECP256R1()), "ES256"),
    ],
)
def test_signature_verifies_and_covers_the_bundle(
    core_validator: ProfileValidator, key: PrivateKey, algorithm: str
) -> None:
    bundle = _signed_bundle(key, algorithm)
    assert errors(core_validator.validate(bundle)) == []
    assert ("information", "The signature verified OK") in _signature_issues(core_validator, bundle)
    tampered = dict(
        bundle,
        entry=[
            {
                "fullUrl": "urn:uuid:7f0c5a0e-3b1f-4c7e-9a43-2f1c8a7d9b10",
                "resource": {"resourceType": "Basic", "code": {"text": "y"}},
            }
        ],
    )
    assert any(
        "not the content of the Bundle" in text for _, text in _signature_issues(core_validator, tampered)
    )


def test_a_forged_signature_is_an_error(core_validator: ProfileValidator) -> None:
    bundle = _signed_bundle(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")
    header, payload, _ = base64.b64decode(bundle["signature"]["data"]).decode().split(".")
    forged = _b64url(b"\x00" * 256)
    bundle["signature"]["data"] = base64.b64encode(f"{header}.{payload}.{forged}".encode()).decode()
    assert ("error", "The signature did not verify against the provided certificate") in _signature_issues(
        core_validator, bundle
    )


def test_detached_and_unreadable_signatures(core_validator: ProfileValidator) -> None:
    detached = _signed_bundle(ec.generate_private_key(ec.SECP256R1()), "ES256", detached=True)
    issues = _signature_issues(core_validator, detached)
    assert errors(core_validator.validate(detached)) == []
    assert issues and issues[0][0] == "information" and "not verified" in issues[0][1]
    broken = _signed_bundle(ec.generate_private_key(ec.SECP256R1()), "ES256")
    broken["signature"]["data"] = base64.b64encode(b"no-dots-here").decode()
    assert [s for s, _ in _signature_issues(core_validator, broken)] == ["warning"]
    garbage = _signed_bundle(ec.generate_private_key(ec.SECP256R1()), "ES256")
    garbage["signature"]["data"] = base64.b64encode(b"!!.??.##").decode()
    assert [s for s, _ in _signature_issues(core_validator, garbage)] == ["error"]
