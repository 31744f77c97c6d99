"""The enveloped-signature verifier against signatures made by an independent implementation (signxml)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from security.saml.xmldsig import (
    DIGESTS,
    RSA_SHA1,
    SHA1,
    SIGNATURE_METHODS,
    PublicKey,
    SignatureError,
    read_signed_info,
    verify_enveloped,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
ALL_METHODS = frozenset(SIGNATURE_METHODS)
ALL_DIGESTS = frozenset(DIGESTS)
DOCUMENT = (
    '<a:Card xmlns:a="urn:example:a" xmlns:b="urn:example:b" id="C1">\n'
    '  <a:Name b:kind="person">Jens  Hansen</a:Name>\n'
    '  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"/>\n'
    "  <a:Level>4</a:Level>\n"
    "</a:Card>"
)


def _certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xmldsig test")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Signer(XMLSigner):
    """signxml refuses to MAKE SHA-1 signatures; legacy STSs still do, so the tests need some."""

    def check_deprecated_methods(self) -> None:
        return None


def _sign(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    method: SignatureMethod = SignatureMethod.RSA_SHA256,
    digest: DigestAlgorithm = DigestAlgorithm.SHA256,
    c14n: CanonicalizationMethod = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
) -> etree._Element:
    signer = _Signer(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=c14n,
    )
    signed = signer.sign(
        etree.fromstring(DOCUMENT), key=key, cert=[_certificate(key)], reference_uri="#C1", id_attribute="id"
    )
    return etree.fromstring(etree.tostring(signed))


def _verify(
    root: etree._Element,
    key: PublicKey,
    methods: frozenset[str] = ALL_METHODS,
    digests: frozenset[str] = ALL_DIGESTS,
) -> etree._Element:
    signature = root.find(f"{{{DS}}}Signature")
    assert signature is not None
    info = read_signed_info(signature, "#C1")
    verify_enveloped(root, info, key, signature_methods=methods, digest_methods=digests)
    return root


@pytest.mark.parametrize(
    ("method", "digest"),
    [
        (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256),
        (SignatureMethod.RSA_SHA384, DigestAlgorithm.SHA384),
        (SignatureMethod.RSA_SHA512, DigestAlgorithm.SHA512),
    ],
)
@pytest.mark.parametrize(
    "c14n",
    [
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        CanonicalizationMethod.CANONICAL_XML_1_0,
    ],
)
def test_rsa_signatures_of_the_supported_profile_verify(
    rsa_key: rsa.RSAPrivateKey,
    method: SignatureMethod,
    digest: DigestAlgorithm,
    c14n: CanonicalizationMethod,
) -> None:
    verified = _verify(_sign(rsa_key, method=method, digest=digest, c14n=c14n), rsa_key.public_key())
    # the signature is gone, the whitespace that followed it is not (it belongs to the signed content)
    assert verified.find(f"{{{DS}}}Signature") is None
    assert [child.tag for child in verified] == ["{urn:example:a}Name", "{urn:example:a}Level"]
    assert verified[0].tail == "\n  \n  "


def test_ecdsa_signature_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    _verify(_sign(key, method=SignatureMethod.ECDSA_SHA256), key.public_key())


def test_sha1_is_refused_unless_allowed(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key, method=SignatureMethod.RSA_SHA1, digest=DigestAlgorithm.SHA1)
    with pytest.raises(SignatureError, match=r"SignatureMethod .* is not accepted"):
        _verify(copy.deepcopy(signed), rsa_key.public_key(), ALL_METHODS - {RSA_SHA1}, ALL_DIGESTS - {SHA1})
    _verify(signed, rsa_key.public_key())


def test_modified_content_breaks_the_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    name = signed.find("{urn:example:a}Name")
    assert name is not None
    name.text = "Mallory"
    with pytest.raises(SignatureError, match="DigestValue does not match"):
        _verify(signed, rsa_key.public_key())


def test_whitespace_after_the_signature_is_signed_content(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    signature = signed.find(f"{{{DS}}}Signature")
    assert signature is not None
    signature.tail = "\n"  # was "\n  ": dropping the tail instead of keeping it would go unnoticed
    with pytest.raises(SignatureError, match="DigestValue does not match"):
        _verify(signed, rsa_key.public_key())


def test_modified_digest_value_breaks_the_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    digest = signed.find(f".//{{{DS}}}DigestValue")
    assert digest is not None
    digest.text = "AAAA" + (digest.text or "")[4:]
    with pytest.raises(SignatureError, match="SignatureValue does not verify"):
        _verify(signed, rsa_key.public_key())


def test_another_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureError, match="SignatureValue does not verify"):
        _verify(_sign(rsa_key), other.public_key())
    with pytest.raises(SignatureError, match="non-EC key"):
        _verify(
            _sign(ec.generate_private_key(ec.SECP256R1()), method=SignatureMethod.ECDSA_SHA256),
            other.public_key(),
        )


def test_an_xpath_transform_is_outside_the_profile(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    transforms = signed.find(f".//{{{DS}}}Transforms")
    assert transforms is not None
    etree.SubElement(
        transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"
    )
    with pytest.raises(SignatureError, match="transforms must be enveloped-signature"):
        _verify(signed, rsa_key.public_key())


def test_two_references_are_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    reference = signed.find(f".//{{{DS}}}Reference")
    assert reference is not None
    reference.addnext(copy.deepcopy(reference))
    with pytest.raises(SignatureError, match="exactly one ds:Reference"):
        _verify(signed, rsa_key.public_key())


def test_the_reference_must_point_at_the_signed_element(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = _sign(rsa_key).find(f"{{{DS}}}Signature")
    assert signature is not None
    with pytest.raises(SignatureError, match="the Reference must be '#other'"):
        read_signed_info(signature, "#other")


def test_a_signature_elsewhere_in_the_tree_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _sign(rsa_key)
    signature = signed.find(f"{{{DS}}}Signature")
    assert signature is not None
    info = read_signed_info(signature, "#C1")
    wrapper = etree.Element("wrapper")
    wrapper.append(signed)
    with pytest.raises(SignatureError, match="not a child of the signed element"):
        verify_enveloped(
            wrapper, info, rsa_key.public_key(), signature_methods=ALL_METHODS, digest_methods=ALL_DIGESTS
        )


def test_malformed_base64_is_a_signature_error(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = _sign(rsa_key).find(f"{{{DS}}}Signature")
    assert signature is not None
    value = signature.find(f"{{{DS}}}SignatureValue")
    assert value is not None
    value.text = "not*base64"
    with pytest.raises(SignatureError, match="SignatureValue is not valid base64"):
        read_signed_info(signature, "#C1")
