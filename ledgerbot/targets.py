"""Choosing the target-system adapter from settings: an entry-point name or ``module:factory``.

Adapters register a factory ``create(settings: TargetSettings) -> TargetSystem`` under the
``ledgerbot.targets`` entry-point group (ledgerbot ships ``sandbox`` and ``tryton``); a user's own
package adds one the same way, or ``LEDGERBOT_TARGET=package.module:factory`` names it directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from ledgerbot.core.errors import ConfigError
from ledgerbot.core.settings import TargetSettings, get_settings
from ledgerbot.core.target import TargetSystem

GROUP = "ledgerbot.targets"

TargetFactory = Callable[[TargetSettings], TargetSystem]


class UnknownTarget(ConfigError):
    """``LEDGERBOT_TARGET`` names no installed adapter and no importable factory."""

    code = "E807"


def available_targets() -> list[str]:
    return sorted(entry.name for entry in entry_points(group=GROUP))


def target_factory(kind: str) -> TargetFactory:
    """The factory behind a target name (an entry point) or a ``module:factory`` spec."""
    if ":" in kind:
        module_name, _, attribute = kind.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise UnknownTarget(f"LEDGERBOT_TARGET={kind!r} cannot be loaded: {error}") from error
    else:
        found = [entry for entry in entry_points(group=GROUP) if entry.name == kind]
        if not found:
            known = ", ".join(available_targets()) or "none installed"
            raise UnknownTarget(f"LEDGERBOT_TARGET={kind!r} is not an installed target ({known})")
        factory = found[0].load()
    if not callable(factory):
        raise UnknownTarget(f"LEDGERBOT_TARGET={kind!r} does not name a callable factory")
    return factory  # type: ignore[no-any-return]


def open_target(settings: TargetSettings | None = None) -> TargetSystem:
    """A connected adapter for the configured target system; the caller closes it."""
    settings = settings or get_settings().target
    return target_factory(settings.kind)(settings)


def account_of(settings: TargetSettings) -> str | None:
    """The account the posting robot drives, known before any adapter is opened (lock names)."""
    if not settings.url:
        return None
    return f"{settings.user}@{settings.url.rstrip('/')}"
