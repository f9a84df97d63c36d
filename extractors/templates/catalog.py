"""The templates of one or more folders, known by their identity at once and loaded on first use.

Parsing a thousand YAML files costs seconds; what matching needs of each template is only its
``match`` block, its status and its origin. Those are kept per folder in ``.index.json`` beside
the templates, keyed by file name, modification time and size; a file that changed is parsed
and validated again (so a broken template still fails by name), an unchanged one costs a stat.
The full template is parsed when a document's identity points at it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.templates.schema import Match, Template, TemplateError, load_template

INDEX_FILE = ".index.json"
INDEX_VERSION = 1


@dataclass(slots=True)
class Entry:
    """One template as matching sees it; ``template()`` parses the whole file the first time."""

    id: str
    version: int
    status: str
    learned: bool
    match: Match
    path: Path | None = None
    _template: Template | None = field(default=None, repr=False)

    @classmethod
    def of(cls, template: Template, path: Path | None = None) -> Entry:
        return cls(
            template.id,
            template.version,
            template.status,
            template.provenance.source == "learned",
            template.match,
            path,
            template,
        )

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def template(self) -> Template:
        if self._template is None:
            assert self.path is not None
            self._template = load_template(self.path)
        return self._template


def _summary(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "version": template.version,
        "status": template.status,
        "learned": template.provenance.source == "learned",
        "match": template.match.model_dump(mode="json"),
    }


def folder_entries(folder: Path) -> list[Entry]:
    """Every template of ``folder`` (sorted by file name), refreshing the folder's index file."""
    if not folder.is_dir():
        return []
    index_path = folder / INDEX_FILE
    cached: dict[str, Any] = {}
    try:
        data = json.loads(index_path.read_text(encoding="utf-8"))
        if data.get("version") == INDEX_VERSION:
            cached = data.get("entries") or {}
    except (OSError, ValueError):
        cached = {}
    entries: list[Entry] = []
    fresh: dict[str, Any] = {}
    changed = False
    for path in sorted(folder.glob("*.yml")):
        stat = path.stat()
        stamp = [stat.st_mtime_ns, stat.st_size]
        known = cached.get(path.name)
        if known is not None and known.get("stamp") == stamp:
            summary = known["summary"]
            entry = Entry(
                summary["id"],
                summary["version"],
                summary["status"],
                summary["learned"],
                # Validated when the file was indexed; unchanged since (same time and size).
                Match.model_construct(**summary["match"]),
                path,
            )
        else:
            template = load_template(path)  # a broken file raises here, naming itself
            summary = _summary(template)
            entry = Entry.of(template, path)
            changed = True
        fresh[path.name] = {"stamp": stamp, "summary": summary}
        entries.append(entry)
    if changed or set(fresh) != set(cached):
        _write_index(index_path, fresh)
    return entries


def _write_index(path: Path, entries: dict[str, Any]) -> None:
    """Best effort: a read-only folder still works, it is only parsed in full every time."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps({"version": INDEX_VERSION, "entries": entries}), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)


def load_entries(folders: Sequence[Path]) -> list[Entry]:
    """Entries of several folders; a template id given twice keeps the later folder's."""
    by_id: dict[str, Entry] = {}
    for folder in folders:
        for entry in folder_entries(folder):
            by_id[entry.id] = entry
    return list(by_id.values())


__all__ = ["INDEX_FILE", "Entry", "TemplateError", "folder_entries", "load_entries"]
