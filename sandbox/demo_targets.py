"""The ERPs the demo posts into, apart from the demo itself: the CLI lists them for ``--help``
without loading the demo's store and robots."""

from __future__ import annotations

from typing import Literal

DemoTargetName = Literal["sandbox", "tryton"]
TARGETS: tuple[DemoTargetName, ...] = ("sandbox", "tryton")
