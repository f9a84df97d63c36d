"""Tryton as a ledgerbot target: master data over JSON-RPC, posting through sao (or RPC), read-back.

Our idempotency key goes into the supplier invoice's ``description`` before anything else is
saved, so ``find_posted`` finds an invoice an earlier run saved even when that run died before
recording it. Every posting is read back over RPC and compared field by field and line by
line with what was meant; a difference, a supplier Tryton does not know, Tryton's validation
errors and its "similar invoice" warning are business exceptions for a clerk (``ErpRejected``
with the evidence), never clicked away.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from adapters.tryton.pages import (
    ChoiceMissing,
    Dialog,
    LoginPage,
    ServerDialog,
    SupplierInvoiceForm,
    UnexpectedScreen,
    wait_until,
)
from adapters.tryton.rpc import TrytonRpc, TrytonUserError, TrytonWarning
from ledgerbot.core.domain import Address, DocType, GoodsReceipt, POLine, PurchaseOrder, ReceiptLine, Vendor
from ledgerbot.core.target import ErpRejected, ErpUnavailable, PostResult, TargetInvoice, TargetLine

T = TypeVar("T")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# Tryton stores invoice quantities as floats: compare them at the unit's precision.
QUANTITY_PLACES = Decimal("0.0001")
PO_LINE_LABEL = "Purchase Line"
# After Save or Post the page is watched this long (ms) before Tryton is asked over RPC.
SETTLE_CHECK_MS = 2_000
# Suppliers, products, tax rules and currencies a robot looked up are trusted this long (s)
# before they are read again; any failed posting forgets them at once, so a retry reads afresh.
MASTER_DATA_SECONDS = 300.0
# Purchase orders in these states have lines Tryton no longer lets anyone change (a processing
# order never goes back to draft): their lines are read once per robot, other orders' per posting.
SETTLED_ORDER_STATES = frozenset({"processing", "done"})


def _quantity(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(QUANTITY_PLACES).normalize()


class TrytonErp:
    """One robot account on one Tryton database: RPC for reading, sao or RPC for posting."""

    name = "tryton"

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        mode: Literal["ui", "rpc"] = "ui",
        browser: str = "/usr/bin/chromium",
        timeout_ms: float = 60_000,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self._password = password
        self.mode = mode
        self.account = f"{login}@{self.url}"
        self._browser_path = browser
        self._timeout_ms = timeout_ms
        self.rpc = TrytonRpc(self.url, database, login, password, timeout=max(timeout_ms / 1000, 10))
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None
        self.ui_logins = 0
        self._dirty = False
        # The current tab shows the invoice the robot posted last, through sao, untouched since.
        self._posted_in_tab = False
        # Master data looked up for postings, kept MASTER_DATA_SECONDS (see _master_data); a
        # supplier, product or currency Tryton lacks is asked again next time.
        self._parties: dict[str, dict[str, Any]] = {}
        self._products: dict[str, dict[str, Any]] = {}
        self._journal: int | None = None
        self._payable: int | None = None
        self._expense: dict[str, Any] | None = None
        self._currencies: dict[str, int] = {}
        self._rule_tax_ids: dict[int, list[int]] = {}
        self._master_data_since = time.monotonic()
        # The lines of orders Tryton no longer lets change (SETTLED_ORDER_STATES), by order.
        self._settled_orders: dict[str, list[dict[str, Any]]] = {}
        # While one invoice is posted, each other order's lines are read once (to link lines,
        # then to number them in both read-backs); None outside a posting, where reads are fresh.
        self._posting_orders: dict[str, list[dict[str, Any]]] | None = None
        # What the last find_posted found under its key: post() starts from it instead of
        # searching again (one search per attempt, made before anything is written).
        self._found: tuple[str, list[dict[str, Any]]] | None = None
        # Wall time by posting step (``sao party``, ``rpc post``, ...), for benchmarks and diagnostics.
        self.step_seconds: defaultdict[str, float] = defaultdict(float)
        self.step_counts: Counter[str] = Counter()

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.step_seconds[name] += time.monotonic() - started
            self.step_counts[name] += 1

    # -- sessions ------------------------------------------------------------------------------
    @property
    def page(self) -> Page:
        if self._page is None:
            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=self._browser_path, headless=True, args=CHROMIUM_ARGS
                )
            except Error as error:
                self._playwright.stop()
                self._playwright = None
                raise ErpUnavailable(f"cannot start Chromium: {error.message[:200]}") from error
            self._page = self._fresh_page()
        return self._page

    def _fresh_page(self) -> Page:
        assert self._browser is not None
        context = self._browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(self._timeout_ms)
        return context.new_page()

    def _log_in_ui(self) -> None:
        if self._page is not None and self._page.url != "about:blank":
            # A fresh browser context: a page with sao's state of a dead session (open dialogs,
            # unsaved forms that hold navigation back) is dropped, not navigated away from.
            old = self._page
            self._page = self._fresh_page()
            try:
                old.context.close()
            except Error:
                pass
        self._posted_in_tab = False
        login = LoginPage(self.page, self.url)
        login.open()
        login.log_in(self.login, self._password)
        self.ui_logins += 1

    def _ui_session_alive(self) -> bool:
        """sao is logged in and the server still honours its session."""
        if self._page is None or self._page.url == "about:blank":
            return False
        try:
            logged_in = self._page.evaluate(
                "() => Boolean(window.Sao && Sao.Session && Sao.Session.current_session"
                " && Sao.Session.current_session.user_id)"
            )
            if not logged_in:
                return False
            # sao's session is a cookie: ask the server, with the page's cookies, if it still holds.
            response = self._page.context.request.post(
                f"{self.url}/{self.database}/rpc/",
                data={"id": 0, "method": "model.res.user.get_preferences", "params": [True, {}]},
                timeout=15_000,
            )
        except Error:
            return False
        return response.status == 200

    def _ensure_ui(self) -> None:
        if not self._ui_session_alive():
            self._log_in_ui()

    def _ui(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except PlaywrightTimeout as error:
            raise ErpUnavailable(
                f"sao did not answer in time ({error.message.splitlines()[0][:160]})"
            ) from error
        except Error as error:
            raise ErpUnavailable(f"browser error: {error.message.splitlines()[0][:200]}") from error

    def screenshot(self, path: Path) -> str | None:
        if self._page is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._page.screenshot(path=str(path), full_page=True)
        except Error:
            return None
        return str(path)

    def close(self) -> None:
        self.rpc.close()
        for closer in (
            (self._browser.close if self._browser else None),
            (self._playwright.stop if self._playwright else None),
        ):
            if closer is None:
                continue
            try:
                closer()
            except Error:
                pass
        self._page = self._browser = self._playwright = None

    def __enter__(self) -> TrytonErp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- master data ---------------------------------------------------------------------------
    def vendor_ids(self) -> list[str]:
        # Every party but our own companies: Tryton has no supplier flag on a party.
        companies = [row["party"] for row in self.rpc.search_read("company.company", [], ["party"])]
        rows = self.rpc.search_read(
            "party.party",
            [("code", "!=", None), ("id", "not in", companies)],
            ["code"],
            order=[("code", "ASC")],
        )
        return [row["code"] for row in rows]

    def _master_data(self) -> None:
        """Forget the master data looked up for postings once it is MASTER_DATA_SECONDS old."""
        if time.monotonic() - self._master_data_since > MASTER_DATA_SECONDS:
            self.forget_master_data()

    def forget_master_data(self) -> None:
        """Read suppliers, products, taxes, currencies and order lines afresh from now on."""
        self._parties.clear()
        self._products.clear()
        self._currencies.clear()
        self._rule_tax_ids.clear()
        self._settled_orders.clear()
        self._journal = self._payable = self._expense = None
        self._master_data_since = time.monotonic()

    def _party(self, vendor_id: str) -> dict[str, Any] | None:
        """The supplier as a posting needs it (id, name, addresses, tax rule, payable account)."""
        self._master_data()
        if vendor_id not in self._parties:
            rows = self.rpc.search_read(
                "party.party",
                [("code", "=", vendor_id)],
                ["rec_name", "addresses", "supplier_tax_rule", "account_payable"],
                limit=1,
            )
            if not rows:
                return None
            self._parties[vendor_id] = rows[0]
        return self._parties[vendor_id]

    def _party_id(self, vendor_id: str) -> int | None:
        party = self._party(vendor_id)
        return None if party is None else int(party["id"])

    def vendor(self, vendor_id: str) -> Vendor:
        (party,) = self.rpc.search_read(
            "party.party",
            [("code", "=", vendor_id)],
            [
                "code",
                "name",
                "tax_identifier.code",
                "identifiers",
                "supplier_currency.code",
                "addresses",
                "bank_accounts_used",
            ],
            limit=1,
        )
        tax_id = (party.get("tax_identifier.") or {}).get("code")
        if not tax_id and party["identifiers"]:
            tax_id = self.rpc.read("party.identifier", party["identifiers"][:1], ["code"])[0]["code"]
        address = None
        if party["addresses"]:
            (row,) = self.rpc.read(
                "party.address", party["addresses"][:1], ["street", "postal_code", "city", "country.code"]
            )
            address = Address(
                street=row["street"] or None,
                postal_code=row["postal_code"] or None,
                city=row["city"] or None,
                country=(row.get("country.") or {}).get("code"),
            )
        iban, bic = self._bank_account(party["bank_accounts_used"])
        return Vendor(
            vendor_id=party["code"],
            name=party["name"],
            tax_id=tax_id,
            iban=iban,
            bic=bic,
            currency=(party.get("supplier_currency.") or {}).get("code") or "EUR",
            address=address,
        )

    def _bank_account(self, account_ids: list[int]) -> tuple[str | None, str | None]:
        """The IBAN (compact, as invoices are compared) and BIC of the party's first active account."""
        for account_id in account_ids:
            numbers = self.rpc.search_read(
                "bank.account.number",
                [("account", "=", account_id), ("type", "=", "iban")],
                ["number_compact", "account.bank"],
                order=[("sequence", "ASC"), ("id", "ASC")],
                limit=1,
            )
            if numbers:
                bank = (numbers[0].get("account.") or {}).get("bank")
                bic = self.rpc.read("bank", [bank], ["bic"])[0]["bic"] if bank else None
                return numbers[0]["number_compact"], bic or None
        return None, None

    def order_summaries(self) -> list[dict[str, str]]:
        rows = self.rpc.search_read(
            "purchase.purchase",
            [("number", "!=", None), ("state", "not in", ["draft", "quotation"])],
            ["number", "state", "party.code", "shipment_state"],
            order=[("number", "ASC")],
        )
        return [
            {
                "po_number": row["number"],
                "vendor_id": (row.get("party.") or {}).get("code", ""),
                "status": _order_status(row["state"]),
                "receipt_state": row["shipment_state"],
            }
            for row in rows
        ]

    def _purchase_lines(self, po_number: str) -> list[dict[str, Any]]:
        self._master_data()
        if po_number in self._settled_orders:
            return self._settled_orders[po_number]
        if self._posting_orders is not None and po_number in self._posting_orders:
            return self._posting_orders[po_number]
        lines = self.rpc.search_read(
            "purchase.line",
            [("purchase.number", "=", po_number), ("type", "=", "line")],
            [
                "sequence",
                "product.code",
                "description",
                "quantity",
                "unit_price",
                "rec_name",
                "purchase.state",
            ],
            order=[("sequence", "ASC"), ("id", "ASC")],
        )
        if lines and all((row.get("purchase.") or {}).get("state") in SETTLED_ORDER_STATES for row in lines):
            self._settled_orders[po_number] = lines
        elif self._posting_orders is not None:
            self._posting_orders[po_number] = lines
        return lines

    def order(self, po_number: str) -> PurchaseOrder:
        (row,) = self.rpc.search_read(
            "purchase.purchase",
            [("number", "=", po_number)],
            ["number", "state", "party.code", "currency.code", "purchase_date", "company.rec_name"],
            limit=1,
        )
        lines = [
            POLine(
                line_no=index,
                sku=(line.get("product.") or {}).get("code"),
                description=line["description"] or "",
                quantity=_quantity(line["quantity"]),
                unit_price=line["unit_price"],
            )
            for index, line in enumerate(self._purchase_lines(po_number), start=1)
        ]
        return PurchaseOrder(
            po_number=row["number"],
            vendor_id=(row.get("party.") or {}).get("code", ""),
            currency=(row.get("currency.") or {}).get("code", "EUR"),
            status=_order_status(row["state"]),
            order_date=row["purchase_date"],
            lines=lines,
        )

    def receipt_summaries(self) -> list[dict[str, str]]:
        # A receipt is a delivery against an order: shipments without order lines are not ours.
        rows = self.rpc.search_read(
            "stock.shipment.in",
            [("state", "=", "done"), ("moves.origin", "like", "purchase.line,%")],
            ["number"],
            order=[("number", "ASC")],
        )
        return [{"receipt_number": row["number"]} for row in rows]

    def receipt(self, receipt_number: str) -> GoodsReceipt:
        (shipment,) = self.rpc.search_read(
            "stock.shipment.in", [("number", "=", receipt_number)], ["number", "effective_date"], limit=1
        )
        moves = self.rpc.search_read(
            "stock.move",
            [("shipment", "=", f"stock.shipment.in,{shipment['id']}"), ("origin", "like", "purchase.line,%")],
            ["origin", "quantity", "state"],
        )
        line_ids = sorted({int(m["origin"].split(",")[1]) for m in moves})
        purchase_lines = self.rpc.read("purchase.line", line_ids, ["purchase.number"])
        po_numbers = {row["purchase."]["number"] for row in purchase_lines}
        if len(po_numbers) != 1:
            raise UnexpectedScreen(f"receipt {receipt_number} spans {len(po_numbers)} purchase orders")
        (po_number,) = po_numbers
        line_no = {line["id"]: i for i, line in enumerate(self._purchase_lines(po_number), start=1)}
        received: dict[int, Decimal] = {}
        for move in moves:
            number = line_no[int(move["origin"].split(",")[1])]
            received[number] = received.get(number, Decimal(0)) + _quantity(move["quantity"])
        return GoodsReceipt(
            receipt_number=shipment["number"],
            po_number=po_number,
            date=shipment["effective_date"],
            lines=[ReceiptLine(po_line_no=n, quantity=q) for n, q in sorted(received.items())],
        )

    # -- finding and reading back --------------------------------------------------------------
    def find_posted(self, vendor_id: str, invoice_number: str, *, external_ref: str) -> str | None:
        """An invoice carrying our key (saved by an earlier run, posted or not), else none.

        A draft with our key is what a run killed between Tryton's save and its post leaves:
        it is posted now (after the same read-back check), so the retry books it exactly once.
        """
        rows = self._with_key(external_ref)
        self._found = (external_ref, rows)
        booked = next((row for row in rows if row["state"] == "posted"), None)
        booked = booked or next((row for row in rows if row["state"] != "draft"), None)
        return None if booked is None else str(booked["number"])

    def _with_key(self, external_ref: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.rpc.search_read(
            "account.invoice",
            [("type", "=", "in"), ("description", "=", external_ref)],
            ["number", "state"],
            order=[("id", "ASC")],
        )
        return rows

    def _invoice_id(
        self, external_ref: str, found: list[dict[str, Any]] | None = None
    ) -> tuple[int, str] | None:
        """The invoice carrying our key (``found``: the invoices a search just made found under
        it). A robot killed while its save was on the wire can leave a second draft with the key
        once Tryton commits it: the posted one (else the first) is kept and the other drafts go,
        so the key never books twice."""
        rows = self._with_key(external_ref) if found is None else found
        if not rows:
            return None
        keep = next((row for row in rows if row["state"] == "posted"), rows[0])
        extra = [row["id"] for row in rows if row is not keep and row["state"] == "draft"]
        if extra:
            self.rpc.model("account.invoice", "delete", extra)
        return keep["id"], keep["state"]

    def read_back(self, erp_doc_number: str) -> TargetInvoice | None:
        rows = self.rpc.search_read(
            "account.invoice", [("type", "=", "in"), ("number", "=", erp_doc_number)], ["id"], limit=1
        )
        return self._read_invoice(rows[0]["id"]) if rows else None

    def _read_invoice(self, invoice_id: int) -> TargetInvoice:
        return self._as_target(self._invoice_row(invoice_id))

    def _invoice_row(self, invoice_id: int) -> dict[str, Any]:
        """The invoice, its lines and their order lines in one round trip (Tryton's related reads)."""
        (row,) = self.rpc.read(
            "account.invoice",
            [invoice_id],
            [
                "number",
                "state",
                "party.code",
                "reference",
                "invoice_date",
                "currency.code",
                "untaxed_amount",
                "tax_amount",
                "total_amount",
                "description",
                *(
                    f"lines.{field}"
                    for field in (
                        "sequence",
                        "product.code",
                        "description",
                        "quantity",
                        "unit_price",
                        "amount",
                        "origin",
                        "type",
                        "origin.purchase.number",
                    )
                ),
            ],
        )
        return dict(row)

    def _as_target(self, inv: dict[str, Any]) -> TargetInvoice:
        lines = [line for line in inv["lines."] if line["type"] == "line"]
        lines.sort(key=lambda line: (line["sequence"] or 0, line["id"]))
        po_line_no: dict[int, tuple[str, int]] = {}
        po_number = None
        numbering: dict[str, dict[int, int]] = {}
        for line in lines:
            if not _is_po_line(line["origin"]):
                continue
            # Our line numbers are positions on the order: each order's lines are read once.
            origin = line["origin."]
            po_number = origin["purchase."]["number"]
            if po_number not in numbering:
                numbering[po_number] = {
                    row["id"]: i for i, row in enumerate(self._purchase_lines(po_number), start=1)
                }
            po_line_no[origin["id"]] = (po_number, numbering[po_number][origin["id"]])

        credit = inv["total_amount"] < 0
        sign = Decimal(-1) if credit else Decimal(1)
        return TargetInvoice(
            doc_type=DocType.CREDIT_NOTE if credit else DocType.INVOICE,
            vendor_id=(inv.get("party.") or {}).get("code", ""),
            invoice_number=inv["reference"] or "",
            invoice_date=inv["invoice_date"],
            due_date=None,
            po_number=po_number,
            currency=(inv.get("currency.") or {}).get("code", ""),
            subtotal=sign * inv["untaxed_amount"],
            tax_amount=sign * inv["tax_amount"],
            total=sign * inv["total_amount"],
            external_ref=inv["description"] or "",
            lines=[
                TargetLine(
                    sku=(line.get("product.") or {}).get("code"),
                    description=line["description"] or "",
                    quantity=sign * _quantity(line["quantity"]),
                    unit_price=line["unit_price"],
                    amount=sign * line["amount"],
                    po_line_no=(
                        po_line_no[int(line["origin"].split(",")[1])][1]
                        if _is_po_line(line["origin"])
                        else None
                    ),
                )
                for line in lines
            ],
        )

    # -- posting -------------------------------------------------------------------------------
    def post(self, invoice: TargetInvoice, *, screenshot_to: Path) -> PostResult:
        """Save, check, post and check again. Expects ``find_posted`` to have searched the key
        just before (as every posting does); without that search it searches itself."""
        found, self._found = self._found, None
        self._posting_orders = {}
        try:
            return self._post(
                invoice, screenshot_to, found[1] if found and found[0] == invoice.external_ref else None
            )
        except (ErpRejected, ErpUnavailable):
            # A supplier, tax or order changed in Tryton may be why: the next posting reads afresh.
            self.forget_master_data()
            raise
        finally:
            self._posting_orders = None

    def _post(
        self, invoice: TargetInvoice, screenshot_to: Path, found: list[dict[str, Any]] | None
    ) -> PostResult:
        party = self._party(invoice.vendor_id)
        if party is None:
            raise ErpRejected(
                f"supplier {invoice.vendor_id} is not in Tryton: create it there or correct the vendor",
                vendor_id=invoice.vendor_id,
            )
        started = time.monotonic()
        with self._step("prepare"):
            invoice = self.with_po_lines(invoice)
            links = self._po_links(invoice)
            existing = self._invoice_id(invoice.external_ref, found)
        if existing is None:
            if self.mode == "rpc":
                with self._step("rpc save"):
                    invoice_id = self._save_by_rpc(invoice, party, links)
            else:
                invoice_id = self._save_through_sao(invoice, party, links, screenshot_to)
        else:
            invoice_id = existing[0]  # an earlier run saved it and died before posting
        posted: dict[str, Any] | None = None
        if existing is not None and existing[1] == "posted":
            (row,) = self.rpc.read("account.invoice", [invoice_id], ["number"])
            number = str(row["number"])
        else:
            try:
                with self._step("check before posting"):
                    saved = self._read_invoice(invoice_id)
                    self._check(invoice, saved, screenshot_to, stage="before posting")
            except ErpRejected:
                self._discard_draft(invoice_id)  # a mismatch never reaches Tryton's books
                raise
            if self.mode == "ui" and existing is None:
                number = self._post_through_sao(invoice_id, screenshot_to)
            else:
                with self._step("rpc post"):
                    posted = self._post_saved(invoice_id, screenshot_to)
                number = str(posted["number"])
        with self._step("check after posting"):
            held = self._as_target(posted) if posted is not None else self._read_invoice(invoice_id)
            self._check(invoice, held, screenshot_to, stage="after posting", number=number)
        shot = None
        if self.mode == "ui":
            with self._step("sao screenshot"):
                shot = self.screenshot(screenshot_to)
        self.last_post_seconds = time.monotonic() - started
        return PostResult(erp_doc_number=number, screenshot=shot)

    def with_po_lines(self, invoice: TargetInvoice) -> TargetInvoice:
        """Lines the match did not tie to a PO line get the one order line with their article number.

        Only an unambiguous article number links (one order line, not yet taken); anything else
        stays a line of its own on the expense account. A credit note is entered in magnitudes
        whether its document printed them negative or not: the robot books it with negative
        quantities (``_sign``) and reads it back in magnitudes.
        """
        if invoice.doc_type == DocType.CREDIT_NOTE:
            invoice = _magnitudes(invoice)
        if not invoice.po_number or all(line.po_line_no or not line.sku for line in invoice.lines):
            return invoice
        order_lines = self._purchase_lines(invoice.po_number)
        taken = {line.po_line_no for line in invoice.lines if line.po_line_no}
        by_sku: dict[str, list[int]] = {}
        for number, row in enumerate(order_lines, start=1):
            code = (row.get("product.") or {}).get("code")
            if code and number not in taken:
                by_sku.setdefault(code, []).append(number)
        lines = []
        for line in invoice.lines:
            candidates = by_sku.get(line.sku or "", [])
            if line.po_line_no is None and len(candidates) == 1:
                line = line.model_copy(update={"po_line_no": candidates[0]})
            lines.append(line)
        return invoice.model_copy(update={"lines": lines})

    def _po_links(self, invoice: TargetInvoice) -> dict[int, dict[str, Any]]:
        """Our PO line numbers -> Tryton's purchase lines (id, record name), for the lines that have one."""
        if not invoice.po_number or not any(line.po_line_no for line in invoice.lines):
            return {}
        lines = self._purchase_lines(invoice.po_number)
        return {index: line for index, line in enumerate(lines, start=1)}

    def _sign(self, invoice: TargetInvoice) -> Decimal:
        # Tryton books a supplier credit note as an invoice with negative quantities.
        return Decimal(-1) if invoice.doc_type == DocType.CREDIT_NOTE else Decimal(1)

    def _save_by_rpc(
        self, invoice: TargetInvoice, party: dict[str, Any], links: dict[int, dict[str, Any]]
    ) -> int:
        """The draft as sao would leave it, its lines created with it in one call: the
        supplier's tax rule gives each line its VAT."""
        party_id = int(party["id"])
        currency = self._currency_id(invoice.currency)
        taxes = self._rule_taxes(party["supplier_tax_rule"])
        sign = self._sign(invoice)
        self._look_up_products([line.sku for line in invoice.lines])
        lines = []
        for sequence, line in enumerate(invoice.lines, start=1):
            product = self._product(line.sku)
            values: dict[str, Any] = {
                # The invoice's domain wants these on every line, as sao's on-change sets them.
                "invoice_type": "in",
                "party": party_id,
                "currency": currency,
                "company": self.rpc.context.get("company"),
                "sequence": sequence,
                "type": "line",
                "account": self._expense_account(),
                "quantity": float(sign * line.quantity),
                "unit_price": line.unit_price,
                "description": line.description,
                "taxes": [("add", taxes)] if taxes else [],
            }
            if product is not None:
                values["product"], values["unit"] = product["id"], product["default_uom"]
            if line.po_line_no and line.po_line_no in links:
                values["origin"] = f"purchase.line,{links[line.po_line_no]['id']}"
            lines.append(values)
        if not party["addresses"]:
            raise ErpRejected(
                f"supplier {invoice.vendor_id} has no address in Tryton, which an invoice requires",
                vendor_id=invoice.vendor_id,
                missing="invoice_address",
            )
        values = {
            "type": "in",
            "party": party_id,
            "invoice_address": party["addresses"][0],
            "currency": currency,
            "account": party["account_payable"] or self._default_payable(),
            "journal": self._expense_journal(),
            "reference": invoice.invoice_number,
            "description": invoice.external_ref,
            "invoice_date": invoice.invoice_date,
            "lines": [("create", lines)],
        }
        (invoice_id,) = self.rpc.model("account.invoice", "create", [values])
        return int(invoice_id)

    def _currency_id(self, code: str) -> int:
        self._master_data()
        if code not in self._currencies:
            rows = self.rpc.search_read("currency.currency", [("code", "=", code)], ["id"], limit=1)
            if not rows:
                raise ErpRejected(f"currency {code} is not in Tryton", currency=code)
            self._currencies[code] = int(rows[0]["id"])
        return self._currencies[code]

    def _rule_taxes(self, rule_id: int | None) -> list[int]:
        if not rule_id:
            return []
        if rule_id not in self._rule_tax_ids:
            rows = self.rpc.search_read("account.tax.rule.line", [("rule", "=", rule_id)], ["tax"])
            self._rule_tax_ids[rule_id] = [row["tax"] for row in rows if row["tax"]]
        return self._rule_tax_ids[rule_id]

    def _look_up_products(self, skus: list[str | None]) -> None:
        """The products of these article numbers not known yet, in one search."""
        self._master_data()
        wanted = sorted({sku for sku in skus if sku and sku not in self._products})
        if not wanted:
            return
        rows = self.rpc.search_read(
            "product.product",
            [("code", "in", wanted)],
            ["code", "default_uom", "rec_name"],
            order=[("id", "ASC")],
        )
        for row in rows:
            self._products.setdefault(row["code"], row)

    def _product(self, sku: str | None) -> dict[str, Any] | None:
        if not sku:
            return None
        # Known products are remembered (see _master_data); an unknown code is asked again, as
        # someone may create it in Tryton meanwhile.
        if sku not in self._products:
            self._look_up_products([sku])
        return self._products.get(sku)

    def _expense_account(self) -> int:
        return int(self._expense_row()["id"])

    def _expense_row(self) -> dict[str, Any]:
        """The expense account of the accounting category purchased goods are booked in."""
        self._master_data()
        if self._expense is None:
            (row,) = self.rpc.search_read(
                "product.category",
                [("accounting", "=", True)],
                ["account_expense", "account_expense.code", "account_expense.rec_name"],
                limit=1,
            )
            self._expense = {"id": row["account_expense"], **row["account_expense."]}
        return self._expense

    def _expense_journal(self) -> int:
        if self._journal is None:
            (row,) = self.rpc.search_read("account.journal", [("type", "=", "expense")], ["id"], limit=1)
            self._journal = int(row["id"])
        return self._journal

    def _default_payable(self) -> int:
        if self._payable is None:
            (config,) = self.rpc.read("account.configuration", [1], ["default_account_payable"])
            self._payable = int(config["default_account_payable"])
        return self._payable

    def _save_through_sao(
        self,
        invoice: TargetInvoice,
        party: dict[str, Any],
        links: dict[int, dict[str, Any]],
        screenshot_to: Path,
    ) -> int:
        self._currency_id(invoice.currency)  # one Tryton lacks is a finding before sao opens
        self._look_up_products([line.sku for line in invoice.lines])
        date_format = self.rpc.context.get("locale", {}).get("date", "%m/%d/%Y")
        sign = self._sign(invoice)

        def fill() -> int:
            if self._dirty:
                # An earlier attempt stopped half way (a dialog may still be open): start afresh.
                self._log_in_ui()
            with self._step("sao open"):
                self._ensure_ui()
                self._dirty = True
                reuse, self._posted_in_tab = self._posted_in_tab, False
                form = SupplierInvoiceForm(self.page, self.database)
                form.open_new(reuse=reuse)
            with self._step("sao party"):
                form.choose("party", invoice.vendor_id, party["rec_name"])
                # The party's on-change fills address, currency, payment term and taxes: nothing
                # is typed before its answer lands. A supplier without an address leaves the
                # required invoice address empty, which sao itself refuses at save (a finding,
                # not a timeout).
                form.wait_idle()
                if party["addresses"]:
                    form.wait_filled("invoice_address")
            with self._step("sao header"):
                if form.value("currency") != invoice.currency:
                    form.choose("currency", invoice.currency, invoice.currency)
                form.fill("reference", invoice.invoice_number)
                form.set_date("invoice_date", invoice.invoice_date, date_format)
                form.wait_idle()
            for line in invoice.lines:
                with self._step("sao line open"):
                    dialog = form.new_line()
                product = self._product(line.sku)
                with self._step("sao line product"):
                    if product:
                        dialog.choose("product", line.sku or "", product["rec_name"])
                        dialog.wait_filled("unit")
                        dialog.wait_filled("account")
                    else:
                        dialog.choose("account", self._expense_code(), self._expense_name())
                with self._step("sao line origin"):
                    if line.po_line_no and line.po_line_no in links:
                        target = links[line.po_line_no]
                        dialog.choose_origin(PO_LINE_LABEL, invoice.po_number or "", target["rec_name"])
                    dialog.wait_idle()
                with self._step("sao line numbers"):
                    # Quantities and prices last, after the on-changes of product and origin
                    # that would overwrite them, and checked to have stuck.
                    dialog.fill_numbers({"quantity": sign * line.quantity, "unit_price": line.unit_price})
                    if product and dialog.value("product") != product["rec_name"]:
                        # An on-change that landed late cleared the product: choose it again.
                        dialog.choose("product", line.sku or "", product["rec_name"])
                        dialog.fill_number("quantity", sign * line.quantity)
                        dialog.fill_number("unit_price", line.unit_price)
                with self._step("sao line add"):
                    dialog.add()
                    form.wait_idle()
            with self._step("sao save"):
                # Our key last (the lines' on-changes reset the header's description), before
                # the first save: from that save on, find_posted sees this invoice.
                form.fill("description", invoice.external_ref)
                form.wait_idle()
                form.save()
                saved = self._await_saved(form, invoice.external_ref, screenshot_to)
            self._dirty = False
            return saved

        try:
            return self._ui(fill)
        except ChoiceMissing as missing:
            # Every record the robot chooses was found over RPC first (supplier, currency,
            # product, account, order line): one sao does not offer is sao's hiccup (a lost
            # keystroke, a completion that never came), worth another attempt, not a finding.
            raise ErpUnavailable(
                f"sao offered no {missing.field} {missing.wanted!r} that Tryton holds",
                field=missing.field,
                wanted=missing.wanted,
                offered="; ".join(missing.offered[:5]),
            ) from missing

    def _await_saved(self, form: SupplierInvoiceForm, external_ref: str, screenshot_to: Path) -> int:
        """After Save: the saved record's id, or the refusal sao shows, whichever comes first.

        sao refuses in its message bar without asking the server (a required field left
        empty) or shows the server's refusal in a dialog; the save button itself answers
        before the server has committed, so the page is watched until it shows one of them or
        the saved record, and the record is then looked for by our key.
        """
        deadline = time.monotonic() + self._timeout_ms / 1000
        while True:
            shown = form.settle_after_save(timeout=SETTLE_CHECK_MS)
            if Dialog(self.page).is_showing():
                self._refuse_dialog(screenshot_to)
            refused = form.errors()
            if refused:
                shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
                raise ErpRejected(
                    "Tryton's client refused to save the invoice: " + "; ".join(refused),
                    sao_messages="; ".join(refused),
                    screenshot=shot or "",
                )
            saved = self._invoice_id(external_ref)
            if saved is not None:
                return saved[0]
            if time.monotonic() > deadline:
                shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
                raise ErpRejected(
                    "Tryton did not save the invoice: " + ("; ".join(form.messages()) or "no message shown"),
                    screenshot=shot or "",
                )
            if shown is not None:
                # The page settled but the server does not hold the key yet: ask again shortly.
                self.page.wait_for_timeout(SETTLE_CHECK_MS / 10)

    def _refuse_dialog(self, screenshot_to: Path) -> None:
        """A dialog after save or post is Tryton objecting (an error or a warning): keep it as evidence."""
        dialog = Dialog(self.page)
        text, title = dialog.text(), dialog.title()
        shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
        for label in ("No", "Cancel", "Close", "OK"):
            if dialog.root.locator(".modal-footer button", has_text=label).count():
                dialog.click(label)
                break
        raise ErpRejected(f"Tryton: {title}: {text}"[:500], tryton_dialog=text, screenshot=shot or "")

    def _expense_code(self) -> str:
        row = self._expense_row()
        return str(row["code"] or row["rec_name"])

    def _expense_name(self) -> str:
        return str(self._expense_row()["rec_name"])

    def _post_through_sao(self, invoice_id: int, screenshot_to: Path) -> str:
        """Press Post on the saved invoice; a warning (a similar invoice exists) is answered No."""
        form = SupplierInvoiceForm(self.page, self.database)
        dialogs = ServerDialog(self.page)

        def press() -> tuple[str | None, str]:
            """How Post ended: a dialog's kind and text, or no dialog and the number Tryton gave."""
            form.click_button("post")
            deadline = time.monotonic() + self._timeout_ms / 1000
            while time.monotonic() < deadline:
                # The page tells first (a dialog, or the invoice redrawn with its number);
                # Tryton is asked between checks in case sao has not redrawn it.
                shown = form.settle_after_post(timeout=SETTLE_CHECK_MS)
                kind = dialogs.showing()
                if kind == "confirmation-dialog":
                    dialogs.answer(kind, "OK")
                    continue
                if kind is not None:
                    return kind, dialogs.text(kind)
                (row,) = self.rpc.read("account.invoice", [invoice_id], ["state", "number"])
                if row["state"] == "posted":
                    return None, str(row["number"])
                if shown is not None:
                    self.page.wait_for_timeout(SETTLE_CHECK_MS / 10)
            raise ErpUnavailable(
                f"invoice {invoice_id} was not posted within {self._timeout_ms / 1000:.0f} s"
            )

        with self._step("sao post"):
            kind, text = self._ui(press)
        if kind is not None:
            shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
            # A warning is declined, never confirmed; an error only offers to close it.
            self._ui(lambda: dialogs.answer(kind, "No", "OK", "Close"))
            self._discard_draft(invoice_id)
            what = "warns before posting" if kind == "user-warning-dialog" else "refused to post"
            raise ErpRejected(f"Tryton {what}: {text}"[:500], tryton_dialog=text, screenshot=shot or "")
        # The proof screenshot shows the invoice as Tryton now holds it: posted, with its number.
        # sao reads the record again after a button by itself; a reload only if it has not.
        with self._step("sao shown posted"):
            self._ui(lambda: self._wait_shown_posted(form))
        # The next invoice starts with New in this tab (a fresh login starts a fresh tab).
        self._posted_in_tab = True
        return text

    def _wait_shown_posted(self, form: SupplierInvoiceForm) -> None:
        number = self.page.locator(".tab-pane.active [name=number]").first
        number.wait_for()
        form.wait_idle()
        try:
            wait_until(self.page, "el => el.value !== ''", arg=number.element_handle(), timeout=5_000)
        except PlaywrightTimeout:
            form.reload()
            wait_until(self.page, "el => el.value !== ''", arg=number.element_handle())

    def _discard_draft(self, invoice_id: int) -> None:
        """A draft that is not to be posted goes, so nothing we refused stays in Tryton's books."""
        (row,) = self.rpc.read("account.invoice", [invoice_id], ["state"])
        if row["state"] == "draft":
            self.rpc.model("account.invoice", "delete", [invoice_id])

    def _post_saved(self, invoice_id: int, screenshot_to: Path) -> dict[str, Any]:
        """Post the saved invoice and read it back; Tryton's similar-invoice warning is a finding,
        not confirmed.

        A draft left by a robot killed while its own Post was on the wire can be posted by
        Tryton meanwhile; our Post then meets Tryton's refusal to modify a posted invoice. An
        invoice found posted after a refusal is that booking, read back like ours.
        """
        try:
            self.rpc.model("account.invoice", "post", [invoice_id])
        except TrytonWarning as warning:
            if (meanwhile := self._posted_meanwhile(invoice_id)) is not None:
                return meanwhile
            self._discard_draft(invoice_id)
            shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
            raise ErpRejected(
                f"Tryton warns before posting: {warning.evidence.get('tryton_message', warning.message)}",
                tryton_warning=warning.evidence.get("tryton_warning", ""),
                screenshot=shot or "",
            ) from warning
        except TrytonUserError as error:
            if (meanwhile := self._posted_meanwhile(invoice_id)) is not None:
                return meanwhile
            self._discard_draft(invoice_id)
            shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
            raise ErpRejected(error.message, screenshot=shot or "", **error.evidence) from error
        row = self._invoice_row(invoice_id)
        if row["state"] != "posted":
            raise ErpUnavailable(f"Tryton left invoice {invoice_id} in state {row['state']}")
        return row

    def _posted_meanwhile(self, invoice_id: int) -> dict[str, Any] | None:
        row = self._invoice_row(invoice_id)
        return row if row["state"] == "posted" else None

    def _check(
        self,
        meant: TargetInvoice,
        held: TargetInvoice,
        screenshot_to: Path,
        *,
        stage: str,
        number: str | None = None,
    ) -> None:
        differences = compare(meant, held)
        if not differences:
            return
        shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-differs.png"))
        where = f"invoice {number}" if number else "the saved draft"
        raise ErpRejected(
            f"Tryton holds {where} differently from what was meant ({stage}): "
            + "; ".join(f"{d['field']}: meant {d['meant']}, Tryton {d['tryton']}" for d in differences[:6]),
            differences=differences,
            erp_doc_number=number or "",
            screenshot=shot or "",
        )

    def describe(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "mode": self.mode,
            "ui_logins": self.ui_logins,
            "rpc_logins": self.rpc.logins,
        }


def _magnitudes(invoice: TargetInvoice) -> TargetInvoice:
    lines = [
        line.model_copy(
            update={
                "quantity": abs(line.quantity),
                "unit_price": abs(line.unit_price),
                "amount": abs(line.amount),
            }
        )
        for line in invoice.lines
    ]
    return invoice.model_copy(
        update={
            "subtotal": abs(invoice.subtotal),
            "tax_amount": abs(invoice.tax_amount),
            "total": abs(invoice.total),
            "lines": lines,
        }
    )


def _is_po_line(origin: str | None) -> bool:
    return bool(origin) and str(origin).startswith("purchase.line,")


def _order_status(state: str) -> str:
    return "closed" if state in ("done", "cancelled") else "open"


# Fields Tryton does not hold as we do: due dates come from its payment terms.
_NOT_COMPARED = {"due_date", "doc_type", "po_number"}


def compare(meant: TargetInvoice, held: TargetInvoice) -> list[dict[str, str]]:
    """Every header field and every line field where Tryton holds something else than was meant."""
    differences = []
    for name in TargetInvoice.model_fields:
        if name in _NOT_COMPARED or name == "lines":
            continue
        a, b = getattr(meant, name), getattr(held, name)
        if a != b:
            differences.append({"field": name, "meant": str(a), "tryton": str(b)})
    if len(meant.lines) != len(held.lines):
        differences.append({"field": "lines", "meant": str(len(meant.lines)), "tryton": str(len(held.lines))})
        return differences
    for index, (a_line, b_line) in enumerate(zip(meant.lines, held.lines, strict=True), start=1):
        for name in ("sku", "quantity", "unit_price", "amount", "po_line_no"):
            a, b = getattr(a_line, name), getattr(b_line, name)
            if name == "sku" and a is None:
                continue  # a line without an article number is booked on the account alone
            if name == "quantity":
                a = _quantity(a)
            if a != b:
                differences.append({"field": f"line {index} {name}", "meant": str(a), "tryton": str(b)})
    return differences
