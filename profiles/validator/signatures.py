"""Digital signatures on a Bundle (``Bundle.signature``) in JWS form: verified where the data allows.

See https://hl7.org/fhir/R4/signatures.html and https://hl7.org/fhir/R4/datatypes.html#Signature:
``sigFormat = application/jose`` carries a JWS (RFC 7515, compact serialization) in
``Signature.data`` (base64).  When the JWS includes its payload and the signing certificate
(``x5c``), the signature is verified (RS*, PS*, ES* algorithms) and the payload must be the
signed resource itself: the Bundle without ``signature`` (and, for the ``#document``
canonicalization, without ``id`` and ``meta``), compared as JSON structures.  A detached
signature (no payload) needs the exact canonical serialization and a key to verify: it is
reported as not verified, never as valid.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hub.core.issues import IssueType
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

JOSE = "application/jose"
DOCUMENT_CANONICALIZATION = "http://hl7.org/fhir/canonicalization/json#document"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


def check(bundle: dict[str, Any], ctx: ValidationContext) -> None:
    signature = bundle.get("signature")
    if not isinstance(signature, dict) or signature.get("sigFormat") != JOSE:
        return
    data = signature.get("data")
    if not isinstance(data, str) or not data:
        return
    jws = _jws(data)
    if jws is None:
        ctx.warning(
            IssueType.INVALID,
            "The signature data is not a JWS in compact form",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    header_part, payload_part, signature_part = jws
    try:
        header = orjson.loads(_b64url(header_part))
        signed = _b64url(signature_part)
        payload = _b64url(payload_part) if payload_part else b""
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        ctx.error(
            IssueType.INVALID,
            f"The JWS in the signature cannot be read: {exc}",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    if not isinstance(header, dict):
        ctx.error(IssueType.INVALID, "The JWS header is not a JSON object", "Bundle", MessageId.SIGNATURE)
        return
    if not payload:
        ctx.info(
            IssueType.INFORMATIONAL,
            "The signature is detached: it was not verified (the canonical form is not recomputed here)",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    ctx.warning(
        IssueType.BUSINESS_RULE,
        "The signature has a payload, but the signature should be a detached signature with no payload",
        "Bundle",
        MessageId.SIGNATURE,
    )
    _verify(header, f"{header_part}.{payload_part}".encode(), signed, ctx)
    _compare(bundle, signature, payload, ctx)


def _jws(data: str) -> tuple[str, str, str] | None:
    text = data.strip()
    if text.count(".") != 2:
        try:
            text = base64.b64decode("".join(text.split()), validate=True).decode("ascii")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
    parts = text.strip().split(".")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify(header: dict[str, Any], signing_input: bytes, signed: bytes, ctx: ValidationContext) -> None:
    chain = header.get("x5c")
    algorithm = str(header.get("alg", ""))
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        ctx.info(
            IssueType.INFORMATIONAL,
            "The JWS header carries no certificate (x5c), so the signature was not verified",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    digest = _HASHES.get(algorithm[2:])
    if digest is None or algorithm[:2] not in ("RS", "PS", "ES"):
        ctx.warning(
            IssueType.NOT_SUPPORTED,
            f"The signature algorithm '{algorithm}' is not supported, so the signature was not verified",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    try:
        key = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True)).public_key()
    except (binascii.Error, ValueError) as exc:
        ctx.error(
            IssueType.INVALID, f"The signing certificate cannot be read: {exc}", "Bundle", MessageId.SIGNATURE
        )
        return
    try:
        if algorithm[:2] == "ES" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(signed) // 2
            der = encode_dss_signature(
                int.from_bytes(signed[:half], "big"), int.from_bytes(signed[half:], "big")
            )
            key.verify(der, signing_input, ec.ECDSA(digest()))
        elif algorithm[:2] in ("RS", "PS") and isinstance(key, rsa.RSAPublicKey):
            scheme = (
                padding.PKCS1v15()
                if algorithm[:2] == "RS"
                else padding.PSS(mgf=padding.MGF1(digest()), salt_length=padding.PSS.DIGEST_LENGTH)
            )
            key.verify(signed, signing_input, scheme, digest())
        else:
            ctx.error(
                IssueType.INVALID,
                f"The certificate's key does not suit the signature algorithm '{algorithm}'",
                "Bundle",
                MessageId.SIGNATURE,
            )
            return
    except InvalidSignature:
        ctx.error(
            IssueType.INVALID,
            "The signature did not verify against the provided certificate",
            "Bundle",
            MessageId.SIGNATURE,
        )
        return
    ctx.info(IssueType.INFORMATIONAL, "The signature verified OK", "Bundle", MessageId.SIGNATURE)


def _compare(
    bundle: dict[str, Any], signature: dict[str, Any], payload: bytes, ctx: ValidationContext
) -> None:
    """The signed payload must be the Bundle as the canonicalization defines the signed content."""
    try:
        signed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        ctx.error(IssueType.INVALID, "The signed payload is not JSON", "Bundle", MessageId.SIGNATURE)
        return
    target = str(signature.get("targetFormat") or "")
    left_out = {"signature", "id", "meta"} if DOCUMENT_CANONICALIZATION in target else {"signature"}
    content = {k: v for k, v in bundle.items() if k not in left_out}
    if isinstance(signed, dict):
        signed = {k: v for k, v in signed.items() if k not in left_out}
    if not _same(content, signed):
        ctx.error(
            IssueType.INVALID,
            "The signature cannot be valid because the signed content (the JWS payload) is not the content "
            "of the Bundle",
            "Bundle",
            MessageId.SIGNATURE,
        )


def _same(one: Any, other: Any) -> bool:
    """JSON equality; numbers compare by value (a resource read from XML may hold Decimals)."""
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_same(v, other[k]) for k, v in one.items())
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(_same(a, b) for a, b in zip(one, other, strict=True))
    numbers = (int, float, Decimal)
    if (
        isinstance(one, numbers)
        and isinstance(other, numbers)
        and not isinstance(one, bool)
        and not isinstance(other, bool)
    ):
        return Decimal(str(one)) == Decimal(str(other))
    return bool(one == other and type(one) is type(other))
