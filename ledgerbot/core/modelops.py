"""Model operations: the registry of model versions, their states, shadow runs and canary rollback.

Every classifier and extraction ranker version, and every vendor template version, is registered
with its training data fingerprint and validation metrics, in one of the states
``candidate -> shadow -> canary -> active -> retired``; every change is an audit row (who, when,
why). The pipeline loads the registry's active version.

Canary rule (``canary_verdict``): per arm (canary documents, and the documents the active model
decided meanwhile) the correction rate (a clerk corrected the document) and the exception rate
(the read ended with errors) are compared by a one-sided two-proportion z-test of
``H0: p_canary - p_active <= margin`` with the pooled standard error; the canary is rolled back
when ``z > z(1 - alpha)`` for either rate, and only once each arm has at least ``min_documents``.
It is checked after every canary decision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledgerbot.core.errors import ModelRegistryError
from ledgerbot.core.registry_view import KINDS, Trial, root_key

if TYPE_CHECKING:
    from ledgerbot.core.artifacts import Artifact
    from ledgerbot.core.store import Store
    from ledgerbot.core.store.registry import ModelVersionRow

STATES = ("candidate", "shadow", "canary", "active", "retired")
# States at most one version of a model may hold at a time (per models folder).
SINGLE = ("shadow", "canary", "active")
SYSTEM = "system:modelops"


def kind_of(name: str) -> str:
    return KINDS.get(name, "template" if name.startswith("template") else "model")


# --- the registry ---------------------------------------------------------------------------


def find(session: Session, root: str, name: str, version: str) -> ModelVersionRow | None:
    from ledgerbot.core.store.registry import ModelVersionRow

    return session.scalars(
        select(ModelVersionRow).where(
            ModelVersionRow.root == root, ModelVersionRow.name == name, ModelVersionRow.version == version
        )
    ).first()


def holding(session: Session, root: str, name: str, state: str) -> ModelVersionRow | None:
    from ledgerbot.core.store.registry import ModelVersionRow

    return session.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.root == root, ModelVersionRow.name == name, ModelVersionRow.state == state)
        .order_by(ModelVersionRow.updated_at.desc(), ModelVersionRow.id.desc())
    ).first()


def _move(session: Session, row: ModelVersionRow, state: str, actor: str, reason: str) -> None:
    from ledgerbot.core.store.models import utcnow
    from ledgerbot.core.store.registry import ModelEventRow

    session.add(
        ModelEventRow(model_id=row.id, from_state=row.state, to_state=state, actor=actor, reason=reason)
    )
    row.state = state
    row.updated_at = utcnow()


def register(
    session: Session,
    root: Path,
    artifact: Artifact,
    *,
    state: str | None = None,
    actor: str = SYSTEM,
    reason: str = "trained",
) -> ModelVersionRow:
    """Register ``artifact`` (idempotent); a new one is a candidate unless its model has no active version."""
    return register_version(
        session,
        root,
        artifact.name,
        artifact.version,
        data_sha256=artifact.meta.get("data_sha256"),
        metrics=_validation_metrics(artifact.meta),
        state=state,
        actor=actor,
        reason=reason,
    )


def register_version(
    session: Session,
    root: Path,
    name: str,
    version: str,
    *,
    data_sha256: str | None,
    metrics: dict[str, Any],
    state: str | None = None,
    actor: str = SYSTEM,
    reason: str = "trained",
) -> ModelVersionRow:
    """Register ``name@version`` of the folder ``root`` (idempotent) with its data fingerprint, metrics."""
    from ledgerbot.core.store.registry import ModelEventRow, ModelVersionRow

    key = root_key(root)
    existing = find(session, key, name, version)
    if existing is not None:
        return existing
    if state is None:
        state = "candidate" if holding(session, key, name, "active") else "active"
    if state not in STATES:
        raise ModelRegistryError(f"unknown state {state!r}; one of {', '.join(STATES)}")
    row = ModelVersionRow(
        root=key,
        name=name,
        version=version,
        kind=kind_of(name),
        data_sha256=data_sha256,
        metrics=metrics,
        state=state,
    )
    session.add(row)
    session.flush()
    session.add(ModelEventRow(model_id=row.id, from_state=None, to_state=state, actor=actor, reason=reason))
    session.flush()
    return row


def _validation_metrics(meta: dict[str, Any]) -> dict[str, Any]:
    metrics = meta.get("metrics")
    if isinstance(metrics, dict) and isinstance(metrics.get("validation"), dict):
        return dict(metrics["validation"])
    if isinstance(meta.get("validation"), dict):  # the extraction ranker's cross-validated figures
        return dict(meta["validation"])
    return dict(metrics) if isinstance(metrics, dict) else {}


def register_trained(root: Path, ref: str, *, actor: str = SYSTEM) -> str:
    """Register a freshly trained ``name@version`` in the settings' store; returns its state."""
    from ledgerbot.core.artifacts import ArtifactStore
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import get_store

    name, _, version = ref.partition("@")
    artifact = ArtifactStore(root).resolve_exact(name, version)
    with get_store().session() as session:
        key = root_key(root)
        state = get_settings().modelops.trained_state
        if state == "candidate" and holding(session, key, name, "active") is None:
            state = "active"  # the first version of a model has nothing to wait beside
        row = register(session, root, artifact, state="candidate", actor=actor, reason="trained")
        if state == "active":
            transition(session, root, name, version, "active", actor=actor, reason="trained")
        return row.state


def transition(
    session: Session, root: Path, name: str, version: str, state: str, *, actor: str, reason: str
) -> None:
    """Move ``name@version`` to ``state``; a version leaving a single-holder state hands it over."""
    if state not in STATES:
        raise ModelRegistryError(f"unknown state {state!r}; one of {', '.join(STATES)}")
    key = root_key(root)
    row = find(session, key, name, version)
    if row is None:
        raise ModelRegistryError(f"no registered model {name}@{version} for {key}")
    if row.state == state:
        return
    if state in SINGLE:
        previous = holding(session, key, name, state)
        if previous is not None:
            # The active model replaced is retired (a rollback brings it back); a shadow or canary
            # replaced goes back to the candidates.
            _move(
                session,
                previous,
                "retired" if state == "active" else "candidate",
                actor,
                f"replaced by {name}@{version}: {reason}",
            )
    _move(session, row, state, actor, reason)


def promote(
    session: Session, root: Path, name: str, version: str, *, actor: str, reason: str, to: str | None = None
) -> str:
    """One step along ``candidate -> shadow -> canary -> active`` (or straight ``to`` a state)."""
    row = find(session, root_key(root), name, version)
    if row is None:
        raise ModelRegistryError(f"no registered model {name}@{version}; see `ledgerbot models list`")
    if to is None:
        order = STATES[:4]
        if row.state not in order[:-1]:
            raise ModelRegistryError(f"{name}@{version} is {row.state}: nothing to promote it to")
        to = order[order.index(row.state) + 1]
    transition(session, root, name, version, to, actor=actor, reason=reason)
    return to


def rollback(session: Session, root: Path, name: str, *, actor: str, reason: str) -> str:
    """Retire the canary if there is one, else the active version and bring back the one before it."""
    key = root_key(root)
    canary = holding(session, key, name, "canary")
    if canary is not None:
        _move(session, canary, "retired", actor, reason)
        return f"{name}@{canary.version}"
    active = holding(session, key, name, "active")
    if active is None:
        raise ModelRegistryError(f"{name} has no canary and no active version to roll back")
    previous = _previous_active(session, key, name, exclude=active.id)
    if previous is None:
        raise ModelRegistryError(f"{name}@{active.version} has no earlier active version to return to")
    _move(session, active, "retired", actor, reason)
    _move(session, previous, "active", actor, f"rollback of {name}@{active.version}: {reason}")
    return f"{name}@{active.version}"


def _previous_active(session: Session, root: str, name: str, *, exclude: int) -> ModelVersionRow | None:
    """The retired version that was active last before ``exclude`` first became active: after a
    rollback from v3 to v2, the next rollback goes on to v1, not back to v3."""
    from sqlalchemy import func

    from ledgerbot.core.store.registry import ModelEventRow, ModelVersionRow

    first = session.scalar(
        select(func.min(ModelEventRow.id)).where(
            ModelEventRow.model_id == exclude, ModelEventRow.to_state == "active"
        )
    )
    query = (
        select(ModelVersionRow)
        .join(ModelEventRow, ModelEventRow.model_id == ModelVersionRow.id)
        .where(
            ModelVersionRow.root == root,
            ModelVersionRow.name == name,
            ModelVersionRow.id != exclude,
            ModelVersionRow.state == "retired",
            ModelEventRow.to_state == "active",
        )
        .order_by(ModelEventRow.id.desc())
    )
    if first is not None:
        query = query.where(ModelEventRow.id < first)
    return session.scalars(query).first()


def listing(session: Session, root: Path | None = None, *, templates: bool = False) -> list[dict[str, Any]]:
    """Registered versions of ``root`` (every folder when None); ``templates`` adds every template's."""
    from sqlalchemy import or_

    from ledgerbot.core.store.registry import ModelEventRow, ModelVersionRow

    query = select(ModelVersionRow).order_by(ModelVersionRow.name, ModelVersionRow.id)
    if root is not None:
        here = ModelVersionRow.root == root_key(root)
        query = query.where(or_(here, ModelVersionRow.kind == "template") if templates else here)
    out = []
    for row in session.scalars(query):
        last = session.scalars(
            select(ModelEventRow).where(ModelEventRow.model_id == row.id).order_by(ModelEventRow.id.desc())
        ).first()
        out.append(
            {
                "name": row.name,
                "version": row.version,
                "kind": row.kind,
                "state": row.state,
                "data_sha256": row.data_sha256,
                "metrics": row.metrics,
                "root": row.root,
                "changed_at": last.at.isoformat(timespec="seconds") if last else None,
                "changed_by": last.actor if last else None,
                "reason": last.reason if last else None,
            }
        )
    return out


# --- which version runs -----------------------------------------------------------------------


def registry_store() -> Store | None:
    """The settings' store when it exists and holds the registry; else None (nothing is created)."""
    from sqlalchemy import inspect

    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import Store

    settings = get_settings()
    if not settings.has_store:
        return None
    store = Store.from_settings(settings)
    try:
        if not inspect(store.engine).has_table("model_versions"):
            store.dispose()
            return None
        if not store.is_current():
            # A store written by an older release: brought to this code's schema first, as every
            # command that opens the store does, so the registry is read with the columns it has.
            store.migrate()
    except Exception:  # an unreachable database: the artifacts folder alone decides
        store.dispose()
        return None
    return store


def chosen_version(root: Path, name: str, latest: str | None, exists: Iterable[str]) -> str | None:
    """The version to load for ``latest``: the registry's active one, else the newest artifact.

    An artifact the registry has never seen (an install older than the registry) is registered
    on this first load as active, so it keeps working.
    """
    if name not in KINDS or latest is None:
        return latest
    store = registry_store()
    if store is None:
        return latest
    present = set(exists)
    try:
        with store.session() as session:
            if find(session, root_key(root), name, latest) is None:
                # Trained by a path that does not register (an older release, a script calling the
                # training library): it runs, as it did before the registry.
                from ledgerbot.core.artifacts import ArtifactStore

                artifact = ArtifactStore(root).resolve_exact(name, latest)
                register(session, root, artifact, state="candidate", reason="found on load")
                reason = "first load of an unregistered artifact"
                transition(session, root, name, latest, "active", actor=SYSTEM, reason=reason)
                return latest
            active = holding(session, root_key(root), name, "active")
            if active is not None and active.version in present:
                return active.version
            return latest
    finally:
        store.dispose()


def trial_for(root: Path, name: str) -> Trial | None:
    """The canary (else the shadow) version of ``name``, or None: one query when no trial runs."""
    store = registry_store()
    if store is None:
        return None
    from ledgerbot.core.settings import get_settings

    try:
        with store.session() as session:
            for state in ("canary", "shadow"):
                row = holding(session, root_key(root), name, state)
                if row is not None:
                    return Trial(row.id, name, row.version, state, get_settings().modelops.canary_share)
    finally:
        store.dispose()
    return None


# --- runs, the canary test and the comparison ------------------------------------------------


def record_run(
    session: Session,
    *,
    model_id: int,
    document_id: int,
    arm: str,
    outputs: dict[str, Any],
    active_outputs: dict[str, Any],
    active_ref: str | None,
    vendor_id: str | None,
    exception: bool,
) -> None:
    from ledgerbot.core.store.registry import ModelRunRow

    session.add(
        ModelRunRow(
            model_id=model_id,
            document_id=document_id,
            arm=arm,
            outputs=outputs,
            active_outputs=active_outputs,
            active_ref=active_ref,
            vendor_id=vendor_id,
            exception=exception,
        )
    )
    session.flush()


@dataclass(frozen=True)
class ArmRates:
    documents: int
    corrected: int
    exceptions: int


@dataclass(frozen=True)
class Verdict:
    rollback: bool
    canary: ArmRates
    active: ArmRates
    z_corrections: float | None
    z_exceptions: float | None
    reason: str


def z_worse(bad_a: int, n_a: int, bad_b: int, n_b: int, margin: float) -> float | None:
    """One-sided two-proportion z statistic of ``p_a - p_b - margin`` with the pooled error."""
    if n_a == 0 or n_b == 0:
        return None
    p_a, p_b = bad_a / n_a, bad_b / n_b
    pooled = (bad_a + bad_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return None
    return (p_a - p_b - margin) / se


def canary_verdict(
    canary: ArmRates, active: ArmRates, *, margin: float, alpha: float, minimum: int
) -> Verdict:
    z_c = z_worse(canary.corrected, canary.documents, active.corrected, active.documents, margin)
    z_e = z_worse(canary.exceptions, canary.documents, active.exceptions, active.documents, margin)
    critical = NormalDist().inv_cdf(1 - alpha)
    enough = canary.documents >= minimum and active.documents >= minimum
    worse = [
        label for label, z in (("correction", z_c), ("exception", z_e)) if z is not None and z > critical
    ]
    rollback = enough and bool(worse)
    reason = (
        f"{' and '.join(worse)} rate worse than active (z > {critical:.3f}, alpha {alpha}, margin {margin}); "
        f"canary {canary.corrected}/{canary.exceptions} of {canary.documents}, "
        f"active {active.corrected}/{active.exceptions} of {active.documents} corrected/exceptions"
        if rollback
        else ""
    )
    return Verdict(rollback, canary, active, z_c, z_e, reason)


def _corrected_documents(session: Session, document_ids: Iterable[int], kinds: tuple[str, ...]) -> set[int]:
    from ledgerbot.core.store.review import CorrectionRow

    ids = list(document_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(CorrectionRow.document_id).where(
                CorrectionRow.document_id.in_(ids), CorrectionRow.kind.in_(kinds)
            )
        )
    )


def _correction_kinds(kind: str) -> tuple[str, ...]:
    return ("doc_type",) if kind == "classifier" else ("field", "line")


def arm_rates(session: Session, model_id: int) -> dict[str, ArmRates]:
    from ledgerbot.core.store.registry import ModelRunRow, ModelVersionRow

    model = session.get(ModelVersionRow, model_id)
    kinds = _correction_kinds(model.kind if model else "classifier")
    out = {}
    for arm in ("canary", "active"):
        runs = list(
            session.scalars(
                select(ModelRunRow).where(ModelRunRow.model_id == model_id, ModelRunRow.arm == arm)
            )
        )
        corrected = _corrected_documents(session, {r.document_id for r in runs}, kinds)
        out[arm] = ArmRates(
            documents=len(runs),
            corrected=sum(r.document_id in corrected for r in runs),
            exceptions=sum(r.exception for r in runs),
        )
    return out


def check_canary(session: Session, model_id: int) -> Verdict | None:
    """Apply the canary rule to ``model_id`` and roll it back when it fails; None when not a canary."""
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store.registry import ModelVersionRow

    row = session.get(ModelVersionRow, model_id)
    if row is None or row.state != "canary":
        return None
    cfg = get_settings().modelops
    rates = arm_rates(session, model_id)
    verdict = canary_verdict(
        rates["canary"],
        rates["active"],
        margin=cfg.rollback_margin,
        alpha=cfg.rollback_alpha,
        minimum=cfg.min_documents,
    )
    if verdict.rollback:
        _move(session, row, "retired", SYSTEM, f"automatic canary rollback: {verdict.reason}")
    return verdict


def compare(session: Session, root: Path, name: str, version: str | None = None) -> dict[str, Any]:
    """Agreement of a shadow or canary version with the active model, and accuracy against clerks.

    Per field and per vendor: ``agree`` counts documents where both said the same; where a clerk
    corrected the field, the clerk's value is the truth; elsewhere on a document a clerk touched,
    the value the active model gave (and the clerk kept) is.
    """
    from ledgerbot.core.store.registry import ModelRunRow
    from ledgerbot.core.store.review import CorrectionRow

    key = root_key(root)
    if version is None:
        row = holding(session, key, name, "shadow") or holding(session, key, name, "canary")
    else:
        row = find(session, key, name, version)
    if row is None:
        raise ModelRegistryError(
            f"no {name} version in shadow or canary to compare; see `ledgerbot models list`"
        )
    model: ModelVersionRow = row
    runs = list(session.scalars(select(ModelRunRow).where(ModelRunRow.model_id == model.id)))
    touched: dict[int, dict[str, Any]] = {}
    ids = {r.document_id for r in runs}
    vendors_now: dict[int, str | None] = {}
    if ids:
        from ledgerbot.core.store.models import DocumentRow

        # The vendor is matched after the read: the document knows it now if the run did not.
        query = select(DocumentRow.id, DocumentRow.vendor_id).where(DocumentRow.id.in_(ids))
        vendors_now = {doc_id: vendor for doc_id, vendor in session.execute(query)}
        for c in session.scalars(
            select(CorrectionRow).where(CorrectionRow.document_id.in_(ids)).order_by(CorrectionRow.id)
        ):
            touched.setdefault(c.document_id, {})[c.target] = c.new_value

    def bucket() -> dict[str, float | int]:
        return {"documents": 0, "agree": 0, "judged": 0, "candidate_right": 0, "active_right": 0}

    fields: dict[str, dict[str, float | int]] = {}
    vendors: dict[str, dict[str, float | int]] = {}
    for run in runs:
        truth = touched.get(run.document_id)
        for field_name in sorted(set(run.outputs) | set(run.active_outputs)):
            if field_name.endswith("confidence"):  # how sure, not what: nothing a clerk corrects
                continue
            ours, theirs = run.outputs.get(field_name), run.active_outputs.get(field_name)
            vendor = run.vendor_id or vendors_now.get(run.document_id) or "(unknown)"
            for table, label in ((fields, field_name), (vendors, vendor)):
                b = table.setdefault(label, bucket())
                b["documents"] += 1
                b["agree"] += ours == theirs
                if truth is not None:
                    right = truth.get(field_name, theirs)
                    b["judged"] += 1
                    b["candidate_right"] += _same(ours, right)
                    b["active_right"] += _same(theirs, right)
    for table in (fields, vendors):
        for b in table.values():
            b["agreement"] = round(b["agree"] / b["documents"], 4) if b["documents"] else 0.0
            if b["judged"]:
                b["candidate_accuracy"] = round(b["candidate_right"] / b["judged"], 4)
                b["active_accuracy"] = round(b["active_right"] / b["judged"], 4)
    return {
        "model": f"{name}@{model.version}",
        "state": model.state,
        "documents": len(ids),
        "per_field": fields,
        "per_vendor": vendors,
    }


def _same(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a).strip().lower() == str(b).strip().lower()
