"""Document life-cycle states: a module of its own so that reading them costs no model import."""

from __future__ import annotations

from enum import StrEnum


class DocState(StrEnum):
    RECEIVED = "received"
    PARSED = "parsed"
    CLASSIFIED = "classified"
    EXTRACTED = "extracted"
    VALIDATED = "validated"
    MATCHED = "matched"
    EXCEPTION = "exception"
    APPROVED = "approved"
    POSTED = "posted"
    REJECTED = "rejected"
    FAILED = "failed"
    DUPLICATE = "duplicate"

    @property
    def is_final(self) -> bool:
        return self in (DocState.POSTED, DocState.REJECTED, DocState.DUPLICATE)
