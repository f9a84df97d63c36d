"""Drafts a vendor template from one sample document (``ledgerbot template new SAMPLE.pdf``).

The generic extractor reads the sample; every field it found next to a label becomes a
label rule (label as printed, direction right or below), fields it found without a label are
delegated back to the generic extractor, the table header becomes the line rule, and the
vendor's VAT id / IBAN become the match. The draft is validated, the sample copied beside it
and its golden JSON written, so ``ledgerbot template test`` passes on a fresh draft and any
later edit is checked against it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from extractors.generic import GenericExtractor
from extractors.generic.candidates import Candidate
from extractors.generic.extractor import _looks_like_credit
from extractors.generic.geometry import build_rows
from extractors.generic.labels import LABELS, tokens
from extractors.generic.tables import find_header
from extractors.templates.golden import golden_view, run_sample
from extractors.templates.schema import TemplateError, parse_template
from extractors.values import FIELD_TYPES
from ledgerbot.core.domain import DocType
from textlayer.model import Document

_COLUMN_NAMES = {
    "col_description": "description",
    "col_sku": "sku",
    "col_quantity": "quantity",
    "col_unit_price": "unit_price",
    "col_amount": "amount",
    "col_pos": "pos",
    "col_tax": "tax",
    "col_unit": "unit",
}
_LANGUAGE_HINTS = {
    "en": {"invoice", "date", "due", "total", "amount", "qty", "description"},
    "de": {"rechnung", "datum", "betrag", "menge", "netto", "bezeichnung", "gesamtbetrag", "mwst"},
    "fr": {"facture", "montant", "echeance", "ttc", "ht", "tva", "designation", "quantite"},
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(tokens(text))).strip("-")[:60] or "vendor"


def _chosen(cands: list[Candidate], value: Any) -> Candidate | None:
    same = [c for c in cands if c.value == value]
    return max(same, key=lambda c: c.score) if same else None


def draft_rules(document: Document) -> dict[str, Any]:
    """The template body (without id/version/samples) for a document."""
    generic = GenericExtractor()
    cands, _ = generic.candidates(document)
    result = generic.extract(document)
    fields: list[dict[str, Any]] = []
    end: list[str] = []
    for name in FIELD_TYPES:
        value = getattr(result.fields, name)
        if value is None:
            continue
        best = _chosen(cands.get(name, []), value)
        if best is not None and best.label_text and best.relation in ("right", "right_gap", "below"):
            rule: dict[str, Any] = {"name": name, "label": best.label_text.rstrip(":")}
            if best.relation == "below":
                rule["direction"] = "below"
            fields.append(rule)
            if name == "subtotal" or (name == "total" and not end):
                end.append(best.label_text.rstrip(":"))
        else:
            fields.append({"name": name, "generic": True})
    _set_occurrences(document, fields, result.model_dump())
    match: dict[str, Any] = {}
    if result.fields.vendor_tax_id:
        match["tax_ids"] = [result.fields.vendor_tax_id]
    if result.fields.vendor_iban:
        match["ibans"] = [result.fields.vendor_iban]
    number_rule = next((f for f in fields if f["name"] == "invoice_number" and "label" in f), None)
    if number_rule is not None:
        match["all"] = [number_rule["label"]]
    body: dict[str, Any] = {
        "match": match,
        "options": _options(document, result.fields.total),
        "fields": fields,
    }
    lines = _line_rules(document, end)
    if lines is not None:
        body["lines"] = lines
    return body


def _set_occurrences(document: Document, fields: list[dict[str, Any]], found: dict[str, Any]) -> None:
    """When a label occurs more than once, pin the occurrence that gave the generic value."""
    from extractors.templates.engine import TemplateExtractor, _Page
    from extractors.templates.schema import FieldRule

    pages = [
        _Page(p.number, rows, [tokens(r.text) for r in rows])
        for p in document.pages
        for rows in [build_rows(p)]
    ]
    engine = TemplateExtractor([])
    for rule in fields:
        if "label" not in rule:
            continue
        hits = engine.hits(FieldRule(**rule), pages, {})
        values = [value for value, _, _ in hits]
        wanted = found["fields"][rule["name"]]
        if values and values[0] != wanted and wanted in values:
            index = values.index(wanted)
            rule["occurrence"] = -1 if index == len(values) - 1 else index + 1


def _options(document: Document, total: Any) -> dict[str, Any]:
    words = set(tokens(document.text))
    scores = {lang: len(words & hints) for lang, hints in _LANGUAGE_HINTS.items()}
    options: dict[str, Any] = {"language": max(scores, key=lambda k: scores[k])}
    if total is not None:
        # The separator the document prints before the cents of its total.
        cents = format(abs(total), "f").split(".")[-1][:2]
        for sep in (",", "."):
            if re.search(rf"\d{re.escape(sep)}{cents}\b", document.text):
                options["decimal_separator"] = sep
                break
    return options


def _line_rules(document: Document, end: list[str]) -> dict[str, Any] | None:
    for page in document.pages:
        for row in build_rows(page):
            columns = find_header(row)
            if columns is None:
                continue
            named = {_COLUMN_NAMES[c.kind]: c.text for c in columns if c.kind in _COLUMN_NAMES}
            text = " ".join(tokens(document.text))
            carry = [p for p in LABELS["carry"][1] if f" {' '.join(tokens(p))} " in f" {text} "]
            rules: dict[str, Any] = {"columns": named, "end": end}
            if carry:
                rules["skip"] = carry
            return rules
    return None


def draft_template(
    sample: Path, folder: Path, *, template_id: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Write ``<folder>/<id>.yml``, ``<folder>/samples/<id>/<sample>`` and its golden JSON."""
    from textlayer import read_document

    document = read_document(sample, name=sample.name)
    body = draft_rules(document)
    if template_id is None:
        name = GenericExtractor().extract(document).fields.vendor_name or sample.stem
        template_id = _slug(name)
    path = folder / f"{template_id}.yml"
    if path.exists() and not force:
        raise TemplateError(f"{path.name}:[] exists already; pass --force to overwrite it")
    sample_dir = folder / "samples" / template_id
    sample_dir.mkdir(parents=True, exist_ok=True)
    copied = sample_dir / sample.name
    if copied.resolve() != sample.resolve():
        shutil.copyfile(sample, copied)
    data = {
        "id": template_id,
        "version": 1,
        "description": f"Drafted from {sample.name}; review labels and the match before committing.",
        **body,
        "samples": [f"samples/{template_id}/{sample.name}"],
    }
    template = parse_template(data, path.name)  # a draft that would not load is never written
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    doc_type = DocType.CREDIT_NOTE if _looks_like_credit(document) else DocType.INVOICE
    result = run_sample(template, copied, doc_type)
    golden = copied.with_suffix(".json")
    import json

    golden.write_text(json.dumps(golden_view(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        "template": str(path),
        "sample": str(copied),
        "golden": str(golden),
        "fields": {rule["name"]: "label" if "label" in rule else "generic" for rule in body["fields"]},
        "lines": "lines" in body,
    }
