"""Checks of one invoice or credit note on its own and against the vendor master and its history.

Every function is pure: it takes the document (and the limits) and returns exceptions; nothing
here reads a file, a database or the clock (``today`` comes with the case).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rapidfuzz import fuzz, process, utils

from ledgerbot.core.domain import APException, DocType, InvoiceFields, InvoiceLine, Vendor
from rules.case import CaseDocument, HistoricDocument
from rules.codes import ReasonCode as R
from rules.policy import Checks, Policy
from rules.results import AcceptedDifference, exception, num

_NON_ALNUM = re.compile(r"[^0-9A-Z]")
_TOKENS = re.compile(r"[0-9]+|[A-Z]+")


def sign_of(doc: CaseDocument) -> int:
    """Credit notes carry negative amounts with positive quantities and prices (extraction contract)."""
    return -1 if doc.doc_type == DocType.CREDIT_NOTE else 1


def normalise_id(value: str | None) -> str | None:
    """Tax ids and IBANs compare without spaces, dots or case ("de 1234 5678" == "DE12345678")."""
    if not value:
        return None
    return _NON_ALNUM.sub("", value.upper()) or None


def invoice_number_keys(number: str | None) -> set[str]:
    """Keys under which two invoice numbers count as the same: separators, case and leading zeros ignored.

    "RE-2026-001", "re 2026/1" and "RE2026-0001" share the key "RE|2026|1"; "RE2026001" (no
    separators) only shares the plain key, so both are kept.
    """
    if not number:
        return set()
    upper = number.upper()
    plain = _NON_ALNUM.sub("", upper)
    tokens = [(t.lstrip("0") or "0") if t.isdigit() else t for t in _TOKENS.findall(upper)]
    return {k for k in (plain, "|".join(tokens)) if k}


def check_doc_type(doc: CaseDocument) -> list[APException]:
    if doc.doc_type is not None and doc.doc_type.is_payable:
        return []
    shown = doc.doc_type.value if doc.doc_type is not None else "unclassified"
    return [
        exception(
            R.DOC_TYPE_NOT_PAYABLE,
            f"Document is {shown}, not an invoice or credit note",
            doc_type=doc.doc_type.value if doc.doc_type is not None else None,
        )
    ]


def check_required(doc: CaseDocument, checks: Checks) -> list[APException]:
    required = (
        checks.required_fields.credit_note
        if doc.doc_type == DocType.CREDIT_NOTE
        else checks.required_fields.invoice
    )
    out = []
    for name in required:
        value = getattr(doc.fields, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            out.append(exception(R.MISSING_FIELD, f"Required field {name} is missing", field=name))
    return out


def check_line_amounts(lines: Sequence[InvoiceLine], sign: int, checks: Checks) -> list[APException]:
    out = []
    for index, line in enumerate(lines):
        if line.quantity is None or line.unit_price is None or line.amount is None:
            continue
        expected = sign * line.quantity * line.unit_price
        if abs(expected - line.amount) > checks.line_rounding:
            out.append(
                exception(
                    R.LINE_AMOUNT_MISMATCH,
                    f"Line {index + 1}: {num(line.quantity)} x {num(line.unit_price)} = {num(expected)}, "
                    f"but the line says {num(line.amount)}",
                    invoice_line=index,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    expected=expected,
                    amount=line.amount,
                    limit_abs=checks.line_rounding,
                )
            )
    return out


def check_sums(
    fields: InvoiceFields, lines: Sequence[InvoiceLine], checks: Checks
) -> tuple[list[APException], list[AcceptedDifference]]:
    """Lines against the subtotal, subtotal + tax against the total, with small differences accepted."""
    out: list[APException] = []
    accepted: list[AcceptedDifference] = []
    limit = checks.small_difference
    amounts = [line.amount for line in lines]
    if fields.subtotal is not None and amounts and all(a is not None for a in amounts):
        lines_sum = sum((a for a in amounts if a is not None), Decimal(0))
        difference = fields.subtotal - lines_sum
        if difference and limit.allows(abs(difference), lines_sum):
            accepted.append(
                AcceptedDifference(check="subtotal", difference=difference, limit=limit.describe())
            )
        elif difference:
            out.append(
                exception(
                    R.SUBTOTAL_MISMATCH,
                    f"Lines add up to {num(lines_sum)}, the subtotal says {num(fields.subtotal)} "
                    f"(difference {num(difference)}, small differences up to {limit.describe()} accepted)",
                    lines_sum=lines_sum,
                    subtotal=fields.subtotal,
                    difference=difference,
                    **limit.evidence(),
                )
            )
    if fields.subtotal is not None and fields.tax_amount is not None and fields.total is not None:
        expected = fields.subtotal + fields.tax_amount
        difference = fields.total - expected
        if difference and limit.allows(abs(difference), expected):
            accepted.append(AcceptedDifference(check="total", difference=difference, limit=limit.describe()))
        elif difference:
            out.append(
                exception(
                    R.TOTAL_MISMATCH,
                    f"Subtotal {num(fields.subtotal)} + tax {num(fields.tax_amount)} = {num(expected)}, "
                    f"but the total says {num(fields.total)}",
                    subtotal=fields.subtotal,
                    tax_amount=fields.tax_amount,
                    expected=expected,
                    total=fields.total,
                    difference=difference,
                    **limit.evidence(),
                )
            )
    return out, accepted


def check_tax_rate(
    fields: InvoiceFields, country: str | None, policy: Policy, checks: Checks
) -> list[APException]:
    subtotal, tax = fields.subtotal, fields.tax_amount
    if subtotal is None or tax is None or subtotal == 0:
        return []
    found = policy.tax_rule(country, fields.currency)
    if found is None:
        return []  # no rule for this country or currency: nothing to judge against
    key, rule = found
    tolerance = checks.tax_rounding
    if any(abs(subtotal * rate / 100 - tax) <= tolerance for rate in rule.rates):
        return []
    low = rule.min if rule.min is not None else (min(rule.rates) if rule.mixed else None)
    high = rule.max if rule.max is not None else (max(rule.rates) if rule.mixed else None)
    # Signs cancel for credit notes: compare magnitudes against the band.
    if (
        low is not None
        and high is not None
        and abs(subtotal) * low / 100 - tolerance <= abs(tax) <= abs(subtotal) * high / 100 + tolerance
    ):
        return []
    rate = (tax / subtotal * 100).quantize(Decimal("0.01"))
    allowed = ", ".join(f"{num(r)}%" for r in rule.rates) if rule.rates else f"{num(low)}%-{num(high)}%"
    return [
        exception(
            R.TAX_RATE_IMPLAUSIBLE,
            f"Tax {num(tax)} on {num(subtotal)} is {num(rate)}%, not a rate allowed for {key} ({allowed})",
            rate_pct=rate,
            allowed=allowed,
            country=key,
            tax_amount=tax,
            subtotal=subtotal,
        )
    ]


def check_dates(fields: InvoiceFields, today: date) -> list[APException]:
    out = []
    if fields.invoice_date is not None and fields.invoice_date > today:
        out.append(
            exception(
                R.FUTURE_DATE,
                f"Invoice date {fields.invoice_date} is after today ({today})",
                invoice_date=fields.invoice_date.isoformat(),
                today=today.isoformat(),
            )
        )
    if (
        fields.invoice_date is not None
        and fields.due_date is not None
        and fields.due_date < fields.invoice_date
    ):
        out.append(
            exception(
                R.DUE_BEFORE_INVOICE,
                f"Due date {fields.due_date} is before the invoice date {fields.invoice_date}",
                invoice_date=fields.invoice_date.isoformat(),
                due_date=fields.due_date.isoformat(),
            )
        )
    return out


@dataclass(frozen=True)
class VendorMatch:
    vendor: Vendor
    method: str  # tax_id | iban | name
    score: float


def identify_vendor(
    fields: InvoiceFields, vendors: Sequence[Vendor], min_name_score: float
) -> tuple[VendorMatch | None, float]:
    """The vendor by tax id, then IBAN, then fuzzy name; also the best name score seen (evidence)."""
    tax_id = normalise_id(fields.vendor_tax_id)
    if tax_id:
        for vendor in vendors:
            if normalise_id(vendor.tax_id) == tax_id:
                return VendorMatch(vendor, "tax_id", 100.0), 100.0
    iban = normalise_id(fields.vendor_iban)
    if iban:
        for vendor in vendors:
            if normalise_id(vendor.iban) == iban:
                return VendorMatch(vendor, "iban", 100.0), 100.0
    if fields.vendor_name and vendors:
        best = process.extractOne(
            fields.vendor_name,
            [v.name for v in vendors],
            scorer=fuzz.token_sort_ratio,
            processor=utils.default_process,
        )
        if best is not None:
            _, score, index = best
            if score >= min_name_score:
                return VendorMatch(vendors[index], "name", round(float(score), 2)), float(score)
            return None, round(float(score), 2)
    return None, 0.0


def check_vendor(doc: CaseDocument, match: VendorMatch | None, best_score: float) -> list[APException]:
    if match is not None:
        return []
    f = doc.fields
    return [
        exception(
            R.VENDOR_UNKNOWN,
            f"No vendor in the master matches tax id {f.vendor_tax_id!r}, IBAN {f.vendor_iban!r} "
            f"or name {f.vendor_name!r}",
            vendor_name=f.vendor_name,
            vendor_tax_id=f.vendor_tax_id,
            vendor_iban=f.vendor_iban,
            best_name_score=str(best_score),
        )
    ]


def check_bank(doc: CaseDocument, match: VendorMatch | None) -> list[APException]:
    invoice_iban = normalise_id(doc.fields.vendor_iban)
    if match is None or invoice_iban is None:
        return []
    master_iban = normalise_id(match.vendor.iban)
    if invoice_iban == master_iban:
        return []
    on_file = match.vendor.iban or "no IBAN"
    return [
        exception(
            R.BANK_DETAILS_CHANGED,
            f"Invoice asks for payment to {doc.fields.vendor_iban}; vendor {match.vendor.vendor_id} "
            f"has {on_file} on file",
            vendor_id=match.vendor.vendor_id,
            invoice_iban=doc.fields.vendor_iban,
            master_iban=match.vendor.iban,
        )
    ]


def check_duplicates(
    doc: CaseDocument, history: Sequence[HistoricDocument], checks: Checks
) -> list[APException]:
    """Same vendor + same normalised number, or same vendor + total + date; credit notes are exempt."""
    if doc.doc_type == DocType.CREDIT_NOTE:
        return []
    f = doc.fields
    keys = invoice_number_keys(f.invoice_number)
    tax_id = normalise_id(f.vendor_tax_id)
    for other in history:
        if not other.counts or other.doc_type != DocType.INVOICE:
            continue
        if doc.source and other.source == doc.source:
            continue  # the document itself, already on record
        other_tax = normalise_id(other.fields.vendor_tax_id)
        if tax_id and other_tax and tax_id != other_tax:
            continue  # another vendor's invoice slipped into the history: not a duplicate
        of = other.fields
        if keys & invoice_number_keys(of.invoice_number):
            return [
                exception(
                    R.DUPLICATE_SUSPECT,
                    f"Invoice number {f.invoice_number} was already invoiced as {of.invoice_number} "
                    f"({other.status}, {of.invoice_date}, total {num(of.total)})",
                    rule="invoice_number",
                    invoice_number=f.invoice_number,
                    other_invoice_number=of.invoice_number,
                    other_source=other.source or None,
                    other_status=other.status,
                )
            ]
        if (
            checks.duplicate_same_amount_and_date
            and f.total is not None
            and f.invoice_date is not None
            and of.total == f.total
            and of.invoice_date == f.invoice_date
        ):
            return [
                exception(
                    R.DUPLICATE_SUSPECT,
                    f"An invoice of the same vendor for {num(f.total)} dated {f.invoice_date} is already "
                    f"on record ({of.invoice_number}, {other.status})",
                    rule="amount_and_date",
                    invoice_number=f.invoice_number,
                    other_invoice_number=of.invoice_number,
                    other_source=other.source or None,
                    other_status=other.status,
                    total=f.total,
                )
            ]
    return []


def check_amount_limit(doc: CaseDocument, checks: Checks) -> list[APException]:
    total = doc.fields.total
    if checks.amount_limit is None or total is None or abs(total) <= checks.amount_limit:
        return []
    return [
        exception(
            R.AMOUNT_LIMIT,
            f"Total {num(total)} is above the straight-through limit {num(checks.amount_limit)}",
            total=total,
            limit=checks.amount_limit,
        )
    ]


def check_confidence(doc: CaseDocument, checks: Checks) -> list[APException]:
    limits = checks.confidence
    out = []
    if doc.doc_type_confidence is not None and doc.doc_type_confidence < limits.doc_type:
        out.append(
            exception(
                R.LOW_CONFIDENCE,
                f"Document type {doc.doc_type} was classified with confidence {doc.doc_type_confidence:.2f} "
                f"(minimum {limits.doc_type:.2f})",
                field="doc_type",
                confidence=f"{doc.doc_type_confidence:.3f}",
                minimum=f"{limits.doc_type:.3f}",
            )
        )
    for name in limits.fields:
        confidence = doc.field_confidence.get(name)
        if confidence is not None and confidence < limits.field:
            out.append(
                exception(
                    R.LOW_CONFIDENCE,
                    f"Field {name} was read with confidence {confidence:.2f} (minimum {limits.field:.2f})",
                    field=name,
                    confidence=f"{confidence:.3f}",
                    minimum=f"{limits.field:.3f}",
                )
            )
    return out
