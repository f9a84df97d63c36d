"""Find the e-invoice XML embedded in a Factur-X / ZUGFeRD 1.0 / 2.x PDF and read it.

The attachment is chosen as the ``factur-x`` library's reader chooses it (the first attachment
of a known name holding invoice XML, in the order of the PDF's attachment list), read by pdfium
in C; pypdf, which factur-x reads with, reads what pdfium cannot. An
attachment that reader would skip as unparsable is still returned when no other one fits: that
broken XML is reported with its own code by the XML reader, instead of looking like a plain PDF.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from io import BytesIO
from typing import Any

from extractors.einvoice.errors import EMBEDDED_UNREADABLE, EInvoiceError
from extractors.einvoice.reader import read_einvoice
from extractors.einvoice.xmlsafe import parse_xml
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


def listed_attachment_names(pdf: bytes) -> tuple[str, ...]:
    """Names of the PDF's embedded files as pdfium lists them: for routing, in C, without
    loading pypdf (a PDF with no e-invoice never needs it). A PDF pdfium cannot open is asked
    of pypdf, which reads some files pdfium refuses; pypdf still reads the attachment itself."""
    import pypdfium2  # deferred: loaded with the text layer's PDF libraries, only for a PDF

    try:
        document = pypdfium2.PdfDocument(pdf)
    except Exception:
        return attachment_names(pdf)
    try:
        return tuple(document.get_attachment(i).get_name() for i in range(document.count_attachments()))
    except Exception:
        return attachment_names(pdf)
    finally:
        document.close()


@lru_cache(maxsize=4)
def attachment_names(pdf: bytes) -> tuple[str, ...]:
    """Names of the PDF's embedded files, without decoding their content.

    Kept for the last few PDFs: routing (``detect``) and reading (``embedded_xml``) ask in turn
    about the same bytes, and pypdf parses the whole file each time."""
    try:
        return tuple(attachment.name for attachment in _reader(pdf).attachment_list)
    except Exception as exc:
        raise _broken(exc) from exc


# Root elements the factur-x reader takes an attachment for (it compares the tag's end, whatever
# the namespace), and the one the name factur-x.xml must carry.
_INVOICE_ROOTS = (
    "CrossIndustryInvoice",
    "CrossIndustryDocument",
    "SCRDMCCBDACIOMessageStructure",
    "Invoice",
    "CreditNote",
)
_FACTURX_ROOT = "CrossIndustryInvoice"


def _takes(name: str, content: bytes) -> bool:
    """Whether the factur-x reader would take this attachment: well-formed XML with an invoice
    root, and under the name factur-x.xml a Factur-X one. Parsed safely (a DTD is refused)."""
    try:
        tag = str(parse_xml(content).tag)
    except EInvoiceError:
        return False
    if not tag.endswith(_INVOICE_ROOTS):
        return False
    return name != "factur-x.xml" or tag.endswith(_FACTURX_ROOT)


def embedded_xml(pdf: bytes) -> tuple[str, bytes] | None:
    """``(attachment name, XML bytes)`` of the embedded e-invoice, or ``None`` when there is none.

    In the first group of names the PDF carries, the first attachment the factur-x reader would
    take wins; when none would, the first of the group is returned as it is, so the XML reader
    reports what is wrong with it with its own code. The PDF is read by pdfium, or by pypdf (as
    factur-x does) where pdfium cannot, without importing factur-x and the HTTP client it loads.

    Raises E305 when the PDF itself cannot be parsed for attachments.
    """
    names = {name.lower() for name in listed_attachment_names(pdf)}
    for group in _NAME_GROUPS:
        if not names & set(group):
            continue
        found: tuple[str, bytes] | None = None
        # pdfium reads the attachments in C, without loading pypdf or parsing the file in
        # Python; what it cannot read (an empty or damaged stream) pypdf reads as it always did.
        for name, content in _pdfium_attachments(pdf, group) or _pypdf_attachments(pdf, group):
            if content and _takes(name, content):
                found = (name, content)
                break
            found = found or (name, content)
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


def _pdfium_attachments(pdf: bytes, group: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """The attachments named in ``group``, in the PDF's order, as pdfium reads them; empty when
    pdfium cannot read one of them."""
    import pypdfium2  # deferred: loaded with the text layer's PDF libraries, only for a PDF

    try:
        document = pypdfium2.PdfDocument(pdf)
    except Exception:
        return []
    try:
        found = []
        for index in range(document.count_attachments()):
            attachment = document.get_attachment(index)
            name = attachment.get_name()
            if name.lower() in group:
                found.append((name, bytes(attachment.get_data())))
        return found
    except Exception:
        return []
    finally:
        document.close()


def _pypdf_attachments(pdf: bytes, group: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """The attachments named in ``group`` as pypdf (and so factur-x's reader) reads them; E305 when
    it cannot parse the PDF."""
    try:
        for attachment in _reader(pdf).attachment_list:
            if attachment.name.lower() in group:
                yield attachment.name, bytes(attachment.content)
    except Exception as exc:
        raise _broken(exc) from exc


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
