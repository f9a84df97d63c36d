"""Claims: a lease on one document, so only the process holding it runs a stage on it.

A claim is two columns on the document (holder, expiry) written only by conditional UPDATEs,
so two processes racing for one document cannot both win on SQLite or PostgreSQL. While a
process holds a claim (``claimed``), every state transition it makes on that document first
re-checks and extends the claim in the same transaction (``guard``): a process whose lease ran
out and was taken over cannot move the document any more. A transition made without a claim
(a clerk, intake) is refused while another process holds a live claim on the document.

A claim whose holder died on this machine (SIGKILL, crash) is taken over at once; any other
claim is taken over when its lease expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from ledgerbot.core.errors import ClaimLost
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow, utcnow

_documents: Table = DocumentRow.__table__  # type: ignore[assignment]
# The claims this thread of work holds: document id -> (holder, lease length). Immutable maps
# swapped through the context variable, so threads and nested blocks never share one dict.
_held: ContextVar[MappingProxyType[int, tuple[str, timedelta]]] = ContextVar(
    "ledgerbot_claims", default=MappingProxyType({})
)


@lru_cache(maxsize=1)
def process_holder() -> str:
    """This process's name in claims: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this machine and its process is gone (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def try_claim(
    store: Store,
    document_id: int,
    *,
    holder: str,
    ttl: timedelta,
    states: Iterable[str] | None = None,
) -> bool:
    """Claim (or renew the claim on) a document that is free, ours, expired or held by the dead.

    ``states``: claim only while the document is in one of them, so a document another process
    has already moved past the stage is not claimed again.
    """
    now = utcnow()
    allowed = list(states) if states is not None else None
    with store.session() as session:
        conditions: list[Any] = [_documents.c.id == document_id]
        if allowed is not None:
            conditions.append(_documents.c.state.in_(allowed))
        free = or_(
            _documents.c.claimed_by.is_(None),
            _documents.c.claimed_by == holder,
            _documents.c.claim_expires < now,
        )
        taken = session.execute(
            update(_documents)
            .where(and_(*conditions, free))
            .values(claimed_by=holder, claim_expires=now + ttl)
        ).rowcount  # type: ignore[attr-defined]
        if taken:
            return True
        current = session.execute(select(_documents.c.claimed_by).where(and_(*conditions))).scalar()
        if current is None or not holder_is_dead(current):
            return False
        # Taken over only from that very holder: two processes seeing it dead cannot both win.
        taken = session.execute(
            update(_documents)
            .where(and_(*conditions, _documents.c.claimed_by == current))
            .values(claimed_by=holder, claim_expires=now + ttl)
        ).rowcount  # type: ignore[attr-defined]
        return bool(taken)


def release(store: Store, document_id: int, holder: str) -> None:
    """Give up a claim; a claim someone else took over in the meantime is left alone."""
    with store.session() as session:
        session.execute(
            update(_documents)
            .where(_documents.c.id == document_id, _documents.c.claimed_by == holder)
            .values(claimed_by=None, claim_expires=None)
        )


@contextmanager
def claimed(
    store: Store,
    document_id: int,
    *,
    holder: str | None = None,
    ttl: timedelta,
    states: Iterable[str] | None = None,
    keep: bool = False,
) -> Iterator[bool]:
    """Hold the claim on a document for the block; yields False (and holds nothing) when busy.

    Transitions on the document inside the block are guarded by the claim. ``keep`` leaves the
    claim in place afterwards (a batch that claimed ahead releases it itself).
    """
    holder = holder or process_holder()
    if not try_claim(store, document_id, holder=holder, ttl=ttl, states=states):
        yield False
        return
    token = _held.set(MappingProxyType({**_held.get(), document_id: (holder, ttl)}))
    try:
        yield True
    finally:
        _held.reset(token)
        if not keep:
            release(store, document_id, holder)


def holding(document_id: int) -> str | None:
    """The holder under which this thread of work holds the document's claim, if it does."""
    held = _held.get().get(document_id)
    return held[0] if held else None


def guard(session: Session, document: DocumentRow) -> str | None:
    """Check, in the caller's transaction, that this process may move ``document``.

    With a claim: the claim must still be ours (it is extended). Without one: nobody else may
    hold a live claim (an expired one is cleared). The UPDATE takes the row's write lock, so the
    check and the state change that follows commit together. Returns the holder, if any.
    """
    if document.id is None or document in session.new:
        return None  # being created in this transaction: nobody else can see it yet
    now = utcnow()
    held = _held.get().get(document.id)
    if held is not None:
        holder, ttl = held
        kept = session.execute(
            update(_documents)
            .where(_documents.c.id == document.id, _documents.c.claimed_by == holder)
            .values(claim_expires=now + ttl)
        ).rowcount  # type: ignore[attr-defined]
        if not kept:
            raise ClaimLost(
                f"document {document.id}: this process's claim was taken over by another one",
                document_id=document.id,
                holder=holder,
            )
        return holder
    free = session.execute(
        update(_documents)
        .where(
            _documents.c.id == document.id,
            or_(_documents.c.claimed_by.is_(None), _documents.c.claim_expires < now),
        )
        .values(claimed_by=None, claim_expires=None)
    ).rowcount  # type: ignore[attr-defined]
    if not free:
        raise ClaimLost(
            f"document {document.id} is being processed by another process; try again shortly",
            document_id=document.id,
        )
    return None
