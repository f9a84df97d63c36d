"""The sandbox ERP's own SQLite database: schema, seeding from master data, and the queries its screens run.

It is deliberately separate from the ledgerbot store: the ERP is the "outside system" the
robots drive through its screens, so nothing in ledgerbot may read these tables directly.
Money and quantities are stored as decimal strings, dates as ISO strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledgerbot.core.errors import LedgerbotError
from sandbox.masterdata import DEFAULT_SEED, MasterData, generate_master_data

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vendors (
    vendor_id TEXT PRIMARY KEY, name TEXT NOT NULL, tax_id TEXT, iban TEXT, bic TEXT,
    currency TEXT NOT NULL, street TEXT, postal_code TEXT, city TEXT, country TEXT
);
CREATE TABLE IF NOT EXISTS purchase_orders (
    po_number TEXT PRIMARY KEY, vendor_id TEXT NOT NULL REFERENCES vendors(vendor_id),
    currency TEXT NOT NULL, status TEXT NOT NULL, order_date TEXT, company TEXT
);
CREATE INDEX IF NOT EXISTS ix_po_vendor ON purchase_orders(vendor_id);
CREATE TABLE IF NOT EXISTS po_lines (
    po_number TEXT NOT NULL REFERENCES purchase_orders(po_number), line_no INTEGER NOT NULL,
    sku TEXT, description TEXT NOT NULL, quantity TEXT NOT NULL, unit_price TEXT NOT NULL,
    PRIMARY KEY (po_number, line_no)
);
CREATE TABLE IF NOT EXISTS receipts (
    receipt_number TEXT PRIMARY KEY, po_number TEXT NOT NULL REFERENCES purchase_orders(po_number),
    date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_receipt_po ON receipts(po_number);
CREATE TABLE IF NOT EXISTS receipt_lines (
    receipt_number TEXT NOT NULL REFERENCES receipts(receipt_number), po_line_no INTEGER NOT NULL,
    quantity TEXT NOT NULL, PRIMARY KEY (receipt_number, po_line_no)
);
CREATE TABLE IF NOT EXISTS invoices (
    doc_number TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, doc_type TEXT NOT NULL DEFAULT 'invoice',
    vendor_id TEXT NOT NULL REFERENCES vendors(vendor_id),
    invoice_number TEXT NOT NULL, invoice_number_key TEXT NOT NULL,
    invoice_date TEXT NOT NULL, due_date TEXT, po_number TEXT, currency TEXT NOT NULL,
    subtotal TEXT NOT NULL, tax_amount TEXT NOT NULL, total TEXT NOT NULL,
    external_ref TEXT, posted_by TEXT NOT NULL, posted_at TEXT NOT NULL,
    UNIQUE (vendor_id, invoice_number_key)
);
-- The ERP refuses a second posting with the same idempotency reference.
CREATE UNIQUE INDEX IF NOT EXISTS ux_invoice_ref ON invoices(external_ref) WHERE external_ref IS NOT NULL;
CREATE TABLE IF NOT EXISTS invoice_lines (
    doc_number TEXT NOT NULL REFERENCES invoices(doc_number), line_no INTEGER NOT NULL,
    sku TEXT, description TEXT, quantity TEXT NOT NULL, unit_price TEXT NOT NULL, amount TEXT NOT NULL,
    PRIMARY KEY (doc_number, line_no)
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS form_tokens (
    token TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL
);
"""

PAGE_SIZE = 20
APP_MARKER = "ledgerbot-sandbox-erp"


class ErpDatabaseError(LedgerbotError):
    """The ERP's database file cannot be used (not SQLite, or another application's)."""

    code = "E301"


@dataclass(frozen=True)
class Page:
    """One page of a list screen."""

    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def invoice_number_key(invoice_number: str) -> str:
    """The ERP's duplicate key: case and spacing do not make a different invoice."""
    return "".join(invoice_number.split()).upper()


class ErpDatabase:
    """Connections and queries; one short-lived connection per unit of work (threads differ)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, so numbering and duplicate checks cannot race."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- setup -------------------------------------------------------------------------------

    def initialise(self, seed: int = DEFAULT_SEED) -> bool:
        """Create the schema and seed master data on first start; True when it seeded."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.connect() as conn:
                self._check_owner(conn)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(SCHEMA)
            with self.transaction() as conn:
                if conn.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone():
                    return False
                self._seed(conn, generate_master_data(seed))
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", [("app", APP_MARKER), ("seed", str(seed))]
                )
        except sqlite3.DatabaseError as error:
            raise ErpDatabaseError(f"{self.path} is not a usable sandbox ERP database: {error}") from error
        return True

    def _check_owner(self, conn: sqlite3.Connection) -> None:
        """Refuse a database that belongs to something else (say, the ledgerbot store itself)."""
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        marker = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
            marker = row[0] if row else None
        if marker != APP_MARKER:
            raise ErpDatabaseError(
                f"{self.path} holds other tables, not a sandbox ERP database; choose another --db"
            )

    def seed(self) -> int | None:
        """The seed this database was created with; None when it is not (yet) an ERP database."""
        try:
            with self.connect() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()
        except sqlite3.DatabaseError:
            return None
        return int(row["value"]) if row else None

    @staticmethod
    def _seed(conn: sqlite3.Connection, data: MasterData) -> None:
        conn.executemany(
            "INSERT INTO vendors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    v.vendor_id,
                    v.name,
                    v.tax_id,
                    v.iban,
                    v.bic,
                    v.currency,
                    v.address.street if v.address else None,
                    v.address.postal_code if v.address else None,
                    v.address.city if v.address else None,
                    v.address.country if v.address else None,
                )
                for v in data.vendors
            ],
        )
        conn.executemany(
            "INSERT INTO purchase_orders VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    po.po_number,
                    po.vendor_id,
                    po.currency,
                    po.status,
                    po.order_date.isoformat() if po.order_date else None,
                    po.company,
                )
                for po in data.purchase_orders
            ],
        )
        conn.executemany(
            "INSERT INTO po_lines VALUES (?, ?, ?, ?, ?, ?)",
            [
                (po.po_number, ln.line_no, ln.sku, ln.description, str(ln.quantity), str(ln.unit_price))
                for po in data.purchase_orders
                for ln in po.lines
            ],
        )
        conn.executemany(
            "INSERT INTO receipts VALUES (?, ?, ?)",
            [(gr.receipt_number, gr.po_number, gr.date.isoformat()) for gr in data.receipts],
        )
        conn.executemany(
            "INSERT INTO receipt_lines VALUES (?, ?, ?)",
            [(gr.receipt_number, ln.po_line_no, str(ln.quantity)) for gr in data.receipts for ln in gr.lines],
        )

    def counts(self) -> dict[str, int]:
        with self.connect() as conn:
            return {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("vendors", "purchase_orders", "receipts", "invoices")
            }

    # -- list screens ------------------------------------------------------------------------

    @staticmethod
    def _page(
        conn: sqlite3.Connection, select: str, where: str, params: list[Any], order: str, page: int
    ) -> Page:
        total = conn.execute(f"SELECT COUNT(*) FROM ({select} {where})", params).fetchone()[0]
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)  # out-of-range pages show the nearest real page
        rows = conn.execute(
            f"{select} {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
        ).fetchall()
        return Page(rows=[dict(r) for r in rows], page=page, pages=pages, total=total)

    def list_vendors(self, page: int, name: str = "") -> Page:
        where, params = "", []
        if name:
            where, params = "WHERE name LIKE ? OR vendor_id = ?", [f"%{name}%", name.upper()]
        with self.connect() as conn:
            return self._page(conn, "SELECT * FROM vendors", where, params, "vendor_id", page)

    def list_orders(self, page: int, vendor_id: str = "", status: str = "") -> Page:
        clauses, params = [], []
        if vendor_id:
            clauses.append("po.vendor_id = ?")
            params.append(vendor_id.upper())
        if status:
            clauses.append("po.status = ?")
            params.append(status)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        select = (
            "SELECT po.*, v.name AS vendor_name, "
            "(SELECT COUNT(*) FROM receipts r WHERE r.po_number = po.po_number) AS receipt_count "
            "FROM purchase_orders po JOIN vendors v ON v.vendor_id = po.vendor_id"
        )
        with self.connect() as conn:
            result = self._page(conn, select, where, params, "po.po_number", page)
            for row in result.rows:
                lines = self._po_lines(conn, row["po_number"])
                row["net_value"] = sum((ln["quantity"] * ln["unit_price"] for ln in lines), Decimal(0))
                row["gr_status"] = _receipt_status(lines)
        return result

    def list_receipts(self, page: int, po_number: str = "") -> Page:
        where, params = "", []
        if po_number:
            where, params = "WHERE r.po_number = ?", [po_number.strip().upper()]
        select = (
            "SELECT r.*, po.vendor_id, v.name AS vendor_name, "
            "(SELECT COUNT(*) FROM receipt_lines rl "
            "WHERE rl.receipt_number = r.receipt_number) AS line_count "
            "FROM receipts r JOIN purchase_orders po ON po.po_number = r.po_number "
            "JOIN vendors v ON v.vendor_id = po.vendor_id"
        )
        with self.connect() as conn:
            return self._page(conn, select, where, params, "r.receipt_number", page)

    def search_invoices(
        self, page: int, vendor_id: str = "", invoice_number: str = "", external_ref: str = ""
    ) -> Page:
        clauses, params = [], []
        if vendor_id:
            clauses.append("i.vendor_id = ?")
            params.append(vendor_id.strip().upper())
        if invoice_number:
            clauses.append("i.invoice_number_key = ?")
            params.append(invoice_number_key(invoice_number))
        if external_ref:
            clauses.append("i.external_ref = ?")
            params.append(external_ref.strip())
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        select = (
            "SELECT i.*, v.name AS vendor_name FROM invoices i JOIN vendors v ON v.vendor_id = i.vendor_id"
        )
        with self.connect() as conn:
            return self._page(conn, select, where, params, "i.seq DESC", page)

    # -- detail screens ----------------------------------------------------------------------

    def vendor(self, vendor_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM vendors WHERE vendor_id = ?", (vendor_id.strip().upper(),)
            ).fetchone()
            if row is None:
                return None
            vendor = dict(row)
            vendor["order_count"] = conn.execute(
                "SELECT COUNT(*) FROM purchase_orders WHERE vendor_id = ?", (vendor["vendor_id"],)
            ).fetchone()[0]
        return vendor

    @staticmethod
    def _po_lines(conn: sqlite3.Connection, po_number: str) -> list[dict[str, Any]]:
        lines = []
        for row in conn.execute(
            "SELECT pl.*, (SELECT COALESCE(GROUP_CONCAT(rl.quantity, '|'), '') FROM receipt_lines rl "
            "JOIN receipts r ON r.receipt_number = rl.receipt_number "
            "WHERE r.po_number = pl.po_number AND rl.po_line_no = pl.line_no) AS received_list "
            "FROM po_lines pl WHERE pl.po_number = ? ORDER BY pl.line_no",
            (po_number,),
        ):
            line = dict(row)
            line["quantity"] = Decimal(line["quantity"])
            line["unit_price"] = Decimal(line["unit_price"])
            line["amount"] = (line["quantity"] * line["unit_price"]).quantize(Decimal("0.01"))
            # Summed in Python: SQLite would add the decimal strings as floats.
            received = sum((Decimal(q) for q in line.pop("received_list").split("|") if q), Decimal(0))
            line["received"] = received
            line["open"] = max(line["quantity"] - received, Decimal(0))
            lines.append(line)
        return lines

    def order(self, po_number: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT po.*, v.name AS vendor_name FROM purchase_orders po "
                "JOIN vendors v ON v.vendor_id = po.vendor_id WHERE po.po_number = ?",
                (po_number.strip().upper(),),
            ).fetchone()
            if row is None:
                return None
            order = dict(row)
            order["lines"] = self._po_lines(conn, order["po_number"])
            order["net_value"] = sum((ln["amount"] for ln in order["lines"]), Decimal(0))
            order["gr_status"] = _receipt_status(order["lines"])
            order["receipts"] = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM receipts WHERE po_number = ? ORDER BY receipt_number",
                    (order["po_number"],),
                )
            ]
        return order

    def receipt(self, receipt_number: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT r.*, po.vendor_id, v.name AS vendor_name FROM receipts r "
                "JOIN purchase_orders po ON po.po_number = r.po_number "
                "JOIN vendors v ON v.vendor_id = po.vendor_id WHERE r.receipt_number = ?",
                (receipt_number.strip().upper(),),
            ).fetchone()
            if row is None:
                return None
            receipt = dict(row)
            receipt["lines"] = [
                {**dict(r), "quantity": Decimal(r["quantity"]), "ordered": Decimal(r["ordered"])}
                for r in conn.execute(
                    "SELECT rl.po_line_no, rl.quantity, pl.sku, pl.description, pl.quantity AS ordered "
                    "FROM receipt_lines rl "
                    "JOIN po_lines pl ON pl.po_number = ? AND pl.line_no = rl.po_line_no "
                    "WHERE rl.receipt_number = ? ORDER BY rl.po_line_no",
                    (receipt["po_number"], receipt["receipt_number"]),
                )
            ]
        return receipt

    def invoice(self, doc_number: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT i.*, v.name AS vendor_name FROM invoices i "
                "JOIN vendors v ON v.vendor_id = i.vendor_id WHERE i.doc_number = ?",
                (doc_number.strip().upper(),),
            ).fetchone()
            if row is None:
                return None
            invoice = dict(row)
            invoice["lines"] = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM invoice_lines WHERE doc_number = ? ORDER BY line_no",
                    (invoice["doc_number"],),
                )
            ]
        return invoice


def _receipt_status(lines: list[dict[str, Any]]) -> str:
    """``none`` / ``partial`` / ``full``: how much of the order has been received."""
    received = [ln["received"] for ln in lines]
    if not any(received):
        return "none"
    if all(ln["received"] >= ln["quantity"] for ln in lines):
        return "full"
    return "partial"
