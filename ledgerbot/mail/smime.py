"""S/MIME: the content of signed mail, and its signature checked against a configured trust store.

asn1crypto reads the CMS structure (cryptography has no CMS parser); cryptography checks the
signature and the certificate chain. Encrypted S/MIME is recognised so that it can be refused
with a code: we hold no private key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ledgerbot.core.settings import InvalidSetting

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class SignatureCheck:
    """What is known about a signature: always that there is one; validity only with a trust store."""

    checked: bool
    valid: bool | None
    signer: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "signed": True,
            "checked": self.checked,
            "valid": self.valid,
            "signer": self.signer,
            "reason": self.reason,
        }


class SmimeUnreadable(ValueError):
    """The bytes are not a CMS structure we can read."""


def load_trust_store(path: Path) -> list[x509.Certificate]:
    """The PEM certificates in ``path``: the anchors S/MIME signer certificates must chain to."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InvalidSetting(
            f"LEDGERBOT_IMAP_SMIME_TRUST_STORE {path}: not a readable PEM certificate file ({error})",
            path=path,
        ) from None
    return certificates


def _content_info(der: bytes) -> Any:
    from asn1crypto import cms  # imported here: only signed or encrypted mail needs it

    try:
        info = cms.ContentInfo.load(der)
        info["content_type"].native  # noqa: B018 (parses lazily: force it here)
    except (ValueError, TypeError) as error:
        raise SmimeUnreadable(f"not a CMS structure ({error})") from None
    return info


def cms_kind(der: bytes) -> str:
    """``signed_data``, ``enveloped_data``, ``authenticated_enveloped_data`` ... of a CMS blob."""
    return str(_content_info(der)["content_type"].native)


def opaque_content(der: bytes) -> bytes:
    """The signed MIME entity inside an opaque-signed ``smime.p7m``."""
    info = _content_info(der)
    if info["content_type"].native != "signed_data":
        raise SmimeUnreadable(f"expected signed data, found {info['content_type'].native}")
    content = info["content"]["encap_content_info"]["content"].native
    if not isinstance(content, bytes):
        raise SmimeUnreadable("the signed data carries no content")
    return content


def _signer_certificate(signed: Any, certificates: list[x509.Certificate]) -> x509.Certificate | None:
    sid = signed["sid"]
    if sid.name == "issuer_and_serial_number":
        serial = sid.chosen["serial_number"].native
        issuer = sid.chosen["issuer"].dump()
        for certificate in certificates:
            if certificate.serial_number == serial and certificate.issuer.public_bytes() == issuer:
                return certificate
        return None
    key_id = sid.chosen.native
    for certificate in certificates:
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            continue
        if ski == key_id:
            return certificate
    return None


def _verify_signature(
    certificate: x509.Certificate, signature: bytes, data: bytes, algo: Any, digest: Any
) -> None:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if algo.signature_algo == "rsassa_pss":
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
            key.verify(signature, data, pss, digest)
        else:
            key.verify(signature, data, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(digest))
    else:
        raise InvalidSignature(f"unsupported signer key type {type(key).__name__}")


def check_signature(
    der: bytes,
    content: bytes | None,
    trust: Sequence[x509.Certificate] | None,
    *,
    now: datetime | None = None,
) -> SignatureCheck:
    """Check a CMS signature over ``content`` (``None``: the content is inside ``der``).

    Without a trust store the signature is only recorded, not judged.
    """
    info = _content_info(der)
    if info["content_type"].native != "signed_data":
        raise SmimeUnreadable(f"expected signed data, found {info['content_type'].native}")
    signed_data = info["content"]
    certificates = [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in (signed_data["certificates"] or [])
        if choice.name == "certificate"
    ]
    signers = list(signed_data["signer_infos"])
    if not signers:
        return SignatureCheck(bool(trust), False if trust else None, "", "the signature has no signer")
    signer = signers[0]
    certificate = _signer_certificate(signer, certificates)
    subject = certificate.subject.rfc4514_string() if certificate else ""
    if not trust:
        return SignatureCheck(False, None, subject, "not checked: no S/MIME trust store configured")
    if certificate is None:
        return SignatureCheck(True, False, "", "the signer's certificate is not in the signature")
    if content is None:
        content = opaque_content(der)
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        return SignatureCheck(True, False, subject, f"unsupported digest algorithm {digest_name}")
    digest = _HASHES[digest_name]()
    attributes = signer["signed_attrs"]
    if attributes.native:
        declared = next(
            (a["values"][0].native for a in attributes if a["type"].native == "message_digest"), None
        )
        if declared != hashlib.new(digest_name, content).digest():
            return SignatureCheck(True, False, subject, "the content was changed after it was signed")
        # The signature covers the attributes encoded as a SET, not with their [0] context tag.
        signed_bytes = attributes.untag().dump()
    else:
        signed_bytes = content
    try:
        _verify_signature(
            certificate, signer["signature"].native, signed_bytes, signer["signature_algorithm"], digest
        )
    except InvalidSignature:
        return SignatureCheck(True, False, subject, "the signature does not match the content")
    from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

    # S/MIME signer certificates carry emailProtection, not the TLS usages a web-PKI end-entity
    # policy demands; the chain to a configured anchor is what is checked.
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust)))
        .time(now or datetime.now(UTC))
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(certificate, [c for c in certificates if c != certificate])
    except VerificationError as error:
        return SignatureCheck(True, False, subject, f"the signer is not trusted: {error}")
    return SignatureCheck(True, True, subject, "signature valid, signer chains to the trust store")
