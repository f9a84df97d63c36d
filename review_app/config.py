"""The review app's settings section, and the server defaults derived from the machine."""

from __future__ import annotations

import os
from pathlib import Path

from ledgerbot.core.settings import ReviewSettings, get_settings

__all__ = ["ReviewSettings", "default_workers", "get_review_settings", "policy_path"]


def get_review_settings() -> ReviewSettings:
    """The review app's section of the one settings tree."""
    return get_settings().review


def policy_path() -> Path | None:
    """The tolerance policy: the same ``LEDGERBOT_POLICY`` processing and the workers use."""
    return get_settings().policy.path


def default_workers() -> int:
    """Server processes by default: one per core this process may run on (the app is CPU-bound)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))
