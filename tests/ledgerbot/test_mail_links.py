"""Body links: never at the cost of an attachment, redirects within allowed hosts, downloads sniffed."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from ledgerbot import runner
from ledgerbot.core.settings import InvalidSetting, get_settings, load_section, parse_host_list
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.mail.intake import ImapMailbox, IntakeReport, MailSettings, run_mail_intake
from sandbox import mailserver
from tests.ledgerbot.mails import PASSWORD, PNG, USER, deliver, folder, mail, pdf

LOGIN_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>...</form></body></html>"


class _Portal(http.server.BaseHTTPRequestHandler):
    """A supplier portal: files, signed-URL redirects, a redirect loop, an off-site hop, a login wall."""

    def do_GET(self) -> None:
        routes: dict[str, tuple[int, dict[str, str], bytes]] = {
            "/files/RE-1.pdf": (200, {"Content-Type": "application/pdf"}, pdf("portal 1")),
            "/signed/invoice": (302, {"Location": "/signed/hop2"}, b""),
            "/signed/hop2": (302, {"Location": "/files/RE-2.pdf?sig=abc"}, b""),
            "/files/RE-2.pdf?sig=abc": (200, {"Content-Type": "application/pdf"}, pdf("portal 2")),
            "/loop/invoice": (302, {"Location": "/loop/invoice"}, b""),
            "/away/invoice": (302, {"Location": "http://cdn.elsewhere.test/x.pdf"}, b""),
            "/login/invoice.pdf": (200, {"Content-Type": "text/html"}, LOGIN_PAGE),
            "/download": (
                200,
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": 'attachment; filename="RE-3"',
                },
                pdf("portal 3"),
            ),
        }
        status, headers, body = routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _run(store: Store, files: FileStore, settings: MailSettings) -> IntakeReport:
    mailbox = ImapMailbox(settings)
    try:
        return run_mail_intake(store, files, mailbox, settings)
    finally:
        mailbox.close()


def _names(store: Store) -> list[str]:
    with store.session() as session:
        return sorted(d.filename for d in session.scalars(select(DocumentRow)))


def test_a_footer_link_never_costs_the_attachment(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, portal: str
) -> None:
    footer = "View your invoice online: https://portal.vendor.test/invoice/view?id=1"
    deliver(settings, mail("with footer", [("inv.pdf", pdf("attached"), "application/pdf")], body=footer))
    summary = _run(sqlite_store, file_store, settings).summary()  # default: empty allow-list
    assert (summary["documents"], summary["failures"], summary["part_failures"]) == (1, [], [])
    assert "not followed" in summary["notes"][0]["note"]
    assert list(folder(settings, settings.processed_folder)) == ["with footer"]


def test_links_follow_redirects_within_allowed_hosts_and_refuse_login_pages(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, portal: str
) -> None:
    deliver(
        settings,
        mail("plain", body=f"Invoice: {portal}/files/RE-1.pdf"),
        mail("signed url", html=f'<a href="{portal}/signed/invoice">Download invoice</a>'),
        mail("named by header", body=f"{portal}/download"),
        mail("login wall", body=f"Invoice: {portal}/login/invoice.pdf"),
        mail("loop", body=f"Invoice: {portal}/loop/invoice"),
        mail("off site", body=f"Invoice: {portal}/away/invoice"),
        mail("other host", body="Invoice: https://portal.vendor.test/invoice.pdf"),
    )
    allowed = settings.model_copy(update={"link_hosts": ["127.0.0.1"], "max_link_redirects": 3})
    summary = _run(sqlite_store, file_store, allowed).summary()

    assert _names(sqlite_store) == ["RE-1.pdf", "RE-2.pdf", "RE-3.pdf"]
    failures = {f["subject"]: f["code"] for f in summary["failures"]}
    assert failures == {"login wall": "E715", "loop": "E712", "off site": "E711", "other host": "E711"}
    login = next(f for f in summary["failures"] if f["subject"] == "login wall")
    assert "HTML page" in login["message"]
    # Refused and failed mails stay, tagged with their codes; nothing of theirs was stored.
    remaining = folder(settings, settings.folder)
    assert {"LedgerbotFailed", "LedgerbotE715"} <= remaining["login wall"]
    assert sorted(folder(settings, settings.processed_folder)) == ["named by header", "plain", "signed url"]


def test_links_are_followed_beside_attachments_only_when_set(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, portal: str
) -> None:
    deliver(
        settings, mail("both", [("att.pdf", pdf("att"), "application/pdf")], body=f"{portal}/files/RE-1.pdf")
    )
    always = settings.model_copy(update={"link_hosts": ["127.0.0.1"], "follow_links": "always"})
    assert _run(sqlite_store, file_store, always).summary()["documents"] == 2
    assert _names(sqlite_store) == ["RE-1.pdf", "att.pdf"]


def test_a_logo_in_the_html_body_does_not_stop_the_link(
    sqlite_store: Store, file_store: FileStore, settings: MailSettings, portal: str
) -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "billing@acme.test", "portal mail", "<portal@a>"
    msg.set_content("Your invoice is ready.")
    msg.add_alternative(
        f'<img src="cid:logo"><a href="{portal}/files/RE-1.pdf">Download invoice</a>', subtype="html"
    )
    html = msg.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo>")
    deliver(settings, msg.as_bytes())
    allowed = settings.model_copy(update={"link_hosts": ["127.0.0.1"]})
    assert _run(sqlite_store, file_store, allowed).summary()["failures"] == []
    assert _names(sqlite_store) == ["RE-1.pdf", "part-1-1.png"]


@pytest.mark.parametrize(
    ("value", "hosts"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("127.0.0.1, Portal.Vendor.test ,", ["127.0.0.1", "portal.vendor.test"]),
        ('["127.0.0.1", "portal.vendor.test"]', ["127.0.0.1", "portal.vendor.test"]),
        ("", []),
    ],
)
def test_link_hosts_read_as_comma_separated_or_json(
    value: str, hosts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBOT_IMAP_LINK_HOSTS", value)
    assert load_section(MailSettings).link_hosts == hosts


@pytest.mark.parametrize("value", ['["127.0.0.1",', "https://portal.vendor.test/x", "[1, 2]", "a b"])
def test_a_malformed_host_list_is_one_coded_line(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERBOT_IMAP_LINK_HOSTS", value)
    with pytest.raises(InvalidSetting) as error:
        load_section(MailSettings)
    assert error.value.code == "E806" and "\n" not in str(error.value)
    assert "LEDGERBOT_IMAP_LINK_HOSTS" in str(error.value)
    with pytest.raises(ValueError):
        parse_host_list(value)


def test_a_mailbox_wide_failure_is_reported_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, imap: mailserver.MailServer
) -> None:
    monkeypatch.setenv("LEDGERBOT_IMAP_LINK_HOSTS", "[oops")
    get_settings.cache_clear()
    assert runner.mail_intake_reported()["error"]["code"] == "E806"
    monkeypatch.setenv("LEDGERBOT_IMAP_LINK_HOSTS", "127.0.0.1")
    monkeypatch.setenv("LEDGERBOT_IMAP_PORT", str(mailserver.free_port()))
    monkeypatch.setenv("LEDGERBOT_IMAP_PASSWORD", "wrong")
    get_settings.cache_clear()
    assert runner.mail_intake_reported()["error"]["code"] == "E713"
    # The real mailbox, reachable: a clean summary.
    monkeypatch.setenv("LEDGERBOT_IMAP_HOST", imap.host)
    monkeypatch.setenv("LEDGERBOT_IMAP_PORT", str(imap.port))
    monkeypatch.setenv("LEDGERBOT_IMAP_USER", USER)
    monkeypatch.setenv("LEDGERBOT_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("LEDGERBOT_IMAP_FOLDER", "Reported")
    monkeypatch.setenv("LEDGERBOT_IMAP_PROCESSED_FOLDER", "Reported-done")
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(imap.host, imap.port).login(USER, PASSWORD) as box:
        box.folder.create("Reported")
        box.append(mail("via runner", [("r.pdf", pdf("runner"), "application/pdf")]), "Reported")
    get_settings.cache_clear()
    summary = runner.mail_intake_reported()
    assert (summary["messages"], summary["documents"], summary["failures"]) == (1, 1, [])
