"""The model registry: registration on training and on first load, promotion, rollback, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from ledgerbot.core.artifacts import Artifact, ArtifactStore
from ledgerbot.core.errors import ModelRegistryError
from ledgerbot.core.modelops import promote, register_trained, rollback
from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import get_store
from ledgerbot.core.store.registry import ModelEventRow, ModelVersionRow


def save(root: Path, digest: str, minute: int) -> Artifact:
    from datetime import UTC, datetime

    store = ArtifactStore(root)
    version = store.new_version("cascade", digest, now=datetime(2026, 1, 1, 0, minute, tzinfo=UTC))
    meta = {"data_sha256": digest, "metrics": {"validation": {"accuracy": 0.9 + minute / 100}}}
    return store.save("cascade", version, lambda _folder: None, meta)


def states(root: Path) -> dict[str, str]:
    with get_store().session() as session:
        return {r.version: r.state for r in session.scalars(select(ModelVersionRow))}


def test_an_unregistered_artifact_is_registered_active_on_first_load(root: Path) -> None:
    first = save(root, "a" * 64, 1)
    assert ArtifactStore(root).resolve("cascade").version == first.version
    assert states(root) == {first.version: "active"}
    with get_store().session() as session:
        row = session.scalars(select(ModelVersionRow)).one()
        assert row.data_sha256 == "a" * 64 and row.metrics == {"accuracy": 0.91}


def test_a_store_of_an_older_release_is_brought_up_to_date_before_the_registry_is_read(root: Path) -> None:
    from alembic import command

    from ledgerbot.core.store.engine import alembic_config

    first = save(root, "a" * 64, 1)
    second = save(root, "b" * 64, 2)
    assert register_trained(root, first.ref) == "active" and register_trained(root, second.ref) == "candidate"
    store = get_store()
    command.downgrade(alembic_config(store.url), "1850")  # before the registry kept template files
    assert not store.is_current()
    # The version to run is still the registry's, read with the columns this code expects.
    assert ArtifactStore(root).resolve("cascade").version == first.version
    assert store.is_current()


def test_a_trained_model_waits_as_candidate_until_promoted_and_rollback_restores(root: Path) -> None:
    first = save(root, "a" * 64, 1)
    assert register_trained(root, first.ref) == "active"  # nothing active yet: it becomes active
    second = save(root, "b" * 64, 2)
    assert register_trained(root, second.ref) == "candidate"
    # The newest folder is not what runs: the registry's active version is.
    assert ArtifactStore(root).latest_version("cascade") == second.version
    assert ArtifactStore(root).resolve("cascade").version == first.version
    with get_store().session() as session:
        for expected in ("shadow", "canary", "active"):
            assert (
                promote(session, root, "cascade", second.version, actor="user:ann", reason="better")
                == expected
            )
        with pytest.raises(ModelRegistryError):
            promote(session, root, "cascade", second.version, actor="user:ann", reason="again")
    assert states(root) == {first.version: "retired", second.version: "active"}
    assert ArtifactStore(root).resolve("cascade").version == second.version
    with get_store().session() as session:
        rollback(session, root, "cascade", actor="user:bob", reason="worse on scans")
    assert states(root) == {first.version: "active", second.version: "retired"}
    assert ArtifactStore(root).resolve("cascade").version == first.version
    with get_store().session() as session:
        events = [
            (e.to_state, e.actor, e.reason)
            for e in session.scalars(select(ModelEventRow).order_by(ModelEventRow.id))
        ]
    assert ("retired", "user:bob", "worse on scans") in events
    assert ("canary", "user:ann", "better") in events
    assert events[-1][0] == "active" and "rollback" in events[-1][2]
    # With nothing active before the first version, a second rollback has nowhere to go back to.
    with get_store().session() as session, pytest.raises(ModelRegistryError):
        rollback(session, root, "cascade", actor="user:bob", reason="again")


def test_rollbacks_in_a_row_walk_back_through_the_active_versions(root: Path) -> None:
    versions = [save(root, digest * 64, minute) for digest, minute in (("a", 1), ("b", 2), ("c", 3))]
    for artifact in versions:
        register_trained(root, artifact.ref)
    with get_store().session() as session:
        for artifact in versions[1:]:
            promote(session, root, "cascade", artifact.version, actor="user:ann", reason="r", to="active")
    with get_store().session() as session:
        assert rollback(session, root, "cascade", actor="user:bob", reason="r") == versions[2].ref
    assert states(root)[versions[1].version] == "active"
    with get_store().session() as session:
        assert rollback(session, root, "cascade", actor="user:bob", reason="r") == versions[1].ref
    assert states(root) == {versions[0].version: "active", **{v.version: "retired" for v in versions[1:]}}


def test_models_cli_lists_promotes_and_rolls_back(root: Path) -> None:
    _load_commands()
    runner = CliRunner()
    first = save(root, "a" * 64, 1)
    register_trained(root, first.ref)
    second = save(root, "b" * 64, 2)
    register_trained(root, second.ref)
    result = runner.invoke(app, ["models", "promote", "cascade", second.version, "--to", "canary"])
    assert result.exit_code == 1 and "E015" in result.output  # no reason given
    result = runner.invoke(
        app,
        ["models", "promote", "cascade", second.version, "--to", "canary", "--reason", "try", "--by", "ann"],
    )
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in runner.invoke(app, ["models", "list"]).stdout.splitlines()]
    assert {(r["version"], r["state"], r["changed_by"]) for r in listed} == {
        (first.version, "active", "system:modelops"),
        (second.version, "canary", "ann"),
    }
    result = runner.invoke(app, ["models", "rollback", "cascade", "--reason", "regressed"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"retired": second.ref, "active": first.ref}
    result = runner.invoke(app, ["models", "promote", "cascade", "nope", "--reason", "x"])
    # The command raises the coded error; ``main`` turns it into one line (exit 1).
    assert isinstance(result.exception, ModelRegistryError) and result.exception.code == "E530"


def test_by_default_a_trained_model_runs_at_once_and_the_previous_one_is_kept(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBOT_MODELOPS_TRAINED_STATE", "active")
    get_settings.cache_clear()
    first = save(root, "a" * 64, 1)
    register_trained(root, first.ref)
    second = save(root, "b" * 64, 2)
    assert register_trained(root, second.ref) == "active"
    assert states(root) == {first.version: "retired", second.version: "active"}
    with get_store().session() as session:
        rollback(session, root, "cascade", actor="user:bob", reason="worse")
    assert ArtifactStore(root).resolve("cascade").version == first.version


def test_an_artifact_trained_outside_the_registry_runs_on_its_first_load(root: Path) -> None:
    first = save(root, "a" * 64, 1)
    assert ArtifactStore(root).resolve("cascade").version == first.version
    second = save(root, "b" * 64, 2)  # e.g. by a script calling the training library
    assert ArtifactStore(root).resolve("cascade").version == second.version
    assert states(root) == {first.version: "retired", second.version: "active"}
