"""Mails, archives, wrappers and certificates built for the mail-intake tests, and folders read back."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from imap_tools import MailBoxUnencrypted

from ledgerbot.core.settings import MailSettings

USER, PASSWORD = "ap@ledgerbot.test", "s3cret-imap-pass"
PDF_A = b"%PDF-1.4\n% invoice A\n%%EOF\n"
PDF_B = b"%PDF-1.4\n% invoice B\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
XML = b"<?xml version='1.0'?><Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>"


def pdf(tag: str) -> bytes:
    """A distinct small PDF per tag (content-keyed intake tells them apart)."""
    return b"%PDF-1.4\n% " + tag.encode() + b"\n%%EOF\n"


def mail(
    subject: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    body: str = "See attached.",
    html: str | None = None,
    *,
    message_id: str | None = None,
    sender: str = "billing@acme.test",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = USER
    msg["Subject"] = subject
    msg["Date"] = "Tue, 03 Mar 2026 10:00:00 +0100"
    msg["Message-ID"] = message_id or f"<{subject.replace(' ', '-')}@acme.test>"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data, mime in attachments:
        main, sub = mime.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg.as_bytes()


def deliver(settings: MailSettings, *raw: bytes) -> None:
    with MailBoxUnencrypted(settings.host, settings.port).login(USER, PASSWORD) as box:
        for message in raw:
            box.append(message, settings.folder)


def folder(settings: MailSettings, name: str) -> dict[str, set[str]]:
    """Subject -> IMAP flags of every mail in a folder."""
    with MailBoxUnencrypted(settings.host, settings.port).login(USER, PASSWORD, initial_folder=name) as box:
        return {m.subject: set(m.flags) for m in box.fetch(mark_seen=False)}


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _patch_entry(data: bytes, name: str, patch: Callable[[bytearray, int, int], None]) -> bytes:
    """Apply ``patch(buffer, local_header_offset, central_header_offset)`` to one entry's headers."""
    buffer = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(name)
    central = data.find(b"PK\x01\x02")  # the central directory, one header per entry
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == name.encode():
            break
        central = data.find(b"PK\x01\x02", central + 4)
    patch(buffer, info.header_offset, central)
    return bytes(buffer)


def encrypted_entry(data: bytes, name: str) -> bytes:
    """Mark an entry as password-protected (general-purpose flag bit 0), as an encrypting zipper does."""

    def patch(buffer: bytearray, local: int, central: int) -> None:
        buffer[local + 6] |= 0x01
        buffer[central + 8] |= 0x01

    return _patch_entry(data, name, patch)


def unsupported_method(data: bytes, name: str, method: int = 99) -> bytes:
    """Declare a compression method zipfile does not implement (99 is WinZip AES)."""

    def patch(buffer: bytearray, local: int, central: int) -> None:
        struct.pack_into("<H", buffer, local + 8, method)
        struct.pack_into("<H", buffer, central + 10, method)

    return _patch_entry(data, name, patch)


def bad_crc(data: bytes, name: str) -> bytes:
    """Flip one byte of a stored entry's data: its CRC-32 no longer matches."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    assert info.compress_type == zipfile.ZIP_STORED
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    buffer = bytearray(data)
    buffer[start + 5] ^= 0xFF
    return bytes(buffer)


def tnef(attachments: Sequence[tuple[str, bytes]]) -> bytes:
    """A minimal Outlook TNEF stream (winmail.dat) carrying ``attachments``."""

    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", checksum)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    out += attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # OEM code page
    out += attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # message class
    for filename, data in attachments:
        out += attribute(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff\x01\x00\x01\x00\x00\x00\x00\x00")
        out += attribute(2, 0x8010, 0x0001, filename.encode() + b"\x00")
        out += attribute(2, 0x800F, 0x0006, data)
    return out


@dataclass(frozen=True)
class Signer:
    """A test CA and a supplier's S/MIME certificate and key issued by it."""

    ca: x509.Certificate
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def ca_pem(self) -> bytes:
        return self.ca.public_bytes(serialization.Encoding.PEM)


def signer(address: str = "billing@acme.test") -> Signer:
    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Supplier Test CA"))
        .issuer_name(name("Supplier Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name(address))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(address)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Signer(ca, certificate, key)
