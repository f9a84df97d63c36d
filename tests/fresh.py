"""``in_fresh_process``: a test run again in an interpreter of its own.

A process forks its helpers (``ledgerbot.parallel``, the text layer's workers) only while it runs a
single thread, and a test process may not: pytest-xdist's worker runs threads, and so may what
an earlier test in that worker left running. A test of forking runs in a plain pytest of its own.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_INSIDE = "LEDGERBOT_TEST_FRESH_PROCESS"


def in_fresh_process(test: F) -> F:
    """Run ``test`` by itself in a new ``pytest`` process (one thread, no plugins that start any)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get(_INSIDE) == test.__qualname__:
            return test(*args, **kwargs)
        node = f"{sys.modules[test.__module__].__file__}::{test.__name__}"
        plain = ["-p", "no:xdist", "-p", "no:randomly", "-p", "no:cacheprovider"]
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", *plain, node],
            env={**os.environ, _INSIDE: test.__qualname__},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        return None

    return run  # type: ignore[return-value]
