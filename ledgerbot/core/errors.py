"""Typed error hierarchy with stable codes that clerks read and tests assert on."""

from __future__ import annotations

from typing import Any


class LedgerbotError(Exception):
    """Base of every error ledgerbot raises on purpose.

    ``code`` is stable across releases; ``message`` is one line a person can act on.
    """

    code: str = "E000"

    def __init__(self, message: str, *, code: str | None = None, **evidence: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.evidence = evidence

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.evidence:
            out["evidence"] = {k: str(v) for k, v in self.evidence.items()}
        return out


class BusinessError(LedgerbotError):
    """Bad data: goes to a person for review and is never retried automatically."""


class ApplicationError(LedgerbotError):
    """A system fault (timeout, crash, service down): retried with backoff."""


class ConfigError(LedgerbotError):
    """Settings, templates or policies that cannot be loaded."""

    code = "E001"


class IllegalTransition(LedgerbotError):
    """A life-cycle move the state machine does not allow."""

    code = "E010"


class DocumentNotFound(LedgerbotError):
    code = "E011"
