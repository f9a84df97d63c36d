"""Adapter from the store to the rules engine: builds a case for one document and applies the decision.

The engine (``rules``) is pure; everything it needs is read here: the vendors the invoice may
belong to, the purchase orders it names, their receipts, and the vendor's accepted invoices.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.cases import (  # noqa: F401  (re-exported for the review views)
    HISTORY_LIMIT,
    HISTORY_STATES,
    build_case,
    latest_extractions,
    load_orders,
    load_policy_cached,
    load_receipts,
    po_numbers,
    policy,
    record_decision,
)
from ledgerbot.core.domain import DocState, ExtractionResult
from ledgerbot.core.lifecycle import Actor, input_hash, transition
from ledgerbot.core.store.models import (
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    utcnow,
)


@dataclass(frozen=True)
class Outcome:
    """What one re-validation did, for the audit event and the clerk's notice."""

    ran: bool
    decision: str | None = None
    policy_version: str | None = None
    opened: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    reason: str | None = None  # why it did not run

    def as_detail(self) -> dict[str, Any]:
        if not self.ran:
            return {"revalidated": False, "reason": self.reason}
        return {
            "revalidated": True,
            "decision": self.decision,
            "policy_version": self.policy_version,
            "opened": list(self.opened),
            "resolved": list(self.resolved),
        }


def engine_available() -> bool:
    try:
        importlib.import_module("rules.engine")
    except ImportError:
        return False
    return True


def _decision_dict(decision: Any) -> dict[str, Any]:
    if hasattr(decision, "model_dump"):
        data: dict[str, Any] = decision.model_dump(mode="json")
        return data
    if isinstance(decision, dict):
        return decision
    from dataclasses import asdict, is_dataclass

    if is_dataclass(decision) and not isinstance(decision, type):
        import json

        return json.loads(json.dumps(asdict(decision), default=str))
    raise TypeError(f"unexpected decision type {type(decision).__name__}")


def evaluate(
    session: Session, document: DocumentRow, result: ExtractionResult, policy_path: Path | None = None
) -> dict[str, Any] | None:
    """The rules engine's decision on ``result`` as a JSON-able dict, or ``None`` without an engine."""
    try:
        from rules.case import parse_case
        from rules.engine import evaluate as run_rules
    except ImportError:
        return None
    case = parse_case(build_case(session, document, result), source=f"document {document.id}")
    return _decision_dict(run_rules(case, load_policy_cached(str(policy_path) if policy_path else None)))


def apply(
    session: Session,
    document: DocumentRow,
    extraction: ExtractionRow,
    username: str,
    policy_path: Path | None = None,
) -> Outcome:
    """Re-validate and re-match the current extraction; reconcile open exceptions; maybe move to matched."""
    result = ExtractionResult.model_validate(extraction.result)
    if not result.doc_type or not result.doc_type.is_payable:
        return Outcome(ran=False, reason="not an invoice or credit note")
    decision = evaluate(session, document, result, policy_path)
    if decision is None:
        return Outcome(ran=False, reason="rules engine not installed")
    record_decision(session, document.id, extraction.id, decision)
    new = [(e["code"], e["message"], e.get("evidence") or {}) for e in decision.get("exceptions") or []]
    open_rows = list(
        session.scalars(
            select(ExceptionRow).where(ExceptionRow.document_id == document.id, ExceptionRow.status == "open")
        )
    )
    still = {(code, message) for code, message, _ in new}
    now = utcnow()
    resolved: list[str] = []
    for row in open_rows:
        if (row.code, row.message) not in still:
            row.status = "resolved"
            row.resolved_at = now
            row.resolved_by = f"rules after correction by {username}"
            resolved.append(row.code)
    known = {(row.code, row.message) for row in open_rows}
    opened: list[str] = []
    for code, message, evidence in new:
        if (code, message) not in known:
            session.add(ExceptionRow(document_id=document.id, code=code, message=message, evidence=evidence))
            opened.append(code)
    version = str(decision.get("policy_version") or "")
    outcome = Outcome(
        ran=True,
        decision=str(decision.get("decision")),
        policy_version=version,
        opened=tuple(opened),
        resolved=tuple(resolved),
    )
    target = DocState.MATCHED if decision.get("decision") == "matched" else DocState.EXCEPTION
    if document.state == DocState.EXCEPTION or target != DocState(document.state):
        transition(
            session,
            document,
            target,
            actor=Actor(name="rules", component="rules.engine", version=version),
            stage="validate",
            input_digest=input_hash(extraction.result),
            outcome=str(decision.get("decision")),
            detail={"after_correction_by": username, **outcome.as_detail()},
        )
    session.flush()
    return outcome


def needs_second_approver(
    session: Session,
    document: DocumentRow,
    result: ExtractionResult,
    fallback_threshold: Decimal,
    policy_path: Path | None = None,
) -> tuple[bool, str]:
    """Whether approving needs two people, and why; decided at approval time, server-side.

    The engine's own ``needs_second_approver`` decides when the engine runs; without it, the
    policy's threshold and codes are applied here; without a policy, the configured fallback.
    Any ``BANK_DETAILS_CHANGED`` the document ever had (open or resolved) always counts.
    """
    codes = set(session.scalars(select(ExceptionRow.code).where(ExceptionRow.document_id == document.id)))
    if "BANK_DETAILS_CHANGED" in codes:
        return True, "bank details changed"
    total = result.fields.total
    decision = evaluate(session, document, result, policy_path) if result.doc_type else None
    if decision is not None:
        if decision.get("needs_second_approver"):
            return True, f"policy {decision.get('policy_version')} asks for a second approver"
        return False, ""
    active = policy(policy_path)
    if active is not None:
        po = load_orders(session, po_numbers(result))
        checks = active.checks_for(company=po[0].company if po else None, vendor_id=document.vendor_id)
        hit = sorted(codes & set(checks.second_approver_codes))
        if hit:
            return True, f"policy {active.version_tag}: {', '.join(hit)}"
        limit = checks.second_approver_above
        if limit is not None and total is not None and abs(total) > limit:
            return True, f"total {total} is above the policy's {limit} ({active.version_tag})"
        return False, ""
    if total is not None and abs(total) > fallback_threshold:
        return True, f"total {total} is above {fallback_threshold}"
    return False, ""
