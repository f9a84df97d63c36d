"""The sandbox's commands, added to ``ledgerbot`` through the ``ledgerbot.commands`` entry point."""

from __future__ import annotations

import typer

sandbox_app = typer.Typer(help="The demo legacy ERP and the sample-document generator.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Hang ``ledgerbot sandbox ...`` and ``ledgerbot demo`` on the product's command."""
    from sandbox.cli import corpus, demo, erp  # noqa: F401  (each module registers its commands)

    app.add_typer(sandbox_app, name="sandbox")
    app.command("demo")(demo.demo)
