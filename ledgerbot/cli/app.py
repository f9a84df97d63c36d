"""The ``ledgerbot`` command: one Typer app; each command group lives in ``cli/commands/``.

stdout carries only machine-readable output (JSON or JSON Lines); progress and logs go to
stderr, and an error a user can cause ends as one line with its code, not a traceback.

Commands load lazily: the top-level group knows every command by name and help
(``commands.COMMANDS``) and imports a command's module only when that command runs, so start-up
pays for the command at hand and nothing else. Commands of other distributions (the
``ledgerbot.commands`` entry points) are registered when the command list is shown or a name is
not one of ours.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from ledgerbot.cli import resume_collection
from ledgerbot.cli.commands import COMMANDS
from ledgerbot.core.errors import LedgerbotError

if TYPE_CHECKING:
    from rich.console import Console


class _Deferred(TyperCommand):
    """A command whose module is not imported yet: its name and help for the command list, and
    the real command, loaded, as soon as it is asked to parse arguments or run."""

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help=help_text)

    def loaded(self) -> Any:
        return _load(self.name or "")

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        context = self.loaded().make_context(info_name, args, parent=parent, **extra)
        resume_collection()  # its modules are in and its arguments parsed: the command runs next
        return context

    def invoke(self, ctx: Any) -> Any:
        return self.loaded().invoke(ctx)


class _LazyGroup(TyperGroup):
    """The top-level group: every known command is listed, a deferred one loads when it runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # Ours in the table's order (each registered one as it is, the others deferred), then the rest.
        registered: dict[str, Any] = dict(self.commands)
        self.commands = {
            name: registered.pop(name, None) or _Deferred(name, entry.help)
            for name, entry in COMMANDS.items()
        }
        self.commands.update(registered)

    def list_commands(self, ctx: Any) -> list[str]:
        self._add_plugins()
        return super().list_commands(ctx)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            self._add_plugins()
        name, command, rest = super().resolve_command(ctx, args)
        if not isinstance(command, _Deferred):
            resume_collection()  # another distribution's command: it runs with collection on
        return name, command, rest

    def _add_plugins(self) -> None:
        _register_plugins()
        for name, command in _built().items():
            self.commands.setdefault(name, command)


def _built() -> dict[str, Any]:
    """The click commands of everything registered on ``app`` so far."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return {name: command for name, command in group.commands.items() if not isinstance(command, _Deferred)}


def _load(name: str) -> Any:
    """The real command ``name``, its modules imported (each registers its commands on ``app``)."""
    for module in COMMANDS[name].module_names:
        importlib.import_module(module)
    return _built()[name]


_plugins_registered = False


def _register_plugins() -> None:
    """Other distributions (the sandbox, a user's own) add commands through this entry-point group."""
    global _plugins_registered
    if _plugins_registered:
        return
    _plugins_registered = True
    # Deferred: reading every installed distribution's metadata is needed only for their commands.
    from importlib.metadata import entry_points

    for entry in entry_points(group="ledgerbot.commands"):
        entry.load()(app)


app = typer.Typer(
    name="ledgerbot",
    help="Accounts-payable automation: intake, extraction, matching, review and posting.",
    cls=_LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Keeps ``ledgerbot`` a command group however few commands are registered yet."""


class _Stderr:
    """The console for progress, logs and errors, made on first use: importing rich's console costs
    a noticeable part of start-up, which a command that prints nothing on stderr need not pay."""

    _console: Console | None = None

    def print(self, *objects: Any, **options: Any) -> None:
        if self._console is None:
            from rich.console import Console  # deferred: see the class docstring

            # Errors are one line however long (paths): never wrapped or cut to the terminal width.
            self._console = Console(stderr=True, soft_wrap=True)
        self._console.print(*objects, **options)


stderr = _Stderr()
T = TypeVar("T")


def emit(obj: Any) -> None:
    """Write one JSON value as one line on stdout."""
    if hasattr(obj, "model_dump_json"):
        line = obj.model_dump_json()
    else:
        line = json.dumps(obj, default=str, ensure_ascii=False)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# Without a terminal (a log file, CI, the demo's own child processes), a line this often at most.
PROGRESS_LINE_SECONDS = 20.0


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """Iterate with a progress bar on stderr; without a terminal, a plain line now and then.

    A log gets ``desc: done/total (rate/s)`` at most every ``PROGRESS_LINE_SECONDS`` and once at
    the end when the loop ran that long, so a long step in a log shows it is moving.
    """
    if not sys.stderr.isatty():  # no bar to draw: tqdm is not even imported
        yield from _progress_lines(items, total=total, desc=desc or "progress")
        return
    from tqdm import tqdm  # deferred: only a terminal shows the bar

    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, unit="doc", leave=False, disable=None)


def _progress_lines(items: Iterable[T], *, total: int | None, desc: str) -> Iterator[T]:
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= PROGRESS_LINE_SECONDS:
            last = now
            _progress_line(desc, done, total, now - started)
    if last > started:  # some line was printed: close with the final count
        _progress_line(desc, done, total, time.monotonic() - started)


def _progress_line(desc: str, done: int, total: int | None, seconds: float) -> None:
    of = f"/{total}" if total is not None else ""
    rate = done / seconds if seconds > 0 else 0.0
    print(f"{desc}: {done}{of} ({rate:.2f}/s, {seconds:.0f} s)", file=sys.stderr, flush=True)


def fail(message: str, code: str = "E000", exit_code: int = 1) -> typer.Exit:
    stderr.print(f"[red]error[/red] [{code}] {message}", highlight=False)
    return typer.Exit(exit_code)


def _load_commands() -> None:
    """Register every command now, ours and the entry points' (for code that walks the whole tree)."""
    from ledgerbot.cli import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")
    _register_plugins()


def main() -> None:
    try:
        app()
    except LedgerbotError as error:
        stderr.print(f"[red]error[/red] {error}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
