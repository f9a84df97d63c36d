"""Splitting several documents out of one file: boundary accuracy, type per part, false splits, cost per page.

Run on a corpus of layouts held out from development (``ledgerbot sandbox corpus OUT --split
heldout``), with the splitter (and, for the type per part, the classifier) trained on dev:

    python benchmarks/bench_split.py [--corpus HELDOUT_CORPUS] [--bundles HELDOUT_BUNDLES] [--stacks 12]
                                     [--signal-stacks 600] [--typed-stacks 150] [--rounds 2] [--scans]
                                     [--blank-between 0.25]
    python benchmarks/bench_split.py --real ../shared/data/realworld [--stacks 12] [--signal-stacks 600]
                                     [--typed-stacks 150] [--rounds 2]

Without ``--corpus`` a small held-out corpus is generated, and held-out bundles (multi-page
invoices whose later pages are terms, appendices, slips..., ``ledgerbot sandbox bundles OUT --seed
9xxx``) beside it; ``--bundles DIR`` names such a folder. Without a trained splitter one is
trained on a generated dev corpus first.

``--real DIR`` measures stacks of real documents instead (a folder with ``pdf/`` invoices and
``sroie/`` receipt photographs, see its README): the development part and the validation part
of the one real-world split (``extractors.realworld.realworld_split``) separately. A stack is
2-8 distinct documents of one part in a random order (a PDF or a receipt equally likely at each
place, multi-page invoices whole and in a share of the stacks, sometimes a blank page between),
a receipt photograph on a page of its own.

Three measurements, printed side by side with what a user has without a learned splitter (page
numbering and blank pages as rules; or no splitting at all, one document per file):

1. Page-signal stacks: 2-8 documents stacked from the corpus's text layers (cached), with and
   without printed page numbers: boundary precision / recall / F1, exact splits, review rate,
   and the false-split rate over every single document of the corpus.
2. Typed parts: stacks of the read documents split by the splitter, every part typed by the
   document-type cascade from its own pages as ``extract --split`` types it (accuracy over the
   parts found exactly, end to end over all true parts, and each document typed alone).
3. PDF stacks through ``ledgerbot extract --split``'s pipeline: boundary figures, document type
   per part, and the CPU time per page (this process's and its text-layer workers') of the
   stacks with ``--split`` against the same pages as one document per file, and against the
   stacks without ``--split``; every mode ``--rounds`` times in turns, the median; wall time
   beside it only as a note, since the machine's load moves it more than splitting does.
   ``--blank-between 0`` leaves the blank separator pages out (each costs an OCR pass, which
   would hide what splitting born-digital pages costs).

Progress on stderr; one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from classifiers.split_training import (
    STACKS,
    Stack,
    StackDoc,
    build_stacks,
    evaluate,
    join_stack,
    load_stack_docs,
)
from classifiers.splitter import RuleSplitter, load_splitter, page_signals
from ledgerbot.core.settings import get_settings
from sandbox.corpus.stacks import CorpusFile, corpus_files, draw_stacks, file_pdf, page_count, write_stack

Draw = tuple[list[CorpusFile], list[bool]]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _boundaries(found: list[tuple[int, int]], truth: list[tuple[int, int]]) -> tuple[int, int, int]:
    f = {first for first, _ in found[1:]}
    t = {first for first, _ in truth[1:]}
    return len(f & t), len(f - t), len(t - f)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
    }


def signal_stacks(
    corpus: Path,
    cache: Path,
    n: int,
    splitter: Any,
    bundles: Path | None = None,
    *,
    classifier: Any = None,
    n_typed: int = 0,
) -> dict[str, Any]:
    docs = load_stack_docs([corpus], cache, split=None, log=_say)
    bundled = load_stack_docs([bundles], cache, split=None, log=_say) if bundles else []
    singles = [Stack(d.signals, ((0, len(d.signals) - 1),), (d.doc_type,)) for d in [*docs, *bundled]]
    out: dict[str, Any] = {
        "documents": len(docs),
        "multi_page_documents": sum(len(d.signals) > 1 for d in docs),
        "bundle_documents": len(bundled),
    }
    for name, settings in (
        ("numbered", replace(STACKS, unnumbered=0.0)),
        ("unnumbered", replace(STACKS, unnumbered=1.0)),
    ):
        stacks = build_stacks(docs, n, seed=101, settings=replace(settings, single_share=0.0))
        out[name] = {"learned": evaluate(splitter, stacks), "rules": evaluate(RuleSplitter(), stacks)}
    if bundled:
        # Bundles mixed with the corpus's single documents, a bundle in most stacks, and bills
        # of one vendor back to back as often as the pool allows.
        settings = replace(STACKS, single_share=0.0, multipage=0.8, same_vendor=0.5)
        stacks = build_stacks([*docs, *bundled], n, seed=102, settings=settings)
        out["with_bundles"] = {
            "learned": evaluate(splitter, stacks),
            "rules": evaluate(RuleSplitter(), stacks),
        }
    # A single file must stay whole: every corpus document on its own, its content pages intact.
    single_stacks = [s for s in singles if not all(p.blank for p in s.signals)]
    for who, model in (("learned", splitter), ("rules", RuleSplitter())):
        split = sum(len(model.split_signals(s.signals).parts) > 1 for s in single_stacks)
        out.setdefault("single_files", {})[who] = {
            "files": len(single_stacks),
            "false_splits": split,
            "false_split_rate": round(split / len(single_stacks), 4) if single_stacks else None,
        }
    if classifier is not None and n_typed:
        out["doc_type_per_part"] = generated_typed_parts(
            [corpus, *([bundles] if bundles else [])], cache, n_typed, splitter, classifier
        )
    out["splitter_ms_per_page"] = _split_cost(corpus, cache, splitter)
    return out


def generated_typed_parts(
    folders: list[Path], cache_dir: Path, n: int, splitter: Any, classifier: Any
) -> dict[str, Any]:
    """Document type per part on stacks of generated files (born-digital, scans, photographs)."""
    from classifiers.corpus import default_reader, file_sha256
    from classifiers.textcache import TextLayerCache

    read_one, reader_name, _ = default_reader()
    cache = TextLayerCache(cache_dir, read_one, reader_name)
    documents: dict[Path, Any] = {}
    files: list[CorpusFile] = []
    for folder in folders:
        for file in corpus_files(folder):
            document = cache.lookup(file_sha256(file.path))
            if document is not None:  # every file was read (and cached) for the signal stacks
                documents[file.path] = document
                files.append(file)
    draws = draw_stacks(files, n, seed=103, multipage=0.6)
    return typed_parts(documents, draws, splitter, classifier, name_misses=True)


def _split_cost(corpus: Path, cache_dir: Path, splitter: Any, repeats: int = 3) -> dict[str, float | None]:
    """CPU milliseconds the splitter spends per page (signals and model) on already-read text
    layers: over all of them, born-digital documents and documents read by OCR (whose titles are
    matched through OCR noise, the dearer part)."""
    from classifiers.corpus import default_reader, scan_corpus
    from classifiers.textcache import TextLayerCache

    read_one, reader_name, _ = default_reader()
    cache = TextLayerCache(cache_dir, read_one, reader_name)
    documents = [d for d in (cache.lookup(doc.sha256) for doc in scan_corpus([corpus])) if d is not None]
    scanned = [d for d in documents if any(page.source == "ocr" for page in d.pages)]
    digital = [d for d in documents if not any(page.source == "ocr" for page in d.pages)]
    out: dict[str, float | None] = {}
    for name, group in (("all", documents), ("born_digital", digital), ("read_by_ocr", scanned)):
        pages = sum(len(d.pages) for d in group)
        started = time.process_time()
        for _ in range(repeats):
            for document in group:
                splitter.split(document)
        spent = time.process_time() - started
        out[name] = round(spent * 1000 / (pages * repeats), 3) if pages else None
    return out


def pdf_stacks(
    corpus: Path, n: int, scans: bool, seed: int, models_dir: Path, rounds: int, blank_between: float
) -> dict[str, Any]:
    draws = draw_stacks(corpus_files(corpus), n, seed=seed, scans=scans, blank_between=blank_between)
    return {**pipeline_stacks(draws, models_dir, rounds), "scans": scans}


def pipeline_stacks(draws: list[Draw], models_dir: Path, rounds: int = 2) -> dict[str, Any]:
    """The stacks as PDFs through ``ledgerbot extract``'s pipeline, with and without ``--split``,
    and their documents each in a file of its own (the same pages: a document with the blank
    separator page that follows it in its stack, since reading a blank page costs an OCR pass).

    The cost per page is CPU time: this process's and its text-layer workers' (and the OCR they
    ran) over the whole run, so what splitting costs outside the booked stages counts too. What
    splitting adds is the split stacks' CPU against the same pages extracted without ``--split``
    (one garbled document per stack), and against them extracted one document per file (what the
    mailroom would have sent had it not stacked them).
    On a shared machine the wall time of two runs differs with the load more than splitting could
    ever add, and CPU time drifts with it a little: every mode runs ``rounds`` times, in turns
    (the order reversed each round), and each figure is the median of its rounds.
    """
    from statistics import median

    from ledgerbot.cost import process_cpu, worker_cpu
    from ledgerbot.pipeline import Extractor

    work = Path(tempfile.mkdtemp(prefix="bench-split-"))
    stacks = []
    singles: list[Path] = []
    for i, (docs, blanks) in enumerate(draws):
        path = work / f"stack-{i:03d}.pdf"
        stacks.append((path, write_stack(docs, blanks, path)))
        for k, (doc, blank) in enumerate(zip(docs, blanks, strict=True)):
            singles.append(work / f"single-{i:03d}-{k}.pdf")
            write_stack([doc], [blank], singles[-1])
    pages = sum(t.pages for _, t in stacks)
    separators = pages - sum(last - first + 1 for _, t in stacks for first, last in t.parts)
    _say(
        f"{len(stacks)} PDF stacks, {pages} pages ({separators} blank separators), {len(singles)} documents; "
        f"{max(rounds, 1)} round(s) of each mode"
    )
    files = {"whole": [p for p, _ in stacks], "split": [p for p, _ in stacks], "separate": singles}
    extractors = {mode: Extractor(split=mode == "split", models_dir=models_dir, warn=_say) for mode in files}
    for mode, extractor in extractors.items():
        # Models loaded and both text-layer workers started before the clock runs.
        list(extractor.extract_paths(files[mode][:2]))
    walls: dict[str, list[float]] = {mode: [] for mode in files}
    cpus: dict[str, list[float]] = {mode: [] for mode in files}
    booked: dict[str, list[dict[str, float]]] = {mode: [] for mode in files}
    results: dict[str, list[Any]] = {}
    for k in range(max(rounds, 1)):
        for mode in list(files) if k % 2 == 0 else list(reversed(files)):
            started, cpu_before = time.perf_counter(), process_cpu() + worker_cpu()
            results[mode] = list(extractors[mode].extract_paths(files[mode]))
            cpus[mode].append(process_cpu() + worker_cpu() - cpu_before)
            walls[mode].append(time.perf_counter() - started)
            stages: dict[str, float] = {}
            for result in results[mode]:
                for stage, seconds in result.cpu_seconds.items():
                    stages[stage] = stages.get(stage, 0.0) + seconds
            booked[mode].append(stages)
            _say(f"round {k + 1} {mode}: {walls[mode][-1]:.1f} s wall, {cpus[mode][-1]:.1f} s CPU")
    tp = fp = fn = 0
    found_parts = typed = right = exact = 0
    by_source: dict[str, list[Any]] = {}
    for result in results["split"]:
        by_source.setdefault(result.source, []).append(result)
    for path, truth in stacks:
        found = by_source.get(str(path), [])
        ranges = [tuple(r.pages) for r in found if r.pages]
        a, b, c = _boundaries(ranges, truth.parts)  # type: ignore[arg-type]
        tp, fp, fn = tp + a, fp + b, fn + c
        exact += ranges == truth.parts
        for result in found:
            if tuple(result.pages or ()) in truth.parts:
                # A part the classifier left untyped counts as typed wrong.
                found_parts += 1
                typed += result.doc_type is not None
                right += (
                    result.doc_type is not None
                    and result.doc_type.value == truth.types[truth.parts.index(tuple(result.pages))]
                )
    cpu = {mode: median(c) / pages for mode, c in cpus.items()}
    wall = {mode: median(w) / pages for mode, w in walls.items()}

    def overhead(figures: dict[str, float], base: str) -> float | None:
        return round(figures["split"] / figures[base] - 1.0, 4) if figures[base] else None

    return {
        "stacks": len(stacks),
        "pages": pages,
        "documents": sum(len(t.parts) for _, t in stacks),
        "blank_separator_pages": separators,
        "boundaries": _prf(tp, fp, fn),
        "exact_split_rate": round(exact / len(stacks), 4),
        "doc_type_per_part": {
            "parts_found": found_parts,
            "parts_typed": typed,
            "accuracy": round(right / found_parts, 4) if found_parts else None,
        },
        "rounds": max(rounds, 1),
        # ``split`` the stacks with --split, ``separate`` their documents one per file, ``whole`` the
        # stacks without --split. What splitting adds is against the same documents one per file:
        # the same results. Against ``whole`` it also pays for extracting and typing every part
        # instead of one garbled document per file.
        "cpu_seconds_per_page": {mode: round(v, 4) for mode, v in cpu.items()},
        "split_cpu_overhead": overhead(cpu, "separate"),
        "split_cpu_overhead_vs_whole": overhead(cpu, "whole"),
        # Each round's figure: how far the load moved it.
        "split_cpu_overhead_by_round": [
            round(t / f - 1.0, 4) if f else None for f, t in zip(cpus["separate"], cpus["split"], strict=True)
        ],
        # The CPU this process books per stage (``ledgerbot.cost``) but the text layer's: where a
        # difference goes. The reading's share is left out, since each extractor books all the
        # text-layer workers of this process, the other modes' among them.
        "booked_cpu_seconds_per_page": {
            mode: {
                stage: round(median(r.get(stage, 0.0) for r in runs) / pages, 4)
                for stage in sorted({s for r in runs for s in r} - {"text_layer"})
            }
            for mode, runs in booked.items()
        },
        "wall_seconds_per_page": {mode: round(v, 4) for mode, v in wall.items()},
        "split_wall_overhead": overhead(wall, "separate"),
    }


def load_classifier(models_dir: Path) -> Any:
    """The document-type cascade ``extract --split`` types each part with, or ``None`` if none is trained."""
    from classifiers.cascade import Cascade
    from ledgerbot.core.errors import LedgerbotError

    try:
        return Cascade.load(models_dir)
    except LedgerbotError as error:
        _say(f"no document type per part: [{error.code}] {error.message}")
        return None


def typed_parts(
    documents: dict[Path, Any], draws: list[Draw], splitter: Any, classifier: Any, *, name_misses: bool
) -> dict[str, Any]:
    """Document type per part: each drawn stack's pages (read once, cached) split by the splitter
    and every part typed by the classifier from its own pages, as ``extract --split`` does.

    ``accuracy`` counts the parts the splitter found exactly (a part cut wrong has no true type);
    ``end_to_end`` counts every true part, right only if found exactly and typed right;
    ``whole_documents`` types each distinct document alone, as one file: what the classifier does
    without splitting, to tell its own errors from the split's.
    """
    from textlayer.model import Document, Page

    known: dict[tuple[int, ...], str] = {}

    def types_of(parts: list[list[Page]]) -> list[str]:
        todo: dict[tuple[int, ...], list[Page]] = {}
        for pages in parts:
            key = tuple(id(page) for page in pages)
            if key not in known:
                todo[key] = pages
        if todo:
            decided = classifier.classify([Document(pages=pages) for pages in todo.values()])
            for key, decision in zip(todo, decided, strict=True):
                known[key] = decision.doc_type.value if decision.doc_type is not None else "none"
        return [known[tuple(id(page) for page in pages)] for pages in parts]

    content: dict[Path, tuple[int, int]] = {}
    for path, document in documents.items():
        kept = [i for i, page in enumerate(document.pages) if not page_signals(page).blank]
        content[path] = (kept[0], kept[-1]) if kept else (0, len(document.pages) - 1)
    parts = found = right = 0
    by_type: dict[str, list[int]] = {}
    confusions: dict[str, int] = {}
    misses: list[str] = []
    for files, blanks in draws:
        pages: list[Page] = []
        truth: list[tuple[int, int, str, str]] = []
        for file, blank in zip(files, blanks, strict=True):
            document = documents[file.path]
            first, last = content[file.path]
            truth.append((len(pages) + first, len(pages) + last, file.doc_type, file.path.name))
            pages.extend(document.pages)
            if blank:
                page = document.pages[-1]
                pages.append(Page(0, page.width, page.height, [], unit=page.unit, source=page.source))
        plan = splitter.split(Document(pages=pages))
        ranges = [(part.first - 1, part.last - 1) for part in plan.parts]
        exact = [t for t in truth if (t[0], t[1]) in ranges]
        typed = types_of([pages[first : last + 1] for first, last, _, _ in exact])
        parts += len(truth)
        found += len(exact)
        for (_, _, doc_type, name), guess in zip(exact, typed, strict=True):
            tally = by_type.setdefault(doc_type, [0, 0])
            tally[0] += 1
            if guess == doc_type:
                right += 1
                tally[1] += 1
            else:
                confusions[f"{doc_type}->{guess}"] = confusions.get(f"{doc_type}->{guess}", 0) + 1
                if name_misses and name not in misses:
                    misses.append(name)
    alone = list(documents)
    whole = types_of([documents[path].pages for path in alone])
    truth_of = {file.path: file.doc_type for files, _ in draws for file in files}
    judged = [(truth_of[path], guess) for path, guess in zip(alone, whole, strict=True) if path in truth_of]
    out: dict[str, Any] = {
        "classifier": classifier.version,
        "parts": parts,
        "parts_found_exactly": found,
        "accuracy": round(right / found, 4) if found else None,
        "end_to_end": round(right / parts, 4) if parts else None,
        "by_type": {t: {"parts": n, "accuracy": round(k / n, 4)} for t, (n, k) in sorted(by_type.items())},
        "confusions": dict(sorted(confusions.items(), key=lambda c: -c[1])),
        "whole_documents": {
            "documents": len(judged),
            "accuracy": round(sum(t == g for t, g in judged) / len(judged), 4) if judged else None,
        },
    }
    if name_misses:
        out["mistyped_files"] = misses
    return out


def real_files(folder: Path, part: str) -> list[CorpusFile]:
    """The real documents of one part of the real-world split: PDFs with their truth's type, receipts."""
    from extractors.realworld import realworld_split

    files = []
    for pdf in sorted((folder / "pdf").glob("*.pdf")):
        truth = pdf.with_suffix(".json")
        if realworld_split(pdf.stem) == part and truth.is_file():
            doc_type = str(json.loads(truth.read_text(encoding="utf-8"))["doc_type"])
            files.append(CorpusFile(pdf, doc_type, "digital", "realworld", part, page_count(pdf)))
    for photo in sorted((folder / "sroie").glob("*.jpg")):
        if realworld_split(photo.stem) == part:
            # A shop's receipt is a bill AP books like an invoice: the corpus types receipts so too.
            files.append(CorpusFile(photo, "invoice", "photo", "realworld", part))
    return files


def real_stack_docs(files: list[CorpusFile], cache_dir: Path) -> tuple[dict[Path, StackDoc], dict[Path, Any]]:
    """Each file's pages as they are in a stack (a photograph as its one-page PDF), read once (cached):
    as page signals, and as the read documents."""
    import hashlib

    from classifiers.corpus import default_reader
    from classifiers.textcache import TextLayerCache

    read_one, reader_name, read_many = default_reader()
    cache = TextLayerCache(cache_dir, read_one, reader_name)
    work = Path(tempfile.mkdtemp(prefix="bench-split-real-"))
    documents: dict[Path, Any] = {}
    misses: list[tuple[CorpusFile, str, Path]] = []
    for file in files:
        # Keyed by the file itself: a photograph's PDF wrapper carries the time it was made.
        sha256 = hashlib.sha256(b"stack-page:" + file.path.read_bytes()).hexdigest()
        document = cache.lookup(sha256)
        if document is None:
            path = work / f"{file.path.stem}.pdf"
            path.write_bytes(file_pdf(file.path))
            misses.append((file, sha256, path))
        else:
            documents[file.path] = document
    if misses:
        _say(f"reading {len(misses)} real documents ({len(files) - len(misses)} cached)")
        for (file, sha256, _), result in zip(misses, read_many([m[2] for m in misses]), strict=True):
            if isinstance(result, Exception):
                raise SystemExit(f"E200 cannot read {file.path}: {result}")
            cache.put(sha256, result)
            documents[file.path] = result
    stack_docs = {
        file.path: StackDoc(
            signals=tuple(page_signals(p) for p in documents[file.path].pages),
            doc_type=file.doc_type,
            scanned=file.scanned,
            layout=file.path.stem,
        )
        for file in files
    }
    return stack_docs, documents


def real_stacks(
    folder: Path,
    part: str,
    cache: Path,
    splitter: Any,
    models_dir: Path,
    *,
    n: int,
    n_signal: int,
    n_typed: int,
    seed: int,
    rounds: int = 2,
    classifier: Any = None,
) -> dict[str, Any]:
    """Stacks of one part's real documents: page signals (many), typed parts (some) and PDFs
    through the pipeline (few)."""
    files = real_files(folder, part)
    if len(files) < 2:
        raise SystemExit(f"E403 fewer than two real documents of part {part!r} in {folder}")
    docs, documents = real_stack_docs(files, cache)

    def draws(count: int, offset: int) -> list[Draw]:
        return draw_stacks(files, count, seed=seed + offset, distinct=True, by_variant=True)

    out: dict[str, Any] = {
        "part": part,
        "documents": len(files),
        "by_variant": {v: sum(f.variant == v for f in files) for v in sorted({f.variant for f in files})},
        "multi_page_documents": sum(f.pages > 1 for f in files),
    }
    drawn = draws(n_signal, 0)
    for name, hidden in (("as_printed", False), ("page_numbers_hidden", True)):
        stacks = [join_stack([docs[f.path] for f in d], b, unnumbered=hidden) for d, b in drawn]
        out[name] = {"learned": evaluate(splitter, stacks), "rules": evaluate(RuleSplitter(), stacks)}
    singles = [Stack(d.signals, ((0, len(d.signals) - 1),), (d.doc_type,)) for d in docs.values()]
    for who, model in (("learned", splitter), ("rules", RuleSplitter())):
        split = sorted(
            f.path.name
            for f, s in zip(files, singles, strict=True)
            if len(model.split_signals(s.signals).parts) > 1
        )
        out.setdefault("single_files", {})[who] = {
            "files": len(singles),
            "false_splits": len(split),
            "false_split_rate": round(len(split) / len(singles), 4),
            # Names only of the development part, whose misses may be read.
            **({"split_files": split} if part == "dev" else {}),
        }
    if classifier is not None and n_typed:
        # Names of mistyped files only for the development part, whose misses may be read.
        out["doc_type_per_part"] = typed_parts(
            documents, draws(n_typed, 2000), splitter, classifier, name_misses=part == "dev"
        )
    out["pdf_stacks"] = pipeline_stacks(draws(n, 1000), models_dir, rounds) if n else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a generated corpus of held-out layouts")
    parser.add_argument(
        "--bundles", type=Path, help="held-out bundles (ledgerbot sandbox bundles --seed 9xxx)"
    )
    parser.add_argument("--real", type=Path, help="a folder of real documents (pdf/, sroie/): measure those")
    parser.add_argument("--part", choices=("dev", "val"), action="append", help="with --real (default both)")
    parser.add_argument("--models-dir", type=Path, help="default: <LEDGERBOT_HOME>/models")
    parser.add_argument("--stacks", type=int, default=12, help="real PDF stacks to extract")
    parser.add_argument("--signal-stacks", type=int, default=600, help="stacks of cached page signals")
    parser.add_argument(
        "--typed-stacks", type=int, default=150, help="stacks whose parts the classifier types (0: none)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of the PDF stacks per mode, in turns (median CPU)"
    )
    parser.add_argument(
        "--blank-between",
        type=float,
        default=0.25,
        help="chance of a blank separator page between two documents of a PDF stack (0: none)",
    )
    parser.add_argument("--scans", action="store_true", help="also put scans in the PDF stacks (slow: OCR)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = get_settings()
    cache = settings.home / "cache" / "textlayer"
    models_dir = args.models_dir or settings.models_dir
    splitter, note = load_splitter(models_dir)
    if note:
        _say(f"{note}: training one on a generated dev corpus first")
        from classifiers.split_training import train_splitter
        from sandbox.corpus import generate_corpus

        dev = Path(tempfile.mkdtemp(prefix="bench-split-dev-"))
        generate_corpus(dev, 120, seed=3, split="dev", einvoices=False)
        models_dir = Path(tempfile.mkdtemp(prefix="bench-split-models-"))
        train_splitter([dev], models_dir, cache, log=_say)
        splitter, _ = load_splitter(models_dir)
    classifier = load_classifier(models_dir) if args.typed_stacks else None
    if args.real is not None:
        real_report(args, splitter, cache, models_dir, classifier)
        return
    if args.corpus is None:
        from sandbox.corpus import generate_corpus

        args.corpus = Path(tempfile.mkdtemp(prefix="bench-split-heldout-"))
        generate_corpus(args.corpus, 80, seed=4, split="heldout", einvoices=False)
        if args.bundles is None:
            from sandbox.corpus.bundles import write_bundles

            args.bundles = Path(tempfile.mkdtemp(prefix="bench-split-bundles-"))
            write_bundles(args.bundles, 30, seed=9004, scans=False)
    report: dict[str, Any] = {
        "corpus": str(args.corpus),
        "bundles": str(args.bundles) if args.bundles else None,
        "splitter": splitter.name,
        "signal_stacks": signal_stacks(
            args.corpus,
            cache,
            args.signal_stacks,
            splitter,
            args.bundles,
            classifier=classifier,
            n_typed=args.typed_stacks,
        ),
        "pdf_stacks": pdf_stacks(
            args.corpus, args.stacks, args.scans, args.seed, models_dir, args.rounds, args.blank_between
        )
        if args.stacks
        else None,
    }
    s = report["signal_stacks"]
    _say(f"{'stacks of held-out layouts':<34} {'learned F1':>10} {'rules F1':>9}")
    for name in ("numbered", "unnumbered"):
        _say(
            f"{'  page numbers ' + name:<34} {s[name]['learned']['f1']:>10.4f} {s[name]['rules']['f1']:>9.4f}"
        )
    if "with_bundles" in s:
        b = s["with_bundles"]
        _say(f"{'  with held-out bundles':<34} {b['learned']['f1']:>10.4f} {b['rules']['f1']:>9.4f}")
    singles = s["single_files"]
    _say(
        f"{'  false splits of single files':<34} {singles['learned']['false_split_rate']:>10.4f} "
        f"{singles['rules']['false_split_rate']:>9.4f}   (no splitting: 0, but every stack is one document)"
    )
    if "doc_type_per_part" in s:
        _say_types("generated stacks", s["doc_type_per_part"])
    cost = s["splitter_ms_per_page"]
    _say(
        f"splitter: {cost['all']} CPU ms per page on read text layers (born-digital {cost['born_digital']}, "
        f"read by OCR {cost['read_by_ocr']})"
    )
    pdf = report["pdf_stacks"]
    if pdf:
        _say(
            f"PDF stacks ({pdf['stacks']} files, {pdf['documents']} documents, {pdf['pages']} pages): "
            f"boundary F1 {pdf['boundaries']['f1']:.4f} (no splitting: every boundary missed), "
            f"type per part {pdf['doc_type_per_part']['accuracy']}, "
            f"{_say_cost(pdf)}"
        )
    print(json.dumps(report, indent=None))


def _say_cost(pdf: dict[str, Any]) -> str:
    cpu = pdf["cpu_seconds_per_page"]
    return (
        f"CPU s/page {cpu['split']} with --split vs {cpu['separate']} one document per file "
        f"({pdf['split_cpu_overhead']:+.1%}; {cpu['whole']} whole without --split, "
        f"{pdf['split_cpu_overhead_vs_whole']:+.1%}), median of {pdf['rounds']} rounds "
        f"(wall {pdf['split_wall_overhead']:+.1%})"
    )


def _say_types(where: str, t: dict[str, Any]) -> None:
    _say(
        f"  type per part ({where}, {t['parts_found_exactly']} of {t['parts']} parts found exactly): "
        f"{t['accuracy']} (end to end {t['end_to_end']}; each document alone "
        f"{t['whole_documents']['accuracy']} of {t['whole_documents']['documents']})"
    )


def real_report(
    args: argparse.Namespace, splitter: Any, cache: Path, models_dir: Path, classifier: Any
) -> None:
    report: dict[str, Any] = {"real": str(args.real), "splitter": splitter.name}
    for part in args.part or ["dev", "val"]:
        report[part] = r = real_stacks(
            args.real,
            part,
            cache,
            splitter,
            models_dir,
            n=args.stacks,
            n_signal=args.signal_stacks,
            n_typed=args.typed_stacks,
            seed=args.seed,
            rounds=args.rounds,
            classifier=classifier,
        )
        singles = r["single_files"]["learned"]
        printed, hidden = r["as_printed"], r["page_numbers_hidden"]
        _say(
            f"real {part} ({r['documents']} documents): signal stacks F1 {printed['learned']['f1']:.4f} "
            f"(rules {printed['rules']['f1']:.4f}), page numbers hidden {hidden['learned']['f1']:.4f}; "
            f"false splits {singles['false_splits']}/{singles['files']}"
        )
        if "doc_type_per_part" in r:
            _say_types(f"real {part}", r["doc_type_per_part"])
        pdf = r["pdf_stacks"]
        if pdf:
            _say(
                f"  PDF stacks ({pdf['stacks']} files, {pdf['documents']} documents, {pdf['pages']} pages): "
                f"boundary F1 {pdf['boundaries']['f1']:.4f}, exact {pdf['exact_split_rate']}, "
                f"type per part {pdf['doc_type_per_part']['accuracy']}, {_say_cost(pdf)}"
            )
    print(json.dumps(report, indent=None))


if __name__ == "__main__":
    main()
