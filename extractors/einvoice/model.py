"""What an e-invoice says, in the document's own signs, before the extraction contract is applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledgerbot.domain import DocType, InvoiceFields, InvoiceLine

# UNTDID 1001 document codes that EN 16931 treats as credit notes (the CEF code list for BT-3);
# every other code a CII/UBL invoice may carry (380, 384 corrected, 389 self-billed, 875-877
# partial/final construction invoices, ...) is an invoice for AP.
CREDIT_NOTE_TYPE_CODES: frozenset[str] = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532"}
)


def doc_type_for(type_code: str) -> DocType:
    return DocType.CREDIT_NOTE if type_code in CREDIT_NOTE_TYPE_CODES else DocType.INVOICE


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
