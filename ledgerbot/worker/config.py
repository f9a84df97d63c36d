"""Settings of a scale-out worker, read from ``LEDGERBOT_*`` environment variables."""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledgerbot.core.errors import ConfigError


class WorkerSettings(BaseSettings):
    """What a worker needs beyond the store: a document reader, the ERP account, schedules."""

    model_config = SettingsConfigDict(env_prefix="LEDGERBOT_", env_file=".env", extra="ignore")

    reader: str = Field(
        default="ledgerbot.worker.readers:pipeline_reader",
        description="``module:callable`` returning the DocumentReader the processing jobs use",
    )
    erp_url: str | None = Field(default=None, description="Base URL of the target ERP (sandbox ERP)")
    erp_user: str = "ap-robot"
    erp_password: str = "robot-pass-1"
    erp_lease_seconds: float = Field(default=120.0, description="Lease on the ERP account while posting")
    post_attempts: int = 3
    post_backoff_seconds: float = 2.0
    screenshots_dir: Path | None = None
    policy: Path | None = Field(default=None, description="Rules policy YAML (default: the shipped one)")
    # Periodic jobs (cron, with an optional sixth field for seconds: "* * * * * */10").
    dispatch_cron: str = "* * * * * */15"
    recover_cron: str = "* * * * * */10"
    report_cron: str = "0 6 * * *"
    report_dir: Path | None = Field(default=None, description="Where the scheduled finance report is written")
    report_days: int = 30
    inbox: Path | None = Field(
        default=None, description="Folder the periodic intake job empties into the store"
    )
    # A worker whose heartbeat is older than this is dead; its running jobs are retried.
    stalled_seconds: float = 30.0
    heartbeat_seconds: float = 5.0


@lru_cache(maxsize=1)
def get_worker_settings() -> WorkerSettings:
    return WorkerSettings()


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
