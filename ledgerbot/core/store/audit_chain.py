"""The audit trail's hash chain: each audit row holds the hash of the one before it.

Every insert into ``audit_events`` (whoever makes it: the life cycle, the review app) passes
through one mapper hook that, under the chain head's lock, numbers the row, links it to the
previous row's hash and moves the head. The head is one row in ``audit_chain``, locked FOR
UPDATE on PostgreSQL; on SQLite every transaction holds the write lock from its start
(``BEGIN IMMEDIATE``), so appends are serialised there too and concurrent writers never fork
the chain. ``verify`` re-computes the chain: an edited, deleted, inserted or reordered row (or
a cut tail) breaks it at a row it names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, event, select
from sqlalchemy.orm import Mapper, Session

from ledgerbot.core.store.models import AuditChainRow, AuditEventRow, utcnow

GENESIS = "0" * 64
_events: Table = AuditEventRow.__table__  # type: ignore[assignment]
_head: Table = AuditChainRow.__table__  # type: ignore[assignment]
HEAD_ID = 1
_HASHED = (
    "id",
    "document_id",
    "from_state",
    "to_state",
    "actor",
    "stage",
    "component",
    "component_version",
    "input_hash",
    "outcome",
)


def canonical_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    """The detail as the store gives it back (JSON types only), so the hash survives a round trip."""
    return json.loads(json.dumps(detail or {}, default=str))  # type: ignore[no-any-return]


def row_hash(values: dict[str, Any], prev_hash: str) -> str:
    at: datetime = values["at"]
    body = {key: values.get(key) for key in _HASHED}
    body["detail"] = values.get("detail") or {}
    body["at"] = at.astimezone(UTC).isoformat()
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + blob).encode()).hexdigest()


def _values(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in (*_HASHED, "detail", "at")}


def _append(_mapper: Mapper[Any], connection: Connection, target: AuditEventRow) -> None:
    head_table = _head
    query = select(head_table.c.last_event_id, head_table.c.last_hash).where(head_table.c.id == HEAD_ID)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    head = connection.execute(query).first()
    if head is None:
        raise RuntimeError("the audit chain head is missing; run `ledgerbot db-upgrade`")
    last_id, last_hash = head
    # Numbered here, under the head's lock, so the chain order is the id order.
    target.id = (last_id or 0) + 1
    target.at = target.at or utcnow()
    target.outcome = target.outcome or "ok"
    target.detail = canonical_detail(target.detail)
    if target.document_id is None and target.document is not None:
        target.document_id = target.document.id
    target.prev_hash = last_hash
    target.row_hash = row_hash(_values(target), last_hash)
    connection.execute(
        head_table.update()
        .where(head_table.c.id == HEAD_ID)
        .values(last_event_id=target.id, last_hash=target.row_hash)
    )


event.listen(AuditEventRow, "before_insert", _append)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    broken_at: int | None = None
    problem: str | None = None

    def line(self) -> str:
        if self.ok:
            return f"audit trail verified: {self.rows} rows, hash chain intact"
        return f"audit trail BROKEN at row {self.broken_at}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "broken_at": self.broken_at, "problem": self.problem}


def _rows(session: Session) -> Iterator[Any]:
    table = _events
    columns = [table.c[key] for key in (*_HASHED, "detail", "at", "prev_hash", "row_hash")]
    yield from session.execute(select(*columns).order_by(table.c.id).execution_options(yield_per=2000))


def verify(session: Session) -> ChainReport:
    """Walk the chain in id order and re-compute every link."""
    expected_prev, count, last_id = GENESIS, 0, None
    for row in _rows(session):
        count += 1
        if row.prev_hash != expected_prev:
            problem = "a row before it was deleted, inserted or reordered"
            if row.prev_hash is None:
                problem = "the row has no hash (written around the chain)"
            return ChainReport(False, count, row.id, problem)
        values = {key: getattr(row, key) for key in (*_HASHED, "detail", "at")}
        if row_hash(values, row.prev_hash) != row.row_hash:
            return ChainReport(False, count, row.id, "the row's content was changed after it was written")
        expected_prev, last_id = row.row_hash, row.id
    head = session.get(AuditChainRow, HEAD_ID)
    if head is None:
        return ChainReport(False, count, None, "the chain head is missing")
    if head.last_event_id != last_id or head.last_hash != expected_prev:
        return ChainReport(
            False,
            count,
            head.last_event_id,
            f"rows at the end were cut (the head names row {head.last_event_id})",
        )
    return ChainReport(True, count)


def backfill(connection: Connection) -> None:
    """Chain the rows written before the chain existed (run by the migration, triggers off)."""
    table = _events
    prev, last_id = GENESIS, None
    rows = connection.execute(
        select(*[table.c[key] for key in (*_HASHED, "detail", "at")]).order_by(table.c.id)
    ).all()
    for row in rows:
        values = {key: getattr(row, key) for key in (*_HASHED, "detail", "at")}
        digest = row_hash(values, prev)
        connection.execute(table.update().where(table.c.id == row.id).values(prev_hash=prev, row_hash=digest))
        prev, last_id = digest, row.id
    connection.execute(_head.insert().values(id=HEAD_ID, last_event_id=last_id, last_hash=prev))
