"""The end-to-end demo: a generated batch arrives by mail and goes all the way into an ERP.

Starts the target ERP (the sandbox ERP, or a real Tryton set up, seeded with the batch's
suppliers, orders and receipts and served on a loopback port) and a private IMAP server, mails
a generated batch (with injected mismatches) to the AP mailbox, runs every robot once (ERP
pull, mail intake, processing, posting), then checks the ERP's posted invoices against the
store, summarises and stops what it started.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ledgerbot.core.errors import LedgerbotError
from sandbox.demo_targets import DemoTargetName

MAILBOX_USER, MAILBOX_PASSWORD = "ap@ledgerbot.demo", "demo-imap-secret"
ERP_USER, ERP_PASSWORD = "ap-robot", "robot-pass-1"
DEMO_SEED = 2026
TRAINING_SEED = 11
# The document classifier also learns from documents of drawn layouts, receipts among them
# (photographed, scanned, printed): the ten vendor layouts alone teach it their wording, and a
# receipt that names no type looked like none of them and came out a delivery note or a letter.
CLASSIFIER_RANDOM_DOCS = 160
# Share of those drawn invoices long enough to run over several pages (the splitter's continuations).
DRAWN_MULTIPAGE = 0.3
# Multi-page bills whose later pages look unlike the first (terms, appendices, slips), some with
# a sibling bill of the same vendor: only the splitter learns from them.
SPLITTER_BUNDLES = 160


@dataclass(frozen=True)
class Delivery:
    path: Path
    truth: dict[str, Any]


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def _ledgerbot(*args: str, env: dict[str, str]) -> None:
    """Run a ledgerbot command as its own process (its progress shows on stderr)."""
    subprocess.run([sys.executable, "-m", "ledgerbot", *args], check=True, env=env, stdout=subprocess.DEVNULL)


def _usable_cascade(models_dir: Path) -> bool:
    """A cascade exists and was trained on the features this code computes."""
    from classifiers.cascade import check_feature_version
    from classifiers.errors import IncompatibleModel
    from ledgerbot.core.artifacts import ArtifactStore

    artifacts = ArtifactStore(models_dir)
    version = artifacts.latest_version("cascade")
    if version is None:
        return False
    try:
        check_feature_version(artifacts.resolve("cascade", version))
    except IncompatibleModel as error:
        _say(f"[{error.code}] {error.message}; training a new one")
        return False
    return True


def _usable_ranker(models_dir: Path) -> bool:
    """A ranker exists that the extractor would use (not one trained on an older feature set)."""
    from extractors.generic.ranking import HeuristicScorer, load_scorer

    return not isinstance(load_scorer(models_dir), HeuristicScorer)


def _usable_splitter(models_dir: Path) -> bool:
    """A splitter exists that this code reads (not one trained on older page signals)."""
    from classifiers.splitter import LearnedSplitter, load_splitter

    return isinstance(load_splitter(models_dir)[0], LearnedSplitter)


def _install_shipped(models_dir: Path, env: dict[str, str]) -> bool:
    """The shipped classifier and splitter, copied in when this code can use them."""
    from classifiers.shipped import SHIPPED_MODELS, provenance

    made = provenance()
    if made is None or not (_usable_cascade(SHIPPED_MODELS) and _usable_splitter(SHIPPED_MODELS)):
        return False
    _say(f"installing the models shipped with the code (code {str(made.get('code_version'))[:10]})")
    _ledgerbot("models", "install-shipped", "--models-dir", str(models_dir), env=env)
    return True


def _corpus(out: Path, *options: str, env: dict[str, str]) -> None:
    """A generated dev corpus of the training seed."""
    _ledgerbot("sandbox", "corpus", str(out), "--seed", str(TRAINING_SEED), *options, env=env)


def ensure_models(models_dir: Path, work: Path, env: dict[str, str], *, shipped: bool = True) -> None:
    """Models for the demo: those in ``models_dir``, else the ones shipped with the code
    (``make models``), else trained here once, on a generated dev corpus."""
    # Training runs with the persistent var/ as home, so its text-layer cache outlives a demo.
    env = {**env, "LEDGERBOT_HOME": str(work), "LEDGERBOT_MODELS": str(models_dir)}
    have_cascade = _usable_cascade(models_dir)
    have_ranker = _usable_ranker(models_dir)
    have_splitter = _usable_splitter(models_dir)
    if shipped and not (have_cascade and have_splitter) and _install_shipped(models_dir, env):
        have_cascade, have_splitter = _usable_cascade(models_dir), _usable_splitter(models_dir)
    if have_cascade:
        # A transformer trained before its ONNX export reads documents only through torch: add
        # it. A failed export leaves torch reading them, and the demo goes on.
        export = ["models", "export-onnx", "--models-dir", str(models_dir)]
        subprocess.run([sys.executable, "-m", "ledgerbot", *export], env=env, stdout=subprocess.DEVNULL)
    if have_cascade and have_ranker and have_splitter:
        _say(f"models found in {models_dir}")
        return
    corpus = work / "training-corpus"
    if not (corpus / "manifest.json").exists():
        _say("generating the training corpus (development layouts only)")
        _corpus(corpus, "--n", "420", "--split", "dev", env=env)
    drawn = work / "training-random"
    if not (have_cascade and have_splitter) and not (drawn / "manifest.json").exists():
        _say("generating documents in drawn layouts, receipts and long invoices among them")
        _corpus(
            drawn,
            *("--n", str(CLASSIFIER_RANDOM_DOCS), "--layouts", "random", "--receipts"),
            *("--multipage", str(DRAWN_MULTIPAGE)),
            env=env,
        )
    if not have_cascade:
        _say("training the document classifier (baseline + MiniLM transformer), a few minutes once")
        _ledgerbot("train", "classifier", str(corpus), str(drawn), "--models-dir", str(models_dir), env=env)
    if not have_splitter:
        # After the classifier: the text layers are cached by then, so this takes seconds. The
        # drawn layouts bring receipts, photographs and continuation pages of every kind.
        bundles = work / "training-bundles"
        if not (bundles / "manifest.json").exists():
            _say("generating multi-page bills with terms, appendices and slips for the splitter")
            _ledgerbot(
                *("sandbox", "bundles", str(bundles)),
                *("--n", str(SPLITTER_BUNDLES), "--seed", str(TRAINING_SEED)),
                env=env,
            )
        _say("training the splitter (where documents begin in a stacked file)")
        _ledgerbot(
            *("train", "splitter", str(corpus), str(drawn), str(bundles)),
            *("--models-dir", str(models_dir)),
            env=env,
        )
    if not have_ranker:
        _say("training the extractor's candidate ranker")
        _ledgerbot("train", "extractor", str(corpus), env=env)


def choose_batch(corpus: Path) -> list[Delivery]:
    """One file per logical document: some originals replaced by their scan or e-invoice twin."""
    truths = {
        p.with_suffix(""): json.loads(p.read_text())
        for p in sorted(corpus.glob("*.json"))
        if p.name != "manifest.json"
    }
    files = {p.with_suffix(""): p for p in sorted(corpus.iterdir()) if p.suffix != ".json" and p.is_file()}
    twins: dict[str, Path] = {}
    for stem, truth in truths.items():
        if truth.get("source_stem") and stem in files:
            twins.setdefault(truth["source_stem"], files[stem])
    deliveries = []
    for stem, truth in truths.items():
        if truth.get("source_stem") or stem not in files:
            continue
        chosen = twins.get(stem.name, files[stem])
        deliveries.append(Delivery(chosen, json.loads(chosen.with_suffix(".json").read_text())))
    return deliveries


def _mail(subject: str, sender: str, attachments: list[tuple[str, bytes]], body: str = "") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, MAILBOX_USER, subject
    message["Message-ID"] = f"<{abs(hash((subject, sender, len(attachments))))}@supplier.demo>"
    message.set_content(body or "Please find our document attached.\n\nKind regards")
    for name, data in attachments:
        maintype, subtype = ("application", "pdf")
        if name.endswith(".png"):
            maintype, subtype = "image", "png"
        elif name.endswith(".xml"):
            subtype = "xml"
        elif name.endswith(".zip"):
            subtype = "zip"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def build_mails(deliveries: list[Delivery], portal_url: str, portal_dir: Path) -> list[bytes]:
    """Mail the batch the way suppliers do: mostly one document per mail, some bundles, a ZIP, a link."""
    rng = random.Random(DEMO_SEED)
    pending = list(deliveries)
    mails: list[bytes] = []
    index = 0
    while pending:
        index += 1
        roll = rng.random()
        if roll < 0.08 and len(pending) >= 3:
            bundle, pending = pending[:3], pending[3:]
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for item in bundle:
                    archive.writestr(item.path.name, item.path.read_bytes())
            mails.append(
                _mail(
                    f"Documents batch {index}",
                    "billing@supplier.demo",
                    [(f"documents-{index}.zip", buffer.getvalue())],
                )
            )
        elif roll < 0.14:
            item, pending = pending[0], pending[1:]
            shutil.copy(item.path, portal_dir / item.path.name)
            mails.append(
                _mail(
                    f"Your invoice is ready ({index})",
                    "portal@supplier.demo",
                    [],
                    body=f"Download your invoice: {portal_url}/{item.path.name}\n",
                )
            )
        elif roll < 0.3 and len(pending) >= 2:
            pair, pending = pending[:2], pending[2:]
            mails.append(
                _mail(
                    f"Documents {index}",
                    "accounts@supplier.demo",
                    [(p.path.name, p.path.read_bytes()) for p in pair],
                )
            )
        else:
            item, pending = pending[0], pending[1:]
            mails.append(
                _mail(
                    f"Document {item.path.stem}",
                    "ar@supplier.demo",
                    [(item.path.name, item.path.read_bytes())],
                )
            )
    return mails


@contextmanager
def supplier_portal(folder: Path) -> Iterator[str]:
    """A local web server standing in for a supplier's download portal."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@dataclass(frozen=True)
class DemoTarget:
    """The ERP the demo posts into: where a person opens it, the settings that reach it, and the
    check of its books against the store (``erp_posted_invoices``, ``erp_agrees_with_store``, ...)."""

    name: DemoTargetName
    url: str
    env: dict[str, str]
    books: Callable[[], dict[str, Any]]


def erp_posted(erp_db: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(erp_db) as conn:
        rows = conn.execute("SELECT vendor_id, invoice_number, total FROM invoices").fetchall()
    return {(v, n, str(t)) for v, n, t in rows}


def sandbox_books(erp_db: Path) -> dict[str, Any]:
    """The sandbox ERP's invoices (vendor, number, total) against the store's posted documents."""
    from decimal import Decimal

    from ledgerbot.core.domain import ExtractionResult
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.models import DocumentRow
    from ledgerbot.core.store.queries import latest_extraction

    store_posted = set()
    with get_store().session() as s:
        for d in s.scalars(select(DocumentRow).where(DocumentRow.state == "posted")):
            row = latest_extraction(s, d.id)
            assert row is not None
            result = ExtractionResult.model_validate(row.result)
            total = result.fields.total if result.fields.total is not None else Decimal(0)
            store_posted.add((d.vendor_id or "", result.fields.invoice_number or "", str(total)))
    erp = {(v, n, str(Decimal(t))) for v, n, t in erp_posted(erp_db)}
    store_norm = {(v, n, str(Decimal(t))) for v, n, t in store_posted}
    return {"erp_posted_invoices": len(erp), "erp_agrees_with_store": erp == store_norm}


@contextmanager
def sandbox_target(home: Path) -> Iterator[DemoTarget]:
    """The sandbox legacy ERP in a thread, with a database of its own in ``home``."""
    from sandbox.erp.server import serve_in_thread

    erp_db = home / "erp.db"
    with serve_in_thread(erp_db, session_ttl=900, slow_every=15, slow_seconds=1.0) as erp_url:
        env = {
            "LEDGERBOT_TARGET": "sandbox",
            "LEDGERBOT_ERP_URL": erp_url,
            "LEDGERBOT_ERP_USER": ERP_USER,
            "LEDGERBOT_ERP_PASSWORD": ERP_PASSWORD,
        }
        yield DemoTarget("sandbox", erp_url, env, lambda: sandbox_books(erp_db))


def batch_orders(corpus: Path, deliveries: list[Delivery]) -> tuple[Any, list[str]]:
    """The master data the batch was generated from, and the purchase orders its documents name
    (printed or, where a mismatch misprints it, the real one)."""
    from sandbox.masterdata import DEFAULT_SEED, generate_master_data

    manifest = json.loads((corpus / "manifest.json").read_text())
    master = generate_master_data(manifest.get("master_seed") or DEFAULT_SEED)
    named = set()
    for delivery in deliveries:
        named.add((delivery.truth.get("fields") or {}).get("po_number"))
        for mismatch in delivery.truth.get("mismatches") or []:
            named.add((mismatch.get("detail") or {}).get("real_po"))
    return master, [po.po_number for po in master.purchase_orders if po.po_number in named]


@contextmanager
def tryton_target(home: Path, corpus: Path, deliveries: list[Delivery]) -> Iterator[DemoTarget]:
    """A real Tryton: installed once (pip, npm), a database seeded with the batch's suppliers,
    orders and receipts (built once, copied here), trytond on a free loopback port, stopped after."""
    from adapters.tryton.client import TrytonErp
    from ledgerbot.core.store import get_store
    from sandbox.corpus.planner import TAX_RATES
    from sandbox.tryton.books import check_books
    from sandbox.tryton.environment import (
        ROBOT_LOGIN,
        ROBOT_PASSWORD,
        ensure_installed,
        running_tryton,
        seed_payload,
        seeded_database,
    )

    install = ensure_installed()
    master, orders = batch_orders(corpus, deliveries)
    template = seeded_database(install, seed_payload(master, TAX_RATES, orders))
    with running_tryton(install, template, home / "tryton") as server:

        def books() -> dict[str, Any]:
            with TrytonErp(server.url, server.database, ROBOT_LOGIN, ROBOT_PASSWORD, mode="rpc") as erp:
                return check_books(get_store(), erp).summary()

        env = {
            "LEDGERBOT_TARGET": "tryton",
            "LEDGERBOT_ERP_URL": server.url,
            "LEDGERBOT_ERP_DATABASE": server.database,
            "LEDGERBOT_ERP_USER": ROBOT_LOGIN,
            "LEDGERBOT_ERP_PASSWORD": ROBOT_PASSWORD,
            "LEDGERBOT_ERP_MODE": "ui",
        }
        yield DemoTarget("tryton", server.client_url(), env, books)


def summarise(target: DemoTarget, deliveries: list[Delivery], started: float) -> dict[str, Any]:
    from ledgerbot.core.store import get_store
    from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow
    from ledgerbot.core.store.queries import state_counts

    store = get_store()
    with store.session() as s:
        counts = state_counts(s)
        documents = s.scalars(select(DocumentRow)).all()
        straight = set(
            s.scalars(
                select(AuditEventRow.document_id).where(
                    AuditEventRow.to_state == "approved", AuditEventRow.outcome == "straight_through"
                )
            )
        )
        exception_ids = [d.id for d in documents if d.state == "exception"]
        reasons = Counter(
            code
            for code in s.scalars(
                select(ExceptionRow.code).where(
                    ExceptionRow.document_id.in_(exception_ids), ExceptionRow.status == "open"
                )
            )
        )
    payable = [d for d in deliveries if d.truth.get("doc_type") in ("invoice", "credit_note")]
    injected = [d for d in payable if d.truth.get("mismatches")]
    elapsed = time.monotonic() - started
    return {
        "target": target.name,
        "documents_received": len(documents),
        "mails_sent_documents": len(deliveries),
        "by_state": {k: v for k, v in counts.items() if v},
        "auto_posted": len([d for d in documents if d.id in straight and d.state == "posted"]),
        "posted_total": counts["posted"],
        "invoices_and_credit_notes_delivered": len(payable),
        "injected_mismatches_delivered": len(injected),
        "straight_through_rate": round(
            len([d for d in documents if d.id in straight]) / max(len(payable), 1), 3
        ),
        "sent_to_review_by_reason": dict(reasons.most_common()),
        "filed_not_payable": counts["rejected"],
        "failed": counts["failed"],
        **target.books(),
        "wall_seconds": round(elapsed, 1),
        "seconds_per_document": round(elapsed / max(len(documents), 1), 2),
    }


def run_demo(var: Path, *, n: int = 60, target: DemoTargetName = "sandbox") -> dict[str, Any]:
    """Everything end to end in ``var/demo`` (reset each run); models persist in ``var/models``.

    ``target`` is the ERP posted into: the sandbox ERP, or a real Tryton through its web client.
    The robots run in this process on settings from its environment (home, models, ERP,
    mailbox); the environment and the settings read from it are put back afterwards.
    """
    saved = dict(os.environ)
    try:
        return _run_demo(var, n=n, target=target)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _reset_process_settings()


def _run_demo(var: Path, *, n: int, target: DemoTargetName) -> dict[str, Any]:
    from imap_tools import MailBoxUnencrypted

    from sandbox import mailserver

    started = time.monotonic()
    home = var / "demo"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    models = (var / "models").resolve()
    base_env = {**os.environ, "LEDGERBOT_HOME": str(home.resolve()), "LEDGERBOT_MODELS": str(models)}
    ensure_models(models, var.resolve(), base_env)

    _say(f"generating a batch of {n} documents with injected mismatches")
    corpus = home / "batch"
    _ledgerbot(
        "sandbox",
        "corpus",
        str(corpus),
        "--n",
        str(n),
        "--seed",
        str(DEMO_SEED),
        "--mismatch-rate",
        "0.2",
        env=base_env,
    )
    deliveries = choose_batch(corpus)
    portal = home / "portal"
    portal.mkdir()
    erp = tryton_target(home, corpus, deliveries) if target == "tryton" else sandbox_target(home)
    with (
        erp as erp_target,
        mailserver.running({MAILBOX_USER: MAILBOX_PASSWORD}) as imap,
        supplier_portal(portal) as portal_url,
    ):
        _say(
            f"{erp_target.name} ERP at {erp_target.url}, IMAP at {imap.host}:{imap.port}, "
            f"supplier portal at {portal_url}"
        )
        with MailBoxUnencrypted(imap.host, imap.port).login(MAILBOX_USER, MAILBOX_PASSWORD) as box:
            mails = build_mails(deliveries, portal_url, portal)
            for raw in mails:
                box.append(raw, "INBOX")
        _say(f"delivered {len(deliveries)} documents in {len(mails)} mails")
        env = {
            "LEDGERBOT_HOME": str(home.resolve()),
            "LEDGERBOT_MODELS": str(models),
            **erp_target.env,
            "LEDGERBOT_IMAP_HOST": imap.host,
            "LEDGERBOT_IMAP_PORT": str(imap.port),
            "LEDGERBOT_IMAP_USER": MAILBOX_USER,
            "LEDGERBOT_IMAP_PASSWORD": MAILBOX_PASSWORD,
            "LEDGERBOT_IMAP_LINK_HOSTS": '["127.0.0.1"]',
        }
        os.environ.update(env)
        _reset_process_settings()
        from ledgerbot import runner

        for name, step in (
            ("ERP pull", runner.erp_pull),
            ("mail intake", runner.mail_intake),
            ("processing", runner.process),
            ("posting", runner.post),
        ):
            _say(f"robot: {name}")
            outcome = step()
            _say(f"  {json.dumps({k: v for k, v in outcome.items() if k != 'details'}, default=str)}")
        summary = summarise(erp_target, deliveries, started)
    from ledgerbot.core.store import get_store
    from ledgerbot.reports import write_report

    report = write_report(
        get_store(), date.today() - timedelta(days=365), date.today(), home / "ap-report.xlsx"
    )
    summary["report"] = str(report)
    if not summary["erp_agrees_with_store"]:
        raise LedgerbotError(f"the {target} ERP's posted invoices do not agree with the store", code="E990")
    return summary


def _reset_process_settings() -> None:
    import ledgerbot.core.store.engine as engine
    from ledgerbot.core.settings import get_settings

    get_settings.cache_clear()
    engine._default = None
