"""``ledgerbot match``: run the rules engine over self-contained case files (docs/contracts/matching.md)."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerbot.cli.app import app, emit, progress, stderr
from ledgerbot.core.errors import LedgerbotError

INTERNAL_ERROR = "E690"


def _error_line(case: str, error: dict[str, Any], policy_version: str) -> dict[str, Any]:
    return {
        "case": case,
        "decision": "error",
        "error": error,
        "exceptions": [],
        "line_matches": [],
        "needs_second_approver": False,
        "policy_version": policy_version,
    }


@app.command()
def match(
    cases: Annotated[
        list[Path], typer.Argument(help="Case files (JSON), evaluated in order", show_default=False)
    ],
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Tolerance policy YAML; default: the shipped policy")
    ] = None,
) -> None:
    """Match invoices against orders and receipts: one JSON line per case (matched, exception or error)."""
    from rules.case import read_case
    from rules.codes import PolicyError
    from rules.engine import evaluate
    from rules.policy import load_policy

    try:
        loaded = load_policy(policy)
    except PolicyError as error:
        # A policy that cannot be used is a usage error: nothing would be comparable.
        # markup off: the key path in brackets is not a rich tag.
        stderr.print(f"error {error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    version = loaded.version_tag
    for path in progress(cases, total=len(cases), desc="match"):
        name = str(path)
        try:
            decision = evaluate(read_case(path), loaded)
        except LedgerbotError as error:
            emit(_error_line(name, error.as_dict(), version))
            continue
        except Exception as error:  # an engine fault on one case must not lose the others' lines
            stderr.print(
                f"internal error on {name}:\n{traceback.format_exc()}", markup=False, highlight=False
            )
            emit(
                _error_line(
                    name, {"code": INTERNAL_ERROR, "message": f"{type(error).__name__}: {error}"}, version
                )
            )
            continue
        emit({"case": name, **decision.model_dump(mode="json")})
