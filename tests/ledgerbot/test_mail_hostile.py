"""No mail stops the intake, no part is lost without a record: hostile mails against a real Dovecot."""

from __future__ import annotations

import zipfile
from email.message import EmailMessage
from typing import Any

import pytest
from imap_tools import MailBoxUnencrypted
from sqlalchemy import select

from ledgerbot.core.settings import MailSettings
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow, MailPartRow
from ledgerbot.mail import intake as mail_intake
from ledgerbot.mail.intake import ImapMailbox, IntakeReport, run_mail_intake
from ledgerbot.mail.parts import FoundFile
from tests.ledgerbot.mails import (
    PASSWORD,
    USER,
    bad_crc,
    deliver,
    encrypted_entry,
    folder,
    mail,
    pdf,
    signer,
    unsupported_method,
    zip_of,
)


def _run(store: Store, files: FileStore, settings: MailSettings, **kwargs: Any) -> IntakeReport:
    mailbox = ImapMailbox(settings)
    try:
        return run_mail_intake(store, files, mailbox, settings, **kwargs)
    finally:
        mailbox.close()


def _docs(store: Store) -> list[DocumentRow]:
    with store.session() as session:
        return list(session.scalars(select(DocumentRow).order_by(DocumentRow.id)))


def _charset_mail(charset: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = (
        "billing@acme.test",
        f"cs {charset}",
        f"<cs-{charset}@a.test>",
    )
    msg.set_content("Rechnung f\xfcr M\xe4rz".encode("cp1252"), maintype="text", subtype="plain", cte="8bit")
    msg.replace_header("Content-Type", f'text/plain; charset="{charset}"')
    msg.add_attachment(pdf(f"charset {charset}"), maintype="application", subtype="pdf", filename="inv.pdf")
    return msg.as_bytes()


def _smime_encrypted_mail() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    who = signer()
    entity = b"Content-Type: application/pdf\r\n\r\n" + pdf("secret")
    der = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(entity)
        .add_recipient(who.certificate)
        .encrypt(serialization.Encoding.DER, [])
    )
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "billing@acme.test", "bad first", "<enc@a.test>"
    msg.set_content(der, maintype="application", subtype="pkcs7-mime", filename="smime.p7m")
    msg.set_param("smime-type", "enveloped-data")
    return msg.as_bytes()


def _crashing_fetcher(url: str, settings: MailSettings) -> FoundFile:
    raise KeyError("an unforeseen bug while fetching")


# (first mail, what intake must make of it: (code of the mail failure or None, note text expected))
BAD_FIRST = {
    "password_zip": (
        mail(
            "bad first",
            [("inv.zip", encrypted_entry(zip_of({"a.pdf": pdf("z")}), "a.pdf"), "application/zip")],
        ),
        ("E716", None),
    ),
    "no_attachment": (mail("bad first", body="Please pay."), ("E714", None)),
    "smime_encrypted": (_smime_encrypted_mail(), ("E719", None)),
    "unknown_charset": (_charset_mail("unknown-8bit"), (None, "did not decode")),
    "crash_while_fetching_link": (
        mail("bad first", body="Invoice: https://portal.test/invoice/1"),
        ("E770", None),
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_FIRST))
def test_a_bad_mail_first_does_not_stop_the_three_good_ones_behind_it(
    kind: str, sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    bad, (code, note) = BAD_FIRST[kind]
    good = [mail(f"good {i}", [(f"g{i}.pdf", pdf(f"good {i}"), "application/pdf")]) for i in range(3)]
    deliver(settings, bad, *good)
    hosts = settings.model_copy(update={"link_hosts": ["portal.test"]})
    summary = _run(sqlite_store, file_store, hosts, link_fetcher=_crashing_fetcher).summary()

    assert summary["messages"] == 4
    names = [d.filename for d in _docs(sqlite_store)]
    assert {"g0.pdf", "g1.pdf", "g2.pdf"} <= set(names)
    remaining = folder(settings, settings.folder)
    if code is None:
        assert summary["failures"] == [] and remaining == {}
        assert any(note in n["note"] for n in summary["notes"])
    else:
        (failure,) = summary["failures"]
        assert failure["code"] == code and failure["uid"] == "1" and failure["message"]
        assert failure["message_id"].startswith("<") and "\n" not in failure["message"]
        # The bad mail stays, tagged with the failure keyword and its code; the good ones moved.
        (flags,) = remaining.values()
        assert {"LedgerbotFailed", f"Ledgerbot{code}"} <= flags
        assert len(folder(settings, settings.processed_folder)) == 3
        # Tagged: the next run does not read it again.
        assert _run(sqlite_store, file_store, hosts).summary()["messages"] == 0


def test_the_whole_hostile_set_in_one_mailbox_and_a_good_invoice(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    deliver(settings, *(raw for raw, _ in BAD_FIRST.values()))
    deliver(settings, mail("the good one", [("good.pdf", pdf("the good one"), "application/pdf")]))
    hosts = settings.model_copy(update={"link_hosts": ["portal.test"]})
    summary = _run(sqlite_store, file_store, hosts, link_fetcher=_crashing_fetcher).summary()
    assert summary["messages"] == len(BAD_FIRST) + 1
    expected = sorted(code for _, (code, _) in BAD_FIRST.values() if code)
    assert sorted(f["code"] for f in summary["failures"]) == expected
    assert "good.pdf" in [d.filename for d in _docs(sqlite_store)]
    assert "the good one" in folder(settings, settings.processed_folder)


def test_hostile_zip_entries_each_fail_on_their_own(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    archive = zip_of(
        {"good.pdf": pdf("good"), "locked.pdf": pdf("locked"), "crc.pdf": pdf("crc"), "aes.pdf": pdf("aes")},
        method=zipfile.ZIP_STORED,
    )
    archive = unsupported_method(bad_crc(encrypted_entry(archive, "locked.pdf"), "crc.pdf"), "aes.pdf")
    locked_only = encrypted_entry(zip_of({"x.pdf": pdf("x")}), "x.pdf")
    deliver(
        settings,
        mail("mixed zip", [("batch.zip", archive, "application/zip")]),
        mail("locked zip", [("locked.zip", locked_only, "application/zip")]),
        mail("after", [("after.pdf", pdf("after"), "application/pdf")]),
    )
    summary = _run(sqlite_store, file_store, settings).summary()

    assert sorted(d.filename for d in _docs(sqlite_store)) == ["after.pdf", "good.pdf"]
    entries = {(p["part"].rsplit("/zip:", 1)[1], p["code"]) for p in summary["part_failures"]}
    assert entries == {("locked.pdf", "E716"), ("crc.pdf", "E717"), ("aes.pdf", "E717"), ("x.pdf", "E716")}
    assert [(f["subject"], f["code"]) for f in summary["failures"]] == [("locked zip", "E716")]
    # The mixed mail moved (every part stored or recorded), tagged with the entry codes.
    done = folder(settings, settings.processed_folder)
    assert {"LedgerbotE716", "LedgerbotE717"} <= done["mixed zip"] and "LedgerbotFailed" not in done[
        "mixed zip"
    ]
    with sqlite_store.session() as session:
        rows = session.scalars(select(MailPartRow).where(MailPartRow.outcome == "failed")).all()
        assert sorted(r.code or "" for r in rows) == ["E716", "E716", "E717", "E717"]


@pytest.mark.parametrize(
    "charset", ["unknown-8bit", "x-unknown", "iso-8859-8-i", "windows-874", "x-mac-roman"]
)
def test_charsets_seen_in_the_wild_decode_with_a_note(
    charset: str, sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    deliver(settings, _charset_mail(charset))
    summary = _run(sqlite_store, file_store, settings).summary()
    assert (summary["documents"], summary["failures"]) == (1, [])
    if charset in ("unknown-8bit", "x-unknown"):
        (note,) = summary["notes"]
        assert charset in note["note"] and "read as" in note["note"]


def test_same_message_id_with_other_content_is_a_new_document(
    store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    deliver(
        settings,
        mail("first", [("a.pdf", pdf("first"), "application/pdf")], message_id="<same@acme.test>"),
        mail("second", [("a.pdf", pdf("second"), "application/pdf")], message_id="<same@acme.test>"),
        mail("resent", [("a.pdf", pdf("first"), "application/pdf")], message_id="<same@acme.test>"),
    )
    summary = _run(store, file_store, settings).summary()
    assert (summary["documents"], summary["duplicate_deliveries"]) == (2, 1)
    docs = _docs(store)
    assert len({d.sha256 for d in docs}) == 2 and all(
        d.meta["message_id"] == "<same@acme.test>" for d in docs
    )


def test_uids_restarting_under_a_new_uidvalidity_do_not_hide_a_new_invoice(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    deliver(settings, mail("one", [("a.pdf", pdf("before"), "application/pdf")]))
    first = ImapMailbox(settings)
    run_mail_intake(sqlite_store, file_store, first, settings)
    first.close()
    # The folder is recreated: UIDs start at 1 again under a new UIDVALIDITY.
    with MailBoxUnencrypted(settings.host, settings.port).login(USER, PASSWORD) as box:
        box.folder.delete(settings.folder)
        box.folder.create(settings.folder)
    deliver(settings, mail("one", [("a.pdf", pdf("after"), "application/pdf")]))
    second = ImapMailbox(settings)
    assert second.uidvalidity != first.uidvalidity
    summary = run_mail_intake(sqlite_store, file_store, second, settings).summary()
    second.close()
    assert summary["documents"] == 1
    assert [d.meta["uid"] for d in _docs(sqlite_store)] == ["1", "1"]


def test_a_mail_moves_only_after_every_part_is_stored(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(
        settings,
        mail("two", [("a.pdf", pdf("a"), "application/pdf"), ("b.pdf", pdf("b"), "application/pdf")]),
    )
    real_receive = mail_intake.receive
    calls = {"n": 0}

    def disk_fails_on_second(*args: Any, **kwargs: Any) -> DocumentRow:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_receive(*args, **kwargs)

    monkeypatch.setattr(mail_intake, "receive", disk_fails_on_second)
    with pytest.raises(OSError):
        _run(sqlite_store, file_store, settings)
    # Nothing half-done: no document, the mail is still in the folder and not tagged.
    assert _docs(sqlite_store) == [] and folder(settings, settings.folder) == {"two": set()}
    monkeypatch.setattr(mail_intake, "receive", real_receive)
    summary = _run(sqlite_store, file_store, settings).summary()
    assert summary["documents"] == 2 and folder(settings, settings.folder) == {}


def test_an_empty_part_is_recorded_and_the_good_one_stored(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings
) -> None:
    deliver(
        settings,
        mail("empty", [("blank.pdf", b"", "application/pdf"), ("real.pdf", pdf("real"), "application/pdf")]),
    )
    summary = _run(sqlite_store, file_store, settings).summary()
    assert [d.filename for d in _docs(sqlite_store)] == ["real.pdf"]
    assert [(p["filename"], p["code"]) for p in summary["skipped_parts"]] == [("blank.pdf", "E718")]
    with sqlite_store.session() as session:
        outcomes = sorted((r.filename, r.outcome) for r in session.scalars(select(MailPartRow)))
    assert outcomes == [("blank.pdf", "skipped"), ("real.pdf", "stored")]


def test_mails_are_fetched_in_batches_bounded_by_count_and_bytes(settings: MailSettings) -> None:
    deliver(
        settings,
        *(
            mail(f"big {i}", [(f"b{i}.pdf", pdf("x" * 100_000 + str(i)), "application/pdf")])
            for i in range(3)
        ),
    )
    by_bytes = ImapMailbox(settings.model_copy(update={"fetch_batch_bytes": 150_000}))
    by_count = ImapMailbox(settings.model_copy(update={"fetch_batch": 2}))
    try:
        uids = by_bytes._box.uids()
        assert list(by_bytes._batches(uids)) == [["1"], ["2"], ["3"]]
        assert list(by_count._batches(uids)) == [["1", "2"], ["3"]]
        assert [m.uid for m in by_bytes.messages()] == ["1", "2", "3"]
    finally:
        by_bytes.close()
        by_count.close()
