"""Named leases in the store, so one robot at a time drives a given ERP account.

A lease works the same on SQLite and PostgreSQL: one row per name with a holder and an expiry.
A holder that dies leaves a lease that simply runs out, so a crashed robot never blocks the
account for longer than the lease time.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from ledgerbot.core.claims import holder_is_dead
from ledgerbot.core.errors import ApplicationError
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import RobotLockRow, utcnow


class LockBusy(ApplicationError):
    code = "E720"


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, store: Store, name: str, holder: str, ttl: timedelta) -> None:
        self.store, self.name, self.holder, self.ttl = store, name, holder, ttl

    def renew(self) -> None:
        """Extend the lease; raises LockBusy when another holder took it over after expiry."""
        with self.store.session() as session:
            moved = session.execute(
                update(RobotLockRow)
                .where(RobotLockRow.name == self.name, RobotLockRow.holder == self.holder)
                .values(expires_at=utcnow() + self.ttl)
            ).rowcount  # type: ignore[attr-defined]
        if not moved:
            raise LockBusy(f"lease {self.name!r} was lost", name=self.name)


def try_acquire(store: Store, name: str, *, ttl: timedelta, holder: str | None = None) -> Lease | None:
    holder = holder or holder_id()
    now = utcnow()
    with store.session() as session:
        current = session.get(RobotLockRow, name)
        stale = current is not None and (current.expires_at < now or holder_is_dead(current.holder))
        # Take over an expired lease, or one whose local holder died, in one conditional update
        # (so two robots racing for it cannot both win); otherwise insert a fresh one.
        taken = (
            session.execute(
                update(RobotLockRow)
                .where(RobotLockRow.name == name, RobotLockRow.holder == current.holder)
                .values(holder=holder, expires_at=now + ttl)
            ).rowcount  # type: ignore[attr-defined]
            if stale and current is not None
            else 0
        )
    if taken:
        return Lease(store, name, holder, ttl)
    try:
        with store.session() as session:
            session.add(RobotLockRow(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return None
    return Lease(store, name, holder, ttl)


def release(lease: Lease) -> None:
    with lease.store.session() as session:
        session.execute(
            delete(RobotLockRow).where(RobotLockRow.name == lease.name, RobotLockRow.holder == lease.holder)
        )


@contextmanager
def exclusive(store: Store, name: str, *, ttl: timedelta = timedelta(minutes=10)) -> Iterator[Lease]:
    """Hold ``name`` for the block, or raise LockBusy at once when someone else holds it."""
    lease = try_acquire(store, name, ttl=ttl)
    if lease is None:
        raise LockBusy(f"another robot holds {name!r}; try again later", name=name)
    try:
        yield lease
    finally:
        release(lease)
