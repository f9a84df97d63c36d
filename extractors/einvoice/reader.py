"""Read bare UBL / CII / ZUGFeRD 1.0 XML into one ``ExtractionResult`` line of ``ledgerbot extract``.

Field choices (EN 16931 business terms), decided once for all three syntaxes:

- ``vendor_name`` BT-27 seller name; ``vendor_tax_id`` BT-31 seller VAT id, falling back to
  BT-32 seller tax registration (a German Steuernummer) when no VAT id is given, because either
  identifies the seller on a German invoice; ``vendor_iban`` BT-84 payee account of a
  credit-transfer payment means (never the buyer's direct-debit account BT-91).
- ``po_number`` BT-13 purchase order reference only. BT-10 buyer reference is a routing id
  (the Leitweg-ID in XRechnung) and is never used as a PO number.
- ``subtotal`` BT-109 invoice total without VAT, i.e. line net amounts *with* document-level
  allowances and charges folded in, so that ``subtotal + tax_amount = total`` holds.
- ``tax_amount`` BT-110 in the invoice currency; ``total`` BT-112 grand total, not the amount
  due BT-115 (which subtracts prepayments and can even be negative).
- ``currency`` BT-5; when a writer leaves it empty, the currencyID of the BT-112 amount; else null.
- ``due_date`` BT-9 (the first payment terms with a due date); a date only mentioned in the
  payment terms text is not read.
- lines: ``description`` BT-153 item name (BT-154 description only when there is no name),
  ``sku`` BT-155 seller item id else BT-157 standard id, ``quantity`` BT-129, ``unit_price``
  BT-146 net price per single unit (divided by the base quantity BT-149 when that is not 1),
  ``amount`` BT-131 line net amount. Extended-profile GROUP / INFORMATION lines and free-text
  note lines are skipped.
- Amounts keep the scale written in the XML (``9.9000`` stays ``9.9000``). Credit notes follow
  the contract: subtotal, tax, total and line amounts are negated, quantity and unit price stay
  as written, so for every line ``amount = -(quantity x unit_price)``. An invoice (380, 384, ...)
  that carries negative amounts keeps them as written.
"""

from __future__ import annotations

from decimal import Decimal

from extractors.einvoice import cii, ubl
from extractors.einvoice.model import EInvoice
from extractors.einvoice.xmlsafe import parse_xml, syntax_of
from ledgerbot.core.domain import DocType, ExtractionResult, InvoiceLine

READER_VERSION = "1"
_MONEY_FIELDS = ("subtotal", "tax_amount", "total")


def parse_einvoice(data: bytes) -> EInvoice:
    """Parse e-invoice XML into its own signs; raises ``EInvoiceError`` (E301-E306)."""
    root = parse_xml(data)
    syntax = syntax_of(root)
    if syntax == "ubl":
        return ubl.read(root)
    return cii.read(root, syntax)


def _negate(value: Decimal | None) -> Decimal | None:
    # 0 - x rather than -x: a zero stays "0.00" instead of becoming "-0.00".
    return None if value is None else Decimal(0) - value


def to_result(invoice: EInvoice, *, source: str = "") -> ExtractionResult:
    """The contract view of a parsed e-invoice: sign convention, confidences, lineage."""
    fields = invoice.fields.model_copy()
    lines = [line.model_copy() for line in invoice.lines]
    if invoice.doc_type is DocType.CREDIT_NOTE:
        for name in _MONEY_FIELDS:
            setattr(fields, name, _negate(getattr(fields, name)))
        lines = [
            InvoiceLine(
                description=line.description,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=_negate(line.amount),
            )
            for line in lines
        ]
    present = {name: 1.0 for name, value in fields.model_dump().items() if value is not None}
    return ExtractionResult(
        source=source,
        doc_type=invoice.doc_type,
        doc_type_confidence=1.0,
        method="einvoice",
        fields=fields,
        field_confidence=present,
        lines=lines,
        lineage={"einvoice": invoice.lineage, "extractor": f"einvoice@{READER_VERSION}"},
    )


def read_einvoice(data: bytes, *, source: str = "") -> ExtractionResult:
    """Read bare e-invoice XML (UBL 2.1, CII D16B incl. Factur-X/XRechnung, ZUGFeRD 1.0).

    Raises ``EInvoiceError``: E301 not well-formed, E302 not an e-invoice root, E303 a required
    element (BT-1, BT-2, BT-3, BT-112) missing, E304 DTD/entities refused, E306 a bad value.
    """
    return to_result(parse_einvoice(data), source=source)
