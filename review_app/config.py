"""Settings of the review app, read from ``LEDGERBOT_REVIEW_*`` environment variables."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledgerbot.core.settings import get_settings as get_core_settings


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBOT_REVIEW_", env_file=".env", extra="ignore")

    session_hours: float = Field(default=12.0, gt=0, description="How long a sign-in lasts")
    cookie_secure: bool = Field(default=False, description="Set the Secure flag (serve over HTTPS)")
    login_max_failures: int = Field(default=5, ge=1, description="Failed sign-ins per user name per window")
    login_max_failures_per_client: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    page_size: int = Field(default=50, ge=5, le=500)
    sla_warn_hours: float = Field(default=24.0, description="Queue rows turn amber after this age")
    sla_breach_hours: float = Field(default=72.0, description="Queue rows turn red after this age")
    render_scale: float = Field(default=1.5, gt=0.2, le=4, description="Page image pixels per PDF point")
    # Used only when the rules engine's policy cannot be loaded: an amount above it needs
    # a second approver. The policy's own ``needs_second_approver`` wins whenever it exists.
    fallback_second_approver_threshold: Decimal = Decimal("10000")
    sync_interval_seconds: float = Field(
        default=1.0, ge=0, description="Minimum time between two reads of the audit trail for the queue"
    )
    threads: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Threads per worker process for the routes' database work: only one runs Python "
        "at a time, and more of them contend for it (4: about 8% less CPU per request than 40)",
    )
    policy_path: Path | None = Field(
        default=None, description="Rules policy YAML; the shipped default if unset"
    )

    @property
    def cache_dir(self) -> Path:
        return get_core_settings().home / "review_cache"

    @property
    def drafts_dir(self) -> Path:
        """Template drafts waiting for an automation engineer to accept them."""
        return get_core_settings().home / "review_drafts"


@lru_cache(maxsize=1)
def get_review_settings() -> ReviewSettings:
    return ReviewSettings()


def default_workers() -> int:
    """Server processes by default: one per core this process may run on (the app is CPU-bound)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))
