"""The typed AP domain model shared by every stage, from intake to posting.

Money and quantities are ``Decimal`` (serialised as strings), dates are ``date``. The invoice
shapes follow ``docs/contracts/extraction.md`` exactly, so one model serves the store, the
``ledgerbot extract`` output, the rules engine and the review app.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

# The life-cycle states live in a module of their own (cheap to import); named here as well.
from ledgerbot.core.states import DocState as DocState

# A Decimal that always leaves as a plain string ("1190.00"), never float or exponent form.
Money = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
Quantity = Money


class DocType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PURCHASE_ORDER = "purchase_order"
    DELIVERY_NOTE = "delivery_note"
    STATEMENT = "statement"
    REMITTANCE_ADVICE = "remittance_advice"
    OTHER = "other"

    @property
    def is_payable(self) -> bool:
        """Invoices and credit notes are what AP books; everything else is filed."""
        return self in (DocType.INVOICE, DocType.CREDIT_NOTE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True, defer_build=True)


class Address(_Model):
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")


class Vendor(_Model):
    vendor_id: str
    name: str
    tax_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    currency: str = "EUR"
    address: Address | None = None


class POLine(_Model):
    line_no: int
    sku: str | None = None
    description: str = ""
    quantity: Quantity
    unit_price: Money


class PurchaseOrder(_Model):
    po_number: str
    vendor_id: str
    currency: str = "EUR"
    status: str = "open"  # open | closed
    order_date: date | None = None
    company: str | None = None
    lines: list[POLine] = Field(default_factory=list)


class ReceiptLine(_Model):
    po_line_no: int
    quantity: Quantity


class GoodsReceipt(_Model):
    receipt_number: str
    po_number: str
    date: date
    lines: list[ReceiptLine] = Field(default_factory=list)


class InvoiceFields(_Model):
    """Header fields of an invoice or credit note; ``None`` means not on the document."""

    vendor_name: str | None = None
    vendor_tax_id: str | None = None
    vendor_iban: str | None = None
    invoice_number: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    po_number: str | None = None
    currency: str | None = None
    subtotal: Money | None = None
    tax_amount: Money | None = None
    total: Money | None = None


HEADER_FIELDS: tuple[str, ...] = tuple(InvoiceFields.model_fields)


class InvoiceLine(_Model):
    description: str | None = None
    sku: str | None = None
    quantity: Quantity | None = None
    unit_price: Money | None = None
    amount: Money | None = None


class FieldBox(_Model):
    page: int = Field(ge=1)
    bbox: tuple[float, float, float, float]


class ErrorEntry(_Model):
    code: str
    message: str
    evidence: dict[str, Any] | None = None


class ExtractionResult(_Model):
    """One line of ``ledgerbot extract``: what the pipeline knows about one file."""

    source: str
    doc_type: DocType | None = None
    doc_type_confidence: float | None = None
    method: str | None = None
    fields: InvoiceFields = Field(default_factory=InvoiceFields)
    field_confidence: dict[str, float] = Field(default_factory=dict)
    field_boxes: dict[str, FieldBox] = Field(default_factory=dict)
    lines: list[InvoiceLine] = Field(default_factory=list)
    errors: list[ErrorEntry] = Field(default_factory=list)
    # What made each decision: text backend, classifier model@version, template id@version,
    # extractor version. Added key (the contract allows additions), read by the audit trail.
    lineage: dict[str, str] = Field(default_factory=dict)
    # Only under ``extract --split``: the document's pages in the file (1-based, inclusive) and
    # which of the file's documents it is, ``[k, n]``. Absent from the line otherwise.
    pages: list[int] | None = None
    part: list[int] | None = None
    # CPU seconds this read cost per stage (``ledgerbot.cost``): processing stores them in the
    # audit trail; they are no part of the extract line, whose values depend on the file alone.
    cpu_seconds: dict[str, float] = Field(default_factory=dict, exclude=True)

    @model_serializer(mode="wrap")
    def _without_unsplit_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.part is None:
            data.pop("pages", None)
            data.pop("part", None)
        return data

    def to_json_line(self) -> str:
        return self.model_dump_json(exclude_none=False)


class APException(_Model):
    """A reason a document cannot go straight through, with the evidence behind it."""

    code: str
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
