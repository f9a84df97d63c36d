"""The document classifier and the splitter shipped with the code, and how they reach a models folder.

``make models`` trains both the way ``make demo`` would on a fresh machine (same corpora, same
seed) and ships them here, in the artifact layout of ``ledgerbot.core.artifacts``
(``model/<name>/<version>/``), with ``PROVENANCE.json`` saying which seed, corpora and code
version made them. The fine-tuned MiniLM is kept as its difference from the shipped MiniLM
weights (``minilm.py``), so the whole folder stays small enough to commit. Two files stay out:
the transformer's ONNX graph, which ``ledgerbot models export-onnx`` rebuilds (checked against
torch) wherever the models are installed, and the baseline's scikit-learn pickle: documents are
read with its compiled form, and a pickle runs code when loaded, so a repository does not carry one.

``install`` copies the shipped versions into a models folder that has none the code can use;
a folder with a trained model of its own keeps it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerbot.core.artifacts import Artifact, ArtifactStore

SHIPPED_MODELS = Path(__file__).parent / "model"
PROVENANCE = "PROVENANCE.json"
CASCADE, SPLITTER = "cascade", "splitter"
# Never shipped: the ONNX graph (rebuilt where installed) and the scikit-learn pickle.
NOT_SHIPPED = ("*.onnx", "*.onnx.json", "*.joblib")


@dataclass(frozen=True)
class Shipped:
    refs: list[str]  # name@version of every shipped artifact
    bytes: int  # size of the shipped folder


def _components(store: ArtifactStore) -> list[Artifact]:
    """The newest cascade, the baseline and transformer it pins, and the newest splitter."""
    cascade = store.resolve(CASCADE)
    pinned = cascade.meta.get("components", {})
    return [
        cascade,
        *(store.resolve_exact(name, version) for name, version in sorted(pinned.items())),
        store.resolve(SPLITTER),
    ]


def ship(models_dir: Path, provenance: dict[str, Any], out: Path = SHIPPED_MODELS) -> Shipped:
    """Replace ``out`` with the newest cascade (and its components) and splitter of ``models_dir``."""
    artifacts = _components(ArtifactStore(models_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for artifact in artifacts:
            shutil.copytree(
                artifact.path,
                staging / artifact.name / artifact.version,
                ignore=shutil.ignore_patterns(*NOT_SHIPPED),
            )
            (staging / artifact.name / "LATEST").write_text(artifact.version + "\n")
        refs = [artifact.ref for artifact in artifacts]
        record = {**provenance, "artifacts": refs}
        (staging / PROVENANCE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    return Shipped(refs=refs, bytes=size)


def provenance(source: Path = SHIPPED_MODELS) -> dict[str, Any] | None:
    """What made the shipped models (seed, corpora, code version), or None when none are shipped."""
    try:
        record: dict[str, Any] = json.loads((source / PROVENANCE).read_text())
    except (OSError, ValueError):
        return None
    return record


def install(models_dir: Path, source: Path = SHIPPED_MODELS) -> list[Artifact]:
    """Copy the shipped cascade (with its components) and splitter into ``models_dir``.

    Each version is copied whole under a temporary name and renamed, as ``ArtifactStore.save``
    writes, then made the newest; a version already there is left as it is. Returns what was
    installed (empty when nothing is shipped).
    """
    if provenance(source) is None:
        return []
    target = ArtifactStore(models_dir)
    installed = []
    for artifact in _components(ArtifactStore(source)):
        folder = models_dir / artifact.name / artifact.version
        if not folder.exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{artifact.version}."))
            shutil.copytree(artifact.path, staging, dirs_exist_ok=True)
            staging.rename(folder)
        target.set_latest(artifact.name, artifact.version)
        installed.append(target.resolve_exact(artifact.name, artifact.version))
    return installed
