"""The queue's per-version caches: never a stale page after a write, in any worker, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import transition
from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.core.store.review import QueueEntryRow
from review_app import queue
from review_app.config import ReviewSettings
from review_app.main import create_app
from tests.review_app import factory
from tests.review_app.conftest import csrf, login


@pytest.fixture
def two_workers(store: Store, files: FileStore) -> Iterator[tuple[TestClient, TestClient, list[int]]]:
    """Two apps over one store, as two server processes are: each has its own caches.

    The audit-trail sync runs at most once a minute here, so what a page shows after a write
    comes from the write itself and the version it bumped, not from a timely re-sync.
    """
    with store.session() as session:
        factory.users(session)
        ids = [
            factory.exception_document(session, files, factory.InvoiceSpec(invoice_number=f"RE-C-{n}")).id
            for n in range(3)
        ]
    settings = ReviewSettings(sync_interval_seconds=60)
    first = TestClient(create_app(store, settings), follow_redirects=False)
    second = TestClient(create_app(store, settings), follow_redirects=False)
    login(first, "alice")
    login(second, "alice")
    yield first, second, ids
    first.close()
    second.close()


def _queue(client: TestClient, **params: str) -> dict[str, object]:
    response = client.get("/api/queue", params=params)
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


def test_a_write_in_one_worker_shows_at_once_in_the_other(two_workers) -> None:  # type: ignore[no-untyped-def]
    first, second, ids = two_workers
    # Both workers have the page, the count and the "nobody" filter cached.
    for client in (first, second):
        assert _queue(client)["total"] == 3
        assert _queue(client, assignee="-")["total"] == 3
        assert "alice" not in client.get("/queue").text.split('id="queue"')[1]
    claimed = ids[0]
    response = second.post(f"/documents/{claimed}/claim", data={"csrf_token": csrf(second, "/queue")})
    assert response.status_code == 303
    for client in (first, second):
        items = {i["document_id"]: i for i in _queue(client)["items"]}  # type: ignore[attr-defined]
        assert items[claimed]["assignee"] == "alice"
        assert _queue(client, assignee="-")["total"] == 2
        assert _queue(client, assignee="me")["total"] == 1
        row = client.get("/queue").text.split(f'data-href="/documents/{claimed}"')[1].split("</tr>")[0]
        assert "<td>alice</td>" in row
    # Releasing and assigning change only the assignee, and still show everywhere.
    released = first.post(f"/documents/{claimed}/release", data={"csrf_token": csrf(first, "/queue")})
    assert released.status_code == 303
    assert _queue(second, assignee="-")["total"] == 3
    assert _queue(second, assignee="bob")["total"] == 0
    assigned = first.post(
        f"/documents/{claimed}/assign", data={"csrf_token": csrf(first, "/queue"), "assignee": "bob"}
    )
    assert assigned.status_code == 303
    assert _queue(second, assignee="bob")["total"] == 1
    assert _queue(second, assignee="-")["total"] == 2
    # A document leaving the queue leaves the count, the page and the reason list at once.
    rejected = first.post(
        f"/documents/{ids[1]}/reject",
        data={"csrf_token": csrf(first, "/queue"), "reason": "not ours", "reason_code": "not_ordered"},
    )
    assert rejected.status_code == 303
    for client in (first, second):
        page = _queue(client)
        assert page["total"] == 2
        assert ids[1] not in [i["document_id"] for i in page["items"]]  # type: ignore[attr-defined]
        assert "<strong>2</strong> documents waiting" in client.get("/queue").text


def test_every_page_of_every_order_tiles_the_queue(store: Store, files: FileStore) -> None:
    """Pages in the second half are read from the other end; together they are the whole queue, in order."""
    amounts = ["10.00", "30.00", "20.00", "30.00", "5.00", "40.00", "15.00"]
    with store.session() as session:
        factory.users(session)
        for n, price in enumerate(amounts):
            factory.exception_document(
                session,
                files,
                factory.InvoiceSpec(invoice_number=f"RE-T-{n}", unit_price=factory.Decimal(price)),
            )
        queue.sync(session)
    cache = queue.QueueCache()
    with store.session() as session:
        for sort in ("age", "amount", "vendor", "reason"):
            for descending in (False, True):
                whole = queue.list_queue(
                    session, queue.QueueFilter(sort=sort, descending=descending, page_size=100)
                )
                expected = [e.document_id for e in whole.entries]
                assert len(expected) == len(amounts)
                for size in (2, 3):
                    tiled: list[int] = []
                    for page in range(1, 6):
                        f = queue.QueueFilter(sort=sort, descending=descending, page=page, page_size=size)
                        got = queue.list_queue(session, f, cache)
                        assert got.total == len(amounts)
                        tiled.extend(e.document_id for e in got.entries)
                    assert tiled == expected, (sort, descending, size)
        by_amount = queue.list_queue(session, queue.QueueFilter(sort="amount", page_size=100)).entries
        totals = [e.total for e in by_amount]
        assert totals == sorted(totals)


def test_the_cache_never_answers_for_another_version() -> None:
    cache = queue.QueueCache(max_entries=2)
    cache.put(1, ("k",), "old")  # never saw version 1 being read: not kept
    assert cache.get(1, ("k",)) is None
    cache.put(1, ("k",), "v1")
    assert cache.get(1, ("k",)) == "v1"
    # A newer version drops everything older; a late writer from the old version is ignored.
    assert cache.get(2, ("k",)) is None
    cache.put(1, ("k",), "v1-late")
    assert cache.get(2, ("k",)) is None
    assert cache.get(1, ("k",)) is None
    cache.put(2, ("a",), "a")
    cache.put(2, ("b",), "b")
    cache.put(2, ("c",), "c")  # bounded: the least recently used goes
    assert cache.get(2, ("a",)) is None and cache.get(2, ("c",)) == "c"


def test_only_a_real_change_moves_the_version(store: Store, files: FileStore) -> None:
    with store.session() as session:
        factory.users(session)
        waiting = factory.exception_document(session, files).id
        queue.sync(session)
    with store.session() as session:
        before = queue.version(session)
        # The pipeline touching documents whose entries stay as they are keeps every cache valid.
        queue.refresh(session, [waiting])
        assert queue.version(session) == before
    with store.session() as session:
        document = session.get(DocumentRow, waiting)
        assert document is not None
        transition(session, document, DocState.REJECTED, actor=factory.PIPELINE, stage="test")
        queue.refresh(session, [waiting])
        assert queue.version(session) == before + 1
        assert session.get(QueueEntryRow, waiting) is None
