"""A text-layer worker loads only the libraries the pages it reads need (pdfplumber only for its backend)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from textlayer_docs import invoice_lines, pdf_bytes

# Run in a fresh interpreter: what a worker imports can only be seen in a process of its own.
# It does what a worker does (``preload`` at boot, then ``run_task`` per file) and reports.
_WORKER = """
import json, sys
from pathlib import Path
from textlayer.config import TextLayerConfig
from textlayer.worker import preload, run_task
preload()
booted = sorted(sys.modules)
config = TextLayerConfig(digital_backend=sys.argv[2])
parsed = run_task("parse", (Path(sys.argv[1]).read_bytes(), "invoice.pdf", "auto", config))
print(json.dumps({
    "booted": booted,
    "parsed": sorted(sys.modules),
    "pages": len(parsed.pages),
    "words": sum(len(line.words) for page in parsed.pages.values() for line in page.lines),
}))
"""


def _worker_modules(pdf: Path, backend: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(pdf), backend], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def invoice_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("imports") / "invoice.pdf"
    path.write_bytes(pdf_bytes([invoice_lines(seed=3)]))
    return path


def _loaded(modules: object, package: str) -> bool:
    assert isinstance(modules, list)
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_a_pdfium_worker_reads_a_born_digital_pdf_without_pdfplumber_or_ocr(invoice_pdf: Path) -> None:
    seen = _worker_modules(invoice_pdf, "pdfium")
    assert seen["pages"] == 1 and int(str(seen["words"])) > 20  # it did read the page
    for heavy in ("pdfplumber", "pdfminer.pdfparser", "pytesseract", "tesserocr", "rapidocr", "torch"):
        assert not _loaded(seen["parsed"], heavy), heavy
    assert _loaded(seen["booted"], "pypdfium2")


def test_a_pdfplumber_worker_loads_pdfplumber_with_its_first_parse(invoice_pdf: Path) -> None:
    seen = _worker_modules(invoice_pdf, "pdfplumber")
    assert seen["pages"] == 1 and int(str(seen["words"])) > 20
    assert not _loaded(seen["booted"], "pdfplumber")
    assert _loaded(seen["parsed"], "pdfplumber")
