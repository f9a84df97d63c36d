"""The stable reason codes the rules engine raises, and the error codes of a malformed case or policy.

Reason codes are UPPER_SNAKE and never change meaning once released; clerks filter on them, the
review app groups by them and tests assert on them. ``rules/README.md`` documents each code:
when it is raised and which evidence keys it carries (a test keeps that table and this enum equal).
"""

from __future__ import annotations

from enum import StrEnum

from ledgerbot.core.errors import BusinessError, ConfigError


class ReasonCode(StrEnum):
    DOC_TYPE_NOT_PAYABLE = "DOC_TYPE_NOT_PAYABLE"
    MISSING_FIELD = "MISSING_FIELD"
    LINE_AMOUNT_MISMATCH = "LINE_AMOUNT_MISMATCH"
    SUBTOTAL_MISMATCH = "SUBTOTAL_MISMATCH"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    TAX_RATE_IMPLAUSIBLE = "TAX_RATE_IMPLAUSIBLE"
    FUTURE_DATE = "FUTURE_DATE"
    DUE_BEFORE_INVOICE = "DUE_BEFORE_INVOICE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    VENDOR_UNKNOWN = "VENDOR_UNKNOWN"
    PO_VENDOR_MISMATCH = "PO_VENDOR_MISMATCH"
    BANK_DETAILS_CHANGED = "BANK_DETAILS_CHANGED"
    DUPLICATE_SUSPECT = "DUPLICATE_SUSPECT"
    PO_NOT_FOUND = "PO_NOT_FOUND"
    PO_CLOSED = "PO_CLOSED"
    INVOICE_LINE_UNMATCHED = "INVOICE_LINE_UNMATCHED"
    PRICE_VARIANCE = "PRICE_VARIANCE"
    QTY_ORDERED_EXCEEDED = "QTY_ORDERED_EXCEEDED"
    QTY_RECEIVED_EXCEEDED = "QTY_RECEIVED_EXCEEDED"
    NO_RECEIPT = "NO_RECEIPT"
    CREDIT_EXCEEDS_INVOICED = "CREDIT_EXCEEDS_INVOICED"
    AMOUNT_LIMIT = "AMOUNT_LIMIT"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"


class CaseError(BusinessError):
    """A case file that cannot be evaluated: it gets a ``decision: "error"`` line, not a decision."""

    code = "E602"


class CaseUnreadable(CaseError):
    code = "E601"


class PolicyError(ConfigError):
    """A tolerance policy that cannot be loaded; the message names the file and the key path."""

    code = "E612"


class PolicyUnreadable(PolicyError):
    code = "E610"


class PolicyNotYaml(PolicyError):
    code = "E611"
