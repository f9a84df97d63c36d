"""Mail intake benchmark: 200 mails of mixed real-world shapes in a private Dovecot, then one intake run.

The mailbox holds plain invoices, several attachments per mail, ZIPs, forwarded mails (attached
and inline), Outlook winmail.dat, S/MIME signed mails, unknown charsets, password-protected ZIPs,
empty parts, body links to a local portal and repeated deliveries: about 400 parts. Each side
runs in its own process so that its peak RSS is its own:

- ``ledgerbot``: ``run_mail_intake`` into a fresh SQLite store (every part stored or recorded);
- ``imap-tools loop``: what a user would write first: fetch every mail and save
  ``msg.attachments`` to a folder (no unwrapping, no store, no records).

Prints one JSON line per side and a summary line with the targets (under 60 s and 600 MB for
ledgerbot); never asserts. Timings on a shared machine vary with its load.

    .venv/bin/python benchmarks/bench_mail_intake.py --mails 200
"""

from __future__ import annotations

import argparse
import http.server
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from imap_tools import MailBoxUnencrypted  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from ledgerbot.core.store import FileStore, Store  # noqa: E402
from ledgerbot.mail.intake import ImapMailbox, MailSettings, run_mail_intake  # noqa: E402
from ledgerbot.mail.parts import parse_message  # noqa: E402
from sandbox import mailserver  # noqa: E402
from tests.ledgerbot.mails import encrypted_entry, mail, signer, tnef, zip_of  # noqa: E402

USER, PASSWORD = "bench@ledgerbot.test", "bench-imap-pass"
FOLDER = "INBOX"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _pdf(rng: random.Random, tag: str) -> bytes:
    # A scanned or generated invoice is tens to hundreds of KB; the body is incompressible like images.
    return b"%PDF-1.4\n% " + tag.encode() + b"\n" + rng.randbytes(rng.randint(40_000, 250_000)) + b"\n%%EOF\n"


def _signed(rng: random.Random, subject: str, who: Any) -> bytes:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    inner = EmailMessage()
    inner.set_content("Invoice attached.")
    inner.add_attachment(_pdf(rng, subject), maintype="application", subtype="pdf", filename="signed.pdf")
    del inner["MIME-Version"]
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(inner.as_bytes().replace(b"\n", b"\r\n"))
        .add_signer(who.certificate, who.key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    head = f"From: billing@acme.test\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@b>\r\n"
    return head.encode() + signed


def build_mails(count: int, portal: str, seed: int = 7) -> list[bytes]:
    """``count`` mails in a fixed mix of shapes (same seed, same mailbox)."""
    rng = random.Random(seed)
    who = signer()
    pdf_type = "application/pdf"
    out: list[bytes] = []
    for i in range(count):
        kind = i % 20
        subject = f"bench {i}"
        if kind in (0, 1, 2):  # one invoice
            out.append(mail(subject, [(f"inv-{i}.pdf", _pdf(rng, subject), pdf_type)]))
        elif kind in (3, 4):  # an invoice and the supplier's terms
            attachments = [
                (f"inv-{i}.pdf", _pdf(rng, subject), pdf_type),
                ("terms.pdf", _pdf(rng, "terms"), pdf_type),
            ]
            out.append(mail(subject, attachments))
        elif kind in (5, 6, 7):  # invoice, delivery note, e-invoice XML and a text note
            xml = f"<?xml version='1.0'?><Invoice><ID>{i}</ID></Invoice>".encode()
            out.append(
                mail(
                    subject,
                    [
                        (f"inv-{i}.pdf", _pdf(rng, subject), pdf_type),
                        (f"dn-{i}.pdf", _pdf(rng, subject + " dn"), pdf_type),
                        (f"inv-{i}.xml", xml, "application/xml"),
                        ("payment-terms.txt", b"Payable within 30 days.", "text/plain"),
                    ],
                )
            )
        elif kind in (8, 9):  # a ZIP of five invoices
            entries = {f"batch/{i}-{n}.pdf": _pdf(rng, f"{subject} {n}") for n in range(5)}
            out.append(mail(subject, [(f"batch-{i}.zip", zip_of(entries), "application/zip")]))
        elif kind == 10:  # forwarded as an attached message
            original = mail(f"orig {i}", [(f"orig-{i}.pdf", _pdf(rng, subject), pdf_type)])
            forward = EmailMessage()
            forward["From"], forward["Subject"], forward["Message-ID"] = (
                "clerk@b.test",
                f"FW: {i}",
                f"<fw{i}@b>",
            )
            forward.set_content("see attached")
            forward.add_attachment(parse_message(original))
            out.append(forward.as_bytes())
        elif kind == 11:  # Outlook winmail.dat
            winmail = tnef([(f"outlook-{i}.pdf", _pdf(rng, subject))])
            out.append(mail(subject, [("winmail.dat", winmail, "application/ms-tnef")]))
        elif kind == 12:  # S/MIME signed
            out.append(_signed(rng, subject, who))
        elif kind == 13:  # unknown charset in the body
            msg = EmailMessage()
            msg["From"], msg["Subject"], msg["Message-ID"] = "b@a.test", subject, f"<cs{i}@a>"
            msg.set_content(
                "Rechnung f\xfcr M\xe4rz".encode("cp1252"), maintype="text", subtype="plain", cte="8bit"
            )
            msg.replace_header("Content-Type", 'text/plain; charset="unknown-8bit"')
            msg.add_attachment(
                _pdf(rng, subject), maintype="application", subtype="pdf", filename=f"cs-{i}.pdf"
            )
            out.append(msg.as_bytes())
        elif kind == 14:  # a password-protected ZIP
            locked = encrypted_entry(zip_of({"locked.pdf": _pdf(rng, subject)}), "locked.pdf")
            out.append(mail(subject, [("locked.zip", locked, "application/zip")]))
        elif kind == 15:  # an empty part beside the invoice
            out.append(
                mail(subject, [("empty.pdf", b"", pdf_type), (f"real-{i}.pdf", _pdf(rng, subject), pdf_type)])
            )
        elif kind == 16:  # footer link beside the attachment (not followed)
            body = "View online: https://portal.vendor.test/invoice/view"
            out.append(mail(subject, [(f"att-{i}.pdf", _pdf(rng, subject), pdf_type)], body=body))
        elif kind == 17:  # link only, to the local portal
            out.append(mail(subject, body=f"Your invoice: {portal}/invoice-{i}.pdf"))
        else:  # the same invoice delivered twice (a reminder): kinds 18 and 19 carry the same bytes
            same = random.Random(i // 20)
            out.append(mail(subject, [(f"dup-{i}.pdf", _pdf(same, "dup"), pdf_type)]))
    return out


def _portal() -> tuple[http.server.ThreadingHTTPServer, str]:
    body = b"%PDF-1.4\n% portal invoice\n" + random.Random(1).randbytes(80_000) + b"\n%%EOF\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body) + len(self.path)))
            self.end_headers()
            self.wfile.write(body + self.path.encode())  # each link its own bytes

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _settings(host: str, port: int) -> MailSettings:
    return MailSettings(
        host=host,
        port=port,
        user=USER,
        password=SecretStr(PASSWORD),
        folder=FOLDER,
        processed_folder="Processed",
        link_hosts=["127.0.0.1"],
    )


def _peak_rss_mb() -> float:
    # VmHWM is this process image's own high-water mark; ru_maxrss would include the parent's
    # memory that the child inherited before exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_ledgerbot(port: int, work: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{work / 'bench.db'}")
    store.migrate()
    files = FileStore(work / "files")
    settings = _settings("127.0.0.1", port)
    start = time.perf_counter()
    mailbox = ImapMailbox(settings)
    try:
        summary = run_mail_intake(store, files, mailbox, settings).summary()
    finally:
        mailbox.close()
    seconds = time.perf_counter() - start
    parts = (
        summary["documents"]
        + summary["duplicate_deliveries"]
        + summary["resumed_documents"]
        + len(summary["skipped_parts"])
        + len(summary["part_failures"])
    )
    return {
        "side": "ledgerbot",
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "mails": summary["messages"],
        "parts_accounted": parts,
        "documents": summary["documents"],
        "duplicate_deliveries": summary["duplicate_deliveries"],
        "skipped_parts": len(summary["skipped_parts"]),
        "part_failures": len(summary["part_failures"]),
        "failed_mails": summary["failed_messages"],
    }


def run_baseline(port: int, work: Path) -> dict[str, Any]:
    """The loop a user writes first with imap-tools: save every attachment of every mail."""
    out = work / "attachments"
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    saved = mails = 0
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD, initial_folder=FOLDER) as box:
        for msg in box.fetch(mark_seen=False, bulk=20):
            mails += 1
            for index, attachment in enumerate(msg.attachments):
                (out / f"{msg.uid}-{index}-{Path(attachment.filename or 'part').name}").write_bytes(
                    attachment.payload
                )
                saved += 1
    return {
        "side": "imap-tools loop",
        "seconds": round(time.perf_counter() - start, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "mails": mails,
        "files_saved": saved,
    }


def _child(role: str, port: int, work: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--role", role, "--port", str(port), "--work", str(work)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _deliver(port: int, mails: list[bytes]) -> None:
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        for raw in mails:
            box.append(raw, FOLDER)


def main(argv: list[str] | None = None) -> Iterator[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--role", choices=["ledgerbot", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        yield (run_ledgerbot if args.role == "ledgerbot" else run_baseline)(args.port, args.work)
        return
    work = Path(tempfile.mkdtemp(prefix="ledgerbot-bench-mail-"))
    portal, portal_url = _portal()
    try:
        with mailserver.running({USER: PASSWORD}) as server:
            _say(f"building {args.mails} mails")
            mails = build_mails(args.mails, portal_url)
            _say(f"delivering {len(mails)} mails ({sum(map(len, mails)) / 1e6:.1f} MB) to Dovecot")
            _deliver(server.port, mails)
            _say("imap-tools fetch-all loop")
            baseline = _child("baseline", server.port, work / "baseline")
            yield baseline
            _say("ledgerbot intake")
            ours = _child("ledgerbot", server.port, work / "ledgerbot")
            yield ours
            yield {
                "summary": "mail intake",
                "ledgerbot_seconds": ours["seconds"],
                "ledgerbot_peak_rss_mb": ours["peak_rss_mb"],
                "baseline_seconds": baseline["seconds"],
                "baseline_peak_rss_mb": baseline["peak_rss_mb"],
                "target": "under 60 s and 600 MB",
                "within_target": ours["seconds"] < 60 and ours["peak_rss_mb"] < 600,
            }
    finally:
        portal.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    for line in main():
        print(json.dumps(line), flush=True)
