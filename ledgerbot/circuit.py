"""A circuit breaker on the target system: after N faults in a row, posting pauses for a while.

When the ERP is down every document would otherwise spend its full retry budget (3 attempts
and several seconds each) and the run would report the same fault once per document. The
breaker opens after ``failures`` consecutive system faults (a business rejection is an answer,
not a fault), keeps posting paused for ``pause`` seconds, then lets one document through as a
trial (half-open): success closes it, a fault opens it for another window. A run reports the
pause once, with how many documents it left for later.

One breaker per ERP account per process (``breaker_for``), so the scheduled loop and a worker's
successive posting jobs share what they learnt about the account.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Outcomes of ``posting.post_one`` that mean the target did not answer (a system fault).
FAULTS = frozenset({"retry_later"})
# Outcomes that mean it answered (posted, found, or refused the invoice on its merits).
ANSWERS = frozenset({"posted", "already_posted", "rejected"})


@dataclass
class CircuitBreaker:
    failures: int = 5
    pause: float = 300.0
    clock: Callable[[], float] = time.monotonic
    consecutive: int = 0
    opened_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() < self.opened_at + self.pause else "half_open"

    def allow(self) -> bool:
        """May the next document be posted?"""
        with self._lock:
            return self.state != "open"

    def record(self, outcome: str) -> None:
        with self._lock:
            if outcome in FAULTS:
                self.consecutive += 1
                if self.state == "half_open" or self.consecutive >= self.failures:
                    self.opened_at = self.clock()  # (re)open: a fresh window
            elif outcome in ANSWERS:
                self.consecutive = 0
                self.opened_at = None

    def pause_report(self, left_for_later: int) -> dict[str, Any] | None:
        """The pause as one entry of a run's summary (None while closed): a run reports it once."""
        with self._lock:
            if self.opened_at is None:
                return None
            left = max(0.0, self.opened_at + self.pause - self.clock())
            return {
                "state": self.state,
                "after_consecutive_faults": self.consecutive,
                "paused_until": (datetime.now(UTC) + timedelta(seconds=left)).isoformat(timespec="seconds"),
                "documents_left_for_later": left_for_later,
            }


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(account: str, *, failures: int | None = None, pause: float | None = None) -> CircuitBreaker:
    """The process's breaker for one ERP account, made with the settings on first use."""
    with _registry_lock:
        if account not in _breakers:
            from ledgerbot.core.settings import get_settings

            settings = get_settings()
            _breakers[account] = CircuitBreaker(
                failures=failures or settings.target.breaker_failures,
                pause=pause if pause is not None else settings.target.breaker_pause_seconds,
            )
        return _breakers[account]
