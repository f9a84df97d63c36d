"""Golden tests for vendor templates: each committed sample next to the JSON its template must produce.

A sample ``templates/samples/<id>/<name>.pdf`` has its golden ``<name>.json`` beside it (the
``doc_type``, ``method``, ``fields`` and ``lines`` the template must produce). Regenerating a
golden is an explicit flag (``ledgerbot template test --regen``), and the diff is reviewed like
code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from extractors.templates.engine import TemplateExtractor
from extractors.templates.locate import DocumentView
from extractors.templates.schema import Template, TemplateError, load_template
from ledgerbot.core.domain import DocType, ExtractionResult
from textlayer.model import Document

GOLDEN_KEYS = ("doc_type", "method", "fields", "lines")
ALL_STATUSES = frozenset({"draft", "shadow", "active", "retired"})


def golden_view(result: ExtractionResult) -> dict[str, Any]:
    """The part of a result a golden file pins down (confidences and boxes may move freely)."""
    data = result.model_dump(mode="json")
    return {key: data[key] for key in GOLDEN_KEYS}


def sample_paths(template_file: Path, template: Template) -> list[Path]:
    return [(template_file.parent / sample).resolve() for sample in template.samples]


def run_sample(
    template: Template, sample: Path, doc_type: DocType | None, document: Document | None = None
) -> ExtractionResult:
    """Read ``sample`` (unless its text layer is given) and apply ``template`` to it; the template
    must also be the one that matches."""
    from textlayer import read_document

    document = document or read_document(sample, name=sample.name)
    engine = TemplateExtractor([template])
    view = DocumentView(document)
    # A draft or shadow template is tested like an active one: its status only says who trusts it.
    if engine.match_evidence(view, statuses=ALL_STATUSES) is None:
        raise TemplateError(f"{template.id}.yml:[match] does not match its own sample {sample.name}")
    result = engine.apply(template, document, doc_type, view=view)
    result.source = sample.name
    result.doc_type = doc_type
    return result


def diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Human-readable differences, one per field or line."""
    out = []
    if expected.get("doc_type") != got.get("doc_type"):
        out.append(f"doc_type: expected {expected.get('doc_type')!r}, got {got.get('doc_type')!r}")
    if expected.get("method") != got.get("method"):
        out.append(f"method: expected {expected.get('method')!r}, got {got.get('method')!r}")
    for name, value in (expected.get("fields") or {}).items():
        if (got.get("fields") or {}).get(name) != value:
            out.append(f"fields.{name}: expected {value!r}, got {(got.get('fields') or {}).get(name)!r}")
    exp_lines, got_lines = expected.get("lines") or [], got.get("lines") or []
    if len(exp_lines) != len(got_lines):
        out.append(f"lines: expected {len(exp_lines)}, got {len(got_lines)}")
    for i, (a, b) in enumerate(zip(exp_lines, got_lines, strict=False)):
        if a != b:
            out.append(f"lines[{i}]: expected {a}, got {b}")
    return out


def run_template_tests(
    folder: Path, *, ids: Sequence[str] | None = None, regen: bool = False
) -> Iterator[dict[str, Any]]:
    """One outcome per (template, sample): ``status`` ok / fail / written, with the differences."""
    for path in sorted(folder.glob("*.yml")):
        if ids and path.stem not in ids:
            continue
        try:
            template = load_template(path)
        except TemplateError as error:
            yield {"template": path.stem, "sample": None, "status": "fail", "problems": [error.message]}
            continue
        if not template.samples:
            yield {
                "template": template.id,
                "sample": None,
                "status": "fail",
                "problems": ["no samples listed"],
            }
            continue
        for sample in sample_paths(path, template):
            yield _one(template, sample, regen)


def _one(template: Template, sample: Path, regen: bool) -> dict[str, Any]:
    golden_path = sample.with_suffix(".json")
    outcome: dict[str, Any] = {"template": template.ref, "sample": sample.name}
    expected: dict[str, Any] | None = None
    if golden_path.is_file():
        expected = json.loads(golden_path.read_text(encoding="utf-8"))
    if not sample.is_file():
        return {**outcome, "status": "fail", "problems": [f"sample {sample} is missing"]}
    doc_type_raw = (expected or {}).get("doc_type") or "invoice"
    try:
        result = run_sample(template, sample, DocType(doc_type_raw))
    except TemplateError as error:
        return {**outcome, "status": "fail", "problems": [error.message]}
    got = golden_view(result)
    if regen or expected is None:
        golden_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return {**outcome, "status": "written", "problems": []}
    problems = diff(expected, got)
    return {**outcome, "status": "fail" if problems else "ok", "problems": problems}
