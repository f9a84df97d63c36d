"""Wrapped and forwarded mail against a real Dovecot: TNEF, S/MIME, forwards, unnamed parts."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from sqlalchemy import select

from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.mail.intake import ImapMailbox, IntakeReport, run_mail_intake
from ledgerbot.mail.parts import parse_message
from tests.ledgerbot.mails import USER, Signer, deliver, folder, mail, pdf, signer, tnef


def _run(store: Store, files: FileStore, settings: MailSettings, **kwargs: Any) -> IntakeReport:
    mailbox = ImapMailbox(settings)
    try:
        return run_mail_intake(store, files, mailbox, settings, **kwargs)
    finally:
        mailbox.close()


def _docs(store: Store) -> dict[str, DocumentRow]:
    with store.session() as session:
        return {d.filename: d for d in session.scalars(select(DocumentRow))}


def _headers(subject: str) -> bytes:
    return (
        f"From: billing@acme.test\r\nTo: {USER}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@acme.test>\r\nDate: Tue, 03 Mar 2026 10:00:00 +0100\r\n"
    ).encode()


def _entity(document: bytes, name: str = "signed.pdf") -> bytes:
    """The MIME entity a supplier signs: a line of text and the invoice."""
    inner = EmailMessage()
    inner.set_content("Invoice attached.")
    inner.add_attachment(document, maintype="application", subtype="pdf", filename=name)
    del inner["MIME-Version"]
    return inner.as_bytes().replace(b"\n", b"\r\n")


def _detached(who: Signer, subject: str, document: bytes) -> bytes:
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(_entity(document))
        .add_signer(who.certificate, who.key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    return _headers(subject) + signed


def _opaque(who: Signer, subject: str, document: bytes) -> bytes:
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(_entity(document, "opaque.pdf"))
        .add_signer(who.certificate, who.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    body = base64.encodebytes(der).replace(b"\n", b"\r\n")
    return (
        _headers(subject)
        + b"MIME-Version: 1.0\r\n"
        + b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n'
        + body
    )


@pytest.fixture(scope="module")
def supplier() -> Signer:
    return signer()


@pytest.mark.parametrize("trusted", [True, False])
def test_smime_signed_mail_gives_its_content_and_records_the_signature(
    trusted: bool,
    supplier: Signer,
    sqlite_store: Store,
    file_store: FileStore,
    settings: MailSettings,
    tmp_path: Path,
) -> None:
    tampered = _detached(supplier, "tampered", pdf("tampered")).replace(
        b"Invoice attached.", b"Invoice attacked."
    )
    stranger = signer("someone@elsewhere.test")
    deliver(
        settings,
        _detached(supplier, "detached", pdf("detached")),
        _opaque(supplier, "opaque", pdf("opaque")),
        tampered,
        _detached(stranger, "stranger", pdf("stranger")),
    )
    if trusted:
        (tmp_path / "trust.pem").write_bytes(supplier.ca_pem)
        settings = settings.model_copy(update={"smime_trust_store": tmp_path / "trust.pem"})
    summary = _run(sqlite_store, file_store, settings).summary()

    # The content is taken whatever the signature says; the signature is recorded beside it.
    assert summary["failures"] == [] and summary["skipped_parts"] == []
    with sqlite_store.session() as session:
        documents = list(session.scalars(select(DocumentRow)))
    assert sorted(d.filename for d in documents) == ["opaque.pdf", "signed.pdf", "signed.pdf", "signed.pdf"]
    smime = {d.meta["subject"]: d.meta["smime"] for d in documents}
    assert set(smime) == {"detached", "opaque", "tampered", "stranger"}
    assert smime["detached"]["signer"] == "CN=billing@acme.test" and smime["detached"]["signed"]
    if trusted:
        assert smime["detached"]["valid"] is True and smime["opaque"]["valid"] is True
        assert smime["tampered"]["valid"] is False and "changed" in smime["tampered"]["reason"]
        assert smime["stranger"]["valid"] is False and "not trusted" in smime["stranger"]["reason"]
        invalid = [n for n in summary["notes"] if "E772" in n["note"]]
        assert len(invalid) == 2
    else:
        assert all(s["checked"] is False and s["valid"] is None for s in smime.values())


def test_outlook_winmail_dat_is_unwrapped(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    winmail = tnef([("Rechnung-77.pdf", pdf("tnef")), ("notes.txt", b"call back")])
    deliver(
        settings,
        mail("outlook", [("winmail.dat", winmail, "application/ms-tnef")]),
        mail("broken outlook", [("winmail.dat", b"not a TNEF stream at all", "application/ms-tnef")]),
    )
    summary = _run(sqlite_store, file_store, settings).summary()
    assert list(_docs(sqlite_store)) == ["Rechnung-77.pdf"]
    assert [(p["filename"], p["code"]) for p in summary["skipped_parts"]] == [("notes.txt", "E775")]
    assert [(f["subject"], f["code"]) for f in summary["failures"]] == [("broken outlook", "E771")]


def test_forwarded_mails_record_the_original_sender_beside_the_forwarder(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    original = mail(
        "Invoice 4711",
        [("orig.pdf", pdf("orig"), "application/pdf")],
        sender="Acme Billing <billing@acme.test>",
    )
    attached = EmailMessage()
    attached["From"], attached["Subject"], attached["Message-ID"] = (
        "clerk@buyer.test",
        "FW: Invoice 4711",
        "<f1@b>",
    )
    attached.set_content("see below")
    attached.add_attachment(parse_message(original))
    inline = mail(
        "Fwd: Rechnung 99",
        [("rechnung.pdf", pdf("inline"), "application/pdf")],
        body=(
            "FYI\n\n---------- Forwarded message ---------\nVon: Muster GmbH <rechnung@muster.test>\n"
            "Date: Mon, 2 Mar 2026 at 09:12\nSubject: Rechnung 99\nTo: clerk@buyer.test\n\n"
            "Anbei die Rechnung."
        ),
        sender="clerk@buyer.test",
    )
    deliver(settings, attached.as_bytes(), inline)
    assert _run(sqlite_store, file_store, settings).summary()["failures"] == []
    docs = _docs(sqlite_store)
    orig = docs["orig.pdf"].meta
    assert orig["from"] == "clerk@buyer.test"
    assert orig["forwarded_from"]["from"] == "Acme Billing <billing@acme.test>"
    assert orig["forwarded_from"]["subject"] == "Invoice 4711" and orig["forwarded_from"]["date"]
    quoted = docs["rechnung.pdf"].meta
    assert quoted["from"] == "clerk@buyer.test"
    assert quoted["forwarded_from"] == {
        "from": "Muster GmbH <rechnung@muster.test>",
        "date": "Mon, 2 Mar 2026 at 09:12",
        "subject": "Rechnung 99",
        "message_id": "",
        "how": "inline",
    }


def test_unnamed_and_oddly_named_parts_get_names_from_their_type(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "billing@acme.test", "unnamed", "<unnamed@a>"
    msg.set_content("scan inline")
    msg.add_attachment(pdf("inline"), maintype="application", subtype="octet-stream", disposition="inline")
    msg.add_attachment(
        pdf("dotted"), maintype="application", subtype="octet-stream", filename="Invoice No. 123"
    )
    deliver(settings, msg.as_bytes())
    summary = _run(sqlite_store, file_store, settings).summary()
    assert summary["documents"] == 2
    assert sorted(_docs(sqlite_store)) == ["Invoice No. 123.pdf", "part-1.pdf"]
    assert list(folder(settings, settings.processed_folder)) == ["unnamed"]
