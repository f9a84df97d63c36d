"""The ``ledgerbot`` command: one Typer app; each command group lives in ``cli/commands/``.

stdout carries only machine-readable output (JSON or JSON Lines); progress and logs go to
stderr, and an error a user can cause ends as one line with its code, not a traceback.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console

from ledgerbot.core.errors import LedgerbotError

app = typer.Typer(
    name="ledgerbot",
    help="Accounts-payable automation: intake, extraction, matching, review and posting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Errors are one line however long (paths): never wrapped or cut to the terminal width.
stderr = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def emit(obj: Any) -> None:
    """Write one JSON value as one line on stdout."""
    if hasattr(obj, "model_dump_json"):
        line = obj.model_dump_json()
    else:
        line = json.dumps(obj, default=str, ensure_ascii=False)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """Iterate with a progress bar on stderr (silent when stderr is not a terminal-like sink)."""
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, unit="doc", leave=False, disable=None)


def fail(message: str, code: str = "E000", exit_code: int = 1) -> typer.Exit:
    stderr.print(f"[red]error[/red] [{code}] {message}", highlight=False)
    return typer.Exit(exit_code)


def _load_commands() -> None:
    from importlib.metadata import entry_points

    from ledgerbot.cli import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")
    # Other distributions (the sandbox, a user's own) add commands through this group.
    for entry in entry_points(group="ledgerbot.commands"):
        entry.load()(app)


def main() -> None:
    _load_commands()
    try:
        app()
    except LedgerbotError as error:
        stderr.print(f"[red]error[/red] {error}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
