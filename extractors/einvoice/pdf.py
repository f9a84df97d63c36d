"""Find the e-invoice XML embedded in a Factur-X / ZUGFeRD 1.0 / 2.x PDF and read it.

The ``factur-x`` library finds the attachment. It silently skips an attachment it cannot parse,
so when it finds nothing the attachment list is checked once more (through pypdf, which factur-x
itself is built on) for a file with an e-invoice name: that broken XML is then returned as-is
and reported with its own code by the XML reader, instead of looking like a plain PDF.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from typing import Any

from extractors.einvoice.errors import EMBEDDED_UNREADABLE, EInvoiceError
from extractors.einvoice.reader import read_einvoice
from ledgerbot.core.domain import ExtractionResult

# Attachment names of the e-invoice, best first: Factur-X / ZUGFeRD 2.1+ (factur-x.xml), the
# ZUGFeRD 2.x XRechnung profile (xrechnung.xml), then ZUGFeRD 2.0 (zugferd-invoice.xml) and
# ZUGFeRD 1.0 (ZUGFeRD-invoice.xml) - names compare case-insensitively. A hybrid ZUGFeRD 1+2
# PDF carries both; the newer syntax wins.
_NAME_GROUPS: tuple[tuple[str, ...], ...] = (("factur-x.xml", "xrechnung.xml"), ("zugferd-invoice.xml",))
EINVOICE_NAMES: tuple[str, ...] = tuple(name for group in _NAME_GROUPS for name in group)
# An e-invoice XML is a few hundred kB at most; a bigger "attachment" is not one we will parse.
MAX_XML_BYTES = 20 * 1024 * 1024


# pypdf meets untrusted bytes here and can fail with PyPdfError but also with ValueError,
# KeyError, struct/zlib errors or RecursionError on crafted files: every failure to read the PDF
# is the same E305 for the clerk, so the boundary catches Exception.


def _broken(exc: Exception) -> EInvoiceError:
    return EInvoiceError(EMBEDDED_UNREADABLE, f"PDF cannot be read for an embedded e-invoice: {exc}")


def _reader(pdf: bytes) -> Any:
    # Deferred: pypdf (and the crypto it loads) is needed only for a PDF that can embed a file.
    from pypdf import PdfReader

    return PdfReader(BytesIO(pdf))


@lru_cache(maxsize=4)
def attachment_names(pdf: bytes) -> tuple[str, ...]:
    """Names of the PDF's embedded files, without decoding their content.

    Kept for the last few PDFs: routing (``detect``) and reading (``embedded_xml``) ask in turn
    about the same bytes, and pypdf parses the whole file each time."""
    try:
        return tuple(attachment.name for attachment in _reader(pdf).attachment_list)
    except Exception as exc:
        raise _broken(exc) from exc


def _raw_attachment(pdf: bytes, names: tuple[str, ...]) -> tuple[str, bytes] | None:
    wanted = {name.lower() for name in names}
    try:
        for attachment in _reader(pdf).attachment_list:
            if attachment.name.lower() in wanted:
                return attachment.name, attachment.content
    except Exception as exc:
        raise _broken(exc) from exc
    return None


def embedded_xml(pdf: bytes) -> tuple[str, bytes] | None:
    """``(attachment name, XML bytes)`` of the embedded e-invoice, or ``None`` when there is none.

    Raises E305 when the PDF itself cannot be parsed for attachments.
    """
    names = {name.lower() for name in attachment_names(pdf)}
    for group in _NAME_GROUPS:
        if not names & set(group):
            continue
        # Deferred: factur-x imports its XSD machinery; most PDFs carry no e-invoice at all.
        import facturx

        try:
            filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False, filenames=list(group))
        except Exception as exc:  # factur-x raises bare Exceptions from pypdf and lxml
            raise _broken(exc) from exc
        # Present but rejected by factur-x means broken XML: take it raw so it gets its own code.
        found = (str(filename), bytes(xml)) if filename and xml else _raw_attachment(pdf, group)
        if found is not None:
            if len(found[1]) > MAX_XML_BYTES:
                raise EInvoiceError(
                    EMBEDDED_UNREADABLE,
                    f"embedded {found[0]} is {len(found[1])} bytes, too large for an e-invoice",
                )
            if not found[1].strip():
                raise EInvoiceError(EMBEDDED_UNREADABLE, f"embedded {found[0]} is empty")
            return found
    return None


def read_einvoice_pdf(pdf: bytes, *, source: str = "") -> ExtractionResult | None:
    """Read the e-invoice embedded in a PDF; ``None`` when the PDF embeds none.

    Raises ``EInvoiceError`` (E305 for an unreadable PDF/attachment, E301-E306 from the XML), so the
    caller can decide to fall back to the visible page.
    """
    found = embedded_xml(pdf)
    if found is None:
        return None
    name, xml = found
    result = read_einvoice(xml, source=source)
    result.lineage["einvoice_attachment"] = name
    return result
