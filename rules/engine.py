"""Evaluates one case under one policy: runs every check and returns the typed decision.

``evaluate`` is the public entry point; it is pure (same case + same policy = same decision), so
it can run in a worker, a test or ``ledgerbot match`` alike.
"""

from __future__ import annotations

from ledgerbot.core.domain import APException, DocType
from rules import checks as order_checks
from rules import validate
from rules.case import Case
from rules.codes import ReasonCode
from rules.matching import Assignment
from rules.policy import Policy
from rules.results import AcceptedDifference, Decision, LineMatch, exception


def evaluate(case: Case, policy: Policy) -> Decision:
    """Decide ``matched`` or ``exception`` for the case's document, with the evidence for each exception."""
    doc = case.invoice
    fields = doc.fields
    exceptions: list[APException] = list(validate.check_doc_type(doc))

    vendor, best_name_score = validate.identify_vendor(
        fields, case.vendors, policy.checks.vendor_name_min_score
    )
    po = order_checks.find_po(fields.po_number, case.purchase_orders)
    company = case.company or (po.company if po is not None else None)
    vendor_id = vendor.vendor.vendor_id if vendor is not None else (po.vendor_id if po is not None else None)
    checks = policy.checks_for(company=company, vendor_id=vendor_id)
    if (
        vendor is None
        and po is not None
        and checks.vendor_name_min_score != policy.checks.vendor_name_min_score
    ):
        # An override for the PO's vendor may loosen the name lookup, for exactly that vendor.
        retry, score = validate.identify_vendor(fields, case.vendors, checks.vendor_name_min_score)
        if retry is not None and retry.vendor.vendor_id == po.vendor_id:
            vendor, best_name_score = retry, score

    exceptions += validate.check_required(doc, checks)
    exceptions += validate.check_line_amounts(doc.lines, validate.sign_of(doc), checks)
    sum_exceptions, accepted = validate.check_sums(fields, doc.lines, checks)
    exceptions += sum_exceptions
    country = None
    if vendor is not None and vendor.vendor.address is not None:
        country = vendor.vendor.address.country
    exceptions += validate.check_tax_rate(fields, country, policy, checks)
    exceptions += validate.check_dates(fields, case.today)
    exceptions += validate.check_vendor(doc, vendor, best_name_score)
    exceptions += validate.check_bank(doc, vendor)
    exceptions += validate.check_duplicates(doc, case.history, checks)

    line_matches: list[LineMatch] = []
    assignment = Assignment()
    if po is not None:
        exceptions += order_checks.check_order_header(doc, po, vendor)
        state = order_checks.order_state(
            po,
            case.receipts,
            case.history,
            exclude_source=doc.source,
            min_score=checks.line_match_min_score,
        )
        status = state.open_lines(doc.doc_type == DocType.CREDIT_NOTE, as_of=fields.invoice_date)
        assignment = order_checks.match_lines(
            doc.lines, po.lines, min_score=checks.line_match_min_score, status=status
        )
        line_exceptions, line_matches = order_checks.check_order_lines(doc, state, assignment, checks, status)
        exceptions += line_exceptions
    elif fields.po_number:
        exceptions.append(
            exception(
                ReasonCode.PO_NOT_FOUND,
                f"Purchase order {fields.po_number} is not known",
                po_number=fields.po_number,
            )
        )

    exceptions += validate.check_amount_limit(doc, checks)
    exceptions += validate.check_confidence(doc, checks)

    total = fields.total
    needs_second = bool(
        (
            checks.second_approver_above is not None
            and total is not None
            and abs(total) > checks.second_approver_above
        )
        or any(e.code in checks.second_approver_codes for e in exceptions)
    )
    return Decision(
        decision="exception" if exceptions else "matched",
        exceptions=exceptions,
        line_matches=line_matches,
        unmatched_invoice_lines=assignment.unmatched_invoice if po is not None else [],
        unmatched_po_lines=[po.lines[j].line_no for j in assignment.unmatched_po] if po is not None else [],
        accepted_differences=_accepted(accepted),
        needs_second_approver=needs_second,
        policy_version=policy.version_tag,
        vendor_id=vendor_id,
        vendor_match=vendor.method if vendor is not None else None,  # type: ignore[arg-type]
        po_number=po.po_number if po is not None else fields.po_number,
        company=company,
    )


def _accepted(items: list[AcceptedDifference]) -> list[AcceptedDifference]:
    return sorted(items, key=lambda a: a.check)


__all__ = ["Case", "Decision", "Policy", "evaluate"]
