"""The tolerance policy: loading, validation errors with file and key path, overrides, limits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rules.codes import PolicyError, PolicyNotYaml, PolicyUnreadable
from rules.policy import Policy, Tolerance, load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_is_shipped_and_versioned() -> None:
    policy = load_policy()
    assert policy.version_tag == "default@4"
    assert policy.checks.price == Tolerance(pct=Decimal("2"))
    assert policy.tax_rule("DE", "EUR") is not None
    assert policy.tax_rule(None, "usd")[0] == "USD"  # type: ignore[index]


def test_default_policy_file_is_package_data() -> None:
    from importlib import resources

    assert resources.files("rules").joinpath("policies", "default.yaml").is_file()


def test_policy_is_frozen() -> None:
    policy = load_policy()
    with pytest.raises(Exception, match="frozen"):
        policy.checks.price.pct = Decimal(5)  # type: ignore[misc]


def test_bad_value_names_file_and_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nversion: 1\nchecks:\n  price: {pct: abc}\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.code == "E612"
    assert f"{path}:[checks -> price -> pct]" in info.value.message


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nversion: 1\nchecks:\n  prise: {pct: '2'}\n")
    with pytest.raises(PolicyError, match=r"\[checks -> prise\] Extra inputs are not permitted"):
        load_policy(path)


def test_tolerance_needs_a_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nversion: 1\nchecks:\n  price: {}\n")
    with pytest.raises(PolicyError, match=r"\[checks -> price\].*needs pct, abs or both"):
        load_policy(path)


def test_negative_limit_in_override_names_override_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nversion: 1\noverrides:\n  vendors:\n    V9: {price: {pct: '-1'}}\n")
    with pytest.raises(PolicyError, match=r"\[overrides -> vendors -> V9 -> price -> pct\]"):
        load_policy(path)


def test_not_yaml_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(PolicyNotYaml) as info:
        load_policy(write(tmp_path, "name: [p\n"))
    assert info.value.code == "E611"
    with pytest.raises(PolicyUnreadable) as missing:
        load_policy(tmp_path / "nope.yaml")
    assert missing.value.code == "E610"


def test_policy_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="must be a mapping"):
        load_policy(write(tmp_path, "- just a list\n"))


def test_version_and_name_required(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"\[version\] Field required"):
        load_policy(write(tmp_path, "name: p\n"))


def test_overrides_merge_company_then_vendor(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: p
version: 7
checks:
  price: {pct: "2", abs: "50"}
overrides:
  companies:
    "2000": {price: {pct: "4"}, amount_limit: "1000"}
  vendors:
    V001: {price: {pct: "10"}}
""",
    )
    policy = load_policy(path)
    assert policy.version_tag == "p@7"
    assert policy.checks_for().price == Tolerance(pct=Decimal(2), abs=Decimal(50))
    company = policy.checks_for(company="2000")
    # A partial override keeps the keys it does not name.
    assert company.price == Tolerance(pct=Decimal(4), abs=Decimal(50))
    assert company.amount_limit == Decimal(1000)
    both = policy.checks_for(company="2000", vendor_id="V001")
    assert both.price == Tolerance(pct=Decimal(10), abs=Decimal(50))
    assert both.amount_limit == Decimal(1000)
    assert policy.checks_for(company="1000", vendor_id="V777") == policy.checks


def test_override_can_set_an_optional_tolerance(tmp_path: Path) -> None:
    path = write(tmp_path, "name: p\nversion: 1\noverrides:\n  vendors:\n    V1: {price_under: {pct: '5'}}\n")
    policy = load_policy(path)
    assert policy.checks.price_under is None
    assert policy.checks_for(vendor_id="V1").price_under == Tolerance(pct=Decimal(5))


@pytest.mark.parametrize(
    ("tolerance", "excess", "reference", "allowed"),
    [
        (Tolerance(pct=Decimal(2)), Decimal("2.00"), Decimal("100.00"), True),
        (Tolerance(pct=Decimal(2)), Decimal("2.01"), Decimal("100.00"), False),
        (Tolerance(abs=Decimal("0.05")), Decimal("0.05"), Decimal("1"), True),
        (Tolerance(abs=Decimal("0.05")), Decimal("0.06"), Decimal("1"), False),
        # Both set: both must hold.
        (Tolerance(pct=Decimal(10), abs=Decimal("1.00")), Decimal("1.00"), Decimal("10.00"), True),
        (Tolerance(pct=Decimal(10), abs=Decimal("1.00")), Decimal("1.01"), Decimal("100.00"), False),
        (Tolerance(pct=Decimal(10), abs=Decimal("100")), Decimal("1.01"), Decimal("10.00"), False),
        (Tolerance(abs=Decimal(0)), Decimal(0), Decimal(5), True),
        (Tolerance(abs=Decimal(0)), Decimal("-3"), Decimal(5), True),
    ],
)
def test_tolerance_limits_are_inclusive(
    tolerance: Tolerance, excess: Decimal, reference: Decimal, allowed: bool
) -> None:
    assert tolerance.allows(excess, reference) is allowed


def test_policy_model_rejects_bad_name() -> None:
    with pytest.raises(ValueError):
        Policy(name="has space", version=1)
