"""Hypothesis strategies: perfectly consistent cases, and the corpus's mismatch types injected into them."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.rules.builders import money, s

COUNTRIES = {
    "DE": ("EUR", Decimal(19)),
    "FR": ("EUR", Decimal(20)),
    "NL": ("EUR", Decimal(21)),
    "GB": ("GBP", Decimal(20)),
    "US": ("USD", Decimal(0)),
}
ITEMS = [
    ("HX", "Hex bolt M8x40, box of 100"),
    ("HN", "Hex nut M10, box of 200"),
    ("WS", "Washer DIN 125 M12, box of 500"),
    ("SC", "Wood screw 4x50 zinc, box of 200"),
    ("CB", "Cable tie 300mm black, pack of 1000"),
    ("GL", "Nitrile gloves size L, box of 100"),
    ("PA", "Copy paper A4 80g, carton of 5 reams"),
    ("TN", "Toner cartridge black TK-5240"),
    ("LB", "Shipping label 100x150, roll of 500"),
    ("SF", "Safety shoes S3 size 43"),
    ("MN", "Monitor 27in IPS 1440p"),
    ("CN", "Consulting day, senior engineer"),
]
MISMATCH_TYPES = ("price", "quantity", "unknown_po", "duplicate", "bank_changed", "arithmetic")
# What catching each injected type means: at least one of these codes is raised.
CATCHES: dict[str, set[str]] = {
    "price": {"PRICE_VARIANCE"},
    "quantity": {"QTY_RECEIVED_EXCEEDED", "QTY_ORDERED_EXCEEDED"},
    "unknown_po": {"PO_NOT_FOUND"},
    "duplicate": {"DUPLICATE_SUSPECT"},
    "bank_changed": {"BANK_DETAILS_CHANGED"},
    "arithmetic": {"LINE_AMOUNT_MISMATCH", "SUBTOTAL_MISMATCH", "TOTAL_MISMATCH"},
}

prices = st.integers(min_value=100, max_value=15_000).map(lambda c: Decimal(c) / 100)
quantities = st.sampled_from([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 25, 40, 50, 100]).map(Decimal)


def document(
    vendor: dict[str, Any],
    po_number: str,
    number: str,
    rate: Decimal,
    currency: str,
    lines: list[tuple[str | None, str, Decimal, Decimal]],
) -> dict[str, Any]:
    out: list[dict[str, Any]] = [
        {"description": d, "sku": k, "quantity": s(q), "unit_price": s(p), "amount": s(money(q * p))}
        for k, d, q, p in lines
    ]
    subtotal = sum((Decimal(x["amount"]) for x in out), Decimal("0.00"))
    tax = money(subtotal * rate / 100)
    return {
        "doc_type": "invoice",
        "doc_type_confidence": 0.97,
        "source": f"{number}.pdf",
        "fields": {
            "vendor_name": vendor["name"],
            "vendor_tax_id": vendor["tax_id"],
            "vendor_iban": vendor["iban"],
            "invoice_number": number,
            "invoice_date": "2026-05-04",
            "due_date": "2026-06-03",
            "po_number": po_number,
            "currency": currency,
            "subtotal": s(subtotal),
            "tax_amount": s(tax),
            "total": s(subtotal + tax),
        },
        "field_confidence": {"total": 0.95},
        "lines": out,
    }


@st.composite
def consistent_cases(draw: st.DrawFn) -> dict[str, Any]:
    """An open PO, fully or partly received (one or two deliveries), an invoice billing what arrived
    and is not billed yet, possibly after an earlier invoice for the first delivery."""
    country = draw(st.sampled_from(sorted(COUNTRIES)))
    currency, rate = COUNTRIES[country]
    iban = None if country == "US" else f"{country}89370400440532013{draw(st.integers(100, 999))}"
    vendor = {
        "vendor_id": "V0007",
        "name": "Nordwind Industriebedarf GmbH",
        "tax_id": f"{country}123456789",
        "iban": iban,
        "currency": currency,
        "address": {"country": country},
    }
    other = {
        "vendor_id": "V0008",
        "name": "Atlas Supplies Ltd",
        "tax_id": "GB987654321",
        "iban": "GB29NWBK60161331926819",
        "currency": "GBP",
        "address": {"country": "GB"},
    }
    n = draw(st.integers(min_value=1, max_value=12))
    with_sku = draw(st.booleans())
    po_lines: list[dict[str, Any]] = []
    for line_no in range(1, n + 1):
        prefix, desc = draw(st.sampled_from(ITEMS))
        po_lines.append(
            {
                "line_no": line_no,
                "sku": f"{prefix}-{10000 + line_no % 3}",
                "description": desc,
                "quantity": s(draw(quantities)),
                "unit_price": s(draw(prices)),
            }
        )
    split = draw(st.booleans())  # two deliveries, the first already invoiced
    first: list[dict[str, Any]] = [
        {"po_line_no": x["line_no"], "quantity": s((Decimal(x["quantity"]) / 2).to_integral_value())}
        for x in po_lines
    ]
    rest = [
        {"po_line_no": x["line_no"], "quantity": s(Decimal(x["quantity"]) - Decimal(f["quantity"]))}
        for x, f in zip(po_lines, first, strict=True)
    ]
    by_no: dict[int, dict[str, Any]] = {x["line_no"]: x for x in po_lines}

    def lines_for(receipt_lines: list[dict[str, Any]]) -> list[tuple[str | None, str, Decimal, Decimal]]:
        return [
            (
                by_no[r["po_line_no"]]["sku"] if with_sku else None,
                by_no[r["po_line_no"]]["description"],
                Decimal(r["quantity"]),
                Decimal(by_no[r["po_line_no"]]["unit_price"]),
            )
            for r in receipt_lines
            if Decimal(r["quantity"]) > 0
        ]

    history = []
    if (
        split
        and any(Decimal(f["quantity"]) > 0 for f in first)
        and any(Decimal(r["quantity"]) > 0 for r in rest)
    ):
        receipts = [
            {"receipt_number": "GR-1", "po_number": "PO-45100", "date": "2026-04-01", "lines": first},
            {"receipt_number": "GR-2", "po_number": "PO-45100", "date": "2026-04-20", "lines": rest},
        ]
        earlier = document(vendor, "PO-45100", "INV-2026-0400", rate, currency, lines_for(first))
        earlier["fields"]["invoice_date"] = "2026-04-02"
        history.append({"status": "posted", **earlier})
        billed = rest
    else:
        full = [{"po_line_no": x["line_no"], "quantity": x["quantity"]} for x in po_lines]
        receipts = [{"receipt_number": "GR-1", "po_number": "PO-45100", "date": "2026-04-20", "lines": full}]
        billed = full
    invoice = document(vendor, "PO-45100", "INV-2026-0412", rate, currency, lines_for(billed))
    return {
        "invoice": invoice,
        "vendors": [vendor, other],
        "purchase_orders": [
            {
                "po_number": "PO-45100",
                "vendor_id": "V0007",
                "currency": currency,
                "status": "open",
                "company": "1000",
                "lines": po_lines,
            }
        ],
        "receipts": receipts,
        "history": history,
        "today": "2026-05-10",
    }


def _restate(doc: dict[str, Any], rate: Decimal) -> None:
    for line in doc["lines"]:
        line["amount"] = s(money(Decimal(line["quantity"]) * Decimal(line["unit_price"])))
    subtotal = sum((Decimal(x["amount"]) for x in doc["lines"]), Decimal("0.00"))
    tax = money(subtotal * rate / 100)
    doc["fields"].update(subtotal=s(subtotal), tax_amount=s(tax), total=s(subtotal + tax))


@st.composite
def mismatched_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A consistent case with one of the corpus's mismatch types injected, as the corpus does it."""
    case = copy.deepcopy(draw(consistent_cases()))
    kind = draw(st.sampled_from(MISMATCH_TYPES))
    doc = case["invoice"]
    country = case["vendors"][0]["address"]["country"]
    rate = COUNTRIES[country][1]
    i = draw(st.integers(min_value=0, max_value=len(doc["lines"]) - 1))
    line = doc["lines"][i]
    if kind == "bank_changed" and case["vendors"][0]["iban"] is None:
        kind = "price"
    if kind == "price":
        old = Decimal(line["unit_price"])
        new = money(old * (1 + Decimal(draw(st.integers(50, 250))) / 1000))
        line["unit_price"] = s(max(new, old + Decimal("0.05")))
        _restate(doc, rate)
    elif kind == "quantity":
        # The invoice bills the last receipt's lines in order: that gives the PO line of line i.
        billed = [r for r in case["receipts"][-1]["lines"] if Decimal(r["quantity"]) > 0]
        po_line_no = billed[i]["po_line_no"]
        received = sum(
            (
                Decimal(r["quantity"])
                for gr in case["receipts"]
                for r in gr["lines"]
                if r["po_line_no"] == po_line_no
            ),
            Decimal(0),
        )
        line["quantity"] = s(received + max(Decimal(1), (received * Decimal("0.3")).to_integral_value()))
        _restate(doc, rate)
    elif kind == "unknown_po":
        doc["fields"]["po_number"] = "PO-99123"
    elif kind == "duplicate":
        original = copy.deepcopy(doc)
        case["history"].append({"status": "posted", **original})
        doc["source"] = "resent-by-mail.pdf"
    elif kind == "bank_changed":
        doc["fields"]["vendor_iban"] = case["vendors"][0]["iban"][:-3] + "000"
    else:  # arithmetic
        delta = Decimal(
            draw(st.sampled_from(["10.00", "-1.00", "100.00", "0.90", "0.09", "90.00", "-10.00"]))
        )
        if draw(st.booleans()):
            line["amount"] = s(Decimal(line["amount"]) + abs(delta))
        else:
            doc["fields"]["total"] = s(Decimal(doc["fields"]["total"]) + delta)
    return kind, case
