"""Turns a planned document into the formatted text blocks its layout prints (a ``PrintSpec``).

Invoices and credit notes print exactly the truth values, formatted per layout; the other
document types (orders, delivery notes, statements, remittance advice, marketing mail) borrow
the same vocabulary on purpose, so that telling them apart takes more than spotting a word.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from ledgerbot.core.domain import Vendor
from sandbox.corpus.formats import fmt_date, fmt_iban, fmt_money, fmt_number, fmt_quantity
from sandbox.corpus.layouts import Layout
from sandbox.corpus.planner import BUYERS, DocPlan
from sandbox.corpus.render import Party, PrintSpec, render_pdf
from sandbox.masterdata import MasterData

_COUNTRY_NAMES = {
    "en": {"DE": "Germany", "FR": "France", "GB": "United Kingdom", "NL": "Netherlands", "US": "USA"},
    "de": {
        "DE": "Deutschland",
        "FR": "Frankreich",
        "GB": "Vereinigtes Königreich",
        "NL": "Niederlande",
        "US": "USA",
    },
    "fr": {"DE": "Allemagne", "FR": "France", "GB": "Royaume-Uni", "NL": "Pays-Bas", "US": "États-Unis"},
}

_WORDS = {
    "en": {
        "purchase_order": "PURCHASE ORDER",
        "order_no": "Order No.",
        "order_date": "Order date",
        "supplier_no": "Supplier No.",
        "delivery_address": "Deliver to",
        "supplier": "Supplier",
        "order_total": "Order total (net)",
        "order_note": "Please quote our order number on your invoice. Deliveries Mon-Fri 7:00-15:00.",
        "delivery_note": "DELIVERY NOTE",
        "note_no": "Delivery Note No.",
        "delivery_date": "Delivery date",
        "received_by": "Goods received in good order: ____________________ (signature, date)",
        "no_prices": "This delivery note is not an invoice. The invoice follows separately.",
        "statement": "STATEMENT OF ACCOUNT",
        "statement_date": "Statement date",
        "doc_date": "Date",
        "doc_no": "Reference",
        "entry": "Invoice",
        "balance": "Balance",
        "balance_due": "Balance due",
        "statement_note": "Please remit the balance due. Ignore this statement if payment has been made.",
        "remittance_advice": "REMITTANCE ADVICE",
        "payment_ref": "Payment reference",
        "payment_date": "Payment date",
        "paid": "Amount paid",
        "total_paid": "Total paid",
        "remit_note": "We have today transferred the total below to your account {iban}.",
        "newsletter": "NEWSLETTER",
        "offer_title": "Special offers of the month",
        "offer_intro": "Dear customer, this month we offer {discount}% off selected items.",
        "offer_intro2": "Order now - offer valid while stocks last. Prices excl. VAT.",
        "regular": "Regular price",
        "offer": "Offer price",
        "unsubscribe": "You receive this mail as a registered customer. To unsubscribe, reply with STOP.",
    },
    "de": {
        "purchase_order": "BESTELLUNG",
        "order_no": "Bestellnummer",
        "order_date": "Bestelldatum",
        "supplier_no": "Lieferantennr.",
        "delivery_address": "Lieferanschrift",
        "supplier": "Lieferant",
        "order_total": "Bestellwert netto",
        "order_note": "Bitte geben Sie unsere Bestellnummer auf der Rechnung an.",
        "delivery_note": "LIEFERSCHEIN",
        "note_no": "Lieferschein-Nr.",
        "delivery_date": "Lieferdatum",
        "received_by": "Ware in einwandfreiem Zustand erhalten: ____________________ (Unterschrift, Datum)",
        "no_prices": "Dieser Lieferschein ist keine Rechnung. Die Rechnung folgt separat.",
        "statement": "KONTOAUSZUG",
        "statement_date": "Datum",
        "doc_date": "Datum",
        "doc_no": "Beleg",
        "entry": "Rechnung",
        "balance": "Saldo",
        "balance_due": "Offener Saldo",
        "statement_note": "Bitte überweisen Sie den offenen Saldo. Bereits bezahlte Posten bitte ignorieren.",
        "remittance_advice": "ZAHLUNGSAVIS",
        "payment_ref": "Zahlungsreferenz",
        "payment_date": "Zahlungsdatum",
        "paid": "Bezahlt",
        "total_paid": "Summe Zahlung",
        "remit_note": "Wir haben heute den folgenden Betrag auf Ihr Konto {iban} überwiesen.",
        "newsletter": "NEWSLETTER",
        "offer_title": "Angebote des Monats",
        "offer_intro": "Sehr geehrte Kundin, sehr geehrter Kunde, diesen Monat {discount}% Rabatt "
        "auf ausgewählte Artikel.",
        "offer_intro2": "Jetzt bestellen - solange der Vorrat reicht. Preise zzgl. MwSt.",
        "regular": "Listenpreis",
        "offer": "Aktionspreis",
        "unsubscribe": "Sie erhalten diese E-Mail als registrierter Kunde. Abmelden: Antwort mit STOP.",
    },
    "fr": {
        "purchase_order": "BON DE COMMANDE",
        "order_no": "N° de commande",
        "order_date": "Date de commande",
        "supplier_no": "N° fournisseur",
        "delivery_address": "Adresse de livraison",
        "supplier": "Fournisseur",
        "order_total": "Total commande HT",
        "order_note": "Merci de rappeler notre numéro de commande sur votre facture.",
        "delivery_note": "BON DE LIVRAISON",
        "note_no": "N° de bon de livraison",
        "delivery_date": "Date de livraison",
        "received_by": "Marchandise reçue en bon état : ____________________ (signature, date)",
        "no_prices": "Ce bon de livraison n'est pas une facture. La facture suit séparément.",
        "statement": "RELEVÉ DE COMPTE",
        "statement_date": "Date du relevé",
        "doc_date": "Date",
        "doc_no": "Pièce",
        "entry": "Facture",
        "balance": "Solde",
        "balance_due": "Solde dû",
        "statement_note": "Merci de régler le solde dû. Ne pas tenir compte si le paiement a été effectué.",
        "remittance_advice": "AVIS DE PAIEMENT",
        "payment_ref": "Référence de paiement",
        "payment_date": "Date de paiement",
        "paid": "Montant payé",
        "total_paid": "Total réglé",
        "remit_note": "Nous avons viré ce jour le montant ci-dessous sur votre compte {iban}.",
        "newsletter": "LETTRE D'INFORMATION",
        "offer_title": "Les offres du mois",
        "offer_intro": "Chère cliente, cher client, ce mois-ci {discount}% de remise "
        "sur une sélection d'articles.",
        "offer_intro2": "Commandez vite - dans la limite des stocks disponibles. Prix HT.",
        "regular": "Prix catalogue",
        "offer": "Prix promo",
        "unsubscribe": "Vous recevez ce message en tant que client. Pour vous désabonner, répondez STOP.",
    },
}


def _vendor_party(vendor: Vendor, layout: Layout) -> Party:
    address = vendor.address
    lines = []
    if address is not None:
        lines = [address.street or "", f"{address.postal_code} {address.city}"]
        lines.append(_COUNTRY_NAMES[layout.language].get(address.country or "", address.country or ""))
    return Party(vendor.name, [line for line in lines if line])


def _buyer_party(company: str, layout: Layout) -> Party:
    buyer = BUYERS[company]
    lines = [*list(buyer.lines[:2]), _COUNTRY_NAMES[layout.language].get(buyer.lines[2], buyer.lines[2])]
    return Party(buyer.name, lines)


def _us_bank(vendor: Vendor) -> str:
    rng = random.Random("bank" + vendor.vendor_id)
    routing, account = rng.randint(10**8, 10**9 - 1), rng.randint(10**9, 10**10 - 1)
    return f"First Lakeshore Bank · ABA {routing} · Account {account}"


def _bic(vendor: Vendor, iban: str) -> str:
    rng = random.Random("bic" + vendor.vendor_id)
    return (
        "".join(rng.choices("ABCDEFGHKLMNPRSTUVWZ", k=4))
        + iban[:2]
        + "".join(rng.choices("ABCDEFXYZ23", k=2))
    )


def _vendor_footer(vendor: Vendor, layout: Layout, iban: str | None) -> list[str]:
    address = vendor.address
    where = f"{address.street} · {address.postal_code} {address.city}" if address else ""
    first = f"{vendor.name} · {where} · {layout.label('tax_id')} {vendor.tax_id}"
    if iban:
        bank = (
            f"{layout.label('bank')}: IBAN {fmt_iban(iban, layout.iban_grouped)} · BIC {_bic(vendor, iban)}"
        )
    else:
        bank = f"{layout.label('bank')}: {_us_bank(vendor)}"
    return [first, bank]


def _tax_label(layout: Layout, rate: Decimal) -> str:
    if layout.language == "en":
        return f"{layout.label('tax')} {rate:.0f}%"
    return f"{layout.label('tax')} {fmt_number(rate, layout.number_style)} %"


def payable_spec(plan: DocPlan) -> PrintSpec:
    """An invoice or credit note, printing exactly the plan's (truth) values."""
    layout, vendor, fields = plan.layout, plan.vendor, plan.fields
    assert fields is not None and plan.lines is not None
    credit = plan.doc_type == "credit_note"
    currency = fields.currency or vendor.currency
    sign = Decimal(1) if (not credit or layout.credit_negative) else Decimal(-1)

    def amount(value: Decimal | None) -> str:
        return fmt_number((value or Decimal(0)) * sign, layout.number_style)

    def total(value: Decimal | None) -> str:
        return fmt_money(
            (value or Decimal(0)) * sign, currency, layout.number_style, layout.currency_placement
        )

    meta = [
        (layout.label("credit_number" if credit else "invoice_number"), fields.invoice_number or ""),
        (
            layout.label("invoice_date"),
            fmt_date(fields.invoice_date, layout.date_style) if fields.invoice_date else "",
        ),
    ]
    if fields.due_date is not None:
        meta.append((layout.label("due_date"), fmt_date(fields.due_date, layout.date_style)))
    meta.append((layout.label("po_number"), fields.po_number or ""))
    meta.append((layout.label("customer_no"), plan.customer_no))
    intro = []
    if credit and plan.refers_to:
        from datetime import date

        referred = date.fromisoformat(plan.refers_to["invoice_date"])
        intro.append(
            layout.label("credit_ref").format(
                number=plan.refers_to["invoice_number"], date=fmt_date(referred, layout.date_style)
            )
        )
    rows = []
    running: list[str] = []
    so_far = Decimal(0)
    for index, line in enumerate(plan.lines):
        rows.append(
            {
                "pos": str(index + 1),
                "sku": line.sku or "",
                "description": line.description or "",
                "quantity": fmt_quantity(line.quantity or Decimal(0), layout.number_style),
                "unit_price": fmt_number(line.unit_price or Decimal(0), layout.number_style),
                "amount": amount(line.amount),
            }
        )
        so_far += line.amount or Decimal(0)
        running.append(amount(so_far))
    notes = []
    if fields.due_date is not None and fields.invoice_date is not None:
        days = (fields.due_date - fields.invoice_date).days
        notes.append(
            layout.label("terms").format(days=days, due=fmt_date(fields.due_date, layout.date_style))
        )
    notes.append(layout.label("thanks"))
    footer = _vendor_footer(vendor, layout, fields.vendor_iban)
    sidebar = [f"{layout.label('tax_id')}", vendor.tax_id or ""]
    return PrintSpec(
        title=layout.label("credit_note" if credit else "invoice"),
        issuer=_vendor_party(vendor, layout),
        recipient=_buyer_party(plan.company, layout),
        recipient_label=layout.label("bill_to"),
        meta=meta,
        columns=[(key, layout.label(key)) for key in layout.columns],
        rows=rows,
        totals=[
            (layout.label("subtotal"), total(fields.subtotal)),
            (_tax_label(layout, plan.tax_rate), total(fields.tax_amount)),
            (layout.label("total"), total(fields.total)),
        ],
        intro=intro,
        notes=notes,
        footer=footer,
        running=running,
        carried_label=layout.label("carried"),
        brought_label=layout.label("brought"),
        page_label=layout.label("page"),
        sidebar=sidebar,
    )


def other_spec(plan: DocPlan, master: MasterData) -> PrintSpec:
    """A non-payable document: order, delivery note, statement, remittance advice or mailing."""
    layout, vendor, extra = plan.layout, plan.vendor, plan.extra
    words = _WORDS[layout.language]
    style = layout.number_style
    currency = vendor.currency
    issued = extra["date"]
    vendor_party = _vendor_party(vendor, layout)
    buyer_party = _buyer_party(plan.company, layout)
    footer = _vendor_footer(vendor, layout, vendor.iban)
    common: dict[str, Any] = {
        "carried_label": layout.label("carried"),
        "brought_label": layout.label("brought"),
        "page_label": layout.label("page"),
        "sidebar": [layout.label("tax_id"), vendor.tax_id or ""],
    }
    if plan.doc_type == "purchase_order":
        po = next(p for p in master.purchase_orders if p.po_number == extra["po_number"])
        rows, running, so_far = [], [], Decimal(0)
        for line in po.lines:
            value = line.quantity * line.unit_price
            so_far += value
            rows.append(
                {
                    "pos": str(line.line_no),
                    "sku": line.sku or "",
                    "description": line.description,
                    "quantity": fmt_quantity(line.quantity, style),
                    "unit_price": fmt_number(line.unit_price, style),
                    "amount": fmt_number(value, style),
                }
            )
            running.append(fmt_number(so_far, style))
        buyer = BUYERS[plan.company]
        order_date = po.order_date or issued
        return PrintSpec(
            title=words["purchase_order"],
            issuer=buyer_party,
            recipient=vendor_party,
            recipient_label=words["supplier"],
            meta=[
                (words["order_no"], po.po_number),
                (words["order_date"], fmt_date(order_date, layout.date_style)),
                (words["supplier_no"], vendor.vendor_id),
            ],
            columns=[(key, layout.label(key)) for key in layout.columns],
            rows=rows,
            totals=[(words["order_total"], fmt_money(so_far, po.currency, style, layout.currency_placement))],
            notes=[words["order_note"]],
            footer=[f"{buyer.name} · {' · '.join(buyer.lines)} · VAT {buyer.tax_id}"],
            running=running,
            **common,
        )
    if plan.doc_type == "delivery_note":
        receipt = next(r for r in master.receipts if r.receipt_number == extra["receipt_number"])
        po = next(p for p in master.purchase_orders if p.po_number == receipt.po_number)
        by_no = {line.line_no: line for line in po.lines}
        rows = [
            {
                "pos": str(index + 1),
                "sku": by_no[r.po_line_no].sku or "",
                "description": by_no[r.po_line_no].description,
                "quantity": fmt_quantity(r.quantity, style),
            }
            for index, r in enumerate(receipt.lines)
        ]
        return PrintSpec(
            title=words["delivery_note"],
            issuer=vendor_party,
            recipient=buyer_party,
            recipient_label=words["delivery_address"],
            meta=[
                (words["note_no"], extra["note_number"]),
                (words["delivery_date"], fmt_date(receipt.date, layout.date_style)),
                (layout.label("po_number"), po.po_number),
                (layout.label("customer_no"), plan.customer_no),
            ],
            columns=[(key, layout.label(key)) for key in ("pos", "sku", "description", "quantity")],
            rows=rows,
            notes=[words["no_prices"], words["received_by"]],
            footer=footer,
            **common,
        )
    if plan.doc_type in ("statement", "remittance_advice"):
        entries = extra["entries"]
        rows, balance = [], Decimal(0)
        for number, when, value in entries:
            balance += value
            rows.append(
                {
                    "doc_date": fmt_date(when, layout.date_style),
                    "doc_no": number,
                    "description": words["entry"],
                    "amount": fmt_number(value, style),
                    "balance": fmt_number(balance, style),
                }
            )
        money_total = fmt_money(balance, currency, style, layout.currency_placement)
        if plan.doc_type == "statement":
            return PrintSpec(
                title=words["statement"],
                issuer=vendor_party,
                recipient=buyer_party,
                recipient_label=layout.label("bill_to"),
                meta=[
                    (words["statement_date"], fmt_date(issued, layout.date_style)),
                    (layout.label("customer_no"), plan.customer_no),
                ],
                columns=[
                    ("doc_date", words["doc_date"]),
                    ("doc_no", words["doc_no"]),
                    ("description", layout.label("description")),
                    ("amount", layout.label("amount")),
                    ("balance", words["balance"]),
                ],
                rows=rows,
                totals=[(words["balance_due"], money_total)],
                notes=[words["statement_note"]],
                footer=footer,
                **common,
            )
        buyer = BUYERS[plan.company]
        account = fmt_iban(vendor.iban, True) if vendor.iban else _us_bank(vendor)
        return PrintSpec(
            title=words["remittance_advice"],
            issuer=buyer_party,
            recipient=vendor_party,
            recipient_label=words["supplier"],
            meta=[
                (words["payment_ref"], extra["reference"]),
                (words["payment_date"], fmt_date(issued, layout.date_style)),
                (words["supplier_no"], vendor.vendor_id),
            ],
            columns=[
                ("doc_date", words["doc_date"]),
                ("doc_no", words["doc_no"]),
                ("description", layout.label("description")),
                ("amount", words["paid"]),
            ],
            rows=[{k: v for k, v in row.items() if k != "balance"} for row in rows],
            totals=[(words["total_paid"], money_total)],
            intro=[words["remit_note"].format(iban=account)],
            footer=[f"{buyer.name} · {' · '.join(buyer.lines)} · VAT {buyer.tax_id}"],
            **common,
        )
    # Marketing mail: prices and item codes like an invoice, but nothing is owed.
    discount = Decimal(extra["discount"])
    rows = [
        {
            "sku": sku or "",
            "description": description,
            "unit_price": fmt_number(price, style),
            "amount": fmt_number(price * (100 - discount) / 100, style),
        }
        for sku, description, price in extra["offers"]
    ]
    return PrintSpec(
        title=words["newsletter"],
        issuer=vendor_party,
        recipient=buyer_party,
        recipient_label="",
        meta=[(words["offer_title"], fmt_date(issued, layout.date_style))],
        columns=[
            ("sku", layout.label("sku")),
            ("description", layout.label("description")),
            ("unit_price", words["regular"]),
            ("amount", words["offer"]),
        ],
        rows=rows,
        intro=[words["offer_intro"].format(discount=extra["discount"]), words["offer_intro2"]],
        notes=[words["unsubscribe"]],
        footer=footer,
        **common,
    )


def render_document(plan: DocPlan, master: MasterData) -> bytes:
    """The visible PDF of any planned document."""
    if plan.doc_type in ("invoice", "credit_note"):
        return render_pdf(payable_spec(plan), plan.layout)
    return render_pdf(other_spec(plan, master), plan.layout)
