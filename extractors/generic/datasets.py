"""Labelled documents for training and measuring the generic extractor, from every source we have.

Four kinds of folder, one shape out (``LabelledDocument``): a generated corpus (``ledgerbot
sandbox corpus``, our layouts or the layout randomizer's), a folder of e-invoice PDFs with truth
from their own XML (``extractors.einvoice.make_truth``), the real-world PDFs and the SROIE
receipts of ``shared/data/realworld`` (each only in the part ``realworld_split`` gives it). SROIE
receipts are read from their ground-truth OCR lines (``NNN.boxes.csv``), so field choice is
measured apart from OCR quality. Each document says which fields its truth speaks for: SROIE
labels only company, date and total, so a receipt teaches nothing about the other fields.
"""

from __future__ import annotations

import csv
import hashlib
import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractors.evaluation import PAYABLE
from extractors.realworld import realworld_split
from extractors.values import FIELD_TYPES, parse_amount, parse_date
from textlayer.model import Document, Line, Page, Word

ALL_FIELDS = frozenset(FIELD_TYPES)
# The key fields of the SROIE competition, as our field names (the address is not one of ours).
SROIE_FIELDS = {"company": "vendor_name", "date": "invoice_date", "total": "total"}
TEXT_VARIANTS = ("digital", "scan_png", "scan_pdf", "photo")


@dataclass
class LabelledDocument:
    document: Document
    fields: dict[str, Any]  # field -> true value as the contract writes it (None: not printed)
    known: frozenset[str]  # the fields the truth speaks for
    doc_type: str
    group: str  # documents of one group are held out together (a layout, a source document)
    source: str  # corpus, einvoice, realworld, sroie
    lines: list[dict[str, Any]] | None = None


def _corpus_files(folder: Path, split: str, variants: tuple[str, ...]) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for truth_path in sorted(folder.rglob("*.json")):
        if truth_path.name == "manifest.json":
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("doc_type") not in PAYABLE or not truth.get("fields"):
            continue
        if split and truth.get("split", split) != split:
            continue
        if truth.get("variant", "digital") not in variants:
            continue
        docs = [p for p in truth_path.parent.glob(truth_path.stem + ".*") if p.suffix.lower() != ".json"]
        if len(docs) == 1:
            out.append((docs[0], truth))
    return out


def _read(paths: list[Path], cache: Path | None, log: Callable[[str], None]) -> list[Document | None]:
    """Text layers of ``paths``; with ``cache``, kept per file content and text-layer version."""
    from textlayer import TEXT_LAYER_VERSION, TextLayerReader
    from textlayer.errors import TextLayerError

    keys = [hashlib.sha256(p.read_bytes()).hexdigest()[:24] + f"-v{TEXT_LAYER_VERSION}" for p in paths]
    out: list[Document | None] = [None] * len(paths)
    todo = []
    for i, key in enumerate(keys):
        hit = cache / f"{key}.pickle" if cache else None
        if hit is not None and hit.exists():
            out[i] = pickle.loads(hit.read_bytes())
        else:
            todo.append(i)
    if todo:
        log(f"  reading {len(todo)} text layers ({len(paths) - len(todo)} cached)")
        with TextLayerReader() as reader:
            documents = reader.read_many([paths[i] for i in todo])
            for n, (i, document) in enumerate(zip(todo, documents, strict=True)):
                if isinstance(document, TextLayerError):
                    log(f"  skipped {paths[i].name}: {document}")
                    continue
                out[i] = document
                if cache is not None:
                    cache.mkdir(parents=True, exist_ok=True)
                    (cache / f"{keys[i]}.pickle").write_bytes(pickle.dumps(document))
                if (n + 1) % 50 == 0:
                    log(f"  {n + 1}/{len(todo)} read")
    return out


def labelled_folder(
    folder: Path,
    *,
    split: str = "dev",
    variants: tuple[str, ...] = TEXT_VARIANTS,
    source: str = "corpus",
    cache: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> list[LabelledDocument]:
    """A generated corpus or an e-invoice truth folder: ``<stem>.<pdf|png>`` beside ``<stem>.json``.

    ``split`` "" takes every document (a truth folder has no splits).
    """
    files = _corpus_files(folder, split, variants)
    out = []
    for (path, truth), document in zip(files, _read([p for p, _ in files], cache, log), strict=True):
        if document is None:
            continue
        layout = truth.get("layout") or str(path.relative_to(folder).with_suffix(""))
        out.append(
            LabelledDocument(
                document, dict(truth["fields"]), ALL_FIELDS, truth["doc_type"], f"{source}:{layout}", source,
                truth.get("lines"),
            )
        )  # fmt: skip
    return out


def realworld_pdfs(
    folder: Path, part: str, *, cache: Path | None = None, log: Callable[[str], None] = lambda _m: None
) -> list[LabelledDocument]:
    """The real invoices of ``folder`` (``realworld/pdf``) that fall in ``part`` ("dev" or "val")."""
    files = [
        (pdf, json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8")))
        for pdf in sorted(folder.glob("*.pdf"))
        if pdf.with_suffix(".json").exists() and realworld_split(pdf.stem) == part
    ]
    files = [(p, t) for p, t in files if t.get("doc_type") in PAYABLE]
    out = []
    for (path, truth), document in zip(files, _read([p for p, _ in files], cache, log), strict=True):
        if document is not None:
            out.append(
                LabelledDocument(
                    document, dict(truth["fields"]), ALL_FIELDS, truth["doc_type"], f"realworld:{path.stem}",
                    "realworld", truth.get("lines"),
                )
            )  # fmt: skip
    return out


def sroie_truth(key_file: Path) -> dict[str, Any]:
    """A SROIE key file (company, date, total as printed) in the contract's shape."""
    raw = json.loads(key_file.read_text(encoding="utf-8"))
    fields: dict[str, Any] = {}
    for key, name in SROIE_FIELDS.items():
        text = str(raw.get(key) or "").strip()
        if not text:
            fields[name] = None
        elif name == "invoice_date":
            day = parse_date(text.split()[0], "DMY") if text else None
            fields[name] = day.isoformat() if day else None
        elif name == "total":
            amount = parse_amount(text)
            fields[name] = str(amount) if amount is not None else None
        else:
            fields[name] = text
    return fields


def sroie_document(boxes: Path, width: float, height: float) -> Document:
    """A receipt's ground-truth OCR lines (``x1,y1,...,x4,y4,text``) as a one-page text layer.

    A line's words get boxes in proportion to their length within the line's box.
    """
    lines = []
    with boxes.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 9:
                continue
            try:
                xs = [float(v) for v in row[0:8:2]]
                ys = [float(v) for v in row[1:8:2]]
            except ValueError:
                continue
            text = ",".join(row[8:]).strip()
            parts = text.split()
            if not parts:
                continue
            x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
            per_char = (x1 - x0) / max(len(text), 1)
            words, at = [], x0
            for part in parts:
                w = len(part) * per_char
                words.append(Word(part, (at, top, at + w, bottom), 1.0, size=bottom - top))
                at += w + per_char
            lines.append(Line(words))
    lines.sort(key=lambda line: (line.bbox[1], line.bbox[0]))
    page = Page(1, width, height, lines, unit="px", source="ocr")
    return Document([page], source=str(boxes))


def sroie_photos(
    folder: Path, part: str, *, cache: Path | None = None, log: Callable[[str], None] = lambda _m: None
) -> list[LabelledDocument]:
    """The SROIE receipts of ``folder`` in ``part``, read from their photos by our own OCR."""
    keys = [k for k in sorted(folder.glob("*.json")) if realworld_split(k.name.split(".")[0]) == part]
    photos = [folder / f"{k.name.split('.')[0]}.jpg" for k in keys]
    pairs = [(k, p) for k, p in zip(keys, photos, strict=True) if p.exists()]
    documents = _read([p for _, p in pairs], cache, log)
    known = frozenset(SROIE_FIELDS.values())
    out = []
    for (key, _), document in zip(pairs, documents, strict=True):
        if document is not None:
            group = f"sroie:{key.name.split('.')[0]}"
            out.append(LabelledDocument(document, sroie_truth(key), known, "receipt", group, "sroie"))
    return out


def sroie_receipts(folder: Path, part: str) -> Iterator[LabelledDocument]:
    """The SROIE receipts of ``folder`` in ``part``, read from their ground-truth OCR lines."""
    from PIL import Image

    for key_file in sorted(folder.glob("*.json")):
        stem = key_file.name.split(".")[0]
        boxes = folder / f"{stem}.boxes.csv"
        if realworld_split(stem) != part or not boxes.exists():
            continue
        image = folder / f"{stem}.jpg"
        width, height = Image.open(image).size if image.exists() else (1000, 2000)
        yield LabelledDocument(
            sroie_document(boxes, width, height), sroie_truth(key_file), frozenset(SROIE_FIELDS.values()),
            "receipt", f"sroie:{stem}", "sroie",
        )  # fmt: skip
