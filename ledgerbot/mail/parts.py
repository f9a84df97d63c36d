"""Finding the documents inside one e-mail: attachments, archives, wrappers, forwarded mails and links.

Pure: takes a parsed message and returns candidate files, links to fetch, and a record of every
part not taken (skipped, with a reason, or failed, with a code); no network, no store. Each part
is its own unit: whatever one part raises is recorded on that part and the others are still read.
Limits keep a hostile mail (zip bomb, endless nesting) from exhausting the worker.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any

from cryptography.x509 import Certificate

from ledgerbot.core.errors import (
    BusinessError,
    EmptyPart,
    LedgerbotError,
    MailUnreadable,
    PartNotADocument,
    SignatureInvalid,
    SmimeEncrypted,
    TnefUnreadable,
    ZipEntryEncrypted,
    ZipEntryUnreadable,
)
from ledgerbot.intake import sniff_mime
from ledgerbot.mail import forwarded, smime
from ledgerbot.mail.charsets import decode_text
from ledgerbot.mail.forwarded import Origin

ACCEPTED_MIMES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff", "application/xml"})
ACCEPTED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".xml"})
# The extension an unnamed (or oddly named) document gets from its sniffed type.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "application/xml": ".xml",
}
# Types told by their magic bytes: trusted over whatever the sender named the file.
_MAGIC_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff"})
# Office files are ZIP containers too, but not archives of invoices.
_OFFICE_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".jar", ".apk"})
_SMIME_TYPES = frozenset(
    {
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.IGNORECASE | re.DOTALL
)
MAX_ZIP_ENTRIES = 200
MAX_ZIP_TOTAL = 200 * 1024 * 1024
MAX_NESTING = 3
_URL = re.compile(r"https?://[^\s<>\"')]+", re.IGNORECASE)
# A body link is taken for an invoice when it names a document file or says invoice in EN/DE/FR.
_INVOICE_LINK = re.compile(r"\.(pdf|xml)(\?|$)|invoice|rechnung|facture|download", re.IGNORECASE)


class MailPartError(BusinessError):
    code = "E710"


@dataclass(frozen=True)
class FoundFile:
    """A document found in a message, with where in the message it came from."""

    filename: str
    data: bytes
    path: str  # e.g. "2" or "3/zip:invoices/a.pdf" or "1/eml:2" or "1/tnef:0"
    origin: Origin | None = None  # the original mail, when this came in a forward
    signature: smime.SignatureCheck | None = None  # when it was inside S/MIME signed content
    embedded: bool = False  # an image shown in an HTML body (a logo, or a photo sent inline)


@dataclass(frozen=True)
class PartIssue:
    """A part not taken as a document: skipped (not one) or failed (should be one, cannot be read)."""

    path: str
    filename: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"part": self.path, "filename": self.filename, "code": self.code, "reason": self.reason}


@dataclass
class MessageContents:
    files: list[FoundFile] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    skipped: list[PartIssue] = field(default_factory=list)
    failures: list[PartIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    depth: int = 0
    origin: Origin | None = None
    signature: smime.SignatureCheck | None = None
    raw: bytes | None = None  # the bytes of the enclosing message, for detached signatures
    related: bool = False  # inside multipart/related: parts the HTML body shows


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.lower().startswith(("http://", "https://")):
                self.links.append(href)


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def looks_like_html(data: bytes) -> bool:
    return bool(_HTML_START.match(data[:2048].lstrip(b"\xef\xbb\xbf")))


def document_type(filename: str, data: bytes, declared: str = "") -> str | None:
    """The document type of ``data`` when it is an invoice file we read, else ``None``."""
    mime = sniff_mime(data, filename)
    if mime in _MAGIC_TYPES:
        return mime
    if mime != "application/xml" or looks_like_html(data):
        return None
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in (".xml", "") or declared in ("application/xml", "text/xml"):
        return mime
    return None


def document_name(filename: str, mime: str, path: str) -> str:
    """A file name with an extension that says what the file is; unnamed parts are named by position."""
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    if not name:
        name = "part-" + (re.sub(r"[^0-9A-Za-z]+", "-", path).strip("-") or "0")
    if PurePosixPath(name.lower()).suffix not in ACCEPTED_SUFFIXES:
        name += EXTENSIONS[mime]
    return name


def _filename(part: Message) -> str:
    try:
        return forwarded.clean(part.get_filename() or "")
    except Exception:  # a broken RFC 2231 parameter: the part is still read, just unnamed
        return ""


def _first_body_part(raw: bytes, boundary: str) -> bytes | None:
    """The exact bytes of the first body part under ``boundary`` (what a detached signature signs)."""
    delimiter = b"--" + boundary.encode("ascii", "replace")
    start = re.search(rb"(^|\n)" + re.escape(delimiter) + rb"[ \t]*\r?\n", raw)
    if start is None:
        return None
    end = re.search(rb"\r?\n" + re.escape(delimiter), raw[start.end() :])
    if end is None:
        return None
    body = raw[start.end() : start.end() + end.start()]
    # S/MIME signs the canonical form: CRLF line ends.
    return re.sub(rb"(?<!\r)\n", b"\r\n", body)


class _Reader:
    def __init__(self, trust: Sequence[Certificate] | None) -> None:
        self.trust = trust
        self.out = MessageContents()

    # -- recording -----------------------------------------------------------------------------
    def _skip(self, path: str, filename: str, error: type[LedgerbotError], reason: str) -> None:
        self.out.skipped.append(PartIssue(path, filename, error.code, reason))

    def _fail(self, path: str, filename: str, code: str, reason: str) -> None:
        self.out.failures.append(PartIssue(path, filename, code, reason))

    def _note(self, path: str, text: str) -> None:
        self.out.notes.append(f"part {path}: {text}" if path else text)

    # -- structure -----------------------------------------------------------------------------
    def message(self, message: Message, prefix: str, ctx: _Context) -> None:
        if ctx.depth > MAX_NESTING:
            self._fail(
                prefix, "", MailPartError.code, f"forwarded or wrapped deeper than {MAX_NESTING} levels"
            )
            return
        inline = self._inline_origin(message)
        self.node(message, prefix, "", replace(ctx, origin=inline or ctx.origin))

    def _inline_origin(self, message: Message) -> Origin | None:
        try:
            return self._quoted_origin(message)
        except Exception:  # provenance is a nicety: a part that cannot be read is reported by node()
            return None

    def _quoted_origin(self, message: Message) -> Origin | None:
        for part in message.walk():
            if part.get_content_type() == "message/rfc822":
                return None  # the original is attached: its own headers say who sent it
            if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    return forwarded.inline_origin(decode_text(payload, part.get_content_charset())[0])
        return None

    def node(self, part: Message, prefix: str, position: str, ctx: _Context) -> None:
        path = prefix + (position or "0")
        try:
            content_type = part.get_content_type()
            if content_type == "message/rfc822":
                inner = part.get_payload()
                inner_msg = inner[0] if isinstance(inner, list) else inner
                if isinstance(inner_msg, Message):
                    self.message(
                        inner_msg,
                        f"{path}/eml:",
                        replace(ctx, depth=ctx.depth + 1, origin=forwarded.of_message(inner_msg)),
                    )
            elif content_type == "multipart/signed" and len(part.get_payload()) == 2:
                self.signed(part, prefix, position, ctx)
            elif part.is_multipart():
                payload = part.get_payload()
                assert isinstance(payload, list)
                if content_type == "multipart/related":
                    ctx = replace(ctx, related=True)
                for index, child in enumerate(payload):
                    self.node(child, prefix, f"{position}.{index}" if position else str(index), ctx)
            else:
                self.leaf(part, path, ctx)
        except Exception as error:  # one part's surprise is that part's failure, not the mail's
            self._fail(
                path,
                _filename(part),
                MailUnreadable.code,
                f"cannot read the part: {type(error).__name__}: {error}",
            )

    def signed(self, part: Message, prefix: str, position: str, ctx: _Context) -> None:
        payload = part.get_payload()
        assert isinstance(payload, list)
        content, signature_part = payload
        assert isinstance(content, Message) and isinstance(signature_part, Message)
        path = prefix + (position or "0")
        signature = signature_part.get_payload(decode=True)
        boundary = part.get_boundary()
        signed_bytes = _first_body_part(ctx.raw, boundary) if ctx.raw and boundary else None
        if signed_bytes is None:
            signed_bytes = re.sub(rb"(?<!\r)\n", b"\r\n", content.as_bytes())
        try:
            check = smime.check_signature(
                signature if isinstance(signature, bytes) else b"", signed_bytes, self.trust
            )
        except smime.SmimeUnreadable as error:
            check = smime.SignatureCheck(
                bool(self.trust), False if self.trust else None, "", f"unreadable: {error}"
            )
        self._record_signature(path, check)
        self.node(content, prefix, f"{position}.0" if position else "0", replace(ctx, signature=check))

    def _record_signature(self, path: str, check: smime.SignatureCheck) -> None:
        if check.valid is False:
            self._note(
                path, f"[{SignatureInvalid.code}] S/MIME signature not valid: {check.reason}; content taken"
            )
        else:
            self._note(path, f"S/MIME signed by {check.signer or 'an unknown signer'}: {check.reason}")

    def leaf(self, part: Message, path: str, ctx: _Context) -> None:
        content_type = part.get_content_type()
        filename = _filename(part)
        if content_type in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                text, note = decode_text(payload, part.get_content_charset())
                if note:
                    self._note(path, note)
                self.out.links.extend(_links_in(text, html=content_type == "text/html"))
            return
        data = part.get_payload(decode=True)
        self.data(
            data if isinstance(data, bytes) else b"",
            filename,
            content_type,
            path,
            ctx,
            part.get_param("smime-type"),
        )

    def data(
        self, data: bytes, filename: str, declared: str, path: str, ctx: _Context, smime_type: Any = None
    ) -> None:
        label = filename or declared or "unnamed part"
        if not data:
            self._skip(path, label, EmptyPart, "empty attachment (0 bytes)")
            return
        lower = filename.lower()
        suffix = PurePosixPath(lower).suffix
        if declared in _SMIME_TYPES or suffix in (".p7m", ".p7s"):
            self.smime_blob(data, label, path, ctx, str(smime_type or ""))
        elif declared in _TNEF_TYPES or lower == "winmail.dat" or data.startswith(_TNEF_SIGNATURE):
            self.tnef(data, label, path, ctx)
        elif suffix == ".eml" or declared == "message/rfc822":
            inner = parse_message(data)
            self.message(
                inner,
                f"{path}/eml:",
                replace(ctx, depth=ctx.depth + 1, origin=forwarded.of_message(inner), raw=data),
            )
        elif sniff_mime(data, filename) == "application/zip" and suffix not in _OFFICE_SUFFIXES:
            self.zip(data, label, path, ctx)
        elif (mime := document_type(filename, data, declared)) is not None:
            name = document_name(filename, mime, path)
            embedded = ctx.related and mime.startswith("image/")
            self.out.files.append(
                FoundFile(name, data, path, origin=ctx.origin, signature=ctx.signature, embedded=embedded)
            )
        else:
            kind = "an HTML page" if looks_like_html(data) else sniff_mime(data, filename)
            self._skip(
                path,
                label,
                PartNotADocument,
                f"not an invoice file ({kind}, sent as {declared or 'unknown'})",
            )

    # -- wrappers ------------------------------------------------------------------------------
    def smime_blob(self, data: bytes, label: str, path: str, ctx: _Context, smime_type: str) -> None:
        try:
            kind = smime.cms_kind(data)
        except smime.SmimeUnreadable as error:
            self._fail(path, label, MailPartError.code, f"unreadable S/MIME part ({error})")
            return
        if kind in ("enveloped_data", "authenticated_enveloped_data", "encrypted_data"):
            self._fail(
                path,
                label,
                SmimeEncrypted.code,
                "S/MIME encrypted: no key to open it; ask for it unencrypted",
            )
            return
        if kind != "signed_data":
            self._skip(path, label, PartNotADocument, f"S/MIME {smime_type or kind} carries no document")
            return
        try:
            content = smime.opaque_content(data)
        except smime.SmimeUnreadable:
            self._skip(path, label, PartNotADocument, "detached S/MIME signature outside a signed part")
            return
        check = smime.check_signature(data, content, self.trust)
        self._record_signature(path, check)
        inner = parse_message(content)
        self.node(inner, f"{path}/p7m:", "", replace(ctx, depth=ctx.depth + 1, signature=check, raw=content))

    def tnef(self, data: bytes, label: str, path: str, ctx: _Context) -> None:
        from tnefparse import TNEF  # imported here: only Outlook's rich-text mail needs it

        try:
            wrapper = TNEF(data)
        except Exception as error:  # tnefparse raises ValueError, struct.error, IndexError ...
            self._fail(
                path,
                label,
                TnefUnreadable.code,
                f"cannot decode winmail.dat ({type(error).__name__}: {error})",
            )
            return
        if not wrapper.attachments:
            self._skip(path, label, PartNotADocument, "winmail.dat holds no attachment (formatting only)")
        for index, attachment in enumerate(wrapper.attachments):
            name = attachment.long_filename() or attachment.name
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            self.data(
                bytes(attachment.data or b""),
                forwarded.clean(str(name).strip("\x00")),
                "",
                f"{path}/tnef:{index}",
                replace(ctx, depth=ctx.depth + 1),
            )

    def zip(self, data: bytes, label: str, path: str, ctx: _Context) -> None:
        if ctx.depth >= MAX_NESTING:
            self._fail(path, label, MailPartError.code, f"archives nested deeper than {MAX_NESTING} levels")
            return
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
            self._fail(path, label, MailPartError.code, f"broken ZIP attachment ({error})")
            return
        if len(entries) > MAX_ZIP_ENTRIES:
            self._fail(
                path, label, MailPartError.code, f"ZIP has {len(entries)} entries (limit {MAX_ZIP_ENTRIES})"
            )
            return
        if sum(info.file_size for info in entries) > MAX_ZIP_TOTAL:
            self._fail(path, label, MailPartError.code, f"ZIP expands beyond {MAX_ZIP_TOTAL} bytes")
            return
        inner = replace(ctx, depth=ctx.depth + 1)
        budget = MAX_ZIP_TOTAL  # what the entries may still expand to, whatever their headers claim
        for info in entries:
            name = PurePosixPath(info.filename).name
            entry_path = f"{path}/zip:{info.filename}"
            if name.startswith(".") or info.filename.startswith("__MACOSX/"):
                self._skip(entry_path, name, PartNotADocument, "hidden or macOS metadata entry")
                continue
            content = self._zip_entry(archive, info, name, entry_path, budget)
            if content is not None:
                budget -= len(content)
                self.data(content, name, "", entry_path, inner)

    def _zip_entry(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, path: str, budget: int
    ) -> bytes | None:
        if info.flag_bits & 0x1:
            self._fail(
                path,
                name,
                ZipEntryEncrypted.code,
                "password-protected ZIP entry; ask for it without a password",
            )
            return None
        try:
            # Read with a cap: the declared size can lie.
            with archive.open(info) as handle:
                content = handle.read(budget + 1)
        except NotImplementedError as error:  # before RuntimeError: it is a subclass
            self._fail(path, name, ZipEntryUnreadable.code, f"ZIP entry uses an unsupported method ({error})")
            return None
        except RuntimeError as error:  # zipfile's word for "encrypted, no password given"
            self._fail(path, name, ZipEntryEncrypted.code, f"password-protected ZIP entry ({error})")
            return None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            self._fail(path, name, ZipEntryUnreadable.code, f"ZIP entry is damaged ({error})")
            return None
        if len(content) > budget:
            self._fail(path, name, MailPartError.code, f"ZIP expands beyond {MAX_ZIP_TOTAL} bytes")
            return None
        return content


def _links_in(text: str, *, html: bool) -> list[str]:
    if html:
        collector = _LinkCollector()
        collector.feed(text)
        candidates = collector.links
    else:
        candidates = _URL.findall(text)
    return [url.rstrip(".,;") for url in candidates if _INVOICE_LINK.search(url)]


def contents(
    message: Message, *, raw: bytes | None = None, trust: Sequence[Certificate] | None = None
) -> MessageContents:
    """Every document in ``message`` (recursively), every invoice link in its body, every part not taken.

    ``raw`` is the message as received (detached signatures are checked over its exact bytes);
    ``trust`` the certificates S/MIME signers must chain to (none: signatures are only recorded).
    """
    reader = _Reader(trust)
    reader.message(message, "", _Context(raw=raw))
    out = reader.out
    out.links = list(dict.fromkeys(out.links))
    return out
