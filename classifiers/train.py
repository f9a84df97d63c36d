"""Trains the baseline and the transformer on a labelled corpus, picks the cascade thresholds, saves all.

Splits: the models learn from ``dev`` documents only. Validation is a slice of ``dev`` held out
by layout (whole layouts, when there are enough of them), so the thresholds and the
temperature are set on layouts the models did not train on, which is what ``heldout`` will
look like. The ``heldout`` split is the test set and is never used to choose anything.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.augment import NoiseLevel, ocr_noise
from classifiers.baseline import BaselineClassifier
from classifiers.cascade import (
    ACCEPT_FLOOR,
    CASCADE,
    REVIEW_FLOOR,
    ProbabilityModel,
    Thresholds,
    choose_thresholds,
    route,
)
from classifiers.corpus import LabelledDoc, ManyReader, NoisyCopy, default_reader, load_features, scan_corpus
from classifiers.errors import ArtifactError, TrainingDataError
from classifiers.evaluate import Metrics, compute_metrics
from classifiers.features import FEATURE_VERSION, DocFeatures, document_from_text, extract_features
from classifiers.labels import LABEL_INDEX, LABELS, label_names
from classifiers.textcache import Reader, TextLayerCache
from classifiers.transformer import TransformerClassifier, TransformerConfig
from classifiers.transformer_onnx import TransformerModel
from ledgerbot.core.artifacts import Artifact, ArtifactStore
from ledgerbot.core.domain import DocType
from textlayer.model import Document

Log = Callable[[str], None]
NOISE_KEY = "ocr_noise"
Progress = Callable[[Iterable[Any], int], Iterable[Any]]
# Validation documents the ONNX export is checked on against torch (besides its built-in probes).
PROBES = 32


@dataclass
class Example:
    """One training example, from a corpus file or a clerk's correction."""

    features: DocFeatures
    doc_type: DocType
    key: str  # file sha256, or sha256 of a correction's text
    group: str  # layout, for the validation split and per-layout figures
    variant: str = "digital"
    # Features of an OCR-noise copy of a born-digital document (``augment.py``), if one was made.
    noisy: DocFeatures | None = None

    def noisy_example(self) -> Example | None:
        """The noisy copy as an example of its own, in the same layout group."""
        if self.noisy is None:
            return None
        return Example(self.noisy, self.doc_type, f"{self.key}:{NOISE_KEY}", self.group, NOISE_KEY)


@dataclass
class TrainReport:
    models_dir: str
    cascade: str
    baseline: str
    transformer: str
    thresholds: dict[str, float]
    data_sha256: str
    counts: dict[str, int]
    validation_layouts: list[str]
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # split -> model -> Metrics dict
    seconds: dict[str, float] = field(default_factory=dict)
    transformer_training: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_hash(train: Sequence[Example], validation: Sequence[Example]) -> str:
    """sha256 over what the models saw, so a model names its data and a re-train on it is recognisable."""
    rows = sorted(
        [("train", e.key, e.doc_type.value) for e in train]
        + [("val", e.key, e.doc_type.value) for e in validation]
    )
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def split_validation(
    examples: Sequence[Example], *, fraction: float, seed: int
) -> tuple[list[Example], list[Example], list[str]]:
    """Hold out whole layouts when there are at least four; otherwise a stratified random slice."""
    rng = random.Random(seed)
    layouts = sorted({e.group for e in examples})
    if len(layouts) >= 4:
        rng.shuffle(layouts)
        size = Counter(e.group for e in examples)
        chosen: list[str] = []
        for layout in layouts:
            if sum(size[g] for g in chosen) >= fraction * len(examples):
                break
            chosen.append(layout)
        val = [e for e in examples if e.group in chosen]
        train = [e for e in examples if e.group not in chosen]
        if {e.doc_type for e in train} == {e.doc_type for e in examples} and len(chosen) < len(layouts):
            return train, val, sorted(chosen)
    by_type: dict[DocType, list[Example]] = {}
    for e in examples:
        by_type.setdefault(e.doc_type, []).append(e)
    train, val = [], []
    for doc_type in sorted(by_type):
        items = by_type[doc_type][:]
        rng.shuffle(items)
        # Keep at least two of a type for training: the baseline's calibration folds need them.
        n_val = min(max(1, round(fraction * len(items))), max(0, len(items) - 2))
        val.extend(items[:n_val])
        train.extend(items[n_val:])
    return train, val, []


def _correction_example(item: Document | str, doc_type: DocType) -> Example:
    """A clerk-typed document as a training example, keyed by what it contains."""
    if isinstance(item, str):
        return Example(
            extract_features(document_from_text(item)),
            doc_type,
            hashlib.sha256(item.encode()).hexdigest(),
            "correction",
        )
    text = "\n".join(page.text for page in item.pages)
    key = item.source if item.source.startswith("sha256:") else hashlib.sha256(text.encode()).hexdigest()
    variant = "scan" if item.is_scanned else "digital"
    return Example(extract_features(item), doc_type, key.removeprefix("sha256:"), "correction", variant)


def examples_from(docs: Iterable[LabelledDoc]) -> list[Example]:
    return [
        Example(d.features, d.doc_type, d.sha256, d.layout, d.variant, d.noisy_features)
        for d in docs
        if d.features is not None
    ]


def with_noisy_copies(examples: Sequence[Example]) -> list[Example]:
    """``examples`` followed by the noisy copies they carry."""
    copies = [c for c in (e.noisy_example() for e in examples) if c is not None]
    return [*examples, *copies]


def noisy_copier(seed: int, level: NoiseLevel | None = None) -> NoisyCopy:
    """Makes one OCR-noise copy of every born-digital ``dev`` document, seeded per file.

    Scans already are what the noise imitates, and ``heldout`` is never trained on.
    """

    def copy(doc: LabelledDoc, document: Document) -> DocFeatures | None:
        if doc.split != "dev" or doc.variant != "digital" or document.is_scanned:
            return None
        rng = random.Random(f"{seed}:{doc.sha256}")
        return extract_features(ocr_noise(document, rng, level))

    return copy


def out_of_layout_baseline(
    examples: Sequence[Example], *, seed: int, noisy_copies: bool = False
) -> np.ndarray | None:
    """Baseline probabilities for every document from a baseline that never saw its layout.

    The baseline trains in seconds, so it can be cross-validated by layout over all of dev,
    where the validation split holds only a few layouts: its acceptance threshold is then set
    on every dev layout as an unseen one, scans included. ``None`` with fewer than three
    layouts, or when a fold lacks the examples a baseline needs.
    """
    layouts = sorted({e.group for e in examples})
    if len(layouts) < 3:
        return None
    out = np.zeros((len(examples), len(LABELS)), dtype=np.float64)
    for layout in layouts:
        held = [i for i, e in enumerate(examples) if e.group == layout]
        rest = [e for e in examples if e.group != layout]
        if noisy_copies:
            rest = with_noisy_copies(rest)
        try:
            fold = BaselineClassifier(seed=seed).fit([e.features for e in rest], [e.doc_type for e in rest])
        except TrainingDataError:
            return None
        out[held] = fold.predict_proba([examples[i].features for i in held])
    return out


def _truth(examples: Sequence[Example]) -> np.ndarray:
    return np.array([LABEL_INDEX[e.doc_type] for e in examples], dtype=int)


def _metrics(examples: Sequence[Example], proba: np.ndarray) -> Metrics:
    return compute_metrics(
        [e.doc_type for e in examples],
        [LABELS[i] for i in proba.argmax(axis=1)],
        proba.max(axis=1),
        groups=[f"{e.group}/{e.variant}" for e in examples],
    )


def evaluate_models(
    examples: Sequence[Example],
    baseline: ProbabilityModel,
    transformer: TransformerModel,
    thresholds: Thresholds,
) -> dict[str, Any]:
    """Baseline, transformer and cascade on the same documents; the cascade's review rate too."""
    features = [e.features for e in examples]
    p_b = baseline.predict_proba(features)
    p_t = transformer.predict_proba(features)
    decided = route(p_b, p_t, thresholds)
    cascade = compute_metrics(
        [e.doc_type for e in examples],
        [LABELS[i] for i in decided.predicted],
        decided.confidence,
        low_confidence=decided.low_confidence,
        groups=[f"{e.group}/{e.variant}" for e in examples],
    )
    out = {"baseline": _metrics(examples, p_b).as_dict(), "transformer": _metrics(examples, p_t).as_dict()}
    out["cascade"] = {**cascade.as_dict(), "routed_to_transformer": round(float(decided.routed.mean()), 4)}
    return out


def train_all(
    corpus_dirs: list[Path],
    models_dir: Path,
    *,
    extra_examples: Sequence[tuple[Document | str, DocType]] = (),
    reader: Reader | None = None,
    reader_name: str | None = None,
    cache_dir: Path | None = None,
    seed: int = 0,
    epochs: int | None = None,
    transformer_config: TransformerConfig | None = None,
    validation_fraction: float = 0.15,
    ocr_noise_copies: bool = True,
    progress: Progress | None = None,
    log: Log | None = None,
) -> TrainReport:
    """Train, validate, test and save ``baseline``, ``transformer`` and ``cascade`` under ``models_dir``.

    ``extra_examples`` (text layer or plain text, type) pairs, such as clerk corrections
    (``corrections.load_corrections``), join the training split.
    ``reader`` turns a file into a text layer (default: ``textlayer.read_document``);
    results are cached under ``cache_dir`` (default ``<models_dir>/../cache/textlayer``).
    ``ocr_noise_copies``: every born-digital training document is also learnt as a scan would
    read it (``augment.py``); validation and test documents are never copied.
    """
    say = log or (lambda _msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    read_many: ManyReader | None = None
    if reader is None:
        reader, reader_name, read_many = default_reader()
    cache = TextLayerCache(
        Path(cache_dir) if cache_dir else Path(models_dir).parent / "cache" / "textlayer",
        reader,
        reader_name or str(getattr(reader, "__qualname__", "reader")),
    )
    found = scan_corpus(corpus_dirs)
    if not found:
        raise TrainingDataError(
            f"no labelled documents (a file with <stem>.json truth) in {list(map(str, corpus_dirs))}"
        )
    say(f"reading {len(found)} text layers (cached by sha256 in {cache.root})")
    loaded = load_features(
        found,
        cache,
        read_many=read_many,
        progress=progress,
        noisy_copy=noisy_copier(seed) if ocr_noise_copies else None,
    )
    timings["text_layers"] = round(time.perf_counter() - started, 1)
    dev = examples_from(d for d in loaded if d.split == "dev")
    test = examples_from(d for d in loaded if d.split == "heldout")
    if not dev:
        raise TrainingDataError("the corpus has no readable documents in split dev to train on")
    train, validation, val_layouts = split_validation(dev, fraction=validation_fraction, seed=seed)
    train = with_noisy_copies(train)
    for item, doc_type in extra_examples:
        train.append(_correction_example(item, DocType(doc_type)))
    digest = data_hash(train, validation)
    say(
        f"train {len(train)} (incl. {len(extra_examples)} corrections), validation {len(validation)}"
        f"{' = layouts ' + ','.join(val_layouts) if val_layouts else ''}, test {len(test)}"
    )

    t0 = time.perf_counter()
    baseline = BaselineClassifier(seed=seed).fit([e.features for e in train], [e.doc_type for e in train])
    timings["baseline_fit"] = round(time.perf_counter() - t0, 1)
    say(f"baseline trained in {timings['baseline_fit']}s")

    config = transformer_config or TransformerConfig(seed=seed)
    if transformer_config is None and epochs is not None:
        config.epochs = epochs
    t0 = time.perf_counter()
    transformer = TransformerClassifier.from_pretrained_base(config)
    bar = _StepBar(log)
    history = transformer.fit([e.features for e in train], [e.doc_type for e in train], on_step=bar)
    timings["transformer_fit"] = round(time.perf_counter() - t0, 1)
    say(f"transformer fine-tuned: {history.steps} steps in {history.seconds}s")

    val_features = [e.features for e in validation]
    if validation:
        transformer.calibrate(val_features, [e.doc_type for e in validation])
        p_b_val = baseline.predict_proba(val_features)
        p_t_val = transformer.predict_proba(val_features)
        t0 = time.perf_counter()
        evidence = out_of_layout_baseline(dev, seed=seed, noisy_copies=ocr_noise_copies)
        timings["baseline_layout_folds"] = round(time.perf_counter() - t0, 1)
        if evidence is not None:
            correct = float((evidence.argmax(axis=1) == _truth(dev)).mean())
            say(f"baseline out-of-layout accuracy on {len(dev)} dev documents: {correct:.4f}")
        thresholds = choose_thresholds(
            p_b_val,
            p_t_val,
            _truth(validation),
            baseline_evidence=None if evidence is None else (evidence, _truth(dev)),
        )
    else:
        thresholds = Thresholds(accept_baseline=ACCEPT_FLOOR, review=REVIEW_FLOOR)
    say(f"temperature {transformer.temperature}, thresholds {thresholds}")

    metrics: dict[str, dict[str, Any]] = {}
    if validation:
        metrics["validation"] = evaluate_models(validation, baseline, transformer, thresholds)
    if test:
        t0 = time.perf_counter()
        metrics["test"] = evaluate_models(test, baseline, transformer, thresholds)
        timings["test_eval"] = round(time.perf_counter() - t0, 1)

    counts = {
        "train": len(train),
        "validation": len(validation),
        "test": len(test),
        "corrections": len(extra_examples),
        "train_ocr_noise_copies": sum(e.variant == NOISE_KEY for e in train),
        "skipped": len(found) - len(loaded),
        **{f"train_{k}": v for k, v in sorted(Counter(e.doc_type.value for e in train).items())},
    }
    common = {
        "data_sha256": digest,
        "labels": label_names(),
        "counts": counts,
        "seed": seed,
        "feature_version": FEATURE_VERSION,
    }
    store = ArtifactStore(models_dir)

    def part(key: str) -> dict[str, Any]:
        return {split: figures[key] for split, figures in metrics.items()}

    b_art = store.save(
        "baseline",
        store.new_version("baseline", digest),
        baseline.save,
        {**common, "metrics": part("baseline"), "params": {"c": baseline.c}},
        make_latest=False,
    )
    onnx: dict[str, Any] = {}

    def write_transformer(folder: Path) -> None:
        transformer.save(folder)
        # The graph documents are read with (no torch in the reading process), checked on the
        # validation documents against the torch model just saved.
        t0 = time.perf_counter()
        onnx.update(_export_graph(transformer, folder, val_features, say))
        timings["onnx_export"] = round(time.perf_counter() - t0, 1)

    t_art = store.save(
        "transformer",
        store.new_version("transformer", digest),
        write_transformer,
        {
            **common,
            "metrics": part("transformer"),
            "params": asdict(config),
            "temperature": transformer.temperature,
            "training": {"steps": history.steps, "epochs": history.epochs, "seconds": history.seconds},
            "onnx": onnx,
        },
        make_latest=False,
    )
    c_art = _save_cascade(store, digest, common, thresholds, metrics, b_art, t_art, val_layouts)
    # Publish the components only after the cascade that pins them exists.
    store.set_latest("baseline", b_art.version)
    store.set_latest("transformer", t_art.version)
    timings["total"] = round(time.perf_counter() - started, 1)
    say(f"saved {c_art.ref} ({b_art.ref}, {t_art.ref}) in {models_dir}")
    return TrainReport(
        models_dir=str(models_dir),
        cascade=c_art.ref,
        baseline=b_art.ref,
        transformer=t_art.ref,
        thresholds=asdict(thresholds),
        data_sha256=digest,
        counts=counts,
        validation_layouts=val_layouts,
        metrics=metrics,
        seconds=timings,
        transformer_training={
            "steps": history.steps,
            "epochs": history.epochs,
            "temperature": transformer.temperature,
        },
    )


def _export_graph(
    transformer: TransformerClassifier, folder: Path, probes: Sequence[DocFeatures], say: Log
) -> dict[str, Any]:
    """The ONNX export's report, or why there is none: the torch weights still read documents then."""
    from classifiers.transformer_onnx import export

    try:
        report = export(transformer, folder, probes[:PROBES])
    except (ArtifactError, ImportError) as error:
        say(f"warning: no ONNX graph, documents will be read through torch: {error}")
        return {"error": str(error)}
    say(f"ONNX graph exported, largest logit difference to torch {report.max_logit_difference:.1e}")
    return {k: v for k, v in report.as_dict().items() if k != "graph"}


def _save_cascade(
    store: ArtifactStore,
    digest: str,
    common: dict[str, Any],
    thresholds: Thresholds,
    metrics: dict[str, dict[str, Any]],
    baseline: Artifact,
    transformer: Artifact,
    val_layouts: list[str],
) -> Artifact:
    def write(_folder: Path) -> None:
        pass  # the cascade is only its meta.json: thresholds and the pinned component versions

    return store.save(
        CASCADE,
        store.new_version(CASCADE, digest),
        write,
        {
            **common,
            "components": {"baseline": baseline.version, "transformer": transformer.version},
            "thresholds": asdict(thresholds),
            "validation_layouts": val_layouts,
            "metrics": {split: figures["cascade"] for split, figures in metrics.items()},
        },
    )


class _StepBar:
    """Reports fine-tuning progress every few steps (the slow part of a training run)."""

    def __init__(self, log: Log | None) -> None:
        self.log = log
        self.started = time.perf_counter()

    def __call__(self, step: int, total: int, loss: float) -> None:
        if self.log and (step == total or step % 20 == 0):
            rate = step / max(1e-9, time.perf_counter() - self.started)
            self.log(f"transformer step {step}/{total} loss {loss:.3f} ({rate:.2f} steps/s)")
