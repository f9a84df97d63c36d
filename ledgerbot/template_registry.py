"""Vendor templates in the model registry: every version with its fingerprint, test results and state.

A template's own life (``draft -> shadow -> active -> retired``, kept in its YAML file and its
``history/``) stays with ``extractors.templates.lifecycle``; this module mirrors it into the
registry at the places that change it (learning, editing, promoting, retiring, the shadow's
trust), so templates are listed, compared and moved with the models. Registry name
``template:<id>``, version the template's version, folder the templates folder. States map one to
one (``draft`` is the registry's ``candidate``); a template has no canary: it reads every
document of its vendor or none.

Each version is registered once with the sha256 of the samples it was learned from (its training
data fingerprint) and, as its metrics, its ``template test`` results (every committed sample read
and compared with its golden file), the sha256 of its YAML and its layout's fingerprint words'
count.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgerbot.core.errors import ModelRegistryError
from ledgerbot.core.modelops import SYSTEM, find, holding, register_version, root_key, transition

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledgerbot.core.store.registry import ModelVersionRow

PREFIX = "template:"
STATE_OF = {"draft": "candidate", "shadow": "shadow", "active": "active", "retired": "retired"}
STATUS_OF = {state: status for status, state in STATE_OF.items()}
# The next status of ``promote`` without a target: a template goes from shadow straight to active.
NEXT = {"draft": "shadow", "shadow": "active", "retired": "shadow"}


def registry_name(template_id: str) -> str:
    return f"{PREFIX}{template_id}"


def template_id_of(name: str) -> str | None:
    return name[len(PREFIX) :] if name.startswith(PREFIX) else None


def _fingerprint(files: list[Path]) -> str | None:
    digest = hashlib.sha256()
    present = [f for f in sorted(files) if f.is_file()]
    for path in present:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest() if present else None


def template_test(folder: Path, template_id: str) -> dict[str, Any]:
    """``template test`` of one template: samples read, how many match their golden, the problems.

    As ``template test`` does, a sample without a golden file gets one written (``written``).
    """
    from extractors.templates.golden import run_template_tests

    outcomes = list(run_template_tests(folder, ids=[template_id]))
    return {
        "samples": sum(o["sample"] is not None for o in outcomes),
        "ok": sum(o["status"] == "ok" for o in outcomes),
        "written": sum(o["status"] == "written" for o in outcomes),
        "failed": sum(o["status"] == "fail" for o in outcomes),
        "problems": [f"{o['sample']}: {p}" for o in outcomes for p in o.get("problems", [])][:20],
    }


def learned_test(outcome: Any) -> dict[str, Any]:
    """The ``template test`` figures learning already took (its samples read back and compared)."""
    return {
        "samples": outcome.samples,
        "ok": outcome.samples_ok,
        "written": 0,
        "failed": outcome.samples - outcome.samples_ok,
        "problems": [f"{field} not read as the truth" for field in outcome.mismatches],
    }


def sync(
    session: Session,
    folder: Path,
    template_id: str,
    *,
    actor: str = SYSTEM,
    reason: str,
    tested: dict[str, Any] | None = None,
) -> ModelVersionRow:
    """Register the template's current version (once) and bring its registry state to the file's status.

    ``tested``: its ``template test`` figures when the caller has them (learning does); else they
    are taken here.
    """
    from extractors.templates.golden import sample_paths
    from extractors.templates.schema import load_template

    path = folder / f"{template_id}.yml"
    template = load_template(path)
    name, version = registry_name(template.id), str(template.version)
    state = STATE_OF[template.status]
    row = find(session, root_key(folder), name, version)
    if row is None:
        text = path.read_bytes()
        metrics = {
            "template_test": tested if tested is not None else template_test(folder, template.id),
            "template_sha256": hashlib.sha256(text).hexdigest(),
            "fingerprint_words": len(template.match.fingerprint),
        }
        data = _fingerprint(sample_paths(path, template))
        # Registered as a candidate and then moved, so the move retires the version it replaces.
        row = register_version(
            session,
            folder,
            name,
            version,
            data_sha256=data,
            metrics=metrics,
            state="candidate",
            actor=actor,
            reason=reason,
        )
        row.content = text.decode("utf-8")
    elif row.content is None and _current_text(path, row) is not None:
        row.content = _current_text(path, row)  # registered before versions kept their YAML
    if row.state != state:
        transition(session, folder, name, version, state, actor=actor, reason=reason)
    # An older version's file was replaced (it is kept in history/): it can no longer read anything.
    for older in _other_versions(session, folder, name, version):
        if older.state != "retired":
            transition(
                session,
                folder,
                name,
                older.version,
                "retired",
                actor=actor,
                reason=f"replaced by version {version}",
            )
    return row


def _current_text(path: Path, row: ModelVersionRow) -> str | None:
    """The file's text when it is still the very YAML ``row`` was registered with."""
    text = path.read_bytes()
    if hashlib.sha256(text).hexdigest() != (row.metrics or {}).get("template_sha256"):
        return None
    return text.decode("utf-8")


def _other_versions(session: Session, folder: Path, name: str, version: str) -> list[ModelVersionRow]:
    from sqlalchemy import select

    from ledgerbot.core.store.registry import ModelVersionRow

    return list(
        session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.root == root_key(folder),
                ModelVersionRow.name == name,
                ModelVersionRow.version != version,
            )
        )
    )


def sync_folder(session: Session, folder: Path, *, actor: str = SYSTEM, reason: str) -> list[str]:
    """``sync`` every template of ``folder`` that loads; returns the ``id@version`` refs."""
    from extractors.templates.schema import TemplateError, load_template

    refs = []
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        try:
            template = load_template(path)
        except TemplateError:
            continue  # a broken file is reported by `template test`, not registered
        sync(session, folder, template.id, actor=actor, reason=reason)
        refs.append(template.ref)
    return refs


def record(
    folder: Path, template_id: str, *, actor: str = SYSTEM, reason: str, tested: dict[str, Any] | None = None
) -> str | None:
    """``sync`` in the settings' store when it holds the registry (a fresh folder without a store
    has nothing to register in); returns why it could not be registered, or None."""
    from ledgerbot.core.errors import LedgerbotError
    from ledgerbot.core.modelops import registry_store

    store = registry_store()
    if store is None:
        return None
    try:
        with store.session() as session:
            sync(session, folder, template_id, actor=actor, reason=reason, tested=tested)
    except LedgerbotError as error:
        return f"[{error.code}] {error.message}"
    finally:
        store.dispose()
    return None


def folder_of(session: Session, name: str, version: str) -> Path:
    """The templates folder a registered template version belongs to."""
    from sqlalchemy import select

    from ledgerbot.core.store.registry import ModelVersionRow

    roots = set(
        session.scalars(
            select(ModelVersionRow.root).where(
                ModelVersionRow.name == name, ModelVersionRow.version == version
            )
        )
    )
    if len(roots) != 1:
        found = "no" if not roots else f"{len(roots)} folders with a"
        raise ModelRegistryError(f"{found} registered template {name}@{version}; see `ledgerbot models list`")
    return Path(roots.pop())


def move(session: Session, name: str, version: str, *, to: str | None, actor: str, reason: str) -> str:
    """Promote (or retire) a registered template version: its file's status first, then the registry."""
    from extractors.templates.lifecycle import set_status
    from extractors.templates.schema import TemplateError, load_template

    template_id = template_id_of(name)
    if template_id is None:
        raise ModelRegistryError(f"{name} is no template")
    folder = folder_of(session, name, version)
    try:
        template = load_template(folder / f"{template_id}.yml")
    except TemplateError as error:
        raise ModelRegistryError(error.message) from None
    if str(template.version) != version:
        raise ModelRegistryError(
            f"{name}@{version} is not the template's current version ({template.version}); "
            "an older version comes back only as a new version (learn or edit)"
        )
    if to is None:
        if template.status not in NEXT:
            raise ModelRegistryError(
                f"{name}@{version} is {STATE_OF[template.status]}: nothing to promote it to"
            )
        status = NEXT[template.status]
    elif to == "canary":
        raise ModelRegistryError("a template has no canary: it reads all of its vendor's documents or none")
    elif to in STATUS_OF:
        status = STATUS_OF[to]
    else:
        raise ModelRegistryError(f"unknown state {to!r}; one of {', '.join(STATUS_OF)}")
    try:
        set_status(folder, template_id, status, reason=f"{reason} ({actor})")  # type: ignore[arg-type]
    except TemplateError as error:
        raise ModelRegistryError(error.message) from None
    sync(session, folder, template_id, actor=actor, reason=reason)
    return STATE_OF[status]


def rollback(session: Session, name: str, *, actor: str, reason: str) -> tuple[str, str | None]:
    """Roll the template back: its active (else shadow) version is retired and the version that
    was active before it, if any, is put back in the templates folder and is active again;
    with none, the vendor is read by the generic extractor. Returns (retired, now active) refs.

    The restored file is that version's YAML as it was registered (else as kept in
    ``history/<id>/``), so extraction reads with it again; the file being replaced is kept in
    ``history/<id>/`` as a learned or edited version's is.
    """
    from sqlalchemy import select

    from ledgerbot.core.modelops import _move, _previous_active
    from ledgerbot.core.store.registry import ModelVersionRow

    roots = set(session.scalars(select(ModelVersionRow.root).where(ModelVersionRow.name == name)))
    for root in sorted(roots):
        row = holding(session, root, name, "active") or holding(session, root, name, "shadow")
        if row is None:
            continue
        previous = _previous_active(session, root, name, exclude=row.id) if row.state == "active" else None
        text = _kept_yaml(Path(root), name, previous) if previous is not None else None
        if previous is None or text is None:
            move(session, name, row.version, to="retired", actor=actor, reason=reason)
            return f"{name}@{row.version}", None
        _restore(Path(root), name, row.version, previous.version, text, f"rollback: {reason} ({actor})")
        _move(session, row, "retired", actor, reason)
        _move(session, previous, "active", actor, f"rollback of {name}@{row.version}: {reason}")
        return f"{name}@{row.version}", f"{name}@{previous.version}"
    raise ModelRegistryError(f"{name} has no active or shadow version to roll back")


def _kept_yaml(folder: Path, name: str, row: ModelVersionRow) -> str | None:
    """The YAML of a registered template version: as registered, else its file in ``history/``."""
    if row.content is not None:
        return row.content
    template_id = template_id_of(name) or ""
    archived = folder / "history" / template_id / f"v{row.version}.yml"
    return archived.read_text(encoding="utf-8") if archived.is_file() else None


def _restore(folder: Path, name: str, current: str, version: str, text: str, reason: str) -> None:
    """Write version ``version``'s YAML (active) in place of version ``current``'s file."""
    from extractors.templates.lifecycle import restore_version
    from extractors.templates.schema import TemplateError

    try:
        restore_version(folder, template_id_of(name) or "", text, expected=int(current), reason=reason)
    except (TemplateError, ValueError) as error:
        message = error.message if isinstance(error, TemplateError) else str(error)
        raise ModelRegistryError(f"{name}@{version} cannot be restored: {message}") from None
