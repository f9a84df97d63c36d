"""The vendor layouts of the sample corpus: wording, language, formats, columns and look.

Every vendor prints with exactly one layout, chosen from its id and country, as in real life.
Layouts L01-L07 form the ``dev`` split (development, training, templates); L08-L10 are the
``heldout`` split and must only ever be used to evaluate. Buyer-issued documents (purchase
orders and remittance advice) use the buyer layouts B01 (dev) and B02 (heldout).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Split = Literal["dev", "heldout"]
Column = Literal["pos", "sku", "description", "quantity", "unit_price", "amount"]

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "INVOICE",
        "credit_note": "CREDIT NOTE",
        "invoice_number": "Invoice No.",
        "credit_number": "Credit Note No.",
        "invoice_date": "Invoice Date",
        "due_date": "Due Date",
        "po_number": "PO Number",
        "customer_no": "Customer No.",
        "tax_id": "VAT Reg. No.",
        "pos": "#",
        "sku": "Item Code",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit Price",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "tax": "VAT",
        "total": "Total due",
        "carried": "Carried forward",
        "brought": "Brought forward",
        "bank": "Bank details",
        "terms": "Payment terms: {days} days net, payable by {due}.",
        "credit_ref": "Credit for invoice {number} dated {date}",
        "bill_to": "Bill to",
        "page": "Page {page} of {pages}",
        "thanks": "Thank you for your business.",
    },
    "de": {
        "invoice": "RECHNUNG",
        "credit_note": "GUTSCHRIFT",
        "invoice_number": "Rechnungsnummer",
        "credit_number": "Gutschrift-Nr.",
        "invoice_date": "Rechnungsdatum",
        "due_date": "Fällig am",
        "po_number": "Ihre Bestellung",
        "customer_no": "Kundennummer",
        "tax_id": "USt-IdNr.",
        "pos": "Pos.",
        "sku": "Art.-Nr.",
        "description": "Bezeichnung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "amount": "Gesamtpreis",
        "subtotal": "Nettobetrag",
        "tax": "MwSt.",
        "total": "Gesamtbetrag",
        "carried": "Übertrag",
        "brought": "Übertrag",
        "bank": "Bankverbindung",
        "terms": "Zahlbar innerhalb von {days} Tagen netto bis {due}.",
        "credit_ref": "Gutschrift zu Rechnung {number} vom {date}",
        "bill_to": "Rechnungsempfänger",
        "page": "Seite {page} von {pages}",
        "thanks": "Vielen Dank für Ihren Auftrag.",
    },
    "fr": {
        "invoice": "FACTURE",
        "credit_note": "AVOIR",
        "invoice_number": "N° de facture",
        "credit_number": "N° d'avoir",
        "invoice_date": "Date de facture",
        "due_date": "Date d'échéance",
        "po_number": "Votre commande",
        "customer_no": "N° client",
        "tax_id": "N° TVA intracom.",
        "pos": "N°",
        "sku": "Réf.",
        "description": "Désignation",
        "quantity": "Qté",
        "unit_price": "P.U. HT",
        "amount": "Montant HT",
        "subtotal": "Total HT",
        "tax": "TVA",
        "total": "Montant TTC",
        "carried": "À reporter",
        "brought": "Report",
        "bank": "Coordonnées bancaires",
        "terms": "Paiement à {days} jours net, échéance le {due}.",
        "credit_ref": "Avoir sur facture {number} du {date}",
        "bill_to": "Facturé à",
        "page": "Page {page}/{pages}",
        "thanks": "Merci de votre confiance.",
    },
}


@dataclass(frozen=True)
class Layout:
    """Everything that makes one vendor's documents look like that vendor's."""

    id: str
    split: Split
    language: str
    countries: tuple[str, ...]
    style: str  # header arrangement: classic | band | centered | letter | sidebar | mono | boxed
    font: str  # reportlab standard family: Helvetica | Times | Courier
    date_style: str
    number_style: str
    currency_placement: str  # how totals show the currency
    columns: tuple[Column, ...]
    invoice_number_pattern: str
    credit_prefix: str
    rows_first_page: int
    rows_next_pages: int
    accent: tuple[float, float, float] = (0.1, 0.2, 0.45)
    page_size: str = "A4"
    iban_grouped: bool = True
    credit_negative: bool = True  # credit notes print amounts with a minus sign
    table_grid: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, key: str) -> str:
        return self.labels.get(key) or _LABELS[self.language][key]

    @property
    def has_sku(self) -> bool:
        return "sku" in self.columns


def _labels(language: str, **overrides: str) -> dict[str, str]:
    return {**_LABELS[language], **overrides}


LAYOUTS: dict[str, Layout] = {
    layout.id: layout
    for layout in [
        Layout(
            id="L01_classic_en",
            split="dev",
            language="en",
            countries=("GB", "NL"),
            style="classic",
            font="Helvetica",
            date_style="dmy_slash",
            number_style="en",
            currency_placement="symbol_before",
            columns=("pos", "sku", "description", "quantity", "unit_price", "amount"),
            invoice_number_pattern="INV-{n:06d}",
            credit_prefix="CN-",
            rows_first_page=24,
            rows_next_pages=36,
            labels=_labels("en"),
        ),
        Layout(
            id="L02_export_en",
            split="dev",
            language="en",
            countries=("DE", "NL"),
            style="centered",
            font="Times",
            date_style="iso",
            number_style="de",
            currency_placement="code_after",
            columns=("sku", "description", "quantity", "unit_price", "amount"),
            invoice_number_pattern="{year}-{n:05d}",
            credit_prefix="CR-",
            rows_first_page=22,
            rows_next_pages=34,
            accent=(0.15, 0.15, 0.15),
            iban_grouped=False,
            labels=_labels(
                "en",
                invoice="Commercial Invoice",
                invoice_number="Invoice number",
                invoice_date="Date of issue",
                due_date="Payment due",
                po_number="Your order ref.",
                tax_id="VAT ID",
                sku="Article",
                quantity="Quantity",
                unit_price="Price",
                amount="Net value",
                subtotal="Net total",
                total="Amount payable",
            ),
        ),
        Layout(
            id="L03_modern_de",
            split="dev",
            language="de",
            countries=("DE",),
            style="band",
            font="Helvetica",
            date_style="dmy_dot",
            number_style="de",
            currency_placement="symbol_after",
            columns=("pos", "sku", "description", "quantity", "unit_price", "amount"),
            invoice_number_pattern="RE-{year}-{n:05d}",
            credit_prefix="GS-",
            rows_first_page=20,
            rows_next_pages=34,
            accent=(0.0, 0.37, 0.6),
            labels=_labels("de"),
        ),
        Layout(
            id="L04_facture_fr",
            split="dev",
            language="fr",
            countries=("FR",),
            style="boxed",
            font="Times",
            date_style="dmy_slash",
            number_style="fr",
            currency_placement="symbol_after",
            columns=("sku", "description", "quantity", "unit_price", "amount"),
            invoice_number_pattern="FA{year}{n:05d}",
            credit_prefix="AV",
            rows_first_page=20,
            rows_next_pages=34,
            accent=(0.45, 0.1, 0.15),
            table_grid=True,
            labels=_labels("fr"),
        ),
        Layout(
            id="L05_us_letter",
            split="dev",
            language="en",
            countries=("US", "GB"),
            style="sidebar",
            font="Helvetica",
            date_style="en_long",
            number_style="en",
            currency_placement="symbol_before",
            columns=("description", "quantity", "unit_price", "amount"),
            invoice_number_pattern="{n:05d}",
            credit_prefix="CM-",
            rows_first_page=22,
            rows_next_pages=32,
            accent=(0.05, 0.45, 0.3),
            page_size="LETTER",
            credit_negative=False,
            labels=_labels(
                "en",
                invoice="Invoice",
                credit_note="Credit Memo",
                invoice_number="Invoice #",
                credit_number="Credit Memo #",
                invoice_date="Date",
                due_date="Due",
                po_number="P.O. Number",
                tax_id="Tax ID",
                description="Item / Description",
                unit_price="Rate",
                subtotal="Sub Total",
                tax="Tax",
                total="Balance Due",
            ),
        ),
        Layout(
            id="L06_compact_de",
            split="dev",
            language="de",
            countries=("DE",),
            style="mono",
            font="Courier",
            date_style="de_long",
            number_style="de",
            currency_placement="code_before",
            columns=("quantity", "sku", "description", "unit_price", "amount"),
            invoice_number_pattern="R{yy}/{n:04d}",
            credit_prefix="G",
            rows_first_page=26,
            rows_next_pages=40,
            accent=(0.0, 0.0, 0.0),
            iban_grouped=False,
            labels=_labels(
                "de",
                invoice="Rechnung",
                credit_note="Gutschrift",
                invoice_number="Rechnung Nr.",
                invoice_date="Datum",
                due_date="Zahlungsziel",
                po_number="Bestell-Nr.",
                sku="Artikel",
                unit_price="Preis",
                amount="Betrag",
                subtotal="Summe netto",
                tax="USt.",
                total="Rechnungsbetrag",
            ),
        ),
        Layout(
            id="L07_moderne_fr",
            split="dev",
            language="fr",
            countries=("FR",),
            style="classic",
            font="Helvetica",
            date_style="fr_long",
            number_style="fr",
            currency_placement="code_after",
            columns=("description", "sku", "quantity", "unit_price", "amount"),
            invoice_number_pattern="F-{year}-{n:04d}",
            credit_prefix="AV-",
            rows_first_page=24,
            rows_next_pages=36,
            accent=(0.55, 0.3, 0.0),
            labels=_labels(
                "fr",
                invoice="Facture",
                credit_note="Avoir",
                invoice_number="Facture n°",
                invoice_date="Émise le",
                due_date="À régler avant le",
                po_number="Bon de commande",
                sku="Référence",
                quantity="Quantité",
                unit_price="Prix unitaire",
                amount="Total",
                total="Net à payer",
            ),
        ),
        # Held-out layouts: evaluation only.
        Layout(
            id="L08_ledger_en",
            split="heldout",
            language="en",
            countries=("GB", "US"),
            style="letter",
            font="Times",
            date_style="en_short",
            number_style="en",
            currency_placement="code_before",
            columns=("quantity", "description", "sku", "unit_price", "amount"),
            invoice_number_pattern="BL/{n:05d}/{yy}",
            credit_prefix="CR/",
            rows_first_page=18,
            rows_next_pages=34,
            accent=(0.3, 0.3, 0.3),
            table_grid=True,
            labels=_labels(
                "en",
                invoice="TAX INVOICE",
                invoice_number="Bill No:",
                credit_number="Credit No:",
                invoice_date="Tax point",
                due_date="Pay by",
                po_number="Purchase order",
                customer_no="Account",
                sku="Code",
                quantity="Units",
                unit_price="Each",
                amount="Line total",
                subtotal="Goods",
                total="Amount Due",
            ),
        ),
        Layout(
            id="L09_kontor_de",
            split="heldout",
            language="de",
            countries=("DE", "NL"),
            style="letter",
            font="Helvetica",
            date_style="dmy_dot",
            number_style="de",
            currency_placement="code_after",
            columns=("sku", "quantity", "description", "unit_price", "amount"),
            invoice_number_pattern="{yy}{n:06d}",
            credit_prefix="GU",
            rows_first_page=18,
            rows_next_pages=36,
            accent=(0.35, 0.1, 0.4),
            labels=_labels(
                "de",
                invoice="Rechnung",
                credit_note="Gutschrift",
                invoice_number="Beleg-Nr.",
                credit_number="Beleg-Nr.",
                invoice_date="Belegdatum",
                due_date="Fälligkeit",
                po_number="Bestellnummer",
                sku="Artikelnr.",
                unit_price="E-Preis",
                amount="Summe",
                subtotal="Warenwert",
                tax="Umsatzsteuer",
                total="Zu zahlen",
            ),
        ),
        Layout(
            id="L10_atelier_fr",
            split="heldout",
            language="fr",
            countries=("FR",),
            style="sidebar",
            font="Times",
            date_style="dmy_dot",
            number_style="fr",
            currency_placement="symbol_after",
            columns=("quantity", "description", "unit_price", "amount"),
            invoice_number_pattern="FAC-{n:06d}",
            credit_prefix="AVR-",
            rows_first_page=22,
            rows_next_pages=34,
            accent=(0.2, 0.35, 0.2),
            credit_negative=False,
            labels=_labels(
                "fr",
                invoice_number="Numéro de facture",
                invoice_date="Date",
                due_date="Échéance",
                po_number="Réf. commande",
                quantity="Qté",
                unit_price="PU HT",
                amount="Total HT",
                total="Total TTC",
            ),
        ),
    ]
}

# Buyer-issued documents (purchase orders, remittance advice) come from our own two companies.
BUYER_LAYOUTS: dict[str, Layout] = {
    "B01_buyer_de": Layout(
        id="B01_buyer_de",
        split="dev",
        language="en",
        countries=(),
        style="classic",
        font="Helvetica",
        date_style="iso",
        number_style="en",
        currency_placement="code_after",
        columns=("pos", "sku", "description", "quantity", "unit_price", "amount"),
        invoice_number_pattern="",
        credit_prefix="",
        rows_first_page=24,
        rows_next_pages=36,
        accent=(0.2, 0.2, 0.5),
        labels=_labels("en"),
    ),
    "B02_buyer_fr": Layout(
        id="B02_buyer_fr",
        split="heldout",
        language="fr",
        countries=(),
        style="band",
        font="Times",
        date_style="dmy_slash",
        number_style="fr",
        currency_placement="symbol_after",
        columns=("pos", "sku", "description", "quantity", "unit_price", "amount"),
        invoice_number_pattern="",
        credit_prefix="",
        rows_first_page=22,
        rows_next_pages=34,
        accent=(0.1, 0.4, 0.4),
        labels=_labels("fr"),
    ),
}

ALL_LAYOUTS: dict[str, Layout] = {**LAYOUTS, **BUYER_LAYOUTS}

# Which layouts a vendor of a country may have; a vendor takes one by its id.
_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    # Repeats weight the dev layouts, so roughly a quarter of the vendors are held out.
    "DE": ("L03_modern_de", "L06_compact_de", "L09_kontor_de", "L02_export_en", "L06_compact_de"),
    "FR": ("L04_facture_fr", "L07_moderne_fr", "L10_atelier_fr", "L07_moderne_fr"),
    "GB": ("L01_classic_en", "L05_us_letter", "L08_ledger_en", "L01_classic_en"),
    "NL": ("L02_export_en", "L01_classic_en", "L09_kontor_de", "L02_export_en"),
    "US": ("L05_us_letter", "L08_ledger_en"),
}


def layout_for_vendor(vendor_id: str, country: str | None) -> Layout:
    """The one layout a vendor prints with: fixed by its id and country, as in real life."""
    candidates = _BY_COUNTRY.get(country or "", _BY_COUNTRY["GB"])
    number = int("".join(ch for ch in vendor_id if ch.isdigit()) or 0)
    return LAYOUTS[candidates[number % len(candidates)]]


def buyer_layout(company: str | None) -> Layout:
    """Company 1000 prints its orders and advices with B01, company 2000 with B02."""
    return BUYER_LAYOUTS["B02_buyer_fr" if company == "2000" else "B01_buyer_de"]


def layouts_in_split(split: str) -> list[Layout]:
    return [layout for layout in ALL_LAYOUTS.values() if split == "all" or layout.split == split]
