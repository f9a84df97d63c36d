"""E-invoice readers: UBL 2.1, UN/CEFACT CII (EN 16931, Factur-X, XRechnung), ZUGFeRD 1.0, and
the XML embedded in Factur-X / ZUGFeRD PDFs, all to the ``ledgerbot extract`` contract."""

from extractors.einvoice.detect import Kind, detect
from extractors.einvoice.errors import EInvoiceError
from extractors.einvoice.model import EInvoice
from extractors.einvoice.pdf import embedded_xml, read_einvoice_pdf
from extractors.einvoice.reader import parse_einvoice, read_einvoice
from extractors.einvoice.truth import truth_from_einvoice

__all__ = [
    "EInvoice",
    "EInvoiceError",
    "Kind",
    "detect",
    "embedded_xml",
    "parse_einvoice",
    "read_einvoice",
    "read_einvoice_pdf",
    "truth_from_einvoice",
]
