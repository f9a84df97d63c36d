"""Hostile e-invoice XML (XXE, entity bombs, external DTDs) is refused with E304, bare or inside a PDF."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfWriter

from extractors.einvoice import EInvoiceError, read_einvoice, read_einvoice_pdf

UBL_OPEN = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def xxe(target: Path) -> bytes:
    return (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file://'
        + str(target).encode()
        + b'">]>\n'
        + UBL_OPEN
        + b"<ID>&secret;</ID></Invoice>"
    )


def billion_laughs(levels: int = 10) -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    for i in range(1, levels):
        entities.append(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10))
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE Invoice ['
        + b"".join(entities)
        + b"]>\n"
        + UBL_OPEN
        + b"<ID>&lol%d;</ID></Invoice>" % (levels - 1)
    )


HOSTILE = {
    "xxe-network": b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>'
    + UBL_OPEN
    + b"<ID>&e;</ID></Invoice>",
    "external-dtd": b'<?xml version="1.0"?><!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">'
    + UBL_OPEN
    + b"<ID>1</ID></Invoice>",
    "parameter-entity": b'<?xml version="1.0"?>'
    b'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>'
    + UBL_OPEN
    + b"<ID>1</ID></Invoice>",
    "billion-laughs": billion_laughs(),
    "quadratic-blowup": b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]>'
    + UBL_OPEN
    + b"<ID>"
    + b"&a;" * 2_000
    + b"</ID></Invoice>",
    "internal-entity": b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY n "RE-1">]>'
    + UBL_OPEN
    + b"<ID>&n;</ID></Invoice>",
    "bare-doctype": b'<?xml version="1.0"?><!DOCTYPE Invoice>' + UBL_OPEN + b"<ID>1</ID></Invoice>",
    "utf16-xxe": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Invoice [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&e;</ID></Invoice>'.encode(
        "utf-16"
    ),
}


def test_xxe_file_read_is_refused_and_nothing_leaks(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-BANK-PASSWORD")
    with pytest.raises(EInvoiceError) as info:
        read_einvoice(xxe(secret))
    assert info.value.code == "E304"
    assert "TOP-SECRET" not in str(info.value)
    assert "TOP-SECRET" not in repr(info.value.as_dict())


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_with_e304(name: str) -> None:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice(HOSTILE[name])
    assert info.value.code == "E304"


def test_billion_laughs_with_more_levels_is_still_refused() -> None:
    with pytest.raises(EInvoiceError) as info:
        read_einvoice(billion_laughs(levels=30))
    assert info.value.code == "E304"


def _pdf_with_attachment(name: str, content: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment(name, content)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["factur-x.xml", "ZUGFeRD-invoice.xml"])
def test_hostile_xml_embedded_in_a_pdf_is_refused(tmp_path: Path, name: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-BANK-PASSWORD")
    for payload in (xxe(secret), billion_laughs()):
        with pytest.raises(EInvoiceError) as info:
            read_einvoice_pdf(_pdf_with_attachment(name, payload))
        assert info.value.code == "E304"
        assert "TOP-SECRET" not in str(info.value)
