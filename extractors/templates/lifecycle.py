"""A learned template's life: draft -> shadow -> active -> retired, and its shadow record.

A template learned from a clerk's corrections first runs in shadow: on the vendor's next
documents its reading is recorded next to the generic reading and the clerk's final values
(``shadow/<id>.jsonl`` in the templates folder). Once it agreed with the clerk on enough
documents (``trust_after``, default 1) without a disagreement the clerk had to fix, it is
promoted and reads the vendor's documents for decisions. Every status change is appended to
``history/<id>/status.jsonl`` with its reason; the rules themselves are only changed by a new
version (learning again, or an edit).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from extractors.templates.schema import Template, TemplateError, TemplateStatus, load_template
from extractors.values import FIELD_TYPES
from ledgerbot.core.domain import ExtractionResult

_MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"shadow", "active", "retired"}),
    "shadow": frozenset({"active", "retired", "draft"}),
    "active": frozenset({"retired", "shadow"}),
    "retired": frozenset({"shadow", "active"}),
}


class TemplateLifecycleError(TemplateError):
    """A status change or lookup on a template that does not allow it."""

    code = "E413"


@dataclass(frozen=True, slots=True)
class ShadowOutcome:
    """One document read in shadow: did the template agree with the clerk's final values?"""

    template: str  # id@version
    document: str
    agreed: list[str]
    disagreed: list[str]  # fields the clerk's values contradict
    generic_wrong: list[str]  # fields the generic extractor had wrong (what the template would save)
    promoted: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "document": self.document,
            "agreed": self.agreed,
            "disagreed": self.disagreed,
            "generic_wrong": self.generic_wrong,
            "promoted": self.promoted,
        }


def _path(folder: Path, template_id: str) -> Path:
    path = folder / f"{template_id}.yml"
    if not path.is_file():
        raise TemplateLifecycleError(f"no template {template_id!r} in {folder}")
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _append(path: Path, record: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def set_status(folder: Path, template_id: str, status: TemplateStatus, *, reason: str) -> dict[str, Any]:
    """Move a template to ``status`` (checked against the allowed moves) and record why."""
    path = _path(folder, template_id)
    template = load_template(path)
    if status == template.status:
        return {"id": template.id, "version": template.version, "status": status, "changed": False}
    if status not in _MOVES[template.status]:
        raise TemplateLifecycleError(
            f"template {template.ref} is {template.status}; it cannot become {status} "
            f"(allowed: {', '.join(sorted(_MOVES[template.status]))})"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["status"] = status
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    record = {"at": _now(), "template": template.ref, "from": template.status, "to": status, "reason": reason}
    _append(folder / "history" / template.id / "status.jsonl", record)
    return {"id": template.id, "version": template.version, "status": status, "changed": True}


def edit_template(folder: Path, template_id: str, text: str, *, by: str, reason: str) -> dict[str, Any]:
    """Replace a template with an edited one: validated, the next version, the old one kept."""
    from datetime import date

    from extractors.templates.learn import dump_template
    from extractors.templates.schema import parse_template

    path = _path(folder, template_id)
    current = load_template(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TemplateError(f"{path.name}:[] is not valid YAML: {error}", file=str(path)) from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path.name}:[] a template is a mapping")
    if data.get("id") != current.id:
        raise TemplateLifecycleError(f"{path.name}:[id] an edit keeps the id {current.id!r}")
    archived = folder / "history" / current.id / f"v{current.version}.yml"
    data["version"] = next_version(folder, current.id, current.version)
    provenance = dict(data.get("provenance") or {})
    provenance["previous"] = str(archived.relative_to(folder))
    provenance["edits"] = [*provenance.get("edits", []), f"{by} on {date.today().isoformat()}: {reason}"]
    data["provenance"] = provenance
    template = parse_template(data, path.name)  # an edit that would not load is never written
    return _replace(folder, current, template, dump_template(data), reason)


def _replace(folder: Path, current: Template, template: Template, text: str, reason: str) -> dict[str, Any]:
    """Write ``template`` (as ``text``) in place of ``current``, kept as ``history/<id>/v<N>.yml``."""
    path = folder / f"{current.id}.yml"
    history = folder / "history" / current.id
    history.mkdir(parents=True, exist_ok=True)
    (history / f"v{current.version}.yml").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    _append(
        history / "status.jsonl",
        {"at": _now(), "template": template.ref, "from": current.ref, "to": template.ref, "reason": reason},
    )
    return {"id": template.id, "version": template.version, "status": template.status}


def next_version(folder: Path, template_id: str, current: int) -> int:
    """The version a new reading of a template gets: past the current one and every one kept in
    ``history/`` (after a rollback the file holds an older version than the newest)."""
    kept = [
        int(match[1])
        for path in (folder / "history" / template_id).glob("v*.yml")
        if (match := re.fullmatch(r"v(\d+)\.yml", path.name))
    ]
    return max([current, *kept]) + 1


def restore_version(
    folder: Path, template_id: str, text: str, *, expected: int, reason: str
) -> dict[str, Any]:
    """Put an earlier version's YAML ``text`` back as the template, active, in place of version
    ``expected`` (kept in ``history/`` as any replaced version is); validated before it is written."""
    from extractors.templates.learn import dump_template
    from extractors.templates.schema import parse_template

    path = _path(folder, template_id)
    current = load_template(path)
    if current.version != expected:
        raise TemplateLifecycleError(
            f"template {current.ref} is no longer version {expected}: nothing rolled back"
        )
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or data.get("id") != current.id:
        raise TemplateLifecycleError(f"{path.name}:[id] the version to restore is not of {current.id!r}")
    data["status"] = "active"
    template = parse_template(data, path.name)  # a version that would not load is never written
    return _replace(folder, current, template, dump_template(data), reason)


def shadow_records(folder: Path, template_id: str) -> list[dict[str, Any]]:
    path = folder / "shadow" / f"{template_id}.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def list_templates(folder: Path) -> Iterator[dict[str, Any]]:
    """Every template of ``folder`` with its version, status, origin and shadow record."""
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        try:
            template = load_template(path)
        except TemplateError as error:
            yield {"id": path.stem, "status": "broken", "error": error.message}
            continue
        records = [r for r in shadow_records(folder, template.id) if r.get("template") == template.ref]
        yield {
            "id": template.id,
            "version": template.version,
            "status": template.status,
            "source": template.provenance.source,
            "samples": len(template.samples),
            "identity": {
                "tax_ids": template.match.tax_ids,
                "ibans": template.match.ibans,
                "names": template.match.names,
            },
            "shadow": {
                "documents": len(records),
                "agreed": sum(1 for r in records if not r["disagreed"]),
                "disagreed": sum(1 for r in records if r["disagreed"]),
            },
        }


def _same(name: str, got: Any, want: Any) -> bool:
    from extractors.templates.learn import _same as same_value
    from extractors.templates.locate import normalise_truth

    kind = FIELD_TYPES[name]
    return same_value(kind, normalise_truth(kind, got), normalise_truth(kind, want))


def _differences(result: ExtractionResult, final: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(fields read as the clerk's final values, fields read otherwise); unread fields are neither."""
    read = result.model_dump(mode="json")["fields"]
    agreed: list[str] = []
    disagreed: list[str] = []
    for name, want in final.items():
        if name not in FIELD_TYPES or want is None:
            continue
        got = read.get(name)
        if got is None:
            continue
        (agreed if _same(name, got, want) else disagreed).append(name)
    return agreed, disagreed


def record_shadow(
    folder: Path,
    template: Template,
    document: str,
    template_result: ExtractionResult,
    generic_result: ExtractionResult,
    final: Mapping[str, Any],
    *,
    trust_after: int = 1,
) -> ShadowOutcome:
    """Record one shadow reading against the clerk's final values; promote the template once trusted.

    Trusted means: at least ``trust_after`` documents read in shadow by this version, and not one
    of them with a field the clerk had to set otherwise.
    """
    agreed, disagreed = _differences(template_result, final)
    _, generic_wrong = _differences(generic_result, final)
    record = {
        "at": _now(),
        "template": template.ref,
        "document": document,
        "agreed": agreed,
        "disagreed": disagreed,
        "generic_wrong": generic_wrong,
        "template_reading": template_result.model_dump(mode="json")["fields"],
        "generic_reading": generic_result.model_dump(mode="json")["fields"],
        "final": {k: (str(v) if v is not None else None) for k, v in final.items()},
    }
    _append(folder / "shadow" / f"{template.id}.jsonl", record)
    records = [r for r in shadow_records(folder, template.id) if r.get("template") == template.ref]
    promoted = False
    if (
        template.status == "shadow"
        and len(records) >= trust_after
        and not any(r["disagreed"] for r in records)
    ):
        set_status(
            folder,
            template.id,
            "active",
            reason=f"agreed with the clerk on {len(records)} document(s) in shadow, no disagreement",
        )
        promoted = True
    return ShadowOutcome(template.ref, document, agreed, disagreed, generic_wrong, promoted)
