"""The vendor-template file format: YAML validated by pydantic, errors that name the file and key path.

A template says how to recognise a vendor's documents (``match``), how to read each header
field (label-anchored, regex, or "ask the generic extractor"), how to read the line table, and
the vendor's formats (date order, decimal separator, language). Value types come from
``extractors.values`` and are never re-declared here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from extractors.values import FIELD_TYPES, LINE_TYPES, VALUE_TYPES
from ledgerbot.core.errors import ConfigError


class TemplateError(ConfigError):
    """A template that cannot be loaded; the message starts with ``file.yml:[key -> path]``."""

    code = "E410"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Match(_Strict):
    """A document matches when every ``all`` keyword, at least one ``any`` keyword (if given), no
    ``none`` keyword, and the vendor's identity (if given) occur in its text.

    The identity is one of ``tax_ids`` / ``ibans`` printed on the document, or one of ``names``
    printed together with at least ``min_fingerprint`` of the layout's ``fingerprint`` words (a
    vendor that changed its bank or tax registration still prints its name on its own layout),
    or two of the ``numbers`` its letterhead prints (registration, telephone, tax numbers no
    label list knows; one when it prints only one) with that share of the layout: a shop whose
    name OCR cannot read is still known by them.
    """

    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    tax_ids: list[str] = Field(default_factory=list)
    ibans: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(
        default_factory=list, description="digits of numbers the vendor's letterhead prints"
    )
    fingerprint: list[str] = Field(
        default_factory=list, description="words every document of the layout prints"
    )
    min_fingerprint: float = Field(default=0.6, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not (self.all or self.any or self.tax_ids or self.ibans or self.names or self.numbers):
            raise ValueError("a template must match on keywords, tax ids, IBANs, names or numbers")
        return self

    @property
    def has_identity(self) -> bool:
        return bool(self.tax_ids or self.ibans or self.names or self.numbers)


class Anchor(_Strict):
    """A learned way to find a value again.

    With ``label``: the value's box relative to the top-left corner of that printed label
    (``box`` = x0, top, x1, bottom in page widths, so a scan in pixels reads like the PDF in
    points). Without: the value's place on page ``page`` as shares of the page's width and
    height. ``held`` counts the samples it read right on.
    """

    label: str | None = None
    box: tuple[float, float, float, float]
    page: int | None = Field(default=None, description="position anchors: 1-based, -1 = last page")
    # Where the label was printed on the sample (shares of the page): of two labels alike (the
    # vendor's "VAT no." and the buyer's), the one in the vendor's place is meant.
    at: tuple[float, float] | None = None
    held: int = Field(default=1, ge=1)
    samples: list[str] = Field(default_factory=list, description="sha256 (first 16) of the samples")
    learned_on: date | None = None

    @model_validator(mode="after")
    def _position_needs_page(self) -> Anchor:
        if self.label is None:
            if self.page is None or self.page == 0:
                raise ValueError("a position anchor (no label) needs page (1-based, -1 = last page)")
            if not all(-0.5 <= v <= 1.5 for v in self.box):
                raise ValueError("a position anchor's box is in shares of the page (0..1)")
        if self.box[2] < self.box[0] or self.box[3] < self.box[1]:
            raise ValueError("box is x0, top, x1, bottom with x1 >= x0 and bottom >= top")
        return self


class SampleSource(_Strict):
    """A sample a template was learned from."""

    file: str
    sha256: str
    learned_on: date


class Provenance(_Strict):
    """Where a template's rules came from: written by a person, or learned from samples."""

    source: Literal["learned", "hand-written"] = "hand-written"
    samples: list[SampleSource] = Field(default_factory=list)
    previous: str | None = Field(default=None, description="file of the version this one replaced")
    # Hand edits on top of what was learned: "who on date: why", newest last.
    edits: list[str] = Field(default_factory=list)


class Options(_Strict):
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    decimal_separator: Literal[".", ","] | None = None
    language: Literal["en", "de", "fr"] | None = None
    currency: str | None = Field(default=None, description="ISO 4217 code when the document never prints one")
    compact_dates: bool = Field(
        default=False, description="dates also printed as eight digits without marks, in date_order"
    )


class FieldRule(_Strict):
    """How to read one header field. Exactly one of ``label``, ``regex``, ``generic``, ``value``,
    ``anchors`` (learned: tried in order, the one that held on most samples first)."""

    name: str
    label: list[str] | str | None = None
    direction: Literal["right", "below"] = "right"
    regex: str | None = None
    generic: bool = False
    value: str | None = None
    type: str | None = None
    page: int | None = Field(default=None, ge=1)
    # Which hit of a label or regex to take when it occurs more than once (1 = first, -1 = last):
    # "USt-IdNr." may label the buyer's VAT id before the vendor's.
    occurrence: int = Field(default=1, description="1-based; negative counts from the end")
    anchors: list[Anchor] = Field(default_factory=list)

    @field_validator("occurrence")
    @classmethod
    def _not_zero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("occurrence is 1-based (1 = first, -1 = last); 0 is not allowed")
        return v

    @field_validator("name")
    @classmethod
    def _known_field(cls, v: str) -> str:
        if v not in FIELD_TYPES:
            raise ValueError(f"unknown field {v!r}; one of {', '.join(FIELD_TYPES)}")
        return v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str | None) -> str | None:
        if v is not None and v not in VALUE_TYPES:
            raise ValueError(f"unknown value type {v!r}; one of {', '.join(VALUE_TYPES)}")
        return v

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            compiled = re.compile(v, re.MULTILINE | re.IGNORECASE)
        except re.error as error:
            raise ValueError(f"invalid regex: {error}") from error
        if "value" not in compiled.groupindex:
            raise ValueError("regex needs a named group (?P<value>...)")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [k for k in ("label", "regex", "value", "anchors") if getattr(self, k)] + (
            ["generic"] if self.generic else []
        )
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of label, regex, generic, value, anchors (got {given or 'none'})"
            )
        return self

    @property
    def labels(self) -> list[str]:
        if self.label is None:
            return []
        return [self.label] if isinstance(self.label, str) else list(self.label)

    @property
    def value_type(self) -> str:
        return self.type or FIELD_TYPES[self.name]


class LineRules(_Strict):
    """The line table: the header text of each column, and what ends the table."""

    columns: dict[str, str]
    end: list[str] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list, description="rows to ignore, e.g. 'Brought forward'")
    samples: list[str] = Field(default_factory=list, description="learned: sha256 (first 16) of the samples")

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        allowed = {*LINE_TYPES, "pos", "tax", "unit"}
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown column(s) {unknown}; allowed: {sorted(allowed)}")
        if not {"amount", "unit_price", "quantity"} & set(v):
            raise ValueError("a line table needs at least one of quantity, unit_price, amount")
        return v


TemplateStatus = Literal["draft", "shadow", "active", "retired"]
# Only an active template reads documents for decisions; a shadow one is read beside the generic
# extractor and compared with the clerk's outcome until it has earned trust.
USED_FOR_DECISIONS: frozenset[str] = frozenset({"active"})


class Template(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: int = Field(ge=1)
    status: TemplateStatus = "active"
    description: str = ""
    provenance: Provenance = Field(default_factory=Provenance)
    match: Match
    options: Options = Field(default_factory=Options)
    fields: list[FieldRule]
    lines: LineRules | None = None
    line_variants: list[LineRules] = Field(
        default_factory=list, description="other line tables of the vendor (a second layout)"
    )
    samples: list[str] = Field(default_factory=list, description="sample files relative to the template")

    @field_validator("fields")
    @classmethod
    def _unique(cls, v: list[FieldRule]) -> list[FieldRule]:
        names = [rule.name for rule in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"field(s) {dupes} given twice")
        return v

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def _key_path(loc: tuple[Any, ...]) -> str:
    return " -> ".join(str(part) for part in loc)


def parse_template(data: Any, filename: str) -> Template:
    """Validate parsed YAML; the error names ``filename`` and the failing key path."""
    if not isinstance(data, dict):
        raise TemplateError(f"{filename}:[] a template is a mapping, got {type(data).__name__}")
    try:
        return Template.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{filename}:[{_key_path(item['loc'])}] {message}")
        raise TemplateError("; ".join(problems), file=filename) from None


def load_template(path: Path) -> Template:
    # Imported here: PyYAML takes 15-20 ms to import, and a batch whose documents no template's
    # identity points at (the template index is JSON) parses no template at all.
    import yaml

    # libyaml's loader when the build has it: loading a thousand templates is then a fraction of a second.
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TemplateError(f"{path.name}:[]{where} is not valid YAML: {error}", file=str(path)) from None
    except OSError as error:
        raise TemplateError(f"{path.name}:[] cannot be read: {error}", file=str(path)) from None
    template = parse_template(data, path.name)
    if template.id != path.stem:
        raise TemplateError(f"{path.name}:[id] id {template.id!r} must equal the file name {path.stem!r}")
    return template


def load_templates(folder: Path) -> list[Template]:
    """Every ``*.yml`` template in ``folder``, sorted by id; the first broken one raises."""
    if not folder.is_dir():
        return []
    return [load_template(path) for path in sorted(folder.glob("*.yml"))]
