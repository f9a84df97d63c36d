"""Errors the text layer raises for files it cannot read, each with a stable E2xx code.

Every one is a :class:`~ledgerbot.core.errors.BusinessError`: the file itself is the problem, so the
document goes to a person and the batch carries on with the next file.
"""

from __future__ import annotations

from typing import Any

from ledgerbot.core.errors import BusinessError


class TextLayerError(BusinessError):
    """A file the text layer cannot turn into a :class:`Document`."""

    code = "E200"

    def __init__(self, message: str, *, source: str = "", **evidence: Any) -> None:
        if source:
            evidence = {"source": source, **evidence}
        super().__init__(message, **evidence)
        self.source = source

    def for_source(self, source: str) -> TextLayerError:
        """Name the file on an error raised deep down (in OCR) where the name was not known."""
        if not self.source and source:
            self.source = source
            self.evidence = {"source": source, **self.evidence}
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross the worker-process boundary; keep message, source and evidence intact.
        return (_rebuild, (type(self), self.message, self.evidence))


def _rebuild(cls: type[TextLayerError], message: str, evidence: dict[str, Any]) -> TextLayerError:
    evidence = dict(evidence)
    source = str(evidence.pop("source", ""))
    return cls(message, source=source, **evidence)


class EmptyFile(TextLayerError):
    code = "E201"


class UnsupportedFile(TextLayerError):
    """Not a PDF, PNG, JPEG or TIFF, whatever the file name says."""

    code = "E202"


class EncryptedPDF(TextLayerError):
    code = "E203"


class CorruptFile(TextLayerError):
    """A PDF or image truncated or damaged beyond what its parser can recover."""

    code = "E204"


CorruptPDF = CorruptFile


class TooManyPages(TextLayerError):
    code = "E205"


class ImageTooLarge(TextLayerError):
    """Pillow's decompression-bomb guard (``MAX_IMAGE_PIXELS``) refused the image."""

    code = "E206"


class ResourceLimit(TextLayerError):
    """Parsing ran over its wall-clock or memory budget, or recursed without end."""

    code = "E207"


class OCRFailed(TextLayerError):
    code = "E208"


class TimeBudgetExceeded(TextLayerError):
    """Reading one document took longer than its time budget; the batch goes on without it."""

    code = "E210"


ALL_ERRORS: tuple[type[TextLayerError], ...] = (
    EmptyFile,
    UnsupportedFile,
    EncryptedPDF,
    CorruptFile,
    TooManyPages,
    ImageTooLarge,
    ResourceLimit,
    OCRFailed,
    TimeBudgetExceeded,
)
