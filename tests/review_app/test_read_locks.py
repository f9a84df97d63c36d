"""Page views read without the store's write lock; the sessions' last-use times still all get written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ledgerbot.core.store import Store
from ledgerbot.core.store.models import utcnow
from ledgerbot.core.store.review import SessionRow, SyncMarkRow, UserRow
from review_app.queue import SYNC_MARK
from review_app.security import SessionTouches

READ_PAGES = ("/queue", "/api/queue", "/documents/{id}", "/api/documents/{id}")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


@contextmanager
def write_lock_held(store: Store) -> Iterator[sqlite3.Connection]:
    """Another process mid-write: a raw connection holding the SQLite write lock until the block ends."""
    holder = sqlite3.connect(store.engine.url.database or "", isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.rollback()
        holder.close()


def _last_seen(store: Store, username: str) -> dict[str, datetime | None]:
    with store.read_session() as session:
        rows = session.execute(
            select(SessionRow.token_hash, SessionRow.last_seen_at)
            .join(UserRow, UserRow.id == SessionRow.user_id)
            .where(UserRow.username == username)
        )
        return {digest: seen for digest, seen in rows}


def _age_sessions(store: Store, minutes: float) -> None:
    with store.session() as session:
        session.execute(update(SessionRow).values(last_seen_at=utcnow() - timedelta(minutes=minutes)))


def test_page_views_answer_while_another_process_holds_the_write_lock(
    app, client_for, seeded, sqlite_store
) -> None:
    carol = client_for("carol")
    assert carol.get("/queue").status_code == 200  # the queue has caught up with the audit trail
    # Carol's last use is due to be written: her next view owes a write.
    _age_sessions(sqlite_store, 2)
    before = _last_seen(sqlite_store, "carol")
    touches: SessionTouches = app.state.review.touches
    started = utcnow()
    with write_lock_held(sqlite_store):
        # A view that took the write lock would wait out the 30 s busy timeout and fail.
        for page in READ_PAGES:
            response = carol.get(page.format(id=seeded["price"]))
            assert response.status_code == 200, (page, response.text[:200])
        finished = utcnow()
        # Her last use lost the race for the lock: it waits in the process, not written, not dropped.
        assert touches.pending == 1
        assert _last_seen(sqlite_store, "carol") == before
    # Anyone's next request writes it: the time of her last view under the lock, not a later one.
    alice = client_for("alice")
    assert alice.get("/api/queue").status_code == 200
    assert touches.pending == 0
    (seen,) = _last_seen(sqlite_store, "carol").values()
    assert seen is not None and started <= _aware(seen) <= finished


def test_a_late_last_use_never_moves_a_newer_one_back(client_for, seeded, sqlite_store) -> None:
    client_for("carol")
    (digest,) = _last_seen(sqlite_store, "carol")
    # Two server processes noted carol's use; the older note is written last.
    first, second = SessionTouches(sqlite_store), SessionTouches(sqlite_store)
    newer = utcnow() + timedelta(minutes=5)
    first.note(digest, newer - timedelta(minutes=1))
    second.note(digest, newer)
    assert second.write()
    assert first.write()
    (seen,) = _last_seen(sqlite_store, "carol").values()
    assert seen is not None and _aware(seen) == newer


def test_a_last_use_that_loses_the_race_for_the_lock_is_written_by_the_next_try(
    client_for, seeded, sqlite_store
) -> None:
    client_for("carol")
    (digest,) = _last_seen(sqlite_store, "carol")
    touches = SessionTouches(sqlite_store, lock_wait=0.05)
    at = utcnow() + timedelta(minutes=3)
    touches.note(digest, at)
    with write_lock_held(sqlite_store):
        assert not touches.write()
        assert touches.pending == 1
    # A newer use noted meanwhile wins over the one that waited.
    touches.note(digest, at - timedelta(seconds=30))
    assert touches.write()
    assert touches.pending == 0
    (seen,) = _last_seen(sqlite_store, "carol").values()
    assert seen is not None and _aware(seen) == at


def test_a_queue_view_under_a_held_lock_leaves_the_pipeline_news_to_the_next_sync(
    client_for, seeded, sqlite_store
) -> None:
    carol = client_for("carol")
    assert carol.get("/api/queue").json()["total"] == 2
    with sqlite_store.session() as session:
        mark = session.get(SyncMarkRow, SYNC_MARK)
        assert mark is not None
        applied = mark.value
        # As if the pipeline had moved every document since the last sync.
        mark.value = 0
    with write_lock_held(sqlite_store):
        assert carol.get("/queue").status_code == 200
    with sqlite_store.read_session() as session:
        assert session.scalar(select(SyncMarkRow.value).where(SyncMarkRow.name == SYNC_MARK)) == 0
    assert carol.get("/api/queue").json()["total"] == 2
    with sqlite_store.read_session() as session:
        assert session.scalar(select(SyncMarkRow.value).where(SyncMarkRow.name == SYNC_MARK)) == applied
