"""Text-layer speed: born-digital pages/s and OCR pages/s next to pdfplumber and tesseract alone.

    .venv/bin/python benchmarks/bench_textlayer.py [--n 200] [--ocr-n 40] [--folder DIR] [--dpi 300]

Builds a corpus with ``sandbox.corpus.generate_corpus`` (or reads DIR), then times
- pdfplumber alone extracting words from every page (1 process, and 2 processes),
- ``TextLayerReader.read_many`` over the same files (warm workers, both cores),
- raw tesseract (``pytesseract.image_to_data``, same languages and psm, tesseract's defaults
  otherwise, 2 processes, ``OMP_THREAD_LIMIT=1``) on the scan images, next to ``read_many``
  on the same images (which includes our clean-up and our tesseract options),
- scanned PDFs through our path at 200 and 300 dpi,
and prints a table plus one JSON object. OCR accuracy is the word-bag similarity of the OCR text
to the born-digital twin of each scan. Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textlayer import Document, TextLayerConfig, TextLayerReader


def _plumber_words(path: str) -> int:
    import pdfplumber

    pages = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_words()
            pages += 1
            page.close()
    return pages


def _init_ocr_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"


def _raw_tesseract(job: tuple[str, str, int]) -> list[str]:
    import pytesseract

    path, lang, psm = job
    data = pytesseract.image_to_data(
        path, lang=lang, config=f"--psm {psm}", output_type=pytesseract.Output.DICT
    )
    return [t for t in data["text"] if t and t.strip()]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def _similarity(words: list[str], truth: list[str]) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(" ".join(sorted(truth)), " ".join(sorted(words))) / 100


def _twin_words(folder: Path, stem: str) -> list[str] | None:
    """Words of the born-digital original a scan was made from (``source_stem`` in its truth)."""
    import pdfplumber

    truth = folder / f"{stem}.json"
    if not truth.exists():
        return None
    source = json.loads(truth.read_text(encoding="utf-8")).get("source_stem")
    if not source or not (folder / f"{source}.pdf").exists():
        return None
    with pdfplumber.open(folder / f"{source}.pdf") as pdf:
        return [w["text"] for page in pdf.pages for w in page.extract_words()]


def _variant(folder: Path, path: Path) -> str:
    truth = folder / f"{path.stem}.json"
    if truth.exists():
        return str(json.loads(truth.read_text(encoding="utf-8")).get("variant", "digital"))
    return "digital"


def build_corpus(out: Path, n: int, seed: int, scans: bool) -> Path:
    from sandbox.corpus import generate_corpus

    print(f"generating {n} documents into {out} ...", file=sys.stderr)
    generate_corpus(out, n, seed, scans=scans, einvoices=False)
    return out


def bench_digital(paths: list[Path], workers: int) -> dict[str, Any]:
    files = [str(p) for p in paths]
    t_one, pages_list = _timed(lambda: [_plumber_words(f) for f in files])
    pages = sum(pages_list)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_plumber_words, files[:2])  # warm the imports, as the reader's workers are
        t_pool, _ = _timed(lambda: pool.map(_plumber_words, files, chunksize=4))
    with TextLayerReader(TextLayerConfig(workers=workers)) as reader:
        t_start, _ = _timed(lambda: list(reader.read_many(files[:2])))
        t_ours, docs = _timed(lambda: list(reader.read_many(files)))
    errors = [d for d in docs if not isinstance(d, Document)]
    ocr_pages = sum(1 for d in docs if isinstance(d, Document) for p in d.pages if p.source == "ocr")
    with TextLayerReader(TextLayerConfig(workers=workers, digital_backend="pdfium")) as reader:
        list(reader.read_many(files[:2]))
        t_fast, fast_docs = _timed(lambda: list(reader.read_many(files)))
    same_words = same_boxes = compared = 0
    for ref, fast in zip(docs, fast_docs, strict=True):
        if not (isinstance(ref, Document) and isinstance(fast, Document)):
            continue
        for ref_page, page in zip(ref.pages, fast.pages, strict=True):
            compared += 1
            if [w.text for w in ref_page.words] != [w.text for w in page.words]:
                continue
            same_words += 1
            # pdfminer gives the euro sign no width; pdfium its real advance.
            pairs = [(a, b) for a, b in zip(ref_page.words, page.words, strict=True) if "€" not in a.text]
            if all(max(abs(x - y) for x, y in zip(a.bbox, b.bbox, strict=True)) <= 0.5 for a, b in pairs):
                same_boxes += 1
    return {
        "files": len(files),
        "pages": pages,
        "pdfplumber_1proc_s": round(t_one, 3),
        f"pdfplumber_{workers}proc_s": round(t_pool, 3),
        "ours_s": round(t_ours, 3),
        "ours_warmup_s": round(t_start, 3),
        "pdfplumber_1proc_pages_per_s": round(pages / t_one, 2),
        f"pdfplumber_{workers}proc_pages_per_s": round(pages / t_pool, 2),
        "ours_pages_per_s": round(pages / t_ours, 2),
        "ours_vs_pdfplumber_1proc": round(t_ours / t_one, 3),
        f"ours_vs_pdfplumber_{workers}proc": round(t_ours / t_pool, 3),
        "errors": len(errors),
        "pages_sent_to_ocr": ocr_pages,
        "pdfium_backend_s": round(t_fast, 3),
        "pdfium_backend_pages_per_s": round(pages / t_fast, 2),
        "pdfium_vs_pdfplumber_1proc": round(t_fast / t_one, 3),
        "pdfium_pages_compared": compared,
        "pdfium_pages_same_words": same_words,
        "pdfium_pages_same_boxes_0_5pt": same_boxes,
    }


def _render_pages(pdf: Path, config: TextLayerConfig, out: Path) -> list[Path]:
    """The page images our path OCRs: each scan at its own resolution (capped at ocr_dpi)."""
    import pypdfium2 as pdfium

    from textlayer.tasks import _render_dpi

    doc = pdfium.PdfDocument(str(pdf))
    paths = []
    for i in range(len(doc)):
        dpi = _render_dpi(doc[i], config)
        image = doc[i].render(scale=dpi / 72, grayscale=True).to_pil()
        path = out / f"{pdf.stem}-p{i + 1}.png"
        image.save(path)
        paths.append(path)
    doc.close()
    return paths


def bench_ocr(folder: Path, scans: list[Path], workers: int, dpi: int, limit: int) -> dict[str, Any]:
    config = TextLayerConfig(workers=workers, ocr_dpi=dpi)
    tmp = Path(tempfile.mkdtemp(prefix="bench-textlayer-pages-"))
    try:
        return _bench_ocr(folder, scans, workers, config, limit, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench_ocr(
    folder: Path, scans: list[Path], workers: int, config: TextLayerConfig, limit: int, tmp: Path
) -> dict[str, Any]:
    images: list[tuple[Path, str, int]] = []  # image, stem of the scan, page index
    for scan in scans:
        if scan.suffix == ".png":
            images.append((scan, scan.stem, 1))
        else:
            for i, page in enumerate(_render_pages(scan, config, tmp)):
                images.append((page, scan.stem, i + 1))
        if len(images) >= limit:
            break
    images = images[:limit]
    jobs = [(str(p), config.languages, config.psm) for p, _, _ in images]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_ocr_worker) as pool:
        pool.map(_warm, range(workers))
        t_raw, raw_words = _timed(lambda: pool.map(_raw_tesseract, jobs, chunksize=1))
    with TextLayerReader(config) as reader:
        list(reader.read_many([str(images[0][0])]))  # warm
        t_ours, docs = _timed(lambda: list(reader.read_many([str(p) for p, _, _ in images])))
    sims_raw, sims_ours, osd_pages, deskewed = [], [], 0, 0
    failed = [
        f"{p.name}: {d}" for (p, _, _), d in zip(images, docs, strict=True) if not isinstance(d, Document)
    ]
    for (_, stem, page), raw, doc in zip(images, raw_words, docs, strict=True):
        if not isinstance(doc, Document):
            continue
        # The born-digital twin's words of the same page.
        truth = _page_words(folder, stem, page)
        if truth is None:
            continue
        sims_raw.append(_similarity(raw, truth))
        sims_ours.append(_similarity([w.text for p in doc.pages for w in p.words], truth))
        osd_pages += sum(1 for p in doc.pages if p.rotation)
        deskewed += sum(1 for p in doc.pages if p.skew)
    n = len(images)
    return {
        "images": n,
        "raw_tesseract_s": round(t_raw, 3),
        "ours_s": round(t_ours, 3),
        "raw_tesseract_pages_per_s": round(n / t_raw, 3),
        "ours_pages_per_s": round(n / t_ours, 3),
        "ours_vs_raw": round(t_ours / t_raw, 3),
        "raw_similarity_to_twin": round(sum(sims_raw) / len(sims_raw), 4) if sims_raw else None,
        "ours_similarity_to_twin": round(sum(sims_ours) / len(sims_ours), 4) if sims_ours else None,
        "pages_turned": osd_pages,
        "pages_deskewed": deskewed,
        "errors": failed,
    }


def _warm(_: int) -> None:
    import pytesseract  # noqa: F401


def _page_words(folder: Path, stem: str, page: int) -> list[str] | None:
    import pdfplumber

    truth = folder / f"{stem}.json"
    source = json.loads(truth.read_text(encoding="utf-8")).get("source_stem") if truth.exists() else None
    if not source:
        return None
    with pdfplumber.open(folder / f"{source}.pdf") as pdf:
        if page > len(pdf.pages):
            return None
        return [w["text"] for w in pdf.pages[page - 1].extract_words()]


def bench_scanned_pdfs(folder: Path, pdfs: list[Path], workers: int, dpis: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"files": len(pdfs)}
    for dpi in dpis:
        with TextLayerReader(TextLayerConfig(workers=workers, ocr_dpi=dpi)) as reader:
            list(reader.read_many([str(pdfs[0])]))
            elapsed, docs = _timed(lambda reader=reader: list(reader.read_many([str(p) for p in pdfs])))
        pages = sum(len(d.pages) for d in docs if isinstance(d, Document))
        sims = []
        for path, doc in zip(pdfs, docs, strict=True):
            truth = _twin_words(folder, path.stem)
            if truth is not None and isinstance(doc, Document):
                sims.append(_similarity([w.text for p in doc.pages for w in p.words], truth))
        out[f"dpi{dpi}"] = {
            "pages": pages,
            "seconds": round(elapsed, 3),
            "pages_per_s": round(pages / elapsed, 3),
            "similarity_to_twin": round(sum(sims) / len(sims), 4) if sims else None,
        }
    return out


def bench_forced_ocr(pdfs: list[Path], workers: int, dpis: list[int]) -> dict[str, Any]:
    """Born-digital pages OCR'd anyway (``ocr="always"``) at each dpi, against their own words:
    the case where the render resolution is ours to choose (vector pages, outlined text)."""
    import pdfplumber

    truths = []
    for path in pdfs:
        with pdfplumber.open(path) as pdf:
            truths.append([w["text"] for page in pdf.pages for w in page.extract_words()])
    out: dict[str, Any] = {"files": len(pdfs)}
    for dpi in dpis:
        with TextLayerReader(TextLayerConfig(workers=workers, ocr_dpi=dpi)) as reader:
            list(reader.read_many([str(pdfs[0])], ocr="always"))
            elapsed, docs = _timed(
                lambda reader=reader: list(reader.read_many([str(p) for p in pdfs], ocr="always"))
            )
        pages = sum(len(d.pages) for d in docs if isinstance(d, Document))
        sims = [
            _similarity([w.text for p in d.pages for w in p.words], truth)
            for d, truth in zip(docs, truths, strict=True)
            if isinstance(d, Document)
        ]
        out[f"dpi{dpi}"] = {
            "pages": pages,
            "seconds": round(elapsed, 3),
            "pages_per_s": round(pages / elapsed, 3),
            "similarity_to_text_layer": round(sum(sims) / len(sims), 4) if sims else None,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200, help="born-digital documents to generate")
    parser.add_argument("--ocr-n", type=int, default=24, help="scan images to OCR")
    parser.add_argument("--folder", type=Path, help="read this folder instead of generating a corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument(
        "--compare-dpi",
        action="store_true",
        help="also OCR scanned PDFs, and born-digital PDFs with ocr='always', at 200 and 300 dpi",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-digital", action="store_true")
    parser.add_argument("--skip-ocr", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-textlayer-"))
    try:
        _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> None:
    results: dict[str, Any] = {"workers": args.workers, "cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    pdfs: list[Path] = []
    if not args.skip_digital:
        folder = args.folder or build_corpus(work / "digital", args.n, args.seed, scans=False)
        pdfs = sorted(p for p in folder.glob("*.pdf") if _variant(folder, p) in ("digital", "facturx"))
        results["digital"] = bench_digital(pdfs, args.workers)
        _print_table({"workers": args.workers, "digital": results["digital"]})
    if args.compare_dpi:
        if not pdfs:
            folder = args.folder or build_corpus(work / "digital-dpi", 8, args.seed, scans=False)
            pdfs = sorted(p for p in folder.glob("*.pdf") if _variant(folder, p) in ("digital", "facturx"))
        results["ocr_forced_digital"] = bench_forced_ocr(pdfs[:6], args.workers, [200, 300])
    if not args.skip_ocr:
        folder = args.folder or build_corpus(
            work / "scans", max(40, args.ocr_n * 3), args.seed + 1, scans=True
        )
        scans = sorted(p for p in folder.iterdir() if _variant(folder, p) in ("scan_png", "scan_pdf"))
        pngs = [p for p in scans if p.suffix == ".png"]
        scan_pdfs = [p for p in scans if p.suffix == ".pdf"]
        results["ocr_images"] = bench_ocr(folder, pngs + scan_pdfs, args.workers, args.dpi, args.ocr_n)
        if args.compare_dpi and scan_pdfs:
            results["ocr_scanned_pdfs"] = bench_scanned_pdfs(folder, scan_pdfs[:6], args.workers, [200, 300])

    _print_table({k: v for k, v in results.items() if k != "digital"})
    print(json.dumps(results))


def _print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    d = results.get("digital")
    if d:
        w = results["workers"]
        rows += [
            ("born-digital pages", str(d["pages"]), f"{d['files']} files"),
            (
                "pdfplumber words, 1 process",
                f"{d['pdfplumber_1proc_pages_per_s']} p/s",
                f"{d['pdfplumber_1proc_s']} s",
            ),
            (
                f"pdfplumber words, {w} processes",
                f"{d[f'pdfplumber_{w}proc_pages_per_s']} p/s",
                f"{d[f'pdfplumber_{w}proc_s']} s",
            ),
            ("TextLayerReader.read_many", f"{d['ours_pages_per_s']} p/s", f"{d['ours_s']} s"),
            ("  cost vs pdfplumber 1 proc", f"{d['ours_vs_pdfplumber_1proc']}x", "target <= 2x"),
            (f"  cost vs pdfplumber {w} procs", f"{d[f'ours_vs_pdfplumber_{w}proc']}x", ""),
            (
                "read_many, pdfium backend",
                f"{d['pdfium_backend_pages_per_s']} p/s",
                f"{d['pdfium_backend_s']} s",
            ),
            ("  cost vs pdfplumber 1 proc", f"{d['pdfium_vs_pdfplumber_1proc']}x", ""),
            (
                "  pages with pdfplumber's words",
                f"{d['pdfium_pages_same_words']}/{d['pdfium_pages_compared']}",
                f"boxes within 0.5 pt: {d['pdfium_pages_same_boxes_0_5pt']}",
            ),
        ]
    o = results.get("ocr_images")
    if o:
        rows += [
            ("OCR images", str(o["images"]), ""),
            (
                "raw tesseract (pytesseract)",
                f"{o['raw_tesseract_pages_per_s']} p/s",
                f"words vs twin {o['raw_similarity_to_twin']}",
            ),
            (
                "TextLayerReader.read_many",
                f"{o['ours_pages_per_s']} p/s",
                f"words vs twin {o['ours_similarity_to_twin']}",
            ),
            ("  cost vs raw tesseract", f"{o['ours_vs_raw']}x", "target <= 1.15x"),
        ]
    s = results.get("ocr_scanned_pdfs")
    if s:
        for key in sorted(k for k in s if k.startswith("dpi")):
            rate, sim = s[key]["pages_per_s"], s[key]["similarity_to_twin"]
            rows.append((f"scanned PDFs, ocr_dpi {key[3:]}", f"{rate} p/s", f"words vs twin {sim}"))
    f = results.get("ocr_forced_digital")
    if f:
        for key in sorted(k for k in f if k.startswith("dpi")):
            rate, sim = f[key]["pages_per_s"], f[key]["similarity_to_text_layer"]
            rows.append((f"digital PDFs OCR'd at {key[3:]} dpi", f"{rate} p/s", f"words vs text layer {sim}"))
    width = max(len(r[0]) for r in rows) if rows else 0
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>14}  {note}", file=sys.stderr)


if __name__ == "__main__":
    main()
