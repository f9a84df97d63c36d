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


class ModelRegistryError(LedgerbotError):
    """A model registry request that cannot be done: an unknown model or a state move not allowed."""

    code = "E530"


class IllegalTransition(LedgerbotError):
    """A life-cycle move the state machine does not allow."""

    code = "E010"


class DocumentNotFound(LedgerbotError):
    code = "E011"


class StoreError(ApplicationError):
    code = "E020"


class ClaimLost(ApplicationError):
    """Another process holds (or took over) the claim on a document: this one must not move it."""

    code = "E012"


class ConcurrentChange(ApplicationError):
    """The document changed under this process (its version moved on) between read and write."""

    code = "E013"


class ProcessingInterrupted(ApplicationError):
    """A process stopped half-way through reading a document (killed, crashed); it is read again."""

    code = "E014"


class RetryRefused(BusinessError):
    """``ledgerbot retry`` was asked to retry a document that is not ``failed``."""

    code = "E015"


class OriginalMissing(ApplicationError):
    """A document's original file is gone from the file store (deleted, or the store moved)."""

    code = "E021"


class AuditChainBroken(LedgerbotError):
    """The audit trail's hash chain does not verify: a row was edited, deleted or reordered."""

    code = "E030"


class UnexpectedError(ApplicationError):
    """A fault without a code of its own (a bug, an unexpected library error); kept with its type."""

    code = "E099"


def error_code(error: BaseException) -> str:
    """The stable code for any error, so no failure is ever recorded without one.

    Library errors carry codes of their own kinds (SQLAlchemy's ``.code`` is a link slug or
    None): only our catalogue's codes are used; store faults map to E020/E013.
    """
    if isinstance(error, LedgerbotError):
        return error.code
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm.exc import StaleDataError

    if isinstance(error, StaleDataError):
        return ConcurrentChange.code
    if isinstance(error, SQLAlchemyError):
        return StoreError.code
    return UnexpectedError.code


def as_coded(error: BaseException) -> LedgerbotError:
    """``error`` itself when it is ours, otherwise wrapped in the coded application error it maps to."""
    if isinstance(error, LedgerbotError):
        return error
    code = error_code(error)
    kind: type[LedgerbotError] = {
        ConcurrentChange.code: ConcurrentChange,
        StoreError.code: StoreError,
    }.get(code, UnexpectedError)
    wrapped = kind(f"{type(error).__name__}: {error}"[:500])
    wrapped.__cause__ = error
    return wrapped


class UnsupportedFile(BusinessError):
    """A delivered file the store does not take: empty, or over the size limit."""

    code = "E101"


class UnreadableFile(BusinessError):
    """The file could not be opened from disk at all, or is not a regular file (FIFO, device, folder)."""

    code = "E401"


class SplitUncertain(BusinessError):
    """A file holding several documents whose boundaries the splitter is not sure of: a clerk confirms."""

    code = "E520"


class SplitCorrectionRefused(BusinessError):
    """A corrected split that cannot be applied: bad page ranges, or a part already approved or posted."""

    code = "E521"


# --- mail intake (E715-E719, E770-E779; E710-E714 live in ledgerbot.mail) ----------------------
class LinkNotADocument(BusinessError):
    """A body link answered with something that is not an invoice file (often a login page)."""

    code = "E715"


class ZipEntryEncrypted(BusinessError):
    """A password-protected entry in a ZIP attachment: nobody gave us the password."""

    code = "E716"


class ZipEntryUnreadable(BusinessError):
    """A ZIP entry with a bad checksum, an unsupported compression method or a broken stream."""

    code = "E717"


class EmptyPart(BusinessError):
    """A 0-byte attachment: recorded as skipped, never silently dropped."""

    code = "E718"


class SmimeEncrypted(BusinessError):
    """An S/MIME encrypted mail or part: we hold no private key to open it."""

    code = "E719"


class MailUnreadable(BusinessError):
    """Reading one mail raised something unforeseen; the mail is tagged and intake goes on."""

    code = "E770"


class TnefUnreadable(BusinessError):
    """An Outlook winmail.dat (TNEF) wrapper that cannot be decoded."""

    code = "E771"


class SignatureInvalid(BusinessError):
    """An S/MIME signature that does not verify against the trust store (content is still taken)."""

    code = "E772"


class PartNotADocument(BusinessError):
    """A mail part that is not an invoice file type (text, logo formats, calendar invites ...)."""

    code = "E775"


class PartRepeated(BusinessError):
    """A part with the same bytes as another part of the same mail."""

    code = "E776"


# --- review app (E750-E769) -------------------------------------------------------------------


class CorrectionInvalid(LedgerbotError):
    """A person's correction that does not read as valid values; ``errors`` maps each form field to why."""

    code = "E750"

    def __init__(self, message: str, *, errors: dict[str, str]) -> None:
        super().__init__(message)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "errors": dict(self.errors)}


class ReasonMissing(LedgerbotError):
    """An override or rejection without a reason from the list, or without the words that explain it."""

    code = "E751"


class ClaimHeld(LedgerbotError):
    """Someone else holds the claim on the document; only they, or a supervisor taking over, may act."""

    code = "E752"


class ApprovalLimitExceeded(LedgerbotError):
    """The amount is above what this approver may approve."""

    code = "E753"


class FourEyesRequired(LedgerbotError):
    """The policy asks for two distinct approvers and this person cannot be the second one."""

    code = "E754"


class LoginSlowedDown(LedgerbotError):
    """Recent failed sign-ins on this account: the next try is accepted after a short wait."""

    code = "E755"
