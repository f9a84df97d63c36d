"""Cheap routing: is this file an e-invoice, and in which syntax (no full parse, never raises)."""

from __future__ import annotations

from typing import Literal

from extractors.einvoice.errors import EInvoiceError
from extractors.einvoice.pdf import EINVOICE_NAMES, listed_attachment_names
from extractors.einvoice.xmlsafe import sniff_xml

Kind = Literal["ubl", "cii", "zugferd1", "pdf_embedded"]


def detect(data: bytes) -> Kind | None:
    """``ubl`` / ``cii`` / ``zugferd1`` for bare XML (from the root element alone),
    ``pdf_embedded`` for a PDF carrying an e-invoice attachment, ``None`` for anything else.

    A PDF is only opened (attachment names, no content) when its bytes can hold an embedded
    file: a ``/EmbeddedFile`` stream or compressed object streams that may hide the name tree.
    """
    if b"%PDF-" in data[:1024]:
        if b"/EmbeddedFile" not in data and b"/ObjStm" not in data:
            return None
        try:
            names = listed_attachment_names(data)
        except EInvoiceError:
            return None
        return "pdf_embedded" if any(name.lower() in EINVOICE_NAMES for name in names) else None
    return sniff_xml(data)
