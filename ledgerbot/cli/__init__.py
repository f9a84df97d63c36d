"""Command-line interface; see ``ledgerbot --help``.

``main`` holds garbage collection while the command line starts: the modules it imports (Typer,
pydantic, the settings) make tens of thousands of objects that live as long as the process, and
each collection on the way walked them all again to find no garbage (about 30 ms of a start-up of
a few hundred). Collection resumes, with those objects frozen out of it, before the command runs
(``resume_collection``).
"""

from __future__ import annotations

import gc

__all__ = ["main", "resume_collection"]

_holding = False  # whether ``main`` turned collection off and it is not back on yet


def main() -> None:
    global _holding
    if gc.isenabled():
        gc.disable()
        _holding = True
    from ledgerbot.cli.app import main as run

    try:
        run()
    finally:
        resume_collection()


def resume_collection() -> None:
    """Garbage collection back on, if ``main`` held it, with what start-up loaded frozen out of it."""
    global _holding
    if _holding:
        _holding = False
        gc.freeze()
        gc.enable()
