"""OCR engines on real receipts: word recall and pages/s of tesseract, RapidOCR and our per-page choice.

    .venv/bin/python benchmarks/bench_ocr_engines.py [--folder DIR] [--split dev|val|all] [--limit N]

Reads the ICDAR SROIE receipts in ``../shared/data/realworld/sroie`` (``NNN.jpg`` with the
competition's ground-truth lines in ``NNN.boxes.csv``) and, one page at a time on one core
(``OMP_THREAD_LIMIT=1``, one onnxruntime thread), runs
- raw tesseract: ``pytesseract.image_to_data`` on the file, ``eng``, tesseract's defaults;
- raw RapidOCR: ``RapidOCR()`` with its defaults (its wheel's PP-OCR models) on the file;
- ledgerbot: the text layer's OCR task as a worker runs it (``tasks.ocr_image_page``):
  tesseract with our clean-up, and RapidOCR on the pages tesseract reads poorly
  (``OCREngineSettings``).
Word recall is the share of ground-truth words (split on spaces, compared case-insensitively
as a multiset) found among the engine's words. Pages/s is wall time; CPU seconds per page (this
process and the tesseract it starts) are given beside it, since on a loaded machine they are
the steadier figure. Figures per split of
``extractors.realworld.realworld_split``: rules are read on dev, val is reported beside it.
One JSON line per page and one per split on stdout; a table on stderr. Figures only: nothing
here asserts a timing, and timings taken on a shared machine are noisy.
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

    _raw_rapidocr(path)
    with Image.open(path) as image:
        rapidocr_words(image.convert("L"), config.engines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--split", choices=("dev", "val", "all"), default="all")
    parser.add_argument("--limit", type=int, default=None, help="At most this many receipts per split")
    args = parser.parse_args(argv)
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
