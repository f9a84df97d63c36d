"""Mail intake: every document in a mailbox folder becomes a stored document with its mail data.

Every mail is its own unit: whatever reading one mail raises becomes a coded failure on that mail
(tagged in the mailbox with the code, reported with its UID and Message-ID) and intake goes on.
Every part of a mail is stored, or recorded as skipped or failed with a reason, before the mail
is moved to the processed folder (never deleted). A part counts as already stored when its bytes
were stored from the same mail (mailbox, UIDVALIDITY, UID): a re-run after a crash stores nothing
twice, and a second mail that reuses a Message-ID with other content is a new document.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledgerbot.core.errors import (
    ApplicationError,
    BusinessError,
    ConfigError,
    LedgerbotError,
    LinkNotADocument,
    MailUnreadable,
    PartRepeated,
)
from ledgerbot.core.lifecycle import Actor
from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import MailPartRow
from ledgerbot.cost import CpuMeter
from ledgerbot.intake import receive
from ledgerbot.mail import forwarded
from ledgerbot.mail.parts import (
    FoundFile,
    PartIssue,
    contents,
    document_name,
    document_type,
    looks_like_html,
    parse_message,
)

MAIL_ACTOR = Actor(name="robot:mail_intake", component="ledgerbot.mail", version="2")


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


class NoDocumentInMail(BusinessError):
    code = "E714"


@dataclass(frozen=True)
class InboundMessage:
    uid: str
    raw: bytes


class Mailbox(Protocol):
    """What intake needs from a mailbox; ImapMailbox is the real one."""

    identity: str  # which mailbox folder, e.g. imap://ap@mail.example:143/INBOX
    uidvalidity: int  # changes when the server renumbers the folder's UIDs

    def messages(self) -> Iterator[InboundMessage]: ...

    def mark_processed(self, uid: str) -> None: ...

    def mark_failed(self, uid: str, code: str) -> None: ...

    def tag(self, uid: str, keywords: Sequence[str]) -> None: ...


_FETCHED_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapMailbox:
    def __init__(self, settings: MailSettings) -> None:
        from imap_tools import MailBox, MailBoxUnencrypted

        self.settings = settings
        self.identity = f"imap://{settings.user}@{settings.host}:{settings.port}/{settings.folder}"
        cls = MailBox if settings.tls else MailBoxUnencrypted
        try:
            self._box = cls(settings.host, settings.port)
            self._box.login(settings.user, _password(settings), initial_folder=settings.folder)
            # Servers announce MOVE only after login, while imaplib keeps the list it got before:
            # without this, every move is COPY + STORE + EXPUNGE (3 round trips instead of 1).
            status, data = self._box.client.capability()
            if status == "OK" and data and isinstance(data[0], bytes):
                self._box.client.capabilities = tuple(data[0].decode("ascii", "replace").upper().split())
            if not self._box.folder.exists(settings.processed_folder):
                self._box.folder.create(settings.processed_folder)
            self.uidvalidity = int(self._box.folder.status(settings.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        except Exception as error:  # imap_tools raises several unrelated types
            raise MailboxUnavailable(
                f"cannot open imap://{settings.user}@{settings.host}:{settings.port}/{settings.folder}: "
                f"{type(error).__name__}",
                host=settings.host,
            ) from error

    def _command(self, *args: str) -> list[Any]:
        try:
            status, data = self._box.client.uid(*args)
        except Exception as error:  # imaplib.error, socket errors
            raise MailboxUnavailable(
                f"{args[0]} on {self.identity} failed: {type(error).__name__}"
            ) from error
        if status != "OK":
            raise MailboxUnavailable(f"{args[0]} on {self.identity} failed: server said {status}")
        return list(data)

    def _batches(self, uids: list[str]) -> Iterator[list[str]]:
        """UIDs in batches of at most ``fetch_batch`` mails and ``fetch_batch_bytes`` (one big mail alone)."""
        sizes: dict[str, int] = {}
        for item in self._command("FETCH", ",".join(uids), "(UID RFC822.SIZE)") if uids else []:
            line = item[0] if isinstance(item, tuple) else item
            if (
                isinstance(line, bytes)
                and (found := _FETCHED_UID.search(line))
                and (declared := _SIZE.search(line))
            ):
                sizes[found.group(1).decode()] = int(declared.group(1))
        batch: list[str] = []
        total = 0
        for uid in uids:
            size = sizes.get(uid, 0)
            if batch and (
                len(batch) >= self.settings.fetch_batch or total + size > self.settings.fetch_batch_bytes
            ):
                yield batch
                batch, total = [], 0
            batch.append(uid)
            total += size
        if batch:
            yield batch

    def messages(self) -> Iterator[InboundMessage]:
        """The folder's mails not tagged as failed, fetched in batches as received (raw bytes)."""
        from imap_tools import AND, NOT

        try:
            uids = self._box.uids(NOT(AND(keyword=self.settings.failed_keyword)))
        except Exception as error:
            raise MailboxUnavailable(f"cannot list {self.identity}: {type(error).__name__}") from error
        for batch in self._batches(uids):
            data = self._command("FETCH", ",".join(batch), "(UID BODY.PEEK[])")
            while data:
                item = data.pop(0)  # let each mail's bytes go once it is handed over
                if (
                    isinstance(item, tuple)
                    and isinstance(item[1], bytes)
                    and (match := _FETCHED_UID.search(item[0]))
                ):
                    yield InboundMessage(uid=match.group(1).decode(), raw=item[1])

    def mark_processed(self, uid: str) -> None:
        self._box.move(uid, self.settings.processed_folder)

    def mark_failed(self, uid: str, code: str) -> None:
        self.tag(uid, [self.settings.failed_keyword, self.settings.code_keyword_prefix + code])

    def tag(self, uid: str, keywords: Sequence[str]) -> None:
        self._box.flag(uid, list(keywords), True)

    def close(self) -> None:
        self._box.logout()


@dataclass
class MessageOutcome:
    uid: str
    message_id: str = ""
    subject: str = ""
    documents: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)  # stored by an earlier run that stopped early
    skipped_parts: list[PartIssue] = field(default_factory=list)
    part_failures: list[PartIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None


@dataclass
class IntakeReport:
    messages: list[MessageOutcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        def of(m: MessageOutcome) -> dict[str, str]:
            return {"uid": m.uid, "message_id": m.message_id}

        return {
            "messages": len(self.messages),
            "failed_messages": sum(1 for m in self.messages if m.error),
            "documents": sum(len(m.documents) for m in self.messages),
            "duplicate_deliveries": sum(len(m.duplicates) for m in self.messages),
            "resumed_documents": sum(len(m.resumed) for m in self.messages),
            "failures": [
                {**of(m), "subject": m.subject, **(m.error or {})} for m in self.messages if m.error
            ],
            "part_failures": [{**of(m), **p.as_dict()} for m in self.messages for p in m.part_failures],
            "skipped_parts": [{**of(m), **p.as_dict()} for m in self.messages for p in m.skipped_parts],
            "notes": [{**of(m), "note": note} for m in self.messages for note in m.notes],
        }


def _allowed(url: str, settings: MailSettings) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in settings.link_hosts:
        raise LinkNotAllowed(f"link host {host!r} is not in LEDGERBOT_IMAP_LINK_HOSTS", url=url)


def _disposition_name(value: str) -> str:
    if not value:
        return ""
    holder = EmailMessage()
    holder["Content-Disposition"] = value
    try:
        return holder.get_filename() or ""
    except Exception:  # a malformed header only costs the name
        return ""


def fetch_link(url: str, settings: MailSettings) -> FoundFile:
    """Download one invoice link: allowed hosts only (redirects too, up to a limit), capped in size,
    and only when what comes back is an invoice file (a login page is refused before storing)."""
    import httpx

    current = url
    with httpx.Client(timeout=settings.link_timeout, follow_redirects=False) as client:
        for _ in range(settings.max_link_redirects + 1):
            _allowed(current, settings)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        current = str(response.url.join(response.headers.get("location", "")))
                        continue
                    response.raise_for_status()
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > settings.max_link_bytes:
                            raise LinkFetchFailed(
                                f"linked file is over {settings.max_link_bytes} bytes", url=url
                            )
                        chunks.append(chunk)
                    name = _disposition_name(response.headers.get("content-disposition", ""))
                    declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
            except httpx.HTTPError as error:
                raise LinkFetchFailed(f"cannot download {url}: {type(error).__name__}", url=url) from error
            break
        else:
            raise LinkFetchFailed(f"{url}: more than {settings.max_link_redirects} redirects", url=url)
    data = b"".join(chunks)
    name = name or PurePosixPath(urlsplit(current).path).name
    mime = document_type(name, data, declared)
    if mime is None:
        what = "an HTML page (a login page?)" if looks_like_html(data) else f"{declared or 'unknown'} content"
        raise LinkNotADocument(f"{url} answered with {what}, not an invoice file", url=url)
    return FoundFile(filename=document_name(name, mime, "download"), data=data, path=f"link:{url}")


@dataclass(frozen=True)
class _Head:
    message_id: str
    sender: str
    subject: str
    date: str


def _head(message: Message, uid: str) -> _Head:
    date = forwarded.header(message, "date")
    try:
        date = email.utils.parsedate_to_datetime(date).isoformat() if date else ""
    except (TypeError, ValueError):
        pass  # kept as written
    return _Head(
        message_id=forwarded.header(message, "message-id") or f"<uid-{uid}>",
        sender=forwarded.header(message, "from"),
        subject=forwarded.header(message, "subject"),
        date=date,
    )


class _Ledger:
    """The mail_parts rows of one mail: what an earlier run stored, and a row for every part now."""

    def __init__(self, session: Session, mailbox: Mailbox, uid: str, message_id: str) -> None:
        self.session = session
        self.key = {"mailbox": mailbox.identity, "uidvalidity": mailbox.uidvalidity, "uid": int(uid)}
        self.message_id = message_id[:500]
        self.rows = session.scalars(
            select(MailPartRow).where(*(getattr(MailPartRow, k) == v for k, v in self.key.items()))
        ).all()

    def stored(self, digest: str) -> int | None:
        for row in self.rows:
            if row.sha256 == digest and row.outcome in ("stored", "duplicate"):
                return row.document_id
        return None

    def record(self, part: str, filename: str, outcome: str, **values: Any) -> None:
        if any(
            r.part == part[:1000] and r.outcome == outcome and r.code == values.get("code") for r in self.rows
        ):
            return  # recorded by an earlier run
        self.session.add(
            MailPartRow(
                **self.key,
                message_id=self.message_id,
                part=part[:1000],
                filename=filename[:500],
                outcome=outcome,
                **values,
            )
        )


def _store_parts(
    store: Store,
    files: FileStore,
    mailbox: Mailbox,
    message: InboundMessage,
    head: _Head,
    candidates: list[FoundFile],
    outcome: MessageOutcome,
    parse_cpu: float = 0.0,
) -> None:
    """Store every candidate and record every part, in one transaction per mail.

    ``parse_cpu``: what reading the mail cost; each candidate's document carries its equal share.
    """
    each = parse_cpu / len(candidates) if candidates else 0.0
    with store.session() as session:
        ledger = _Ledger(session, mailbox, message.uid, head.message_id)
        first_with: dict[str, str] = {}
        for found in candidates:
            digest = hashlib.sha256(found.data).hexdigest()
            if digest in first_with:
                issue = PartIssue(
                    found.path, found.filename, PartRepeated.code, f"same bytes as part {first_with[digest]}"
                )
                outcome.skipped_parts.append(issue)
                continue
            first_with[digest] = found.path
            earlier = ledger.stored(digest)
            if earlier is not None:
                outcome.resumed.append(earlier)
                continue
            metadata: dict[str, Any] = {
                "channel": "email",
                "message_id": head.message_id,
                "from": head.sender,
                "subject": head.subject,
                "date": head.date,
                "part": found.path,
                "mailbox": mailbox.identity,
                "uidvalidity": mailbox.uidvalidity,
                "uid": message.uid,
            }
            if found.origin is not None:
                metadata["forwarded_from"] = found.origin.as_dict()
            if found.signature is not None:
                metadata["smime"] = found.signature.as_dict()
            source = (
                f"{mailbox.identity};uidvalidity={mailbox.uidvalidity};uid={message.uid};part={found.path}"
            )
            try:
                document = receive(
                    session,
                    files,
                    found.data,
                    filename=found.filename,
                    source=source[:500],
                    metadata=metadata,
                    actor=MAIL_ACTOR,
                    cpu_seconds=each,
                )
            except LedgerbotError as error:  # e.g. over the size limit: this part fails, the rest go on
                outcome.part_failures.append(PartIssue(found.path, found.filename, error.code, error.message))
                continue
            session.flush()
            kind = "duplicate" if document.duplicate_of else "stored"
            (outcome.duplicates if document.duplicate_of else outcome.documents).append(document.id)
            ledger.record(found.path, found.filename, kind, sha256=digest, document_id=document.id)
        for issue in outcome.skipped_parts:
            ledger.record(issue.path, issue.filename, "skipped", code=issue.code, reason=issue.reason)
        for issue in outcome.part_failures:
            ledger.record(issue.path, issue.filename, "failed", code=issue.code, reason=issue.reason)


def _take_in(
    store: Store,
    files: FileStore,
    mailbox: Mailbox,
    message: InboundMessage,
    settings: MailSettings,
    link_fetcher: Callable[[str, MailSettings], FoundFile],
    trust: Sequence[Any] | None,
    outcome: MessageOutcome,
) -> None:
    meter = CpuMeter()
    parsed = parse_message(message.raw)
    head = _head(parsed, message.uid)
    outcome.message_id, outcome.subject = head.message_id, head.subject
    found = contents(parsed, raw=message.raw, trust=trust)
    outcome.skipped_parts.extend(found.skipped)
    outcome.part_failures.extend(found.failures)
    outcome.notes.extend(found.notes)
    candidates = list(found.files)
    refused: list[LedgerbotError] = []
    # An image the HTML body shows (a logo) is stored, but it is not the invoice attachment that
    # makes a body link unnecessary.
    attached = [f for f in candidates if not f.embedded]
    if found.links and (not attached or settings.follow_links == "always"):
        for url in found.links:
            try:
                candidates.append(link_fetcher(url, settings))
            except LinkNotAllowed as error:
                refused.append(error)
                outcome.notes.append(f"link not followed: {error}")
            except LedgerbotError as error:
                outcome.part_failures.append(PartIssue(f"link:{url}", url, error.code, error.message))
            except Exception as error:  # a link is a part: whatever it raises is its own failure
                reason = f"cannot fetch the link: {type(error).__name__}: {error}"[:500]
                outcome.part_failures.append(PartIssue(f"link:{url}", url, MailUnreadable.code, reason))
    elif found.links:
        outcome.notes.append(
            f"{len(found.links)} body link(s) not followed: the mail has invoice attachments"
        )
    _store_parts(store, files, mailbox, message, head, candidates, outcome, meter.lap())
    if outcome.documents or outcome.duplicates or outcome.resumed:
        return
    # Nothing taken from this mail: it fails as a whole (tagged, left in the folder for a person).
    if outcome.part_failures:
        first = outcome.part_failures[0]
        raise BusinessError(f"no document taken: part {first.path}: {first.reason}", code=first.code)
    if refused:
        raise refused[0]
    raise NoDocumentInMail("the mail has no invoice attachment or link")


def run_mail_intake(
    store: Store,
    files: FileStore,
    mailbox: Mailbox,
    settings: MailSettings,
    *,
    link_fetcher: Callable[[str, MailSettings], FoundFile] = fetch_link,
) -> IntakeReport:
    from ledgerbot.mail.smime import load_trust_store

    trust = load_trust_store(settings.smime_trust_store) if settings.smime_trust_store else None
    report = IntakeReport()
    for message in mailbox.messages():
        outcome = MessageOutcome(uid=message.uid)
        report.messages.append(outcome)
        try:
            _take_in(store, files, mailbox, message, settings, link_fetcher, trust, outcome)
        except (SQLAlchemyError, OSError):
            raise  # the store or the disk failed, not this mail: the run stops and is retried
        except LedgerbotError as error:
            outcome.error = error.as_dict()
        except Exception as error:  # whatever else one mail raises is that mail's failure
            outcome.error = MailUnreadable(
                f"cannot read the mail: {type(error).__name__}: {error}"[:500]
            ).as_dict()
        try:
            if outcome.error:
                mailbox.mark_failed(message.uid, outcome.error["code"])
                continue
            codes = sorted({issue.code for issue in outcome.part_failures})
            if codes:
                mailbox.tag(message.uid, [settings.code_keyword_prefix + code for code in codes])
        except Exception as error:  # a server that refuses keywords: the failure is still reported here
            outcome.notes.append(f"could not tag the mail in the mailbox: {type(error).__name__}")
            if outcome.error:
                continue
        mailbox.mark_processed(message.uid)
    return report
