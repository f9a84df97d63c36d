"""The typed case the rules engine evaluates: one document plus everything it is checked against.

The JSON shape is ``docs/contracts/matching.md``; the parts reuse ``ledgerbot.core.domain`` models so
that a case built from the store and a case read from a file are the same object.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledgerbot.core.domain import DocType, ExtractionResult, GoodsReceipt, PurchaseOrder, Vendor
from rules.codes import CaseError, CaseUnreadable

# History entries that were turned away are neither invoiced quantities nor duplicates of anything.
NOT_ACCEPTED = frozenset({"rejected", "duplicate", "failed"})


class CaseDocument(ExtractionResult):
    """An invoice or credit note as ``ledgerbot extract`` prints it; ``source`` is optional in a case."""

    source: str = ""


class HistoricDocument(CaseDocument):
    """An invoice or credit note of the same vendor that was already accepted."""

    status: str = "posted"

    @property
    def counts(self) -> bool:
        return self.status.lower() not in NOT_ACCEPTED and self.doc_type in (
            DocType.INVOICE,
            DocType.CREDIT_NOTE,
        )


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: CaseDocument
    vendors: list[Vendor] = Field(default_factory=list)
    purchase_orders: list[PurchaseOrder] = Field(default_factory=list)
    receipts: list[GoodsReceipt] = Field(default_factory=list)
    history: list[HistoricDocument] = Field(default_factory=list)
    today: date
    # The buying company, for per-company policy overrides; defaults to the PO's company.
    company: str | None = None


def parse_case(data: Any, *, source: str = "case") -> Case:
    """Validate a decoded case; a shape error names the key path (``E602``)."""
    if not isinstance(data, dict):
        raise CaseError(f"{source}: a case must be a JSON object with invoice, vendors, ... and today")
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = " -> ".join(str(p) for p in first["loc"]) or "(root)"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise CaseError(f"{source}:[{loc}] {first['msg']}{more}") from None


def read_case(path: Path) -> Case:
    """Read and validate a case file (``E601`` unreadable or not JSON, ``E602`` wrong shape)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseUnreadable(f"{path}: cannot read the case ({error.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CaseUnreadable(
            f"{path}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return parse_case(data, source=str(path))
