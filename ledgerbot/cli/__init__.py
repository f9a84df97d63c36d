"""Command-line interface; see ``ledgerbot --help``."""

from ledgerbot.cli.app import app, main

__all__ = ["app", "main"]
