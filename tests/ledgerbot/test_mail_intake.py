"""Mail intake against a real Dovecot IMAP server on loopback."""

from __future__ import annotations

import http.server
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from imap_tools import MailBoxUnencrypted
from pydantic import SecretStr
from sqlalchemy import select

from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.mail import parts
from ledgerbot.mail.intake import ImapMailbox, IntakeReport, MailboxUnavailable, run_mail_intake
from tests.ledgerbot.mails import PASSWORD, PDF_A, PDF_B, PNG, USER, XML, deliver, mail, zip_of

_mail, _deliver, _zip = mail, deliver, zip_of


def _folder_count(settings: MailSettings, folder: str) -> int:
    with MailBoxUnencrypted(settings.host, settings.port).login(USER, PASSWORD, initial_folder=folder) as box:
        return len(list(box.fetch(mark_seen=False)))


def _run(store: Store, files: FileStore, settings: MailSettings, **kwargs: Any) -> IntakeReport:
    mailbox = ImapMailbox(settings)
    try:
        return run_mail_intake(store, files, mailbox, settings, **kwargs)
    finally:
        mailbox.close()


def test_attachments_zip_and_forwarded_mail_become_documents(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    forwarded = _mail("original invoice", [("fwd.pdf", PDF_B, "application/pdf")])
    as_rfc822 = EmailMessage()
    as_rfc822["Subject"] = "FW: invoice"
    as_rfc822["Message-ID"] = "<fw2@acme.test>"
    as_rfc822.set_content("forwarding")
    as_rfc822.add_attachment(
        parts.parse_message(_mail("inner", [("inner.pdf", PDF_B + b"x", "application/pdf")]))
    )
    _deliver(
        settings,
        _mail(
            "invoice 1",
            [
                ("a.pdf", PDF_A, "application/pdf"),
                ("scan.png", PNG, "image/png"),
                ("e.xml", XML, "application/xml"),
            ],
        ),
        _mail(
            "batch",
            [
                (
                    "docs.zip",
                    _zip({"x/one.pdf": PDF_A + b"1", "two.pdf": PDF_A + b"2", "readme.txt": b"hi"}),
                    "application/zip",
                )
            ],
        ),
        _mail("fwd", [("forwarded.eml", forwarded, "application/octet-stream")]),
        as_rfc822.as_bytes(),
    )
    report = _run(sqlite_store, file_store, settings)
    summary = report.summary()
    assert summary["messages"] == 4 and summary["failed_messages"] == 0
    assert summary["documents"] == 7
    skipped = summary["skipped_parts"]
    assert [(p["filename"], p["code"]) for p in skipped] == [("readme.txt", "E775")]
    with sqlite_store.session() as s:
        docs = s.scalars(select(DocumentRow).order_by(DocumentRow.id)).all()
        assert sorted(d.filename for d in docs) == sorted(
            ["a.pdf", "scan.png", "e.xml", "one.pdf", "two.pdf", "fwd.pdf", "inner.pdf"]
        )
        first = next(d for d in docs if d.filename == "a.pdf")
        assert first.meta["subject"] == "invoice 1" and first.meta["from"] == "billing@acme.test"
        assert first.meta["channel"] == "email"
        assert {d.mime for d in docs} == {"application/pdf", "image/png", "application/xml"}
    # Processed mail is moved, never deleted.
    assert _folder_count(settings, settings.folder) == 0
    assert _folder_count(settings, settings.processed_folder) == 4


def test_a_failing_message_is_tagged_and_the_rest_go_on(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    _deliver(
        settings,
        _mail("no attachment"),
        _mail("good", [("a.pdf", PDF_A, "application/pdf")]),
        _mail("bad zip", [("b.zip", b"PK\x03\x04garbage", "application/zip")]),
    )
    summary = _run(sqlite_store, file_store, settings).summary()
    assert summary["documents"] == 1
    codes = sorted(f["code"] for f in summary["failures"])
    assert codes == ["E710", "E714"]
    # Failed mail stays in the folder, tagged, and is not picked up again.
    assert _folder_count(settings, settings.folder) == 2
    again = _run(sqlite_store, file_store, settings).summary()
    assert again["messages"] == 0


def test_body_links_are_fetched_only_from_allowed_hosts(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, tmp_path: Path
) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "RE-1001.pdf").write_bytes(PDF_B)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path / "portal"), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/RE-1001.pdf"
        _deliver(settings, _mail("link", body=f"Your invoice: {url}", html=f'<a href="{url}">Invoice</a>'))
        _deliver(settings, _mail("evil link", body="Invoice at http://203.0.113.9/invoice.pdf"))
        allowed = settings.model_copy(update={"link_hosts": ["127.0.0.1"]})
        summary = _run(sqlite_store, file_store, allowed).summary()
    finally:
        server.shutdown()
    assert summary["documents"] == 1
    assert [f["code"] for f in summary["failures"]] == ["E711"]
    with sqlite_store.session() as s:
        doc = s.scalars(select(DocumentRow)).one()
        assert doc.filename == "RE-1001.pdf" and file_store.get(doc.sha256) == PDF_B


def test_rerun_after_a_crash_does_not_store_twice(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    _deliver(settings, _mail("crash", [("a.pdf", PDF_A, "application/pdf")]))

    class CrashingBox(ImapMailbox):
        def mark_processed(self, uid: str) -> None:
            raise RuntimeError("killed before the move")

    box = CrashingBox(settings)
    with pytest.raises(RuntimeError):
        run_mail_intake(sqlite_store, file_store, box, settings)
    box.close()
    summary = _run(sqlite_store, file_store, settings).summary()
    assert summary["failed_messages"] == 0
    assert (summary["documents"], summary["resumed_documents"]) == (0, 1)
    with sqlite_store.session() as s:
        assert len(s.scalars(select(DocumentRow)).all()) == 1
    assert _folder_count(settings, settings.processed_folder) == 1


def test_same_file_in_two_mails_is_a_duplicate_delivery(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    _deliver(
        settings,
        _mail("first", [("a.pdf", PDF_A, "application/pdf")]),
        _mail("reminder", [("a-copy.pdf", PDF_A, "application/pdf")]),
    )
    summary = _run(sqlite_store, file_store, settings).summary()
    assert (summary["documents"], summary["duplicate_deliveries"]) == (1, 1)


def test_bad_credentials_fail_clearly_without_leaking_the_password(settings: MailSettings) -> None:
    wrong = settings.model_copy(update={"password": SecretStr("not-the-password")})
    with pytest.raises(MailboxUnavailable) as error:
        ImapMailbox(wrong)
    assert error.value.code == "E713"
    assert "not-the-password" not in str(error.value)
    assert "not-the-password" not in repr(wrong)


def test_zip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "MAX_ZIP_TOTAL", 1024 * 1024)
    bomb = _zip({"big.pdf": b"%PDF-" + b"0" * (3 * 1024 * 1024)})
    message = parts.parse_message(
        _mail("bomb", [("bomb.zip", bomb, "application/zip"), ("ok.pdf", PDF_A, "application/pdf")])
    )
    found = parts.contents(message)
    assert [(f.path, f.code) for f in found.failures] == [("1", "E710")]
    assert [f.filename for f in found.files] == ["ok.pdf"]
