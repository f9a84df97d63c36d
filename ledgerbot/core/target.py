"""What a target system (the ERP that books supplier invoices) does for ledgerbot, as one interface.

An adapter (the sandbox demo ERP through its screens, Tryton through its web client or its RPC, a
user's own system) implements ``TargetSystem``; the posting service, the master-data pull, the
runner, the worker and the robot tasks only ever see this interface. Adapters are chosen by
settings (``LEDGERBOT_TARGET``) through the application's registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ledgerbot.core.domain import DocType, GoodsReceipt, Money, PurchaseOrder, Quantity, Vendor
from ledgerbot.core.errors import ApplicationError, BusinessError


class TargetLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str | None
    description: str
    quantity: Quantity
    unit_price: Money
    amount: Money
    # The purchase-order line the rules engine matched this line to, when it did.
    po_line_no: int | None = None


class TargetInvoice(BaseModel):
    """What the robot enters into the target system: header, lines and our idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: DocType = DocType.INVOICE
    vendor_id: str
    invoice_number: str
    invoice_date: date
    due_date: date | None
    po_number: str | None
    currency: str
    subtotal: Money
    tax_amount: Money
    total: Money
    external_ref: str
    lines: list[TargetLine]


@dataclass(frozen=True)
class PostResult:
    """The target's own document number and the proof that it was booked (a screenshot path)."""

    erp_doc_number: str
    screenshot: str | None = None


class ErpRejected(BusinessError):
    """The target refused the entry (its validation errors are in ``evidence``)."""

    code = "E730"


class ErpUnavailable(ApplicationError):
    """Timeouts, crashes, unexpected screens: worth a retry."""

    code = "E731"


class NotPostable(BusinessError):
    code = "E732"


class MasterDataSource(Protocol):
    """Vendors, purchase orders and goods receipts as the target system holds them."""

    def vendor_ids(self) -> list[str]: ...

    def vendor(self, vendor_id: str) -> Vendor: ...

    def order_summaries(self) -> list[dict[str, str]]: ...

    def order(self, po_number: str) -> PurchaseOrder: ...

    def receipt_summaries(self) -> list[dict[str, str]]: ...

    def receipt(self, receipt_number: str) -> GoodsReceipt: ...


@runtime_checkable
class TargetSystem(MasterDataSource, Protocol):
    """One target system: master data in, posted invoices out, each posting found again and read back."""

    # The adapter's registry name ("sandbox", "tryton", ...) and the account the robot drives:
    # one robot at a time holds the lease of ``account``.
    name: str
    account: str

    def find_posted(self, vendor_id: str, invoice_number: str, *, external_ref: str) -> str | None:
        """The target's number of an invoice already booked for this vendor + number or our key."""
        ...

    def post(self, invoice: TargetInvoice, *, screenshot_to: Path) -> PostResult: ...

    def read_back(self, erp_doc_number: str) -> TargetInvoice | None:
        """What the target holds under its number, in our shape, to compare with what was meant."""
        ...

    def screenshot(self, path: Path) -> str | None: ...

    def close(self) -> None: ...
