"""Coded errors of the e-invoice readers (E3xx): what a clerk sees when an e-invoice cannot be read."""

from __future__ import annotations

from typing import Any

from ledgerbot.core.errors import BusinessError

NOT_WELL_FORMED = "E301"
UNSUPPORTED = "E302"
MISSING_ELEMENT = "E303"
UNSAFE_XML = "E304"
EMBEDDED_UNREADABLE = "E305"
INVALID_VALUE = "E306"

CODES: dict[str, str] = {
    NOT_WELL_FORMED: "XML is not well-formed",
    UNSUPPORTED: "XML is not a supported e-invoice (unknown root element or namespace)",
    MISSING_ELEMENT: "a required e-invoice element is missing",
    UNSAFE_XML: "XML uses a DTD or entities, refused for safety",
    EMBEDDED_UNREADABLE: "the PDF or its embedded e-invoice attachment cannot be read",
    INVALID_VALUE: "an e-invoice element holds an invalid number, date or code",
}


class EInvoiceError(BusinessError):
    """Bad e-invoice data: never retried, goes to a person with the code and the evidence."""

    code = UNSUPPORTED

    def __init__(self, code: str, message: str, **evidence: Any) -> None:
        if code not in CODES:
            raise ValueError(f"unknown e-invoice error code {code!r}")
        super().__init__(message, code=code, **evidence)
