"""Tryton as a target: sao page objects, JSON-RPC and a self-installing server behind ``TargetSystem``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledgerbot.core.errors import ConfigError

if TYPE_CHECKING:
    from adapters.tryton.client import TrytonErp
    from ledgerbot.core.settings import TargetSettings


def create(settings: TargetSettings) -> TrytonErp:
    """The ``tryton`` entry of the ``ledgerbot.targets`` group."""
    # Deferred: the client imports Playwright; the registry only needs the factory.
    from adapters.tryton.client import TrytonErp

    missing = [
        variable
        for variable, value in (
            ("LEDGERBOT_ERP_URL", settings.url),
            ("LEDGERBOT_ERP_DATABASE", settings.database),
            ("LEDGERBOT_ERP_PASSWORD", settings.password),
        )
        if not value
    ]
    if missing:
        raise ConfigError(f"the tryton target needs {', '.join(missing)}", code="E804")
    assert settings.url and settings.database and settings.password
    return TrytonErp(
        settings.url,
        settings.database,
        settings.user,
        settings.password.get_secret_value(),
        mode=settings.mode,
        browser=str(settings.browser),
    )
