"""The lazy command registry: every command listed as its module defines it, each module loaded only
when its command runs, entry-point commands listed and runnable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ledgerbot.cli.app import app
from ledgerbot.cli.commands import COMMANDS

REPO = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: what a command imports can only be seen in a process of its own.
_PROBE = """
import contextlib, io, json, sys
from ledgerbot.cli.app import app
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        app(sys.argv[1:], prog_name="ledgerbot")
    except SystemExit:
        pass
print(json.dumps({"out": out.getvalue(), "modules": sorted(sys.modules)}))
"""

_DEFINED = """
import importlib, inspect, json, pkgutil, typer
from ledgerbot.cli import commands
from ledgerbot.cli.app import app
for module in pkgutil.iter_modules(commands.__path__):
    importlib.import_module(f"{commands.__name__}.{module.name}")
group = typer.main.get_command(app)
print(json.dumps({
    name: " ".join(inspect.cleandoc(command.help or "").split("\\n\\n")[0].split())
    for name, command in group.commands.items() if type(command).__name__ != "_Deferred"
}))
"""


def _python(code: str, *args: str, home: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "LEDGERBOT_HOME": str(home), "COLUMNS": "250"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True, cwd=REPO
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def _command_modules(modules: object) -> set[str]:
    assert isinstance(modules, list)
    return {name for name in modules if name.startswith("ledgerbot.cli.commands.")}


def test_the_table_names_every_command_with_the_help_its_module_gives(tmp_path: Path) -> None:
    defined = _python(_DEFINED, home=tmp_path)
    assert defined == {name: entry.help for name, entry in COMMANDS.items()}


def test_help_lists_every_command_and_the_plugins_without_importing_a_command_module(tmp_path: Path) -> None:
    probe = _python(_PROBE, "--help", home=tmp_path)
    out = str(probe["out"])
    for name, entry in COMMANDS.items():
        assert f" {name} " in out, name
        assert entry.help.split()[0] in out
    # the sandbox distribution adds its commands through the entry point
    assert " sandbox " in out and " demo " in out
    assert _command_modules(probe["modules"]) == set()


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    probe = _python(_PROBE, "status", home=tmp_path)
    assert json.loads(str(probe["out"]))["received"] == 0
    assert _command_modules(probe["modules"]) == {"ledgerbot.cli.commands.core"}
    assert "sandbox.cli" not in probe["modules"]  # no entry point loaded for a command of ours


def test_a_plugin_command_runs_when_its_name_is_not_ours(tmp_path: Path) -> None:
    probe = _python(_PROBE, "sandbox", "--help", home=tmp_path)
    assert "corpus" in str(probe["out"])


def test_a_deferred_command_and_a_deferred_group_run_in_process() -> None:
    runner = CliRunner()
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["posted"] == 0
    models = runner.invoke(app, ["models", "--help"])
    assert models.exit_code == 0 and "promote" in models.stdout
    unknown = runner.invoke(app, ["statsu"])
    assert unknown.exit_code == 2 and "status" in unknown.output


def test_status_counts_the_embedded_store_without_loading_sqlalchemy(tmp_path: Path) -> None:
    first = _python(_PROBE, "status", home=tmp_path)  # creates and migrates the store: the full way
    assert "sqlalchemy" in first["modules"]
    from ledgerbot.core.settings import get_settings
    from ledgerbot.core.store import Store

    url = f"sqlite:///{tmp_path / 'ledgerbot.db'}"
    store = Store(url)
    with store.session() as session:
        from ledgerbot.core.store.models import DocumentRow

        for k, state in enumerate(("received", "received", "exception")):
            session.add(
                DocumentRow(
                    sha256=f"{k:064x}",
                    source="test",
                    filename=f"{k}.pdf",
                    mime="application/pdf",
                    size=1,
                    state=state,
                )
            )
    expected = store.state_counts()
    store.dispose()
    get_settings.cache_clear()
    again = _python(_PROBE, "status", home=tmp_path)
    assert json.loads(str(again["out"])) == expected and expected["received"] == 2
    assert "sqlalchemy" not in again["modules"]


_GC_PROBE = """
import gc, json, sys
import ledgerbot.cli as cli
import ledgerbot.cli.app as app_module

seen = {}
load = app_module._load

def loading(name):  # the command's modules import here
    seen["importing"] = gc.isenabled()
    command = load(name)
    run = command.invoke
    def invoke(ctx):
        seen["running"] = gc.isenabled()
        return run(ctx)
    command.invoke = invoke
    return command

app_module._load = loading
seen["before"] = gc.isenabled()
sys.argv = ["ledgerbot", "status"]
try:
    cli.main()
except SystemExit:
    pass
seen["after"] = gc.isenabled()
print(json.dumps(seen))
"""


def test_start_up_holds_garbage_collection_and_the_command_runs_with_it(tmp_path: Path) -> None:
    """The command line's imports run without collections; the command itself runs with them."""
    env = {**os.environ, "LEDGERBOT_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _GC_PROBE], capture_output=True, text=True, env=env, cwd=REPO, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": True, "importing": False, "running": True, "after": True}
