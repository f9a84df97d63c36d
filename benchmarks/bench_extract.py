"""Born-digital throughput of the whole ``ledgerbot extract`` path next to pdfplumber word extraction alone.

Generates (or reuses) a batch of born-digital invoices and credit notes from the sandbox corpus,
then times, on the same files:

1. pdfplumber ``extract_words`` on every page, in this process (the floor any extractor pays);
2. ``ledgerbot extract FILE...`` as a subprocess, once for the whole batch (model/template loading
   included, as a user sees it);
3. the in-process ``Extractor`` after loading (text layer workers + classifier + template + generic),
   i.e. the steady-state rate of a long-running worker.

Prints one JSON object with pages, seconds and pages/s for each. It never asserts timings.

    python benchmarks/bench_extract.py --n 200 [--corpus DIR] [--skip-cli]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_batch(folder: Path, n: int, seed: int) -> list[Path]:
    """``n`` born-digital payable documents (PDF) from the sandbox corpus generator."""
    if not any(folder.glob("*.pdf")):
        subprocess.run(
            [
                sys.executable, "-m", "ledgerbot", "sandbox", "corpus", str(folder), "--n", str(int(n * 1.6)),
                "--seed", str(seed), "--no-scans", "--no-einvoices", "--doc-type", "invoice",
                "--doc-type", "credit_note",
            ],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    files = []
    for truth in sorted(folder.glob("*.json")):
        if truth.name == "manifest.json":
            continue
        data = json.loads(truth.read_text())
        pdf = truth.with_suffix(".pdf")
        if data.get("variant") == "digital" and pdf.is_file():
            files.append(pdf)
    return files[:n]


def pages_of(files: list[Path]) -> int:
    import pypdfium2

    total = 0
    for path in files:
        pdf = pypdfium2.PdfDocument(str(path))
        total += len(pdf)
        pdf.close()
    return total


def time_pdfplumber(files: list[Path]) -> float:
    import pdfplumber

    started = time.perf_counter()
    for path in files:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_words()
    return time.perf_counter() - started


def time_cli(files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbot", "extract", *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, len(out.stdout.splitlines())


def time_in_process(files: list[Path]) -> tuple[float, float]:
    from ledgerbot.pipeline import Extractor

    started = time.perf_counter()
    extractor = Extractor(warn=lambda _: None).prepare()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    results = list(extractor.extract_paths(files))
    assert len(results) == len(files)
    return loaded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="documents in the batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=None, help="reuse this corpus folder")
    parser.add_argument("--skip-cli", action="store_true", help="skip the subprocess run")
    args = parser.parse_args()
    folder = args.corpus or Path(tempfile.mkdtemp(prefix="bench-extract-"))
    files = make_batch(folder, args.n, args.seed)
    pages = pages_of(files)
    print(f"batch: {len(files)} documents, {pages} pages in {folder}", file=sys.stderr)

    plumber = time_pdfplumber(files)
    report: dict[str, object] = {
        "documents": len(files),
        "pages": pages,
        "pdfplumber_words": {"seconds": round(plumber, 2), "pages_per_second": round(pages / plumber, 2)},
    }
    loaded, steady = time_in_process(files)
    report["extractor_in_process"] = {
        "load_seconds": round(loaded, 2),
        "seconds": round(steady, 2),
        "pages_per_second": round(pages / steady, 2),
    }
    if not args.skip_cli:
        cli, lines = time_cli(files)
        report["ledgerbot_extract_cli"] = {
            "seconds": round(cli, 2),
            "pages_per_second": round(pages / cli, 2),
            "lines": lines,
        }
    report["overhead_vs_pdfplumber"] = round(steady / plumber, 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
