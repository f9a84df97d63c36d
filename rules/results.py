"""What the rules engine returns: the decision, its exceptions with evidence, and the line pairing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbot.core.domain import APException, Money, Quantity
from rules.codes import ReasonCode


def num(value: Decimal | None) -> str | None:
    """Evidence carries numbers as plain strings ("102.50"), never floats or exponents."""
    return None if value is None else format(value, "f")


def exception(code: ReasonCode, message: str, **evidence: Any) -> APException:
    clean = {k: (num(v) if isinstance(v, Decimal) else v) for k, v in evidence.items()}
    return APException(code=code.value, message=message, evidence=clean)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineMatch(_Out):
    """One invoice line paired with one PO line, with what the review app shows beside it."""

    invoice_line: int = Field(description="0-based index into the invoice's lines")
    po_line_no: int
    score: float = Field(description="pairing similarity 0-100")
    sku: str | None = None
    description: str = ""
    po_quantity: Quantity
    po_unit_price: Money
    invoice_quantity: Quantity | None = None
    invoice_unit_price: Money | None = None
    received: Quantity | None = None
    invoiced_before: Quantity


class AcceptedDifference(_Out):
    """A header difference within the small-difference limit: accepted, but kept on record."""

    check: Literal["subtotal", "total"]
    difference: Money
    limit: str


class Decision(_Out):
    decision: Literal["matched", "exception"]
    exceptions: list[APException] = Field(default_factory=list)
    line_matches: list[LineMatch] = Field(default_factory=list)
    unmatched_invoice_lines: list[int] = Field(default_factory=list)
    unmatched_po_lines: list[int] = Field(default_factory=list, description="PO line_no not on this invoice")
    accepted_differences: list[AcceptedDifference] = Field(default_factory=list)
    needs_second_approver: bool = False
    policy_version: str
    vendor_id: str | None = None
    vendor_match: Literal["tax_id", "iban", "name"] | None = None
    po_number: str | None = None
    company: str | None = None

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.exceptions]
