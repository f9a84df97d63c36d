"""Plans the corpus: which documents exist, what each one says, and which mismatches it carries.

Planning is pure and seeded: it decides every printed value (the ground truth) before anything
is drawn, so the same seed always gives the same truth. Clean invoices bill exactly one goods
receipt of an open purchase order at the order's prices, so 2- and 3-way matching passes;
every deviation from that is an injected mismatch recorded in the truth.
"""

from __future__ import annotations

import random
import string
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerbot.core.domain import GoodsReceipt, InvoiceFields, InvoiceLine, PurchaseOrder, Vendor
from sandbox.corpus.formats import money
from sandbox.corpus.layouts import Layout, buyer_layout, layout_for_vendor
from sandbox.masterdata import MasterData, iban_check_digits, received_quantities

TODAY = date(2026, 11, 20)
PAYABLE = ("invoice", "credit_note")
OTHER_TYPES = ("purchase_order", "delivery_note", "statement", "remittance_advice", "other")
MISMATCH_TYPES = ("price", "quantity", "unknown_po", "duplicate", "bank_changed", "arithmetic")
SCAN_VARIANTS = ("scan_png", "scan_pdf")
EINVOICE_VARIANTS = ("ubl", "cii", "facturx")

# Standard VAT by the vendor's country. US vendors bill our EU companies as an export:
# no US sales tax is charged, so their invoices carry a 0% tax line.
TAX_RATES = {
    "DE": Decimal("19"),
    "FR": Decimal("20"),
    "NL": Decimal("21"),
    "GB": Decimal("20"),
    "US": Decimal(0),
}

# How often each kind of issued document occurs (before twins).
_KIND_WEIGHTS = {
    "invoice": 56,
    "credit_note": 8,
    "purchase_order": 7,
    "delivery_note": 8,
    "statement": 7,
    "remittance_advice": 7,
    "other": 7,
}
_SCAN_TWIN_RATE = 0.3
_EINVOICE_TWIN_RATE = 0.3


@dataclass(frozen=True)
class Buyer:
    company: str
    name: str
    lines: tuple[str, ...]
    tax_id: str


BUYERS = {
    "1000": Buyer(
        "1000",
        "Nordlicht Handels GmbH",
        ("Mainzer Landstraße 50", "60325 Frankfurt am Main", "DE"),
        "DE811907980",
    ),
    "2000": Buyer("2000", "Nordlicht France SAS", ("12 Rue de Rivoli", "75004 Paris", "FR"), "FR40303265045"),
}


@dataclass
class DocPlan:
    """One file of the corpus and everything printed on it."""

    stem: str
    sequence: int
    doc_type: str
    variant: str
    layout: Layout
    vendor: Vendor
    company: str
    fields: InvoiceFields | None = None
    lines: list[InvoiceLine] | None = None
    po_line_nos: list[int] = field(default_factory=list)
    tax_rate: Decimal = Decimal(0)
    terms_days: int = 30
    customer_no: str = ""
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    source_stem: str | None = None
    refers_to: dict[str, str] | None = None
    # What non-invoice documents list (orders, receipts, statement entries, offers).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.layout.language

    def truth(self) -> dict[str, Any]:
        """The ground-truth JSON written beside the document (see README.md)."""
        out: dict[str, Any] = {
            "doc_type": self.doc_type,
            "fields": self.fields.model_dump(mode="json") if self.fields is not None else None,
            "lines": [line.model_dump(mode="json") for line in self.lines]
            if self.lines is not None
            else None,
            "layout": self.layout.id,
            "split": self.layout.split,
            "variant": self.variant,
            "language": self.language,
            "vendor_id": self.vendor.vendor_id,
            "sequence": self.sequence,
            "source_stem": self.source_stem,
            "mismatches": self.mismatches,
        }
        if self.refers_to is not None:
            out["refers_to"] = self.refers_to
        return out


@dataclass
class CorpusPlan:
    documents: list[DocPlan]
    invoices_issued: int
    invoices_with_mismatch: int
    notes: list[str]


def _dec(value: Decimal) -> str:
    return format(value, "f")


class Planner:
    """Decides the corpus document by document; all randomness comes from one seeded RNG."""

    def __init__(
        self,
        master: MasterData,
        seed: int,
        *,
        mismatch_rate: float,
        split: str = "all",
        scans: bool = True,
        einvoices: bool = True,
        doc_types: Collection[str] | None = None,
        today: date = TODAY,
    ) -> None:
        self.master = master
        self.rng = random.Random(seed)
        self.mismatch_rate = mismatch_rate
        self.split = split
        self.scans = scans
        self.einvoices = einvoices
        self.doc_types = set(doc_types) if doc_types else set(_KIND_WEIGHTS)
        self.today = today
        self.docs: list[DocPlan] = []
        self.sequence = 0
        self.clean_invoices: list[DocPlan] = []  # accepted originals, for credit notes/duplicates
        self.credited: set[str] = set()
        self.counters: dict[str, int] = {}
        self.notes: list[str] = []
        self.invoices_issued = 0
        self.invoices_with_mismatch = 0
        self.vendors = [v for v in master.vendors if self._in_split(self.layout_of(v))]
        vendor_ids = {v.vendor_id for v in self.vendors}
        # Receipts still to be invoiced: (order, receipt), open orders of in-split vendors only.
        # A receipt without any received quantity (the master data has a few) bills nothing.
        self.pool: list[tuple[PurchaseOrder, GoodsReceipt]] = [
            (po, gr)
            for po in master.purchase_orders
            if po.status == "open" and po.vendor_id in vendor_ids
            for gr in master.receipts_for(po.po_number)
            if any(line.quantity > 0 for line in gr.lines)
        ]

    # -- helpers -------------------------------------------------------------------------
    def _in_split(self, layout: Layout) -> bool:
        return self.split == "all" or layout.split == self.split

    @staticmethod
    def layout_of(vendor: Vendor) -> Layout:
        return layout_for_vendor(vendor.vendor_id, vendor.address.country if vendor.address else None)

    def _country(self, vendor: Vendor) -> str:
        return (vendor.address.country if vendor.address else None) or "DE"

    def _next_number(self, vendor: Vendor, issued: date, credit: bool = False) -> str:
        layout = self.layout_of(vendor)
        if vendor.vendor_id not in self.counters:
            self.counters[vendor.vendor_id] = random.Random(vendor.vendor_id).randint(120, 8800)
        self.counters[vendor.vendor_id] += self.rng.randint(1, 9)  # other customers' invoices in between
        n = self.counters[vendor.vendor_id]
        if credit:
            return f"{layout.credit_prefix}{issued.year % 100:02d}{n:05d}"
        return layout.invoice_number_pattern.format(n=n, year=issued.year, yy=f"{issued.year % 100:02d}")

    def _customer_no(self, vendor: Vendor, company: str) -> str:
        return f"{random.Random(vendor.vendor_id + company).randint(10000, 99999)}"

    def _stem(self) -> str:
        return f"doc-{len(self.docs) + 1:05d}"

    def _issue(self, plan: DocPlan, remaining: int) -> None:
        """Adds an issued document and, budget allowing, its scanned / e-invoice twins."""
        self.docs.append(plan)
        if plan.variant != "digital":
            return  # twins are always made from a digital original (a re-sent scan has none)
        budget = remaining - 1
        twins: list[str] = []
        if (
            plan.doc_type in PAYABLE
            and self.einvoices
            and budget > 0
            and self.rng.random() < _EINVOICE_TWIN_RATE
        ):
            twins.append(self.rng.choice(EINVOICE_VARIANTS))
            budget -= 1
        if self.scans and budget > 0 and self.rng.random() < _SCAN_TWIN_RATE:
            twins.append(self.rng.choice(SCAN_VARIANTS))
        for variant in twins:
            self.docs.append(replace(plan, stem=self._stem(), variant=variant, source_stem=plan.stem))

    # -- the plan ------------------------------------------------------------------------
    def plan(self, n: int) -> CorpusPlan:
        kinds = [k for k in _KIND_WEIGHTS if k in self.doc_types]
        weights = [_KIND_WEIGHTS[k] for k in kinds]
        attempts = 0
        while len(self.docs) < n and attempts < n * 20:
            attempts += 1
            kind = self.rng.choices(kinds, weights)[0]
            self.sequence += 1
            doc = self._make(kind)
            if doc is None:
                self.sequence -= 1
                continue
            self._issue(doc, n - len(self.docs))
        if len(self.docs) < n:
            self.notes.append(
                f"only {len(self.docs)} of {n} documents could be planned from this master data"
            )
        return CorpusPlan(self.docs, self.invoices_issued, self.invoices_with_mismatch, self.notes)

    def _make(self, kind: str) -> DocPlan | None:
        if kind == "invoice":
            return self._invoice()
        if kind == "credit_note":
            return self._credit_note()
        return self._other(kind)

    # -- invoices ------------------------------------------------------------------------
    def _invoice(self) -> DocPlan | None:
        inject = self.rng.random() < self.mismatch_rate
        if inject:
            kinds = list(MISMATCH_TYPES)
            if not self.clean_invoices:
                kinds.remove("duplicate")
            kind = self.rng.choice(kinds)
            if kind == "duplicate":
                return self._duplicate()
        else:
            kind = None
        if not self.pool:
            if "pool_exhausted" not in self.notes:
                self.notes.append("pool_exhausted")
            return None
        po, receipt = self.pool.pop(self.rng.randrange(len(self.pool)))
        vendor = self.master.vendor(po.vendor_id)
        if kind == "bank_changed" and not vendor.iban:
            kind = self.rng.choice(["price", "quantity", "arithmetic"])
        layout = self.layout_of(vendor)
        issued = min(receipt.date + timedelta(days=self.rng.randint(0, 12)), self.today)
        terms = self.rng.choice([14, 30, 30, 30, 45, 60])
        lines: list[InvoiceLine] = []
        po_line_nos: list[int] = []
        by_no = {line.line_no: line for line in po.lines}
        for received in receipt.lines:
            if received.quantity <= 0:
                continue
            po_line = by_no[received.po_line_no]
            lines.append(
                InvoiceLine(
                    description=po_line.description,
                    sku=po_line.sku if layout.has_sku else None,
                    quantity=received.quantity,
                    unit_price=po_line.unit_price,
                    amount=money(received.quantity * po_line.unit_price),
                )
            )
            po_line_nos.append(po_line.line_no)
        mismatches: list[dict[str, Any]] = []
        printed_po = po.po_number
        printed_iban = vendor.iban
        if kind == "price":
            i = self.rng.randrange(len(lines))
            old = lines[i].unit_price
            assert old is not None
            new = money(old * Decimal(str(round(1 + self.rng.uniform(0.05, 0.25), 3))))
            if new - old < Decimal("0.05"):
                new = old + Decimal("0.50")
            lines[i].unit_price = new
            lines[i].amount = money(lines[i].quantity * new)  # type: ignore[operator]
            mismatches.append(
                {
                    "type": "price",
                    "detail": {
                        "line": i,
                        "po_line_no": po_line_nos[i],
                        "po_price": _dec(old),
                        "invoiced_price": _dec(new),
                    },
                }
            )
        elif kind == "quantity":
            i = self.rng.randrange(len(lines))
            received_total = received_quantities(self.master, po.po_number).get(po_line_nos[i], Decimal(0))
            extra = max(
                Decimal(1), (received_total * Decimal(str(self.rng.uniform(0.1, 0.5)))).to_integral_value()
            )
            new_qty = received_total + extra
            old_qty = lines[i].quantity
            lines[i].quantity = new_qty
            lines[i].amount = money(new_qty * lines[i].unit_price)  # type: ignore[operator]
            mismatches.append(
                {
                    "type": "quantity",
                    "detail": {
                        "line": i,
                        "po_line_no": po_line_nos[i],
                        "receipt_quantity": _dec(old_qty),  # type: ignore[arg-type]
                        "received_total": _dec(received_total),
                        "invoiced_quantity": _dec(new_qty),
                    },
                }
            )
        elif kind == "unknown_po":
            known = {p.po_number for p in self.master.purchase_orders}
            while printed_po in known:
                printed_po = f"PO-{self.rng.randint(90000, 99999)}"
            mismatches.append(
                {"type": "unknown_po", "detail": {"printed_po": printed_po, "real_po": po.po_number}}
            )
        elif kind == "bank_changed":
            assert printed_iban is not None
            country = printed_iban[:2]
            bban = printed_iban[4:]
            while printed_iban == vendor.iban:
                digits = "".join(self.rng.choices(string.digits, k=len(bban) - 8))
                new_bban = (
                    bban[:8] + digits
                    if country != "GB"
                    else bban[:4] + "".join(self.rng.choices(string.digits, k=len(bban) - 4))
                )
                printed_iban = country + iban_check_digits(country, new_bban) + new_bban
            mismatches.append(
                {"type": "bank_changed", "detail": {"master_iban": vendor.iban, "printed_iban": printed_iban}}
            )
        subtotal = sum((line.amount for line in lines if line.amount is not None), Decimal("0.00"))
        rate = TAX_RATES.get(self._country(vendor), Decimal(0))
        tax = money(subtotal * rate / 100)
        total = subtotal + tax
        if kind == "arithmetic":
            if len(lines) > 1 and self.rng.random() < 0.5:
                i = self.rng.randrange(len(lines))
                correct = lines[i].amount
                assert correct is not None
                printed = correct + self.rng.choice(
                    [Decimal("10.00"), Decimal("-1.00"), Decimal("100.00"), Decimal("0.90")]
                )
                if printed <= 0:
                    printed = correct + Decimal("10.00")
                lines[i].amount = printed
                mismatches.append(
                    {
                        "type": "arithmetic",
                        "detail": {
                            "where": "line_amount",
                            "line": i,
                            "correct": _dec(correct),
                            "printed": _dec(printed),
                        },
                    }
                )
            else:
                printed = total + self.rng.choice(
                    [Decimal("10.00"), Decimal("-10.00"), Decimal("0.09"), Decimal("90.00")]
                )
                mismatches.append(
                    {
                        "type": "arithmetic",
                        "detail": {"where": "total", "correct": _dec(total), "printed": _dec(printed)},
                    }
                )
                total = printed
        self.invoices_issued += 1
        if mismatches:
            self.invoices_with_mismatch += 1
        plan = DocPlan(
            stem=self._stem(),
            sequence=self.sequence,
            doc_type="invoice",
            variant="digital",
            layout=layout,
            vendor=vendor,
            company=po.company or "1000",
            fields=InvoiceFields(
                vendor_name=vendor.name,
                vendor_tax_id=vendor.tax_id,
                vendor_iban=printed_iban,
                invoice_number=self._next_number(vendor, issued),
                invoice_date=issued,
                due_date=issued + timedelta(days=terms),
                po_number=printed_po,
                currency=po.currency,
                subtotal=subtotal,
                tax_amount=tax,
                total=total,
            ),
            lines=lines,
            po_line_nos=po_line_nos,
            tax_rate=rate,
            terms_days=terms,
            customer_no=self._customer_no(vendor, po.company or "1000"),
            mismatches=mismatches,
            extra={"po_number": po.po_number, "receipt_number": receipt.receipt_number},
        )
        if not mismatches:
            self.clean_invoices.append(plan)
        return plan

    def _duplicate(self) -> DocPlan:
        """Re-sends an earlier accepted invoice: same number, dates and amounts."""
        original = self.rng.choice(self.clean_invoices)
        self.invoices_issued += 1
        self.invoices_with_mismatch += 1
        assert original.fields is not None and original.lines is not None
        # A re-sent invoice often arrives by another channel: scanned, or as an e-invoice.
        variants = ["digital", "digital"]
        variants += list(SCAN_VARIANTS) if self.scans else []
        variants += ["ubl", "cii"] if self.einvoices else []
        return replace(
            original,
            stem=self._stem(),
            sequence=self.sequence,
            variant=self.rng.choice(variants),
            fields=original.fields.model_copy(deep=True),
            lines=[line.model_copy(deep=True) for line in original.lines],
            source_stem=None,
            mismatches=[
                {
                    "type": "duplicate",
                    "detail": {
                        "original_stem": original.stem,
                        "original_sequence": original.sequence,
                        "invoice_number": original.fields.invoice_number,
                    },
                }
            ],
        )

    # -- credit notes --------------------------------------------------------------------
    def _credit_note(self) -> DocPlan | None:
        candidates = [
            inv
            for inv in self.clean_invoices
            if inv.stem not in self.credited
            and inv.fields is not None
            and inv.fields.invoice_date is not None
            and inv.fields.invoice_date + timedelta(days=5) <= self.today
        ]
        if not candidates:
            return None
        invoice = self.rng.choice(candidates)
        self.credited.add(invoice.stem)
        assert invoice.fields is not None and invoice.lines is not None and invoice.fields.invoice_date
        vendor = invoice.vendor
        issued = min(invoice.fields.invoice_date + timedelta(days=self.rng.randint(5, 40)), self.today)
        picks = sorted(
            self.rng.sample(range(len(invoice.lines)), k=min(len(invoice.lines), self.rng.randint(1, 3)))
        )
        lines: list[InvoiceLine] = []
        po_line_nos: list[int] = []
        for i in picks:
            source = invoice.lines[i]
            assert source.quantity is not None and source.unit_price is not None
            qty = Decimal(self.rng.randint(1, max(1, int(source.quantity))))
            lines.append(
                InvoiceLine(
                    description=source.description,
                    sku=source.sku,
                    quantity=qty,
                    unit_price=source.unit_price,
                    amount=-money(qty * source.unit_price),
                )
            )
            po_line_nos.append(invoice.po_line_nos[i])
        subtotal = sum((line.amount for line in lines if line.amount is not None), Decimal("0.00"))
        tax = -money(-subtotal * invoice.tax_rate / 100)
        return DocPlan(
            stem=self._stem(),
            sequence=self.sequence,
            doc_type="credit_note",
            variant="digital",
            layout=invoice.layout,
            vendor=vendor,
            company=invoice.company,
            fields=InvoiceFields(
                vendor_name=vendor.name,
                vendor_tax_id=vendor.tax_id,
                vendor_iban=vendor.iban,
                invoice_number=self._next_number(vendor, issued, credit=True),
                invoice_date=issued,
                due_date=None,
                po_number=invoice.fields.po_number,
                currency=invoice.fields.currency,
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            ),
            lines=lines,
            po_line_nos=po_line_nos,
            tax_rate=invoice.tax_rate,
            customer_no=invoice.customer_no,
            refers_to={
                "stem": invoice.stem,
                "invoice_number": invoice.fields.invoice_number or "",
                "invoice_date": invoice.fields.invoice_date.isoformat(),
            },
            extra=dict(invoice.extra),
        )

    # -- everything that is not payable ----------------------------------------------------
    def _other(self, kind: str) -> DocPlan | None:
        if not self.vendors:
            return None
        vendor = self.rng.choice(self.vendors)
        orders = [po for po in self.master.orders_for(vendor.vendor_id)]
        company = self.rng.choice(sorted(BUYERS))
        layout = self.layout_of(vendor)
        extra: dict[str, Any] = {}
        if kind == "purchase_order":
            if not orders:
                return None
            po = self.rng.choice(orders)
            company = po.company or company
            layout = buyer_layout(company)
            extra = {"po_number": po.po_number}
        elif kind == "delivery_note":
            received = [gr for po in orders for gr in self.master.receipts_for(po.po_number)]
            if not received:
                return None
            receipt = self.rng.choice(received)
            extra = {
                "receipt_number": receipt.receipt_number,
                "po_number": receipt.po_number,
                "note_number": f"LS-{self.rng.randint(100000, 999999)}",
            }
        elif kind in ("statement", "remittance_advice"):
            if kind == "remittance_advice":
                layout = buyer_layout(company)
            entries = self._account_entries(vendor)
            extra = {"entries": entries, "reference": f"{self.rng.randint(1000000, 9999999)}"}
        else:  # marketing mail / newsletter, priced like an invoice to make classification work
            orders_lines = [line for po in orders for line in po.lines]
            if not orders_lines:
                return None
            offers = self.rng.sample(orders_lines, k=min(len(orders_lines), self.rng.randint(3, 7)))
            extra = {
                "offers": [(line.sku, line.description, line.unit_price) for line in offers],
                "discount": self.rng.choice([5, 10, 15, 20]),
            }
        if not self._in_split(layout):
            return None
        issued = self.today - timedelta(days=self.rng.randint(0, 120))
        extra["date"] = issued
        return DocPlan(
            stem=self._stem(),
            sequence=self.sequence,
            doc_type=kind,
            variant="digital",
            layout=layout,
            vendor=vendor,
            company=company,
            customer_no=self._customer_no(vendor, company),
            extra=extra,
        )

    def _account_entries(self, vendor: Vendor) -> list[tuple[str, date, Decimal]]:
        """Invoices a statement or remittance advice lists: this vendor's corpus invoices, else made up."""
        known = [
            (
                inv.fields.invoice_number or "",
                inv.fields.invoice_date or self.today,
                inv.fields.total or Decimal(0),
            )
            for inv in self.clean_invoices
            if inv.vendor.vendor_id == vendor.vendor_id and inv.fields is not None
        ]
        entries = known[-6:]
        while len(entries) < 3:
            issued = self.today - timedelta(days=self.rng.randint(20, 200))
            entries.append(
                (
                    self._next_number(vendor, issued),
                    issued,
                    money(Decimal(self.rng.randint(5000, 900000)) / 100),
                )
            )
        return sorted(entries, key=lambda e: e[1])
