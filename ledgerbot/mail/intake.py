"""Mail intake: every document in a mailbox folder becomes a stored document with its mail data.

Processed mail is moved to a folder, never deleted. A message that fails is tagged with an
IMAP keyword, reported and skipped on later runs until someone clears the tag; the rest go on.
Re-running after a crash is safe: a part already stored (same message and part) is not stored
again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select

from ledgerbot.core.errors import ApplicationError, BusinessError, ConfigError, LedgerbotError
from ledgerbot.core.lifecycle import Actor
from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.intake import receive
from ledgerbot.mail.parts import FoundFile, contents, parse_message

MAIL_ACTOR = Actor(name="robot:mail_intake", component="ledgerbot.mail", version="1")


def _password(settings: MailSettings) -> str:
    if settings.password is None:
        raise ConfigError("the mailbox needs LEDGERBOT_IMAP_PASSWORD", code="E804")
    return settings.password.get_secret_value()


class LinkNotAllowed(BusinessError):
    code = "E711"


class LinkFetchFailed(ApplicationError):
    code = "E712"


class MailboxUnavailable(ApplicationError):
    code = "E713"


@dataclass(frozen=True)
class InboundMessage:
    uid: str
    raw: bytes
    message_id: str
    sender: str
    subject: str
    date: str


class Mailbox(Protocol):
    """What intake needs from a mailbox; ImapMailbox is the real one."""

    def messages(self) -> Iterator[InboundMessage]: ...

    def mark_processed(self, uid: str) -> None: ...

    def mark_failed(self, uid: str) -> None: ...


class ImapMailbox:
    def __init__(self, settings: MailSettings) -> None:
        from imap_tools import MailBox, MailBoxUnencrypted

        self.settings = settings
        cls = MailBox if settings.tls else MailBoxUnencrypted
        try:
            self._box = cls(settings.host, settings.port)
            self._box.login(settings.user, _password(settings), initial_folder=settings.folder)
        except Exception as error:  # imap_tools raises several unrelated types
            raise MailboxUnavailable(
                f"cannot log in to imap://{settings.user}@{settings.host}:{settings.port}: "
                f"{type(error).__name__}",
                host=settings.host,
            ) from error
        if not self._box.folder.exists(settings.processed_folder):
            self._box.folder.create(settings.processed_folder)

    def messages(self) -> Iterator[InboundMessage]:
        from imap_tools import AND, NOT

        criteria = NOT(AND(keyword=self.settings.failed_keyword))
        for msg in self._box.fetch(criteria, mark_seen=False, bulk=20):
            assert msg.uid is not None
            yield InboundMessage(
                uid=msg.uid,
                raw=msg.obj.as_bytes(),
                message_id=(msg.headers.get("message-id", ("",))[0] or f"<uid-{msg.uid}>").strip(),
                sender=msg.from_,
                subject=msg.subject,
                date=msg.date.isoformat() if msg.date else "",
            )

    def mark_processed(self, uid: str) -> None:
        self._box.move(uid, self.settings.processed_folder)

    def mark_failed(self, uid: str) -> None:
        self._box.flag(uid, self.settings.failed_keyword, True)

    def close(self) -> None:
        self._box.logout()


@dataclass
class MessageOutcome:
    uid: str
    message_id: str
    subject: str
    documents: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    skipped_parts: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None


@dataclass
class IntakeReport:
    messages: list[MessageOutcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "messages": len(self.messages),
            "failed_messages": sum(1 for m in self.messages if m.error),
            "documents": sum(len(m.documents) for m in self.messages),
            "duplicate_deliveries": sum(len(m.duplicates) for m in self.messages),
            "failures": [
                {"uid": m.uid, "message_id": m.message_id, "subject": m.subject, **(m.error or {})}
                for m in self.messages
                if m.error
            ],
        }


def fetch_link(url: str, settings: MailSettings) -> FoundFile:
    """Download one invoice link, only from an allowed host and within a size limit."""
    import httpx

    host = urlsplit(url).hostname or ""
    if host not in settings.link_hosts:
        raise LinkNotAllowed(f"link host {host!r} is not in LEDGERBOT_IMAP_LINK_HOSTS", url=url)
    try:
        with httpx.stream("GET", url, timeout=settings.link_timeout, follow_redirects=False) as response:
            response.raise_for_status()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > settings.max_link_bytes:
                    raise LinkNotAllowed(f"linked file is over {settings.max_link_bytes} bytes", url=url)
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise LinkFetchFailed(f"cannot download {url}: {type(error).__name__}", url=url) from error
    name = PurePosixPath(urlsplit(url).path).name or "download"
    return FoundFile(filename=name, data=b"".join(chunks), path=f"link:{url}")


def _source(settings: MailSettings, message: InboundMessage, part: str) -> str:
    # The source names message and part, so a re-run after a crash finds what it stored.
    mid = hashlib.sha256(message.message_id.encode()).hexdigest()[:16]
    return f"imap://{settings.user}@{settings.host}/{settings.folder};msg={mid};part={part}"


def run_mail_intake(
    store: Store,
    files: FileStore,
    mailbox: Mailbox,
    settings: MailSettings,
    *,
    link_fetcher: Callable[[str, MailSettings], FoundFile] = fetch_link,
) -> IntakeReport:
    report = IntakeReport()
    for message in mailbox.messages():
        outcome = MessageOutcome(uid=message.uid, message_id=message.message_id, subject=message.subject)
        report.messages.append(outcome)
        try:
            found = contents(parse_message(message.raw))
            parts = list(found.files)
            for url in found.links:
                parts.append(link_fetcher(url, settings))
            outcome.skipped_parts = found.skipped
            if not parts:
                raise BusinessError("the mail has no invoice attachment or link", code="E714")
            with store.session() as session:
                for part in parts:
                    source = _source(settings, message, part.path)
                    if session.scalar(select(DocumentRow.id).where(DocumentRow.source == source)):
                        continue  # stored by an earlier run that stopped before moving the mail
                    document = receive(
                        session,
                        files,
                        part.data,
                        filename=part.filename,
                        source=source,
                        metadata={
                            "channel": "email",
                            "message_id": message.message_id,
                            "from": message.sender,
                            "subject": message.subject,
                            "date": message.date,
                            "part": part.path,
                        },
                        actor=MAIL_ACTOR,
                    )
                    target = outcome.duplicates if document.duplicate_of else outcome.documents
                    target.append(document.id)
            mailbox.mark_processed(message.uid)
        except LedgerbotError as error:
            outcome.error = error.as_dict()
            mailbox.mark_failed(message.uid)
    return report
