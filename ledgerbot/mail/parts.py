"""Finding the documents inside one e-mail: attachments, ZIPs, forwarded mails and body links.

Pure: takes a parsed message and returns candidate files (or links to fetch); no network, no
store. Limits keep a hostile mail (zip bomb, endless nesting) from exhausting the worker.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from pathlib import PurePosixPath

from ledgerbot.core.errors import BusinessError
from ledgerbot.intake import sniff_mime

ACCEPTED_MIMES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff", "application/xml"})
ACCEPTED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".xml"})
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
    path: str  # e.g. "2" or "3/zip:invoices/a.pdf" or "1/eml:2"


@dataclass
class MessageContents:
    files: list[FoundFile] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


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


def _is_document(filename: str, data: bytes) -> bool:
    suffix = PurePosixPath(filename.lower()).suffix
    mime = sniff_mime(data, filename)
    return mime in ACCEPTED_MIMES and (suffix in ACCEPTED_SUFFIXES or not suffix)


def _expand_zip(data: bytes, path: str, out: MessageContents) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise MailPartError(f"{path}: broken ZIP attachment ({error})", part=path) from error
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise MailPartError(f"{path}: ZIP has {len(entries)} entries (limit {MAX_ZIP_ENTRIES})", part=path)
    if sum(info.file_size for info in entries) > MAX_ZIP_TOTAL:
        raise MailPartError(f"{path}: ZIP expands beyond {MAX_ZIP_TOTAL} bytes", part=path)
    for info in entries:
        name = PurePosixPath(info.filename).name
        if name.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue
        # Read with a cap: the declared size can lie.
        with archive.open(info) as handle:
            content = handle.read(MAX_ZIP_TOTAL + 1)
        if len(content) > MAX_ZIP_TOTAL:
            raise MailPartError(f"{path}: ZIP entry {name} expands beyond the limit", part=path)
        entry_path = f"{path}/zip:{info.filename}"
        if _is_document(name, content):
            out.files.append(FoundFile(filename=name, data=content, path=entry_path))
        else:
            out.skipped.append(entry_path)


def _leaves(part: Message, path: str) -> Iterator[tuple[str, Message]]:
    """Leaf parts with their position; a forwarded message is a leaf (it is walked on its own)."""
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        payload = part.get_payload()
        assert isinstance(payload, list)
        for index, child in enumerate(payload):
            yield from _leaves(child, f"{path}.{index}" if path else str(index))
    else:
        yield path or "0", part


def _walk(message: Message, prefix: str, depth: int, out: MessageContents) -> None:
    if depth > MAX_NESTING:
        raise MailPartError(f"mail nests forwarded messages deeper than {MAX_NESTING}", part=prefix)
    for position, part in _leaves(message, ""):
        path = f"{prefix}{position}"
        content_type = part.get_content_type()
        filename = part.get_filename() or ""
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) else inner
            if isinstance(inner_msg, Message):
                _walk(inner_msg, f"{path}/eml:", depth + 1, out)
            continue
        disposition = part.get_content_disposition()
        if content_type in ("text/plain", "text/html") and disposition != "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = payload.decode(part.get_content_charset() or "utf-8", "replace")
                out.links.extend(_links_in(text, html=content_type == "text/html"))
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        if filename.lower().endswith(".eml"):
            inner_message = email.message_from_bytes(data, policy=email.policy.default)
            _walk(inner_message, f"{path}/eml:", depth + 1, out)
        elif sniff_mime(data, filename) == "application/zip":
            _expand_zip(data, path, out)
        elif _is_document(filename, data):
            out.files.append(FoundFile(filename=filename or f"part-{position}", data=data, path=path))
        else:
            out.skipped.append(f"{path}:{filename or content_type}")


def _links_in(text: str, *, html: bool) -> list[str]:
    if html:
        collector = _LinkCollector()
        collector.feed(text)
        candidates = collector.links
    else:
        candidates = _URL.findall(text)
    return [url.rstrip(".,;") for url in candidates if _INVOICE_LINK.search(url)]


def contents(message: Message) -> MessageContents:
    """Every document attached to ``message`` (recursively) and every invoice link in its body."""
    out = MessageContents()
    _walk(message, "", 0, out)
    out.links = list(dict.fromkeys(out.links))
    return out
