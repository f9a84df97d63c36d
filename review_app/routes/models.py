"""The model registry for the automation engineer: models and templates, their states and trials.

Every registered version (classifier, extraction ranker, vendor template) with its state, its data
fingerprint, its validation metrics (a template: its ``template test`` results) and its last
state change; for a version in shadow or canary, the comparison with the active model per field
and vendor, and a canary's two arms. Any signed-in user sees the page; an admin promotes a version
or rolls a model back, with a reason, kept with the change (``model_events``) like the CLI's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ledgerbot.core.errors import ModelRegistryError
from review_app.actions import NotAllowed
from review_app.deps import Context, CsrfUser, CurrentUser, DbSession, RowId
from review_app.routes._page import redirect_with_notice, render
from review_app.security import SignedIn

router = APIRouter(tags=["model registry"])
TRIAL_STATES = ("shadow", "canary")
DRIFT_DAYS = 14  # the drift section's window, as `ledgerbot models drift`'s default
DRIFT_TOP = 20  # vendor/field correction rates shown, highest first


def _admin(user: SignedIn) -> None:
    if user.role != "admin":
        raise NotAllowed("only an admin (the automation engineer) promotes or rolls back models")


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ModelRegistryError("a promotion or rollback needs a reason")
    return reason.strip()


def _trial(session: DbSession, row: Any) -> dict[str, Any] | None:
    """The shadow comparison (and a canary's arms) of a model version in a trial."""
    from ledgerbot.core.modelops import arm_rates, compare

    if row.state not in TRIAL_STATES or row.kind == "template":
        return None
    report = compare(session, Path(row.root), row.name, row.version)
    if row.state == "canary":
        report["arms"] = {arm: vars(rates) for arm, rates in arm_rates(session, row.id).items()}
    return report


@router.get("/admin/models", response_class=HTMLResponse, summary="Model registry")
def index(request: Request, context: Context, session: DbSession, user: CurrentUser) -> Response:
    from sqlalchemy import select

    from ledgerbot.core.modelops import listing
    from ledgerbot.core.store.registry import ModelVersionRow

    rows = {(r.root, r.name, r.version): r for r in session.scalars(select(ModelVersionRow))}
    entries = []
    for entry in listing(session, None):
        row = rows[(entry["root"], entry["name"], entry["version"])]
        entries.append({**entry, "id": row.id, "trial": _trial(session, row)})
    order = {"canary": 0, "shadow": 1, "candidate": 2, "active": 3, "retired": 4}
    entries.sort(key=lambda e: (e["kind"] == "template", e["name"], order.get(e["state"], 5), e["version"]))
    from ledgerbot.core.settings import get_settings
    from ledgerbot.drift import drift_report

    # The page reads the figures; alarms are raised (logged, gauged) by the runs and the CLI.
    drift = drift_report(session, days=DRIFT_DAYS, alarm=False)
    drift["corrections"] = sorted(drift["corrections"], key=lambda c: -(c["rate"] or 0))[:DRIFT_TOP]
    drift["low_confidence"] = get_settings().modelops.low_confidence
    # Stages with an alarm first, then by how far their newest day moved from the days before.
    alarmed = {a.get("stage") for a in drift["alarms"]}
    drift["summary"].sort(
        key=lambda s: (s["stage"] not in alarmed, -(s["low_confidence_share"] - (s["before_share"] or 0)))
    )
    return render(request, context, user, "models.html", {"entries": entries, "drift": drift})


def _version(session: DbSession, model_id: int) -> Any:
    from ledgerbot.core.store.registry import ModelVersionRow

    row = session.get(ModelVersionRow, model_id)
    if row is None:
        raise ModelRegistryError(f"no registered model version {model_id}")
    return row


@router.post("/admin/models/{model_id}/promote", response_class=HTMLResponse, summary="Promote a version")
def promote(
    model_id: RowId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    reason: Annotated[str, Form()] = "",
    to: Annotated[str, Form()] = "",
) -> Response:
    from ledgerbot.core.modelops import promote as promote_model
    from ledgerbot.template_registry import move

    _admin(user)
    row = _version(session, model_id)
    why, target, actor = _reason(reason), to or None, f"user:{user.username}"
    if row.kind == "template":
        state = move(session, row.name, row.version, to=target, actor=actor, reason=why)
    else:
        state = promote_model(
            session, Path(row.root), row.name, row.version, actor=actor, reason=why, to=target
        )
    session.commit()
    return redirect_with_notice("/admin/models", f"{row.name}@{row.version} is {state}", context)


@router.post("/admin/models/{model_id}/rollback", response_class=HTMLResponse, summary="Roll a model back")
def rollback(
    model_id: RowId,
    context: Context,
    session: DbSession,
    user: CsrfUser,
    reason: Annotated[str, Form()] = "",
) -> Response:
    from ledgerbot.core.modelops import rollback as rollback_model
    from ledgerbot.template_registry import rollback as rollback_template

    _admin(user)
    row = _version(session, model_id)
    why, actor = _reason(reason), f"user:{user.username}"
    restored = None
    if row.kind == "template":
        retired, restored = rollback_template(session, row.name, actor=actor, reason=why)
    else:
        retired = rollback_model(session, Path(row.root), row.name, actor=actor, reason=why)
    session.commit()
    back = f"; {restored} is active again" if restored else ""
    return redirect_with_notice("/admin/models", f"{retired} rolled back{back}", context)
