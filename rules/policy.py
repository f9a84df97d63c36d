"""The tolerance policy: a frozen, validated model of every limit the rules apply, loaded from YAML.

A policy has a ``name`` and an integer ``version``; ``name@version`` is recorded with every
decision, so bump the version whenever a limit changes. ``checks`` holds the limits; ``overrides``
replaces parts of ``checks`` for one company (the PO's company code) and then for one vendor
(vendor overrides win, being the more specific). An override may name any subset of the keys of
``checks``, down to a single ``pct``; it is merged into the defaults and validated in full at load
time, so a bad override fails when the file is loaded, not when a case meets it.

Limits are inclusive: a difference exactly at a limit passes, one cent (one unit of the last
decimal) over it fails. A tolerance with both ``pct`` and ``abs`` passes only when the
difference is within both.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.codes import PolicyError, PolicyNotYaml, PolicyUnreadable

DEFAULT_POLICY = "default.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonNegative = Field(ge=0, allow_inf_nan=False)


class Tolerance(_Frozen):
    """How far a value may exceed its reference: a percentage of the reference and/or an absolute amount."""

    pct: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    abs: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_limit(self) -> Tolerance:
        if self.pct is None and self.abs is None:
            raise ValueError("a tolerance needs pct, abs or both (use abs: 0 for no tolerance)")
        return self

    def allows(self, excess: Decimal, reference: Decimal) -> bool:
        """True when ``excess`` (how far the value is beyond ``reference``) is within every limit set."""
        if excess <= 0:
            return True
        if self.abs is not None and excess > self.abs:
            return False
        # Multiplied out rather than divided, so the comparison is exact in Decimal.
        return not (self.pct is not None and excess * 100 > self.pct * abs(reference))

    def evidence(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.pct is not None:
            out["limit_pct"] = format(self.pct, "f")
        if self.abs is not None:
            out["limit_abs"] = format(self.abs, "f")
        return out

    def describe(self) -> str:
        parts = []
        if self.pct is not None:
            parts.append(f"{format(self.pct, 'f')}%")
        if self.abs is not None:
            parts.append(format(self.abs, "f"))
        return " and ".join(parts)


class ConfidenceLimits(_Frozen):
    doc_type: float = Field(default=0.8, ge=0, le=1)
    field: float = Field(default=0.7, ge=0, le=1)
    # Only fields whose misreading changes what is paid or to whom; a shaky vendor name is
    # caught by the vendor lookup instead.
    fields: tuple[str, ...] = (
        "invoice_number",
        "invoice_date",
        "po_number",
        "currency",
        "subtotal",
        "tax_amount",
        "total",
        "vendor_iban",
        "vendor_tax_id",
        # The line items as a whole: low when rows were repaired from OCR or do not add up to
        # the printed subtotal, so a clerk sees them before they are matched and paid.
        "lines",
    )


class RequiredFields(_Frozen):
    invoice: tuple[str, ...] = (
        "invoice_number",
        "invoice_date",
        "currency",
        "subtotal",
        "tax_amount",
        "total",
        "po_number",
    )
    credit_note: tuple[str, ...] = ("invoice_number", "invoice_date", "currency", "total")


class Checks(_Frozen):
    """Every limit one evaluation applies, after company and vendor overrides are merged in."""

    # |quantity x unit price - amount| per line; rounding of a line amount, never accepted beyond.
    line_rounding: Decimal = Field(default=Decimal("0.01"), ge=0, allow_inf_nan=False)
    # Differences up to this in the header sums (lines vs subtotal, subtotal + tax vs total) are
    # accepted without review (SAP's "small differences"); they are listed in the decision.
    small_difference: Tolerance = Tolerance(abs=Decimal("0.02"))
    # |tax - subtotal x rate| allowed when judging whether the tax matches an allowed rate.
    tax_rounding: Decimal = Field(default=Decimal("0.05"), ge=0, allow_inf_nan=False)
    price: Tolerance = Tolerance(pct=Decimal("2"))
    # A price below the PO price: None accepts any lower price (in the buyer's favour).
    price_under: Tolerance | None = None
    qty_ordered: Tolerance = Tolerance(abs=Decimal("0"))
    qty_received: Tolerance = Tolerance(abs=Decimal("0"))
    three_way: bool = True
    amount_limit: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    # 4-eyes: totals strictly above this, or any of these codes, need a second approver.
    second_approver_above: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    second_approver_codes: tuple[str, ...] = ("BANK_DETAILS_CHANGED",)
    confidence: ConfidenceLimits = ConfidenceLimits()
    required_fields: RequiredFields = RequiredFields()
    # rapidfuzz scores, 0-100: the vendor name lookup and the minimum for a line pairing.
    vendor_name_min_score: float = Field(default=90, ge=0, le=100)
    line_match_min_score: float = Field(default=50, ge=0, le=100)
    duplicate_same_amount_and_date: bool = True


class TaxRule(_Frozen):
    """The tax rates (percent) plausible for one country or currency."""

    rates: tuple[Decimal, ...] = ()
    # Where rates vary (US sales tax), any effective rate in [min, max] is plausible.
    min: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    max: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    # Accept a blend of the listed rates (lines at different rates): any rate between them.
    mixed: bool = False

    @model_validator(mode="after")
    def _something(self) -> TaxRule:
        if not self.rates and (self.min is None or self.max is None):
            raise ValueError("a tax rule needs rates, or min and max")
        return self


class Overrides(_Frozen):
    companies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    vendors: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Policy(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1)
    description: str = ""
    checks: Checks = Checks()
    # Keyed by ISO country (the vendor's) first, then by ISO currency as a fallback.
    tax_rates: dict[str, TaxRule] = Field(default_factory=dict)
    overrides: Overrides = Overrides()

    @property
    def version_tag(self) -> str:
        return f"{self.name}@{self.version}"

    @model_validator(mode="after")
    def _overrides_valid(self) -> Policy:
        # Merge each override now so an error points at the override's own key path.
        for kind, table in (("companies", self.overrides.companies), ("vendors", self.overrides.vendors)):
            for key, patch in table.items():
                try:
                    _merged(self.checks, patch)
                except ValidationError as error:
                    raise _prefixed(error, ("overrides", kind, key)) from None
        return self

    def checks_for(self, *, company: str | None = None, vendor_id: str | None = None) -> Checks:
        """The limits for one document: defaults, then the company's override, then the vendor's."""
        checks = self.checks
        if company is not None and company in self.overrides.companies:
            checks = _merged(checks, self.overrides.companies[company])
        if vendor_id is not None and vendor_id in self.overrides.vendors:
            checks = _merged(checks, self.overrides.vendors[vendor_id])
        return checks

    def tax_rule(self, country: str | None, currency: str | None) -> tuple[str, TaxRule] | None:
        for key in (country, currency):
            if key and key.upper() in self.tax_rates:
                return key.upper(), self.tax_rates[key.upper()]
        return None


class _PrefixedError(ValueError):
    pass


def _prefixed(error: ValidationError, prefix: tuple[str, ...]) -> _PrefixedError:
    first = error.errors()[0]
    path = " -> ".join(str(p) for p in (*prefix, *first["loc"]))
    return _PrefixedError(f"[{path}] {first['msg']}")


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _merged(checks: Checks, patch: dict[str, Any]) -> Checks:
    if not isinstance(patch, dict):
        raise ValueError("an override must be a mapping of check names to limits")
    base = checks.model_dump(mode="python", exclude_none=False)
    # A tolerance given in an override replaces the default one whole when it is set to null;
    # otherwise its keys are merged, so `price: {pct: 5}` keeps any default `abs`.
    return Checks.model_validate(_deep_merge(base, patch))


def _error_path(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    loc = " -> ".join(str(p) for p in first["loc"])
    return loc, first["msg"]


def parse_policy(data: Any, *, source: str) -> Policy:
    """Validate already-parsed YAML; errors read ``file.yaml:[checks -> price -> pct] message``."""
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: the policy must be a mapping with name, version and checks")
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"]
        # A merged override re-raises with its own path, already in brackets.
        if message.startswith("Value error, [") and first["type"] == "value_error":
            inner = message.removeprefix("Value error, ")
            raise PolicyError(f"{source}:{inner}") from None
        loc, msg = _error_path(error)
        raise PolicyError(f"{source}:[{loc}] {msg}") from None


def load_policy(path: Path | None = None) -> Policy:
    """Load and validate a policy file; without a path, the default policy shipped with ledgerbot."""
    if path is None:
        source = f"rules/policies/{DEFAULT_POLICY}"
        text = resources.files("rules").joinpath("policies", DEFAULT_POLICY).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PolicyUnreadable(f"{source}: cannot read the policy ({error.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyNotYaml(f"{source}:{where} not valid YAML: {getattr(error, 'problem', error)}") from None
    return parse_policy(data, source=source)
