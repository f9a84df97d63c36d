"""Ground truth in the corpus format (``doc_type``, ``fields``, ``lines``) from an e-invoice's own XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors.einvoice.errors import EMBEDDED_UNREADABLE, EInvoiceError
from extractors.einvoice.pdf import read_einvoice_pdf
from extractors.einvoice.reader import read_einvoice
from ledgerbot.core.domain import HEADER_FIELDS, ExtractionResult

# What the profiles below EN 16931 leave out of the XML (Factur-X / ZUGFeRD 2 specification,
# profile by profile): the page may print it, the XML cannot say what it is, so it is not scored.
# MINIMUM carries no lines, no payment terms and no payment account; BASIC WL no lines.
_NOT_IN_PROFILE: dict[str, frozenset[str]] = {
    "minimum": frozenset({"lines", "due_date", "vendor_iban"}),
    "basicwl": frozenset({"lines"}),
}


def result_for(path: Path) -> ExtractionResult:
    """Read a bare XML e-invoice or the e-invoice embedded in a PDF; E305 for a PDF without one."""
    data = path.read_bytes()
    if data[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        result = read_einvoice_pdf(data, source=str(path))
        if result is None:
            raise EInvoiceError(EMBEDDED_UNREADABLE, f"{path.name} embeds no e-invoice XML", file=path.name)
        return result
    return read_einvoice(data, source=str(path))


def truth_from_einvoice(path: Path) -> dict[str, Any]:
    """The truth dict for ``path`` (shape of ``docs/contracts/extraction.md``, JSON-ready values)."""
    result = result_for(path)
    assert result.doc_type is not None
    truth: dict[str, Any] = {
        "doc_type": result.doc_type.value,
        "fields": result.fields.model_dump(mode="json"),
        "lines": [line.model_dump(mode="json") for line in result.lines],
    }
    left_out = _NOT_IN_PROFILE.get(profile_level(result.lineage.get("einvoice", "")))
    if left_out is not None:
        truth["scored"] = [name for name in (*HEADER_FIELDS, "lines") if name not in left_out]
    return truth


def profile_level(lineage: str) -> str:
    """ "cii@urn:factur-x.eu:1p0:basicwl" -> "basicwl": the profile's last part, lower-cased."""
    return lineage.rpartition("@")[2].rpartition(":")[2].casefold()
