"""What an e-invoice says, in the document's own signs, before the extraction contract is applied."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.einvoice.errors import INVALID_VALUE, EInvoiceError
from ledgerbot.core.domain import DocType, InvoiceFields, InvoiceLine

# UNTDID 1001 document codes that EN 16931 treats as credit notes (the CEF code list for BT-3);
# every other code a CII/UBL invoice may carry (380, 384 corrected, 389 self-billed, 875-877
# partial/final construction invoices, ...) is an invoice for AP.
CREDIT_NOTE_TYPE_CODES: frozenset[str] = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532"}
)


def doc_type_for(type_code: str, element: str) -> DocType:
    """Invoice or credit note from BT-3; E306 when the code is not a UNTDID 1001 code at all."""
    if not re.fullmatch(r"\d{1,3}", type_code):
        raise EInvoiceError(
            INVALID_VALUE, f"{element} is not a UNTDID 1001 document code: {type_code!r}", element=element
        )
    return DocType.CREDIT_NOTE if type_code in CREDIT_NOTE_TYPE_CODES else DocType.INVOICE


def currency_code(raw: str | None, element: str) -> str | None:
    """An ISO 4217 alphabetic code, upper-cased; E306 for anything that cannot be one."""
    if raw is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise EInvoiceError(
            INVALID_VALUE, f"{element} is not an ISO 4217 currency code: {raw!r}", element=element
        )
    return raw.upper()


@dataclass(slots=True)
class EInvoice:
    """One parsed e-invoice: syntax, profile, BT-3 type code, header fields and lines as written."""

    syntax: str  # ubl | cii | zugferd1
    profile: str  # BT-24 specification identifier (CII guideline id, UBL CustomizationID)
    type_code: str  # BT-3
    doc_type: DocType
    fields: InvoiceFields
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def lineage(self) -> str:
        return f"{self.syntax}@{self.profile}"
