"""Settings of the review app, read from ``LEDGERBOT_REVIEW_*`` environment variables."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledgerbot.settings import get_settings as get_core_settings

OVERRIDE_REASONS: dict[str, str] = {
    "price_agreed": "Price agreed with the buyer",
    "contract_terms": "Covered by the contract's terms",
    "partial_delivery_ok": "Partial delivery accepted",
    "bank_change_verified": "Bank change verified with the vendor by phone",
    "rounding": "Rounding or small difference",
    "other": "Other (explain)",
}
REJECT_REASONS: dict[str, str] = {
    "duplicate": "Duplicate of an invoice already received",
    "not_ordered": "Goods or services not ordered",
    "not_received": "Goods or services not received",
    "wrong_price": "Price not as agreed",
    "wrong_recipient": "Addressed to another company",
    "suspected_fraud": "Suspected fraud",
    "other": "Other (explain)",
}


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBOT_REVIEW_", env_file=".env", extra="ignore")

    session_hours: float = Field(default=12.0, gt=0, description="How long a sign-in lasts")
    cookie_secure: bool = Field(default=False, description="Set the Secure flag (serve over HTTPS)")
    idle_minutes: float = Field(default=30.0, gt=0, description="A session unused this long is signed out")
    login_free_failures: int = Field(
        default=3, ge=1, description="Failed sign-ins on one account before each next try waits"
    )
    login_backoff_seconds: float = Field(
        default=1.0, ge=0, description="The first wait; it doubles with each further failure"
    )
    login_backoff_max_seconds: float = Field(
        default=30.0,
        ge=0,
        description="The longest wait: the account's owner always gets in after it (never a lock)",
    )
    login_max_failures_per_client: int = Field(
        default=50, ge=1, description="Failed sign-ins per client address per window, behind trusted proxies"
    )
    login_window_minutes: int = Field(default=15, ge=1, description="How far back failures count")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed; only then "
        "is the client address known well enough to limit sign-ins per address",
    )
    default_locale: str = Field(
        default="en_GB", description="How numbers and dates read for users who chose no locale"
    )
    max_amount: Decimal = Field(default=Decimal("999999999999.99"), description="Largest amount accepted")
    max_quantity: Decimal = Field(default=Decimal("999999999"), description="Largest quantity accepted")
    amount_places: int = Field(default=4, ge=0, le=6, description="Decimal places an amount may have")
    quantity_places: int = Field(default=6, ge=0, le=10, description="Decimal places a quantity may have")
    date_oldest_days: int = Field(default=3660, ge=1, description="Oldest document date accepted (days ago)")
    date_newest_days: int = Field(default=730, ge=0, description="Latest document date accepted (days ahead)")
    claim_timeout_minutes: float = Field(
        default=60.0, gt=0, description="A claim nobody acted on for this long lapses and others may act"
    )
    price_override_second_approver_above: Decimal = Field(
        default=Decimal("1000"),
        description="Approving over a price variance worth more than this (quantity x price difference) "
        "needs two approvers",
    )
    clerk_reject_limit: Decimal = Field(
        default=Decimal("10000"), description="A clerk's rejection of a larger total waits for an approver"
    )
    override_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(OVERRIDE_REASONS),
        description="Reasons an approver may pick when approving over open exceptions",
    )
    reject_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(REJECT_REASONS), description="Reasons a rejection may give"
    )
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
