"""The sandbox ERP as a robot sees it: page objects and a Playwright session behind ``TargetSystem``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledgerbot.core.errors import ConfigError

if TYPE_CHECKING:
    from adapters.sandbox_erp.client import SandboxErp
    from ledgerbot.core.settings import TargetSettings


def create(settings: TargetSettings) -> SandboxErp:
    """The ``sandbox`` entry of the ``ledgerbot.targets`` group."""
    # Deferred: Playwright starts a driver process; the registry only needs the factory.
    from adapters.sandbox_erp.client import SandboxErp

    if not settings.url:
        raise ConfigError("the sandbox target needs LEDGERBOT_ERP_URL (its base URL)", code="E804")
    if settings.password is None:
        raise ConfigError("the sandbox target needs LEDGERBOT_ERP_PASSWORD", code="E804")
    return SandboxErp(
        settings.url, settings.user, settings.password.get_secret_value(), browser=str(settings.browser)
    )
