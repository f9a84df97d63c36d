"""Property-based requests over the app's OpenAPI (schemathesis, in-process): no input gives a 5xx.

The operations are drawn with schemathesis' strategies inside one hypothesis test per mode
(valid and invalid data), rather than through its pytest plugin, so the app, its store and a
signed-in admin (every action allowed, with a CSRF token) are ordinary fixtures.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.review import UserRow
from review_app.config import get_review_settings
from review_app.security import open_session, resolve_session

pytestmark = pytest.mark.slow


@pytest.fixture
def signed_in(sqlite_store: Store, seeded: dict[str, int]) -> dict[str, str]:
    with sqlite_store.session() as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "root"))
        assert user is not None
        token = open_session(session, get_review_settings(), user)
        session.flush()
        signed = resolve_session(session, token)
        assert signed is not None
    return {"Cookie": f"lb_session={token}", "X-CSRF-Token": signed.csrf_token}


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Sign-out would end the session every later example relies on; it has its own HTTP test.
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path != "/logout"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_the_app_fail(
    app: Any, signed_in: dict[str, str], seeded: dict[str, int], mode: GenerationMode
) -> None:
    operations = _operations(app)
    labels = {f"{op.method.upper()} {op.path}" for op in operations}
    assert {
        "GET /api/queue",
        "GET /api/documents/{document_id}",
        "POST /documents/{document_id}/approve",
    } <= labels
    # Every operation is drawn equally often; random ids mostly miss, so half of a document
    # operation's draws aim at documents that exist.
    per_operation = []
    for op in operations:
        drawn = op.as_strategy(generation_mode=mode)
        if "{document_id}" in op.path:
            existing = st.one_of(
                [
                    op.as_strategy(generation_mode=mode, path_parameters={"document_id": document_id})
                    for document_id in seeded.values()
                ]
            )
            drawn = st.one_of(drawn, existing)
        per_operation.append(drawn)
    strategy = st.one_of(per_operation)
    seen: set[str] = set()

    @given(case=strategy)
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        seen.add(f"{case.method} {case.path}")
        case.call_and_validate(headers=signed_in, checks=[not_a_server_error])

    run()
    # The draw reached most operations, not one endpoint over and over.
    assert len(seen) >= len(operations) // 2
