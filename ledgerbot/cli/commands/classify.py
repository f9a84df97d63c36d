"""``ledgerbot train classifier``, ``ledgerbot classify`` and ``ledgerbot eval-classifier``.

``classify`` prints one JSON line per file (doc_type, confidence, route, model@version); the
other two print one JSON object. Progress, the per-class table and the confusion matrix go to
stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerbot.cli.app import app, emit, fail, progress, stderr

train_app = typer.Typer(help="Train models from a labelled corpus.", no_args_is_help=True)
app.add_typer(train_app, name="train")

_MODELS_DIR = typer.Option("--models-dir", help="Model artifacts folder (default: <LEDGERBOT_HOME>/models)")
_THREADS = typer.Option("--threads", help="Torch threads (default 2, or LEDGERBOT_TORCH_THREADS)")


def _models_dir(value: Path | None) -> Path:
    from ledgerbot.core.settings import get_settings

    return value if value is not None else get_settings().models_dir


def _cache_dir() -> Path:
    from ledgerbot.core.settings import get_settings

    return get_settings().home / "cache" / "textlayer"


def _log(message: str) -> None:
    stderr.print(message, highlight=False, markup=False)


def _progress(items: Iterable[Any], total: int) -> Iterable[Any]:
    return progress(items, total=total, desc="text layers")


def _print_metrics(title: str, figures: dict[str, Any]) -> None:
    from classifiers.evaluate import format_confusion

    for name in ("baseline", "transformer", "cascade"):
        m = figures.get(name)
        if not m:
            continue
        extra = ""
        if m.get("review_rate") is not None:
            extra = (
                f"  review {m['review_rate']:.3f}  accepted-accuracy {m['accepted_accuracy']}"
                f"  routed-to-transformer {m.get('routed_to_transformer')}"
            )
        _log(f"{title} {name:<12} n={m['n']}  accuracy {m['accuracy']:.4f}  ECE {m['ece']:.4f}{extra}")
    cascade = figures.get("cascade")
    if cascade:
        _log(f"{title} cascade per class (precision / recall / support):")
        for label, c in cascade["per_class"].items():
            _log(f"  {label:<18} {c['precision']:.4f} / {c['recall']:.4f} / {c['support']}")
        _log(format_confusion(cascade))


def _summary(figures: dict[str, Any]) -> dict[str, Any]:
    """Per model: accuracy, ECE, per-class figures and confusion, without the per-group detail."""
    return {name: {k: v for k, v in m.items() if k != "by_group"} for name, m in figures.items()}


@train_app.command("classifier")
def train_classifier(
    corpus_dirs: Annotated[
        list[Path], typer.Argument(help="Labelled corpus folders (<stem>.json beside each file)")
    ],
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    epochs: Annotated[
        int | None,
        typer.Option("--epochs", min=1, help="Transformer epochs, capped by --max-steps (default 5)"),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option("--max-steps", min=1, help="Transformer optimizer steps at most (default 300)"),
    ] = None,
    include_corrections: Annotated[
        bool, typer.Option("--include-corrections", help="Also learn from types clerks corrected in review")
    ] = False,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing", help="Do nothing when a trained cascade of this feature version already exists"
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed for splits, initialisation and shuffling")] = 0,
    threads: Annotated[int | None, _THREADS] = None,
    ocr_noise: Annotated[
        bool,
        typer.Option(
            "--ocr-noise/--no-ocr-noise",
            help="Also learn every born-digital training document as a scan would read it",
        ),
    ] = True,
) -> None:
    """Train the baseline and the transformer, choose the cascade thresholds, save versioned artifacts."""
    from classifiers.train import train_all
    from classifiers.transformer import TransformerConfig, default_threads
    from ledgerbot.core.artifacts import ArtifactStore

    target = _models_dir(models_dir)
    if if_missing:
        existing = ArtifactStore(target).latest_version("cascade")
        if existing is not None:
            from classifiers.cascade import check_feature_version
            from classifiers.errors import IncompatibleModel

            try:
                check_feature_version(ArtifactStore(target).resolve("cascade", existing))
            except IncompatibleModel as error:
                # A model this code refuses to load counts as missing: train its replacement.
                _log(f"[{error.code}] {error.message}; training a new one")
            else:
                _log(f"cascade@{existing} already trained in {target}; nothing to do")
                emit({"cascade": f"cascade@{existing}", "models_dir": str(target), "trained": False})
                return
    for folder in corpus_dirs:
        if not folder.is_dir():
            raise fail(f"corpus folder {folder} does not exist", "E502", exit_code=2)
    extra: list[tuple[Any, Any]] = []
    if include_corrections:
        from classifiers.corrections import load_corrections

        extra = load_corrections(cache_dir=_cache_dir(), log=_log)
        _log(f"{len(extra)} clerk-corrected documents join the training split")
    config = TransformerConfig(seed=seed, threads=threads or default_threads())
    config.epochs = epochs or config.epochs
    config.max_steps = max_steps or config.max_steps
    report = train_all(
        corpus_dirs,
        target,
        extra_examples=extra,
        cache_dir=_cache_dir(),
        seed=seed,
        transformer_config=config,
        ocr_noise_copies=ocr_noise,
        progress=_progress,
        log=_log,
    )
    for split in ("validation", "test"):
        if split in report.metrics:
            _print_metrics(split, report.metrics[split])
    out = report.as_dict()
    out["metrics"] = {split: _summary(figures) for split, figures in report.metrics.items()}
    out["trained"] = True
    from ledgerbot.core.modelops import register_trained

    out["registry_state"] = register_trained(target, report.cascade)
    emit(out)


def _read(files: list[Path]) -> list[tuple[Path, Any]]:
    """Each file's text layer (cached by sha256) or the error that stopped it, in input order."""
    from classifiers.corpus import default_reader
    from classifiers.textcache import TextLayerCache, file_sha256

    reader, name, read_many = default_reader()
    cache = TextLayerCache(_cache_dir(), reader, name)
    out: list[tuple[Path, Any]] = [(path, None) for path in files]
    misses: list[int] = []
    digests: dict[int, str] = {}
    for i, path in enumerate(files):
        if not path.is_file():
            out[i] = (path, FileNotFoundError(f"{path} does not exist"))
            continue
        digests[i] = file_sha256(path)
        document = cache.lookup(digests[i])
        if document is None:
            misses.append(i)
        else:
            document.source = str(path)
            out[i] = (path, document)
    if misses:
        results = read_many([files[i] for i in misses])
        for i, result in zip(misses, progress(results, total=len(misses), desc="read"), strict=True):
            if not isinstance(result, Exception):
                cache.put(digests[i], result)
                result.source = str(files[i])
            out[i] = (files[i], result)
    return out


def _error_entry(error: Exception) -> dict[str, str]:
    code = getattr(error, "code", "E504")
    message = getattr(error, "message", None) or str(error)
    return {"code": str(code), "message": message}


@app.command()
def classify(
    files: Annotated[list[Path], typer.Argument(help="PDF or image files to classify")],
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    version: Annotated[str, typer.Option("--version", help="Cascade version to use")] = "latest",
) -> None:
    """Document type of each file: one JSON line per file (doc_type, confidence, route, model@version)."""
    from classifiers.cascade import Cascade

    cascade = Cascade.load(_models_dir(models_dir), version)
    read = _read(files)
    documents = [doc for _, doc in read if not isinstance(doc, Exception)]
    results = iter(cascade.classify(documents))
    for path, doc in read:
        if isinstance(doc, Exception):
            emit({"source": str(path), "doc_type": None, "errors": [_error_entry(doc)]})
            continue
        c = next(results)
        emit(
            {
                "source": str(path),
                "doc_type": c.doc_type.value,
                "confidence": round(c.confidence, 4),
                "route": c.route,
                "low_confidence": c.low_confidence,
                "model": c.model,
                "version": c.version,
                "lineage": c.lineage(),
                "errors": [],
            }
        )


@app.command("eval-classifier")
def eval_classifier(
    corpus_dirs: Annotated[list[Path], typer.Argument(help="Labelled corpus folders")],
    split: Annotated[str, typer.Option("--split", help="dev, heldout or all")] = "heldout",
    models_dir: Annotated[Path | None, _MODELS_DIR] = None,
    version: Annotated[str, typer.Option("--version", help="Cascade version to evaluate")] = "latest",
) -> None:
    """Accuracy, per-class precision / recall, confusion and ECE of baseline, transformer and cascade."""
    from classifiers.cascade import Cascade
    from classifiers.corpus import default_reader, load_features, scan_corpus
    from classifiers.textcache import TextLayerCache
    from classifiers.train import evaluate_models, examples_from

    if split not in ("dev", "heldout", "all"):
        raise fail(f"--split must be dev, heldout or all, not {split!r}", "E502", exit_code=2)
    cascade = Cascade.load(_models_dir(models_dir), version)
    reader, name, read_many = default_reader()
    found = [d for d in scan_corpus(corpus_dirs) if split == "all" or d.split == split]
    if not found:
        raise fail(
            f"no labelled documents of split {split} in {[str(p) for p in corpus_dirs]}", "E502", exit_code=2
        )
    docs = load_features(
        found, TextLayerCache(_cache_dir(), reader, name), read_many=read_many, progress=_progress
    )
    figures = evaluate_models(examples_from(docs), cascade.baseline, cascade.transformer, cascade.thresholds)
    _print_metrics(split, figures)
    emit(
        {
            "cascade": cascade.version,
            "split": split,
            "documents": len(docs),
            "skipped": len(found) - len(docs),
            "thresholds": asdict(cascade.thresholds),
            "metrics": figures,
        }
    )
    sys.stdout.flush()
