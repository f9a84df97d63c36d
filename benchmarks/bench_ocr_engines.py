"""OCR engines on real receipts: word recall and pages/s of tesseract, RapidOCR and our per-page choice.

    .venv/bin/python benchmarks/bench_ocr_engines.py [--folder DIR] [--split dev|val|all] [--limit N]

Reads the ICDAR SROIE receipts in ``../shared/data/realworld/sroie`` (``NNN.jpg`` with the
competition's ground-truth lines in ``NNN.boxes.csv``) and, one page at a time on one core
(``OMP_THREAD_LIMIT=1``, one onnxruntime thread), runs
- raw tesseract: ``pytesseract.image_to_data`` on the file, ``eng``, tesseract's defaults
  (the ``tesseract`` program, started for each page);
- raw RapidOCR: ``RapidOCR()`` with its defaults (its wheel's PP-OCR models) on the file;
- ledgerbot: the text layer's OCR task as a warm worker runs it (``tasks.ocr_image_page``, with
  tesseract's library and RapidOCR's sessions loaded before timing, as a worker loads them once):
  RapidOCR straight away on photos (a JPEG without a scan resolution, as these receipts are),
  elsewhere tesseract with our clean-up, and RapidOCR on the pages tesseract reads poorly
  (``OCREngineSettings``).
Word recall is the share of ground-truth words (split on spaces, compared case-insensitively
as a multiset) found among the engine's words. Pages/s is wall time; CPU seconds per page (this
process and the tesseract it starts) are given beside it, since on a loaded machine they are
the steadier figure. Figures per split of
``extractors.realworld.realworld_split``: rules are read on dev, val is reported beside it.
One JSON line per page and one per split on stdout; a table on stderr. Figures only: nothing
here asserts a timing, and timings taken on a shared machine are noisy.

    .venv/bin/python benchmarks/bench_ocr_engines.py --mixed [--scans CORPUS] [--scan-docs N]
                                                     [--scan-pages N] [--photos N] [--split dev|val|all]

``--mixed`` times a mixed batch instead: scanned invoice pages of a generated corpus (its PNG
scans and every page of its image-only PDFs, rasterised at the scan's 200 dpi; without
``--scans`` a corpus of ``--scan-docs`` randomized layouts is generated into a temporary
folder first, untimed; at most ``--scan-pages`` pages) and ``--photos`` SROIE receipt photos,
each page read by raw tesseract and by ledgerbot's OCR path (the same task as above). It
prints per group (scans, photos, all) the CPU seconds and wall seconds per page of each, and
ledgerbot's ratio to raw tesseract.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from extractors.realworld import realworld_split
from textlayer import TextLayerConfig
from textlayer.tasks import ocr_image_page

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "realworld" / "sroie"
ENGINES = ("raw_tesseract", "raw_rapidocr", "ledgerbot")


def truth_words(boxes_csv: Path) -> list[str]:
    """Words of the ground-truth lines: the ninth column on (text may itself hold commas)."""
    words: list[str] = []
    with boxes_csv.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 9:
                words.extend(",".join(row[8:]).split())
    return words


def recall(truth: list[str], got: list[str]) -> float:
    wanted = Counter(w.casefold() for w in truth)
    found = Counter(w.casefold() for w in got)
    return sum((wanted & found).values()) / max(1, sum(wanted.values()))


def _cpu() -> float:
    """CPU seconds of this process and of the children it has waited for (tesseract)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _raw_tesseract(path: Path) -> list[str]:
    import pytesseract

    data = pytesseract.image_to_data(str(path), lang="eng", output_type=pytesseract.Output.DICT)
    return [t.strip() for t in data["text"] if t and t.strip()]


_rapid: Any = None


def _raw_rapidocr(path: Path) -> list[str]:
    global _rapid
    if _rapid is None:
        from rapidocr import RapidOCR

        _rapid = RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    output = _rapid(str(path))
    return [w for text in (output.txts or ()) for w in str(text).split()]


def _ledgerbot(path: Path, config: TextLayerConfig) -> tuple[list[str], str, str]:
    page = ocr_image_page(str(path), path.name, 1, config)
    return [w.text for w in page.words], page.ocr_engine.split(" ")[0], page.ocr_choice


def _warm_up(path: Path, config: TextLayerConfig) -> None:
    """Load models once before timing, as a warm worker would have them."""
    from PIL import Image

    from textlayer.rapid import rapidocr_words
    from textlayer.tesseract import library

    library(config)
    _raw_rapidocr(path)
    with Image.open(path) as image:
        for photo in (False, True):
            rapidocr_words(image.convert("L"), config.engines, photo)


def _scan_pages(corpus: Path, out: Path) -> list[Path]:
    """The scanned pages of a generated corpus as images: its PNG scans as they are, and every
    page of its image-only PDFs rasterised at the scan resolution into ``out``."""
    import pypdfium2 as pdfium

    from sandbox.corpus.scans import DPI

    pages: list[Path] = []
    for truth_file in sorted(corpus.glob("*.json")):
        if truth_file.name == "manifest.json":
            continue
        variant = json.loads(truth_file.read_text(encoding="utf-8")).get("variant")
        if variant == "scan_png":
            pages.append(truth_file.with_suffix(".png"))
        elif variant == "scan_pdf":
            document = pdfium.PdfDocument(truth_file.with_suffix(".pdf"))
            try:
                for number, page in enumerate(document, start=1):
                    target = out / f"{truth_file.stem}-p{number}.png"
                    page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L").save(target)
                    pages.append(target)
            finally:
                document.close()
    return pages


def _generated_scans(out: Path, documents: int) -> Path:
    """A small corpus of randomized layouts with their scans (generation is not timed)."""
    from sandbox.corpus import generate_corpus

    corpus = out / "corpus"
    generate_corpus(corpus, documents, seed=4242, layouts="random", einvoices=False, doc_types=["invoice"])
    return corpus


def mixed(args: argparse.Namespace) -> int:
    """Raw tesseract against ledgerbot's OCR path over scanned invoice pages and receipt photos."""
    import tempfile

    config = TextLayerConfig()
    photos: list[Path] = []
    for image in sorted(args.folder.glob("*.jpg")) if args.folder.is_dir() else []:
        if len(photos) < args.photos and args.split in ("all", realworld_split(image.stem)):
            photos.append(image)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        corpus = args.scans or _generated_scans(Path(tmp), args.scan_docs)
        scans = _scan_pages(corpus, Path(tmp))[: args.scan_pages]
        batch = [("scans", p) for p in scans] + [("photos", p) for p in photos]
        if not batch:
            print("no pages: no scans in the corpus and no receipt photos", file=sys.stderr)
            return 2
        _warm_up(batch[0][1], config)
        engines = ("raw_tesseract", "ledgerbot")
        totals: dict[str, dict[str, float]] = {}
        for index, (group, image) in enumerate(batch, start=1):
            row: dict[str, Any] = {"page": image.name, "group": group}
            for engine in engines:
                started, cpu_started = time.perf_counter(), _cpu()
                if engine == "raw_tesseract":
                    _raw_tesseract(image)
                else:
                    _words, row["engine"], row["reason"] = _ledgerbot(image, config)
                spent, used = time.perf_counter() - started, _cpu() - cpu_started
                row[f"{engine}_seconds"], row[f"{engine}_cpu_seconds"] = round(spent, 3), round(used, 3)
                for key in (group, "all"):
                    tally = totals.setdefault(key, {"pages": 0.0})
                    tally[f"{engine}_wall"] = tally.get(f"{engine}_wall", 0.0) + spent
                    tally[f"{engine}_cpu"] = tally.get(f"{engine}_cpu", 0.0) + used
            for key in (group, "all"):
                totals[key]["pages"] += 1
            print(json.dumps(row), flush=True)
            print(f"[{index}/{len(batch)}] {group} {image.name} -> {row['engine']}", file=sys.stderr)
    print(f"{'group':<8}{'pages':>6}{'engine':>16}{'CPU s/page':>12}{'wall s/page':>13}", file=sys.stderr)
    for group in ("scans", "photos", "all"):
        if group not in totals:
            continue
        tally = totals[group]
        pages = int(tally["pages"])
        summary: dict[str, Any] = {"group": group, "pages": pages}
        for engine in engines:
            summary[f"{engine}_cpu_seconds_per_page"] = round(tally[f"{engine}_cpu"] / pages, 3)
            summary[f"{engine}_wall_seconds_per_page"] = round(tally[f"{engine}_wall"] / pages, 3)
            print(
                f"{group:<8}{pages:>6}{engine:>16}{tally[f'{engine}_cpu'] / pages:>12.2f}"
                f"{tally[f'{engine}_wall'] / pages:>13.2f}",
                file=sys.stderr,
            )
        for clock in ("cpu", "wall"):
            raw = tally[f"raw_tesseract_{clock}"]
            summary[f"{clock}_ratio"] = round(tally[f"ledgerbot_{clock}"] / raw, 3) if raw else None
        ratios = f"CPU {summary['cpu_ratio']}x, wall {summary['wall_ratio']}x"
        print(f"{group:<8}ledgerbot / raw tesseract: {ratios}", file=sys.stderr)
        print(json.dumps(summary), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--split", choices=("dev", "val", "all"), default="all")
    parser.add_argument("--limit", type=int, default=None, help="At most this many receipts per split")
    parser.add_argument("--mixed", action="store_true", help="Time a mixed batch of scans and photos")
    parser.add_argument("--scans", type=Path, default=None, help="Generated corpus whose scans to read")
    parser.add_argument("--scan-docs", type=int, default=12, help="Documents to generate without --scans")
    parser.add_argument("--scan-pages", type=int, default=24, help="At most this many scanned pages")
    parser.add_argument("--photos", type=int, default=12, help="SROIE receipt photos in the mixed batch")
    args = parser.parse_args(argv)
    if args.mixed:
        return mixed(args)
    if not args.folder.is_dir():
        print(f"no receipts at {args.folder}", file=sys.stderr)
        return 2
    config = TextLayerConfig()
    splits = ("dev", "val") if args.split == "all" else (args.split,)
    receipts: dict[str, list[Path]] = {s: [] for s in splits}
    part: str
    for image in sorted(args.folder.glob("*.jpg")):
        part = realworld_split(image.stem)
        wanted = part in receipts and (args.limit is None or len(receipts[part]) < args.limit)
        if wanted and image.with_suffix(".boxes.csv").is_file():
            receipts[part].append(image)
    first = next((p for s in splits for p in receipts[s]), None)
    if first is None:
        print("no receipts with ground truth in that split", file=sys.stderr)
        return 2
    _warm_up(first, config)
    summaries = []
    for part in splits:
        seconds: dict[str, float] = dict.fromkeys(ENGINES, 0.0)
        cpu: dict[str, float] = dict.fromkeys(ENGINES, 0.0)
        recalls: dict[str, list[float]] = {e: [] for e in ENGINES}
        chosen: Counter[str] = Counter()
        chosen_recall: dict[str, list[float]] = {}
        for index, image in enumerate(receipts[part], start=1):
            truth = truth_words(image.with_suffix(".boxes.csv"))
            row: dict[str, Any] = {"page": image.name, "split": part, "truth_words": len(truth)}
            for engine in ENGINES:
                started, cpu_started = time.perf_counter(), _cpu()
                if engine == "raw_tesseract":
                    words = _raw_tesseract(image)
                elif engine == "raw_rapidocr":
                    words = _raw_rapidocr(image)
                else:
                    words, used, reason = _ledgerbot(image, config)
                    row["engine"], row["reason"] = used, reason
                spent = time.perf_counter() - started
                seconds[engine] += spent
                used_cpu = _cpu() - cpu_started
                cpu[engine] += used_cpu
                row[f"{engine}_cpu_seconds"] = round(used_cpu, 3)
                recalls[engine].append(recall(truth, words))
                row[f"{engine}_recall"] = round(recalls[engine][-1], 4)
                row[f"{engine}_seconds"] = round(spent, 3)
            chosen[row["engine"]] += 1
            chosen_recall.setdefault(row["engine"], []).append(row["ledgerbot_recall"])
            print(json.dumps(row), flush=True)
            print(f"[{part} {index}/{len(receipts[part])}] {image.name} -> {row['engine']}", file=sys.stderr)
        pages = len(receipts[part])
        summary = {
            "split": part,
            "pages": pages,
            "word_recall": {e: round(sum(recalls[e]) / pages, 4) for e in ENGINES},
            "pages_per_second": {e: round(pages / seconds[e], 3) if seconds[e] else None for e in ENGINES},
            "cpu_seconds_per_page": {e: round(cpu[e] / pages, 3) for e in ENGINES},
            "ledgerbot_pages_by_engine": dict(sorted(chosen.items())),
            "ledgerbot_recall_by_engine": {
                e: round(sum(v) / len(v), 4) for e, v in sorted(chosen_recall.items())
            },
        }
        summaries.append(summary)
        print(json.dumps(summary), flush=True)
    _table(summaries)
    return 0


def _table(summaries: list[dict[str, Any]]) -> None:
    print(f"{'split':<6}{'engine':<16}{'word recall':>12}{'pages/s':>10}{'CPU s/page':>12}", file=sys.stderr)
    for s in summaries:
        for engine in ENGINES:
            rate = s["pages_per_second"][engine]
            print(
                f"{s['split']:<6}{engine:<16}{s['word_recall'][engine]:>12.3f}"
                f"{(rate if rate is not None else float('nan')):>10.3f}"
                f"{s['cpu_seconds_per_page'][engine]:>12.2f}",
                file=sys.stderr,
            )
        where = ", ".join(
            f"{n} to {e} (recall {s['ledgerbot_recall_by_engine'][e]:.3f})"
            for e, n in s["ledgerbot_pages_by_engine"].items()
        )
        print(f"{s['split']:<6}ledgerbot pages: {where}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
