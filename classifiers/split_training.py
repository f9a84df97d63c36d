"""Trains and measures the page-boundary model on stacks built from a labelled corpus's documents.

A stack is what a mailroom scanner or a supplier's bundle makes: 2-8 of the corpus's documents
in a random order, multi-page ones whole (a share of the stacks holds at least one, since a
corpus has few and their continuation pages are what a splitter must not cut), sometimes a blank
separator page between two of them, born-digital, scanned and photographed pages mixed, and no
document twice in a row. Pages are read once per document (through the text-layer cache) and
stacked as page signals, so thousands of stacks cost no more than reading the corpus.
Some documents have their page numbers hidden, because many senders print none and the model
must not lean on numbering alone.

Files whose split a person corrected or confirmed in the review app are real stacks with a
known answer: ``load_corrected_stacks`` reads them from the store (``split_corrections``, through
``ledgerbot.core``) and the stored files, and ``train_splitter`` learns from them beside the
drawn stacks.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.corpus import LabelledDoc, default_reader, scan_corpus
from classifiers.errors import TrainingDataError
from classifiers.splitter import (
    FEATURES,
    SPLIT_FEATURE_VERSION,
    SPLITTER,
    LearnedSplitter,
    PageSignals,
    Splitter,
    page_signals,
)
from classifiers.textcache import Reader, TextLayerCache
from ledgerbot.core.artifacts import ArtifactStore

Log = Callable[[str], None]


@dataclass(frozen=True)
class StackSettings:
    """How training and evaluation stacks are drawn."""

    stacks: int = 2000  # stacks drawn for training (validation draws a quarter of that)
    min_docs: int = 2
    max_docs: int = 8
    single_share: float = 0.2  # share of one-document "stacks": a single file must stay whole
    blank_between: float = 0.25  # chance of a blank separator page between two documents
    unnumbered: float = 0.35  # chance a document's page numbers are hidden
    # Chance a multi-page document comes without its last page (a page lost in the mailroom, a
    # bill sent without its terms): its "page 2 of 3" then promises a page that never comes, and
    # the next document's own signals must win over the numbering.
    truncated: float = 0.1
    scan_only: float = 0.2  # share of stacks made of scans only (a mailroom scan)
    mixed: float = 0.3  # share of stacks mixing scans and born-digital pages; the rest are digital
    multipage: float = 0.4  # share of stacks given at least one multi-page document (if the pool has one)
    # Chance that a document is followed by another of the same vendor (when the pool has one):
    # two bills of one vendor back to back share letterhead, ids and customer number, and only
    # their own number, date and first-page block tell them apart.
    same_vendor: float = 0.25
    validation_layouts: float = 0.25  # share of the corpus's layouts held out to measure the model
    hidden_units: int = 16  # rectified units of the network's one hidden layer
    weight_decay: float = 1e-3  # L2 penalty on the network's weights
    # Times each file a person corrected joins the training stacks: one real file the model got
    # wrong says more than one drawn stack, and there are few of them beside thousands drawn.
    correction_copies: int = 5


STACKS = StackSettings()


@dataclass(frozen=True)
class StackDoc:
    """One corpus document as page signals."""

    signals: tuple[PageSignals, ...]
    doc_type: str
    scanned: bool
    layout: str
    vendor: str = ""  # the truth's vendor id: documents of one vendor may follow each other


@dataclass(frozen=True)
class Stack:
    """A synthetic multi-document file: page signals and where each document lies (0-based, inclusive)."""

    signals: tuple[PageSignals, ...]
    parts: tuple[tuple[int, int], ...]
    types: tuple[str, ...]
    source: str = ""  # ``sha256:<hex>`` of a stored file a person split; empty for a drawn stack

    @property
    def starts(self) -> set[int]:
        return {first for first, _ in self.parts}


def _blank(scanned: bool) -> PageSignals:
    return PageSignals(blank=True, scanned=scanned)


def build_stacks(
    docs: Sequence[StackDoc], n: int, seed: int, settings: StackSettings = STACKS
) -> list[Stack]:
    rng = random.Random(seed)
    digital = [d for d in docs if not d.scanned]
    scans = [d for d in docs if d.scanned]
    everything = list(docs)
    multi_page = {id(pool): [d for d in pool if len(d.signals) > 1] for pool in (digital, scans, everything)}
    by_vendor: dict[str, list[StackDoc]] = {}
    for doc in docs:
        if doc.vendor:
            by_vendor.setdefault(doc.vendor, []).append(doc)
    stacks = []
    for _ in range(n):
        roll = rng.random()
        pool = (
            scans
            if roll < settings.scan_only and scans
            else digital
            if roll >= settings.scan_only + settings.mixed
            else everything
        )
        pool = pool or everything
        count = (
            1 if rng.random() < settings.single_share else rng.randint(settings.min_docs, settings.max_docs)
        )
        chosen = [rng.choice(pool) for _ in range(count)]
        long = multi_page[id(pool)]
        if long and not any(len(d.signals) > 1 for d in chosen) and rng.random() < settings.multipage:
            chosen[rng.randrange(count)] = rng.choice(long)
        for k in range(1, count):
            fellows = [d for d in by_vendor.get(chosen[k - 1].vendor, ()) if d is not chosen[k - 1]]
            if fellows and rng.random() < settings.same_vendor:
                chosen[k] = rng.choice(fellows)
        _no_repeats(chosen, pool, rng)
        signals: list[PageSignals] = []
        parts: list[tuple[int, int]] = []
        for k, doc in enumerate(chosen):
            if k and rng.random() < settings.blank_between:
                signals.append(_blank(doc.scanned))
            pages = list(doc.signals)
            if rng.random() < settings.unnumbered:
                pages = [p.without_numbering() for p in pages]
            elif len(pages) > 1 and rng.random() < settings.truncated:
                pages = pages[: rng.randrange(1, len(pages))]
            content = [i for i, p in enumerate(pages) if not p.blank]
            if not content:
                continue
            first = len(signals) + content[0]
            last = len(signals) + content[-1]
            signals.extend(pages)
            parts.append((first, last))
        if parts:
            stacks.append(Stack(tuple(signals), tuple(parts), tuple(d.doc_type for d in chosen)))
    return stacks


def join_stack(docs: Sequence[StackDoc], blank_after: Sequence[bool], *, unnumbered: bool = False) -> Stack:
    """The documents in this order as one stack, a blank page after those ``blank_after`` names."""
    signals: list[PageSignals] = []
    parts: list[tuple[int, int]] = []
    types: list[str] = []
    for doc, blank in zip(docs, blank_after, strict=True):
        pages = [p.without_numbering() for p in doc.signals] if unnumbered else list(doc.signals)
        content = [i for i, p in enumerate(pages) if not p.blank]
        if content:
            parts.append((len(signals) + content[0], len(signals) + content[-1]))
            types.append(doc.doc_type)
        signals.extend(pages)
        if blank:
            signals.append(_blank(doc.scanned))
    return Stack(tuple(signals), tuple(parts), tuple(types))


def _no_repeats(chosen: list[StackDoc], pool: Sequence[StackDoc], rng: random.Random) -> None:
    """Draws again a document drawn right after itself: the same paper twice in a row is no stack
    a splitter can learn from (nothing tells the two apart)."""
    if len(pool) < 2:
        return
    for k in range(1, len(chosen)):
        while chosen[k] is chosen[k - 1]:
            chosen[k] = rng.choice(pool)


def stack_rows(stacks: Sequence[Stack]) -> tuple[np.ndarray, np.ndarray]:
    from classifiers.splitter import page_pairs

    rows, labels = [], []
    for stack in stacks:
        starts = stack.starts
        _, pairs, _ = page_pairs(stack.signals, starts=starts)
        for pair in pairs:
            rows.append(pair.features)
            labels.append(int(pair.index in starts))
    if not rows:
        raise TrainingDataError(
            "the stacks hold no page after a first page: nothing to learn boundaries from"
        )
    return np.stack(rows), np.array(labels)


def evaluate(splitter: Splitter, stacks: Sequence[Stack]) -> dict[str, Any]:
    """Boundary precision / recall / F1, exact splits, false splits of one-document stacks, review rate."""
    tp = fp = fn = 0
    exact = singles = false_splits = reviewed = 0
    for stack in stacks:
        plan = splitter.split_signals(stack.signals)
        found = {part.first - 1 for part in plan.parts[1:]}
        truth = {first for first, _ in stack.parts[1:]}
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
        exact += [(p.first - 1, p.last - 1) for p in plan.parts] == list(stack.parts)
        reviewed += plan.low_confidence
        if len(stack.parts) == 1:
            singles += 1
            false_splits += len(plan.parts) > 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "stacks": len(stacks),
        "boundaries": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "exact_split_rate": round(exact / len(stacks), 4) if stacks else None,
        "single_files": singles,
        "false_split_rate": round(false_splits / singles, 4) if singles else None,
        "review_rate": round(reviewed / len(stacks), 4) if stacks else None,
    }


def load_stack_docs(
    corpus_dirs: Sequence[Path], cache_dir: Path, *, split: str | None = "dev", log: Log = lambda m: None
) -> list[StackDoc]:
    """Every readable page-based document of the corpus as page signals (text layers from the cache)."""
    docs = [d for d in scan_corpus(corpus_dirs) if split is None or d.split == split]
    if not docs:
        raise TrainingDataError(
            f"no labelled documents of split {split!r} in {', '.join(map(str, corpus_dirs))}"
        )
    read_one, reader_name, read_many = default_reader()
    cache = TextLayerCache(cache_dir, read_one, reader_name)
    out: list[StackDoc] = []
    misses: list[LabelledDoc] = []
    for doc in docs:
        document = cache.lookup(doc.sha256)
        if document is None:
            misses.append(doc)
        else:
            out.append(_stack_doc(doc, document.pages))
    if misses:
        log(f"reading {len(misses)} text layers ({len(docs) - len(misses)} cached)")
        for doc, result in zip(misses, read_many([d.path for d in misses]), strict=True):
            if isinstance(result, Exception):
                log(f"skipped {doc.path}: {result}")
                continue
            cache.put(doc.sha256, result)
            out.append(_stack_doc(doc, result.pages))
    return out


def _stack_doc(doc: LabelledDoc, pages: Sequence[Any]) -> StackDoc:
    try:
        truth = json.loads(doc.path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        truth = {}
    return StackDoc(
        signals=tuple(page_signals(p) for p in pages),
        doc_type=doc.doc_type.value,
        scanned=doc.variant.startswith("scan") or doc.variant == "photo",
        layout=doc.layout,
        vendor=str(truth.get("vendor_id") or ""),
    )


def corrected_stack(
    signals: Sequence[PageSignals], parts: Sequence[tuple[int, int]], source: str
) -> Stack | None:
    """A file's pages and a person's page ranges (1-based) as a stack, or ``None`` if all are blank.

    Blank pages at a part's ends belong to no document, as in drawn stacks.
    """
    found = []
    for first, last in parts:
        start, end = first - 1, min(last, len(signals)) - 1
        while start <= end and signals[start].blank:
            start += 1
        while end >= start and signals[end].blank:
            end -= 1
        if start <= end:
            found.append((start, end))
    if not found:
        return None
    return Stack(tuple(signals), tuple(found), tuple("" for _ in found), source=source)


def load_corrected_stacks(
    *,
    store: object | None = None,
    files_dir: Path | None = None,
    cache_dir: Path,
    reader: Reader | None = None,
    reader_name: str | None = None,
    log: Log = lambda m: None,
) -> list[Stack]:
    """Every stored file whose split a person corrected or confirmed, as a stack with their answer."""
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import FileStore, Store, get_store
    from ledgerbot.core.store.queries import split_examples

    db = store if isinstance(store, Store) else get_store()
    file_store = FileStore(files_dir or get_settings().files_dir)
    if reader is None:
        from classifiers.corpus import default_reader

        reader, reader_name, _ = default_reader()
    cache = TextLayerCache(cache_dir, reader, reader_name or "reader")
    with db.session() as session:
        examples = split_examples(session)
    stacks: list[Stack] = []
    for example in examples:
        name = f"file {example.sha256[:12]}"
        document = cache.lookup(example.sha256)
        if document is None:
            path = file_store.path_for(example.sha256)
            if not path.is_file():
                log(f"{name}: not in the file store; skipped")
                continue
            try:
                document = reader(path)
            except Exception as error:  # one unreadable file must not stop the retraining
                log(f"{name}: unreadable ({error}); skipped")
                continue
            cache.put(example.sha256, document)
        if example.pages is not None and len(document.pages) != example.pages:
            log(f"{name}: read {len(document.pages)} pages, corrected with {example.pages}; skipped")
            continue
        stack = corrected_stack(
            [page_signals(page) for page in document.pages], example.parts, f"sha256:{example.sha256}"
        )
        if stack is None:
            log(f"{name}: no page with text in the corrected parts; skipped")
            continue
        stacks.append(stack)
    return stacks


def fit(x: np.ndarray, y: np.ndarray, settings: StackSettings = STACKS, seed: int = 0) -> LearnedSplitter:
    from sklearn.neural_network import MLPClassifier

    if len(set(y.tolist())) < 2:
        raise TrainingDataError("the stacks hold only one kind of page (all starts or none)")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = MLPClassifier(
        hidden_layer_sizes=(settings.hidden_units,),
        alpha=settings.weight_decay,
        max_iter=500,
        random_state=seed,
    )
    model.fit((x - mean) / scale, y)
    return LearnedSplitter(
        mean=mean,
        scale=scale,
        hidden=model.coefs_[0].copy(),
        hidden_bias=model.intercepts_[0].copy(),
        coef=model.coefs_[1][:, 0].copy(),
        intercept=float(model.intercepts_[1][0]),
    )


def train_splitter(
    corpus_dirs: Sequence[Path],
    models_dir: Path,
    cache_dir: Path,
    *,
    seed: int = 0,
    settings: StackSettings = STACKS,
    log: Log = lambda m: None,
    corrections: Sequence[Stack] = (),
) -> dict[str, Any]:
    """Fit on stacks of the training layouts (and files people split), measure on stacks of
    held-back layouts, save the artifact."""
    started = time.perf_counter()
    docs = load_stack_docs(corpus_dirs, cache_dir, log=log)
    layouts = sorted({d.layout for d in docs})
    rng = random.Random(seed)
    held = (
        set(rng.sample(layouts, max(1, round(len(layouts) * settings.validation_layouts))))
        if len(layouts) > 1
        else set()
    )
    train_docs = [d for d in docs if d.layout not in held]
    val_docs = [d for d in docs if d.layout in held]
    log(f"{len(docs)} documents, {len(layouts)} layouts ({len(held)} held back for validation)")
    train_stacks = build_stacks(train_docs, settings.stacks, seed, settings)
    if corrections:
        log(f"{len(corrections)} file(s) split by people, each learnt {settings.correction_copies} times")
        train_stacks += list(corrections) * settings.correction_copies
    x, y = stack_rows(train_stacks)
    model = fit(x, y, settings, seed)
    validation = (
        evaluate(model, build_stacks(val_docs, settings.stacks // 4, seed + 1, settings)) if val_docs else {}
    )
    log(f"validation stacks: {validation}")
    digest = hashlib.sha256(
        json.dumps(
            [
                sorted(str(p) for d in corpus_dirs for p in sorted(Path(d).rglob("*.json"))[:2000]),
                sorted([stack.source, list(stack.parts)] for stack in corrections),
            ]
        ).encode()
    ).hexdigest()
    store = ArtifactStore(models_dir)
    version = store.new_version(SPLITTER, digest)
    meta = {
        "feature_version": SPLIT_FEATURE_VERSION,
        "features": list(FEATURES),
        "training": {
            "corpus": [str(p) for p in corpus_dirs],
            "documents": len(train_docs),
            "stacks": len(train_stacks),
            "corrections": len(corrections),
            "correction_copies": settings.correction_copies if corrections else 0,
            "pages": len(y),
            "starts": int(y.sum()),
            "seed": seed,
            "held_out_layouts": sorted(held),
        },
        "validation": validation,
    }
    artifact = store.save(SPLITTER, version, model.save, meta)
    return {
        "splitter": artifact.ref,
        "models_dir": str(models_dir),
        "validation": validation,
        "training_pages": len(y),
        "seconds": round(time.perf_counter() - started, 1),
    }
