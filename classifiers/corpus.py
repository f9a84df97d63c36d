"""Reads a labelled corpus: each document with ``<stem>.json`` truth beside it, text layers cached on disk."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.errors import TextLayerUnavailable, TrainingDataError
from classifiers.features import DocFeatures, extract_features
from classifiers.textcache import Reader, TextLayerCache, file_sha256
from ledgerbot.core.domain import DocType
from textlayer.model import Document

# E-invoice XML has no page to read; the e-invoice reader types it, so the classifiers never see it.
XML_VARIANTS = frozenset({"ubl", "cii", "xml"})
SPLITS = frozenset({"dev", "heldout"})
# A randomized document (truth with a ``style``) has a layout of its own. Validation and the
# baseline's leave-one-layout-out folds hold out whole layout groups: one group per document
# would cost a baseline fit per document, one group for all of them would hold out every
# receipt at once. They are dealt into this many groups per generator layout, by file hash.
DRAWN_LAYOUT_GROUPS = 4
ManyReader = Callable[[Sequence[Path]], Iterable[Document | Exception]]
# Given a document and its text layer, the features of a noisy copy of it, or None for none.
NoisyCopy = Callable[["LabelledDoc", Document], DocFeatures | None]


@dataclass
class LabelledDoc:
    path: Path
    sha256: str
    doc_type: DocType
    split: str  # dev | heldout
    variant: str  # digital | scan_png | scan_pdf | facturx ...
    layout: str
    features: DocFeatures | None = None
    error: str | None = None
    # Features of an OCR-noise copy (``augment.py``), made only where the loader is asked to.
    noisy_features: DocFeatures | None = None


def default_reader() -> tuple[Reader, str, ManyReader]:
    """The product's text-layer reader, a name that keys the cache, and its parallel batch form."""
    try:
        from textlayer import TEXT_LAYER_VERSION, TextLayerReader, read_document
    except ImportError as error:
        raise TextLayerUnavailable(
            f"the text-layer reader (textlayer.read_document) is not available: {error}"
        ) from error

    def read_many(paths: Sequence[Path]) -> Iterator[Document | Exception]:
        # The reader runs files in guarded worker processes, so a batch uses both cores.
        with TextLayerReader() as reader:
            yield from reader.read_many([Path(p) for p in paths])

    # The version in the name: a text layer read before an OCR change is a cache miss, so the
    # models never train or get measured on an older reading of a scan.
    return read_document, f"textlayer@{TEXT_LAYER_VERSION}", read_many


def scan_corpus(corpus_dirs: Sequence[Path]) -> list[LabelledDoc]:
    """Every file with truth beside it, except e-invoice XML. Truth without ``doc_type`` is an error."""
    docs: list[LabelledDoc] = []
    for root in corpus_dirs:
        root = Path(root)
        if not root.is_dir():
            raise TrainingDataError(f"corpus folder {root} does not exist")
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix.lower() == ".json" or path.name.startswith("."):
                continue
            truth_path = path.with_suffix(".json")
            if not truth_path.is_file():
                continue
            try:
                truth = json.loads(truth_path.read_text(encoding="utf-8"))
                doc_type = DocType(truth["doc_type"])
            except (ValueError, KeyError, TypeError) as error:
                raise TrainingDataError(f"{truth_path}: no valid doc_type ({error})") from error
            variant = str(truth.get("variant") or "digital")
            if path.suffix.lower() == ".xml" or variant in XML_VARIANTS:
                continue
            split = str(truth.get("split") or "dev")
            if split not in SPLITS:
                raise TrainingDataError(f"{truth_path}: split must be dev or heldout, got {split!r}")
            sha256 = file_sha256(path)
            layout = str(truth.get("layout") or "unknown")
            if truth.get("style"):
                layout = f"{layout}/{int(sha256[:8], 16) % DRAWN_LAYOUT_GROUPS}"
            docs.append(
                LabelledDoc(
                    path=path,
                    sha256=sha256,
                    doc_type=doc_type,
                    split=split,
                    variant=variant,
                    layout=layout,
                )
            )
    return docs


def load_features(
    docs: list[LabelledDoc],
    cache: TextLayerCache,
    *,
    read_many: ManyReader | None = None,
    progress: Callable[[Iterable[LabelledDoc], int], Iterable[LabelledDoc]] | None = None,
    noisy_copy: NoisyCopy | None = None,
) -> list[LabelledDoc]:
    """Fill ``features`` for each document, reading text layers only on a cache miss.

    With ``noisy_copy``, also ``noisy_features``: the text layer is at hand only here.

    Unreadable files are dropped with a note on stderr: one bad file must not stop a training run.
    """
    misses = []
    for doc in docs:
        document = cache.lookup(doc.sha256)
        if document is None:
            misses.append(doc)
        else:
            _fill(doc, document, noisy_copy)
    if misses:
        print(f"reading {len(misses)} text layers ({len(docs) - len(misses)} cached)", file=sys.stderr)
        results: Iterable[Document | Exception]
        if read_many is not None:
            results = read_many([doc.path for doc in misses])
        else:
            results = (_read_one(cache, doc.path) for doc in misses)
        pairs: Iterable[tuple[LabelledDoc, Document | Exception]] = zip(misses, results, strict=True)
        if progress is not None:
            pairs = progress(pairs, len(misses))  # type: ignore[arg-type,assignment]
        for doc, result in pairs:
            if isinstance(result, Exception):
                doc.error = f"{type(result).__name__}: {result}"
                print(f"skipped {doc.path}: {doc.error}", file=sys.stderr)
                continue
            cache.put(doc.sha256, result)
            _fill(doc, result, noisy_copy)
    return [doc for doc in docs if doc.features is not None]


def _fill(doc: LabelledDoc, document: Document, noisy_copy: NoisyCopy | None) -> None:
    doc.features = extract_features(document)
    if noisy_copy is not None:
        doc.noisy_features = noisy_copy(doc, document)


def _read_one(cache: TextLayerCache, path: Path) -> Document | Exception:
    try:
        return cache.reader(path)
    except Exception as error:  # reported per file by the caller
        return error
