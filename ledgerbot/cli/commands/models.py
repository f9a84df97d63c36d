"""Model registry commands: list model versions, promote or roll them back, compare a shadow."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from ledgerbot.cli.app import app, emit, fail, stderr

models_app = typer.Typer(
    help="The model registry: versions, states (candidate, shadow, canary, active, retired).",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")

_MODELS_DIR = typer.Option("--models-dir", help="Models folder (default: $LEDGERBOT_HOME/models)")
_REASON = typer.Option("--reason", help="Why; kept with the state change")
_BY = typer.Option("--by", help="Who asks (default: user:<login name>)")


def _root(models_dir: Path | None) -> Path:
    from ledgerbot.core.settings import get_settings

    return models_dir or get_settings().models_dir


def actor(by: str | None) -> str:
    if by:
        return by
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "user:unknown"


@models_app.command("list")
def models_list(
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    all_folders: Annotated[
        bool, typer.Option("--all", help="Every models folder, not only this one")
    ] = False,
) -> None:
    """Every registered model version: one JSON line each (name, version, state, fingerprint, metrics)."""
    from ledgerbot.core.modelops import listing
    from ledgerbot.core.store import get_store

    with get_store().session() as session:
        rows = listing(session, None if all_folders else _root(models_dir), templates=True)
    for row in rows:
        emit(row)
    stderr.print(f"{len(rows)} model version(s)", highlight=False)


@models_app.command("promote")
def models_promote(
    name: Annotated[str, typer.Argument(help="Model name (cascade, extractor-ranker, template:<id>)")],
    version: Annotated[str, typer.Argument(help="Version to promote")],
    to: Annotated[
        str | None, typer.Option("--to", help="Target state (default: the next one along the way)")
    ] = None,
    reason: Annotated[str, _REASON] = "",
    by: Annotated[str | None, _BY] = None,
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
) -> None:
    """Move a version one step along candidate -> shadow -> canary -> active (or --to a state).

    A template (``template:<id>``) has no canary: draft -> shadow -> active; its file's status
    moves with it."""
    from ledgerbot.core.modelops import promote
    from ledgerbot.core.store import get_store
    from ledgerbot.template_registry import move, template_id_of

    if not reason.strip():
        raise fail("a promotion needs a reason (--reason)", code="E015")
    with get_store().session() as session:
        if template_id_of(name) is not None:
            state = move(session, name, version, to=to, actor=actor(by), reason=reason)
        else:
            state = promote(session, _root(models_dir), name, version, actor=actor(by), reason=reason, to=to)
    emit({"model": f"{name}@{version}", "state": state})


@models_app.command("rollback")
def models_rollback(
    name: Annotated[str, typer.Argument(help="Model name (cascade, extractor-ranker, template:<id>)")],
    reason: Annotated[str, _REASON] = "",
    by: Annotated[str | None, _BY] = None,
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
) -> None:
    """Retire the canary; with none, retire the active version and bring back the one before it.

    A template's rollback retires its active (else shadow) version and puts the version active
    before it back in the templates folder (its YAML as registered); with none, the generic
    extractor reads its vendor again."""
    from ledgerbot.core.modelops import holding, rollback, root_key
    from ledgerbot.core.store import get_store
    from ledgerbot.template_registry import rollback as template_rollback
    from ledgerbot.template_registry import template_id_of

    if not reason.strip():
        raise fail("a rollback needs a reason (--reason)", code="E015")
    root = _root(models_dir)
    with get_store().session() as session:
        if template_id_of(name) is not None:
            retired, restored = template_rollback(session, name, actor=actor(by), reason=reason)
            emit({"retired": retired, "active": restored})
            return
        retired = rollback(session, root, name, actor=actor(by), reason=reason)
        active = holding(session, root_key(root), name, "active")
    emit({"retired": retired, "active": f"{name}@{active.version}" if active else None})


@models_app.command("sync-templates")
def models_sync_templates(
    folder: Annotated[
        list[Path] | None,
        typer.Option("--templates", help="Templates folder (default: the shipped and the learned one)"),
    ] = None,
    by: Annotated[str | None, _BY] = None,
) -> None:
    """Register every template version not registered yet (with its `template test` results) and
    bring each one's registry state to its file's status. One JSON line per folder."""
    from extractors.templates.engine import default_templates_dir
    from ledgerbot.core.settings import learned_templates_dir
    from ledgerbot.core.store import get_store
    from ledgerbot.template_registry import sync_folder

    folders = folder or [default_templates_dir(), learned_templates_dir()]
    with get_store().session() as session:
        for path in dict.fromkeys(p.resolve() for p in folders):
            refs = sync_folder(session, path, actor=actor(by), reason="registered from its folder")
            emit({"templates": str(path), "registered": refs})


@models_app.command("compare")
def models_compare(
    name: Annotated[str, typer.Argument(help="Model name (cascade, extractor-ranker)")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version (default: the one in shadow, else canary)")
    ] = None,
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
) -> None:
    """Agreement with the active model and accuracy against clerks' values, per field and per vendor."""
    from ledgerbot.core.modelops import arm_rates, compare
    from ledgerbot.core.store import get_store

    with get_store().session() as session:
        report = compare(session, _root(models_dir), name, version)
        if report["state"] in ("canary", "retired"):
            from ledgerbot.core.modelops import find, root_key

            row = find(session, root_key(_root(models_dir)), name, report["model"].partition("@")[2])
            if row is not None:
                report["arms"] = {arm: vars(rates) for arm, rates in arm_rates(session, row.id).items()}
    emit(report)


@models_app.command("drift")
def models_drift(
    days: Annotated[int, typer.Option("--days", min=1, help="Days of documents to show")] = 14,
) -> None:
    """Per day: confidence histogram, low-confidence and new-vendor shares; the newest day's alarms."""
    from ledgerbot.core.store import get_store
    from ledgerbot.drift import drift_report

    with get_store().session() as session:
        report = drift_report(session, days=days)
    emit(report)
    for alarm in report["alarms"]:
        stderr.print(f"[yellow]drift[/yellow] {alarm['message']}", highlight=False)


@models_app.command("install-shipped")
def models_install_shipped(
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Install even when the folder has a usable cascade of its own")
    ] = False,
) -> None:
    """Copy the classifier and splitter shipped with the code (`make models`) into the models folder."""
    from classifiers.cascade import check_feature_version
    from classifiers.errors import IncompatibleModel
    from classifiers.shipped import SHIPPED_MODELS, install, provenance
    from ledgerbot.core.artifacts import ArtifactStore, ModelNotFound
    from ledgerbot.core.modelops import register_trained

    root = _root(models_dir)
    made = provenance()
    if made is None:
        raise fail(f"no models are shipped in {SHIPPED_MODELS}; `make models` builds them", "E501")
    try:
        check_feature_version(ArtifactStore(SHIPPED_MODELS).resolve("cascade"))
    except IncompatibleModel as error:
        raise fail(
            f"the shipped models are stale: {error.message}; `make models` rebuilds them", error.code
        ) from None
    if not force:
        try:
            check_feature_version(ArtifactStore(root).resolve("cascade"))
        except (ModelNotFound, IncompatibleModel):
            pass
        else:
            stderr.print(
                f"{root} has a usable cascade of its own; nothing installed (--force)", highlight=False
            )
            emit({"installed": [], "models_dir": str(root)})
            return
    installed = install(root)
    states = {a.ref: register_trained(root, a.ref) for a in installed if a.name == "cascade"}
    emit(
        {
            "installed": [a.ref for a in installed],
            "models_dir": str(root),
            "registry_state": states,
            "code_version": made.get("code_version"),
        }
    )


@models_app.command("export-onnx")
def models_export_onnx(
    versions: Annotated[
        list[str] | None,
        typer.Argument(help="Transformer versions (default: the one the cascade in use pins)"),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every transformer version in the folder")] = False,
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    force: Annotated[bool, typer.Option("--force", help="Export again where a graph exists")] = False,
) -> None:
    """Add the ONNX graph to transformers trained without one, so documents are read without torch.

    Each export is checked against the torch weights before it is written. One JSON line per version."""
    from classifiers.errors import ArtifactError
    from classifiers.transformer_onnx import export_artifact, has_graph
    from ledgerbot.core.artifacts import ArtifactStore, ModelNotFound

    store = ArtifactStore(_root(models_dir))
    failed = 0
    try:
        if versions:
            wanted = list(versions)
        elif every:
            wanted = store.versions("transformer")
        else:
            wanted = [store.resolve("cascade").meta["components"]["transformer"]]
        artifacts = [store.resolve_exact("transformer", version) for version in wanted]
    except (ArtifactError, ModelNotFound) as error:
        raise fail(error.message, error.code) from None
    except (KeyError, TypeError) as error:
        raise fail(f"the cascade in use names no transformer: {error}", ArtifactError.code) from None
    for artifact in artifacts:
        if has_graph(artifact.path) and not force:
            emit({"transformer": artifact.ref, "exported": False, "reason": "has its graph"})
            continue
        try:
            report = export_artifact(artifact.path)
        except ArtifactError as error:
            stderr.print(f"[red]error[/red] [{error.code}] {artifact.ref}: {error.message}", highlight=False)
            emit({"transformer": artifact.ref, "exported": False, "reason": error.message})
            failed += 1
            continue
        emit({"transformer": artifact.ref, "exported": True, **report.as_dict()})
    if failed:
        raise typer.Exit(1)
