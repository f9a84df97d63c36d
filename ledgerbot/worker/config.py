"""The worker's settings section and loading of ``module:callable`` specs it names."""

from __future__ import annotations

import importlib
from typing import Any

from ledgerbot.core.errors import ConfigError
from ledgerbot.core.settings import WorkerSettings, get_settings

__all__ = ["WorkerSettings", "get_worker_settings", "load_object"]


def get_worker_settings() -> WorkerSettings:
    """The worker's section of the one settings tree."""
    return get_settings().worker


def load_object(spec: str) -> Any:
    """``package.module:attribute`` -> the attribute, or a coded ConfigError naming the spec."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"reader {spec!r} must look like 'package.module:callable'", code="E801")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"cannot load {spec!r}: {error}", code="E801") from error
