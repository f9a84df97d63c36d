"""The vendor-template file format: YAML validated by pydantic, errors that name the file and key path.

A template says how to recognise a vendor's documents (``match``), how to read each header
field (label-anchored, regex, or "ask the generic extractor"), how to read the line table, and
the vendor's formats (date order, decimal separator, language). Value types come from
``extractors.values`` and are never re-declared here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from extractors.values import FIELD_TYPES, LINE_TYPES, VALUE_TYPES
from ledgerbot.core.errors import ConfigError


class TemplateError(ConfigError):
    """A template that cannot be loaded; the message starts with ``file.yml:[key -> path]``."""

    code = "E410"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """A document matches when every ``all`` keyword, at least one ``any`` keyword (if given), no
    ``none`` keyword, and one of ``tax_ids`` / ``ibans`` (if given) occur in its text."""

    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    tax_ids: list[str] = Field(default_factory=list)
    ibans: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not (self.all or self.any or self.tax_ids or self.ibans):
            raise ValueError("a template must match on keywords, tax ids or IBANs")
        return self


class Options(_Strict):
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    decimal_separator: Literal[".", ","] | None = None
    language: Literal["en", "de", "fr"] | None = None
    currency: str | None = Field(default=None, description="ISO 4217 code when the document never prints one")


class FieldRule(_Strict):
    """How to read one header field. Exactly one of ``label``, ``regex``, ``generic``, ``value``."""

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
        given = [k for k in ("label", "regex", "value") if getattr(self, k)] + (
            ["generic"] if self.generic else []
        )
        if len(given) != 1:
            raise ValueError(f"give exactly one of label, regex, generic, value (got {given or 'none'})")
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


class Template(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: int = Field(ge=1)
    description: str = ""
    match: Match
    options: Options = Field(default_factory=Options)
    fields: list[FieldRule]
    lines: LineRules | None = None
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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
