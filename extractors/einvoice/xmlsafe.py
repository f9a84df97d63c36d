"""Parse untrusted e-invoice XML safely and tell which syntax it is from its root element.

An e-invoice never needs a DTD, so any DOCTYPE is refused (E304) before a value is read: that
closes XXE (external entities, network fetches) and entity-expansion bombs in one rule.
"""

from __future__ import annotations

from io import BytesIO
from typing import Literal

from lxml import etree

from extractors.einvoice.errors import NOT_WELL_FORMED, UNSAFE_XML, UNSUPPORTED, EInvoiceError

Syntax = Literal["ubl", "cii", "zugferd1"]

NS_CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_ZUGFERD1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
# The ZUGFeRD 1.0 release candidate (guideline ids ``urn:ferd:invoice:rc:*``): same element names
# as 1.0 but unqualified children. Early Mustang/Gnuaccounting PDFs still carry it.
NS_ZUGFERD1_RC = "urn:un:unece:uncefact:data:standard:CBFBUY:5"
NS_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

ROOTS: dict[str, Syntax] = {
    f"{{{NS_CII}}}CrossIndustryInvoice": "cii",
    f"{{{NS_ZUGFERD1}}}CrossIndustryDocument": "zugferd1",
    f"{{{NS_ZUGFERD1_RC}}}Invoice": "zugferd1",
    f"{{{NS_UBL_INVOICE}}}Invoice": "ubl",
    f"{{{NS_UBL_CREDIT_NOTE}}}CreditNote": "ubl",
}

# Markers of a DTD in the raw bytes: used only to name the refusal when libxml2 itself gives up
# on an entity bomb (it stops with a syntax error before a DOCTYPE can be inspected).
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep per-parse state and are not meant to be shared
    # between threads, and creating one costs microseconds.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _has_dtd_marker(data: bytes) -> bool:
    return any(marker in data for marker in _DTD_MARKERS)


def parse_xml(data: bytes) -> etree._Element:
    """The root element of ``data``; E301 when not well-formed, E304 when it carries a DTD."""
    # Some writers put blank lines before the XML declaration, which libxml2 rejects; they carry
    # no meaning (a BOM is not whitespace, so UTF-16 data is untouched).
    data = data.lstrip()
    if not data:
        raise EInvoiceError(NOT_WELL_FORMED, "XML is empty")
    if data[:1024].lstrip().startswith(b"%PDF-"):
        raise EInvoiceError(UNSUPPORTED, "this is a PDF, not XML: read its embedded e-invoice instead")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if _has_dtd_marker(data):
            raise EInvoiceError(
                UNSAFE_XML, f"XML declares a DTD/entities and could not be parsed safely: {exc}"
            ) from exc
        raise EInvoiceError(NOT_WELL_FORMED, f"XML is not well-formed: {exc}") from exc
    except ValueError as exc:  # e.g. a str with an encoding declaration, or an unknown encoding
        raise EInvoiceError(NOT_WELL_FORMED, f"XML cannot be decoded: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url or docinfo.public_id:
        raise EInvoiceError(UNSAFE_XML, "XML declares a DTD (DOCTYPE); e-invoices never need one, refused")
    return root


def syntax_of(root: etree._Element) -> Syntax:
    """The e-invoice syntax of a parsed root element; E302 for anything else."""
    syntax = ROOTS.get(root.tag) if isinstance(root.tag, str) else None
    if syntax is None:
        raise EInvoiceError(
            UNSUPPORTED,
            f"root element {root.tag} is not UBL 2.1 Invoice/CreditNote, CII CrossIndustryInvoice "
            "or ZUGFeRD 1.0 CrossIndustryDocument",
            root=root.tag,
        )
    return syntax


def sniff_xml(data: bytes) -> Syntax | None:
    """The syntax of an XML document from its first element only, without reading the rest."""
    head = data.lstrip()[:4]
    if not (
        head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
    ):
        return None
    try:
        for _event, element in etree.iterparse(
            BytesIO(data),
            events=("start",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        ):
            return ROOTS.get(element.tag) if isinstance(element.tag, str) else None
    except (etree.XMLSyntaxError, ValueError):
        return None
    return None
