"""``ledgerbot match`` as the contract describes it: JSON Lines in input order, coded errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledgerbot.cli.app import _load_commands, app
from tests.rules.builders import clean_case, restate


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _load_commands()
    return CliRunner()


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def lines_of(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_one_line_per_case_in_order_with_errors(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", clean_case())
    pricey = clean_case()
    pricey["invoice"]["lines"][0]["unit_price"] = "115.00"
    bad_price = write(tmp_path / "pricey.json", restate(pricey))
    wrong_shape = write(
        tmp_path / "shape.json", {"invoice": {"fields": {"total": "12,00"}}, "today": "2026-03-20"}
    )
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json", encoding="utf-8")
    missing = tmp_path / "missing.json"

    result = runner.invoke(
        app, ["match", str(good), str(bad_price), str(wrong_shape), str(not_json), str(missing)]
    )
    assert result.exit_code == 0, result.output
    out = lines_of(result.stdout)
    assert [o["case"] for o in out] == [str(p) for p in (good, bad_price, wrong_shape, not_json, missing)]
    assert [o["decision"] for o in out] == ["matched", "exception", "error", "error", "error"]
    assert out[0]["policy_version"] == "default@4"
    assert {"invoice_line": 0, "po_line_no": 1}.items() <= out[0]["line_matches"][0].items()
    exception = out[1]["exceptions"][0]
    assert exception["code"] == "PRICE_VARIANCE"
    assert exception["evidence"]["invoice_price"] == "115.00"
    assert out[2]["error"]["code"] == "E602"
    assert "invoice -> fields -> total" in out[2]["error"]["message"]
    assert [o["error"]["code"] for o in out[3:]] == ["E601", "E601"]
    for line in out[2:]:
        assert line["exceptions"] == [] and line["needs_second_approver"] is False


def test_custom_policy_version_is_recorded(runner: CliRunner, tmp_path: Path) -> None:
    policy = tmp_path / "loose.yaml"
    policy.write_text("name: loose\nversion: 12\nchecks:\n  price: {pct: '20'}\n", encoding="utf-8")
    pricey = clean_case()
    pricey["invoice"]["lines"][0]["unit_price"] = "115.00"
    case = write(tmp_path / "pricey.json", restate(pricey))
    result = runner.invoke(app, ["match", "--policy", str(policy), str(case)])
    assert result.exit_code == 0
    (line,) = lines_of(result.stdout)
    assert line["decision"] == "matched" and line["policy_version"] == "loose@12"


def test_bad_policy_is_a_usage_error_with_one_coded_line(runner: CliRunner, tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("name: bad\nversion: 1\nchecks:\n  qty_received: {abs: lots}\n", encoding="utf-8")
    case = write(tmp_path / "c.json", clean_case())
    result = runner.invoke(app, ["match", "--policy", str(policy), str(case)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"[E612] {policy}:[checks -> qty_received -> abs]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_case_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(app, ["match"]).exit_code == 2
