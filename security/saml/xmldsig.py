"""Verification of ONE enveloped XML Signature over the element that carries it (XML-DSig 1.1 core).

W3C XML Signature Syntax and Processing 1.1 (https://www.w3.org/TR/xmldsig-core1/), restricted to the
profile ID cards use (DGWS 1.0.1 ``OCESSignature``, SAML 2.0 assertions): the ``ds:Signature`` is a child
of the signed element, its single ``ds:Reference`` points at that element, the transforms are the
enveloped-signature transform optionally followed by one canonicalisation, and the key is given by the
caller (a pinned certificate), never read from the message.  Anything outside that profile (XPath or XSLT
transforms, several references, HMAC, DSA, an unknown algorithm) is refused.

Why not a general library: a general verifier re-parses and re-serialises the document several times per
signature; here the element is canonicalised twice with lxml (libxml2's C14N) and the signature checked
with ``cryptography`` — the same algorithms, a fraction of the CPU.  Structural defences against signature
wrapping stay in :mod:`security.saml.verifier`, which calls this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
_EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = f"{DS}enveloped-signature"
_DS_TAGS = {
    name: f"{{{DS}}}{name}"
    for name in (
        "SignedInfo",
        "CanonicalizationMethod",
        "SignatureMethod",
        "Reference",
        "DigestMethod",
        "DigestValue",
        "SignatureValue",
    )
}


@dataclass(frozen=True, slots=True)
class _C14n:
    exclusive: bool
    with_comments: bool


C14N_METHODS = {
    "http://www.w3.org/2001/10/xml-exc-c14n#": _C14n(exclusive=True, with_comments=False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": _C14n(exclusive=True, with_comments=True),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": _C14n(exclusive=False, with_comments=False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": _C14n(
        exclusive=False, with_comments=True
    ),
}
# the default when a Reference's transforms end without a canonicalisation (XML-DSig 1.1 §4.4.3.2)
_DEFAULT_C14N = _C14n(exclusive=False, with_comments=False)

SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
DIGESTS: dict[str, str] = {
    SHA1: "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SIGNATURE_METHODS: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    RSA_SHA1: ("rsa", hashes.SHA1()),  # legacy STSs only, behind allow_sha1
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", hashes.SHA256()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", hashes.SHA384()),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", hashes.SHA512()),
}


class SignatureError(ValueError):
    """The signature is malformed, outside the supported profile, or does not verify."""


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class SignedInfo:
    """What one enveloped signature claims, read before any cryptography."""

    signature: etree._Element
    canonical_signed_info: bytes
    signature_method: str
    reference_c14n: _C14n
    inclusive_prefixes: tuple[str, ...]
    digest_method: str
    digest_value: bytes
    signature_value: bytes

    def moved_to(self, signature: etree._Element) -> SignedInfo:
        """The same claims, for the same signature in a copy of the document."""
        return SignedInfo(
            signature,
            self.canonical_signed_info,
            self.signature_method,
            self.reference_c14n,
            self.inclusive_prefixes,
            self.digest_method,
            self.digest_value,
            self.signature_value,
        )


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(_DS_TAGS[name])
    if len(found) != 1:
        raise SignatureError(f"expected exactly one ds:{name} in ds:{etree.QName(parent).localname}")
    return found[0]


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc


def _prefixes(method: etree._Element) -> tuple[str, ...]:
    inclusive = method.find(f"{{{_EXC_C14N_NS}}}InclusiveNamespaces")
    if inclusive is None:
        return ()
    prefixes = tuple((inclusive.get("PrefixList") or "").split())
    if "#default" in prefixes:
        raise SignatureError("InclusiveNamespaces '#default' is not supported")
    return prefixes


def _canonical(element: etree._Element, c14n: _C14n, prefixes: tuple[str, ...] = ()) -> bytes:
    return etree.tostring(
        element,
        method="c14n",
        exclusive=c14n.exclusive,
        with_comments=c14n.with_comments,
        inclusive_ns_prefixes=list(prefixes) if c14n.exclusive and prefixes else None,
    )


def read_signed_info(signature: etree._Element, reference_uri: str) -> SignedInfo:
    """Read and canonicalise ``signature``'s SignedInfo; its one Reference must be ``reference_uri``."""
    signed_info = _one(signature, "SignedInfo")
    c14n_method = _one(signed_info, "CanonicalizationMethod")
    si_c14n = C14N_METHODS.get(c14n_method.get("Algorithm", ""))
    if si_c14n is None:
        raise SignatureError(f"unsupported CanonicalizationMethod {c14n_method.get('Algorithm')!r}")
    method = _one(signed_info, "SignatureMethod").get("Algorithm", "")
    reference = _one(signed_info, "Reference")
    if reference.get("URI") != reference_uri:
        raise SignatureError(f"the Reference must be {reference_uri!r}, found {reference.get('URI')!r}")
    transforms_element = reference.find(f"{{{DS}}}Transforms")
    transforms = (
        list(transforms_element.iterchildren(f"{{{DS}}}Transform")) if transforms_element is not None else []
    )
    algorithms = [t.get("Algorithm", "") for t in transforms]
    if not algorithms or algorithms[0] != ENVELOPED or len(algorithms) > 2:
        raise SignatureError(
            "the Reference's transforms must be enveloped-signature [+ one canonicalisation], "
            f"found {algorithms}"
        )
    ref_c14n = _DEFAULT_C14N
    prefixes: tuple[str, ...] = ()
    if len(algorithms) == 2:
        found = C14N_METHODS.get(algorithms[1])
        if found is None:
            raise SignatureError(f"unsupported Transform {algorithms[1]!r}")
        ref_c14n, prefixes = found, _prefixes(transforms[1])
    digest_method = _one(reference, "DigestMethod").get("Algorithm", "")
    return SignedInfo(
        signature=signature,
        canonical_signed_info=_canonical(signed_info, si_c14n, _prefixes(c14n_method)),
        signature_method=method,
        reference_c14n=ref_c14n,
        inclusive_prefixes=prefixes,
        digest_method=digest_method,
        digest_value=_b64(_one(reference, "DigestValue").text, "DigestValue"),
        signature_value=_b64(_one(signature, "SignatureValue").text, "SignatureValue"),
    )


def _without(element: etree._Element, child: etree._Element) -> None:
    """Remove ``child`` but keep the text that follows it (lxml stores it as the child's tail)."""
    tail = child.tail
    previous = child.getprevious()
    element.remove(child)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            element.text = (element.text or "") + tail


def verify_enveloped(
    signed: etree._Element,
    info: SignedInfo,
    key: PublicKey,
    *,
    signature_methods: frozenset[str],
    digest_methods: frozenset[str],
) -> None:
    """Check ``info`` (read from ``signed``'s own signature) with ``key``, removing that signature.

    ``signed`` must be the root of a document the caller owns: the enveloped-signature transform is applied
    in place.  Raises :class:`SignatureError` on any mismatch.
    """
    if info.signature.getparent() is not signed:
        raise SignatureError("the signature is not a child of the signed element")
    if info.signature_method not in signature_methods or info.signature_method not in SIGNATURE_METHODS:
        raise SignatureError(f"SignatureMethod {info.signature_method!r} is not accepted")
    if info.digest_method not in digest_methods or info.digest_method not in DIGESTS:
        raise SignatureError(f"DigestMethod {info.digest_method!r} is not accepted")
    # The signature value first: a forged SignedInfo is refused before any digest work on the body.
    kind, hash_algorithm = SIGNATURE_METHODS[info.signature_method]
    try:
        if kind == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                raise SignatureError("an RSA SignatureMethod with a non-RSA key")
            key.verify(info.signature_value, info.canonical_signed_info, padding.PKCS1v15(), hash_algorithm)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise SignatureError("an ECDSA SignatureMethod with a non-EC key")
            size = (key.curve.key_size + 7) // 8
            if len(info.signature_value) != 2 * size:
                raise SignatureError("ECDSA SignatureValue has the wrong length")
            r = int.from_bytes(info.signature_value[:size], "big")
            s = int.from_bytes(info.signature_value[size:], "big")
            key.verify(encode_dss_signature(r, s), info.canonical_signed_info, ec.ECDSA(hash_algorithm))
    except InvalidSignature as exc:
        raise SignatureError("SignatureValue does not verify against SignedInfo") from exc
    _without(signed, info.signature)
    digest = hashlib.new(
        DIGESTS[info.digest_method], _canonical(signed, info.reference_c14n, info.inclusive_prefixes)
    )
    if not hmac.compare_digest(digest.digest(), info.digest_value):
        raise SignatureError("DigestValue does not match the signed element (content modified)")


__all__ = [
    "C14N_METHODS",
    "DIGESTS",
    "RSA_SHA1",
    "SHA1",
    "SIGNATURE_METHODS",
    "PublicKey",
    "SignatureError",
    "SignedInfo",
    "read_signed_info",
    "verify_enveloped",
]
