"""Every form field of the review app with hostile values (numbers, dates, 1 MB strings, unicode): no 5xx."""

from __future__ import annotations

import pytest

from ledgerbot.core.domain import HEADER_FIELDS
from tests.review_app.conftest import csrf

pytestmark = [pytest.mark.heavy, pytest.mark.slow]

MEGABYTE = "9" * 1_000_000
VALUES = [
    "1e20",
    "99999999999999999999",
    "37040044052020043",
    "-99999999999999.9999",
    "NaN",
    "Infinity",
    "1.234,56",
    "1,234.56",
    "31.12.2026",
    "2026-02-30",
    "0001-01-01",
    "𝟙𝟚𝟛,٤٥",
    "\u202eDE89\x00370400440532013000",
    "' OR 1=1 --<script>",
    MEGABYTE,
    "ä" * 300_000,
]
LINE_COLUMNS = ("description", "sku", "quantity", "unit_price", "amount")


def _forms(document_id: int) -> list[tuple[str, list[dict[str, str]]]]:
    """Each form the pages post, with one request per field and value."""
    forms: list[tuple[str, list[dict[str, str]]]] = [
        (
            f"/documents/{document_id}/fields",
            [{f"field.{name}": v} for name in HEADER_FIELDS for v in VALUES],
        ),
        (f"/documents/{document_id}/fields", [{"doc_type": v} for v in VALUES]),
        (f"/documents/{document_id}/fields", [{f"confirm.{v[:200]}": "1"} for v in VALUES]),
        (
            f"/documents/{document_id}/lines",
            [{f"line-0.{column}": v} for column in LINE_COLUMNS for v in VALUES],
        ),
        (f"/documents/{document_id}/lines", [{f"line-{v[:30]}.amount": "1"} for v in VALUES]),
        (f"/documents/{document_id}/link-po", [{"po_number": v} for v in VALUES]),
        (f"/documents/{document_id}/comments", [{"text": v} for v in VALUES]),
        (f"/documents/{document_id}/assign", [{"assignee": v} for v in VALUES]),
        (
            f"/documents/{document_id}/approve",
            [{"reason_code": v, "reason": v} for v in VALUES]
            + [{"reason_code": "other", "reason": v} for v in VALUES],
        ),
        (
            "/admin/users",
            [{"username": v, "password": v, "role": v, "locale": v, "approval_limit": v} for v in VALUES],
        ),
        (
            "/admin/users/1",
            [{"role": "clerk", "active": "1", "locale": v, "approval_limit": v} for v in VALUES],
        ),
    ]
    return forms


def test_no_form_value_makes_the_app_fail(client_for, seeded) -> None:
    root = client_for("root")
    statuses: dict[int, int] = {}
    for document_id in seeded.values():
        token = csrf(root, f"/documents/{document_id}")
        for path, bodies in _forms(document_id):
            for body in bodies:
                response = root.post(path, data={"csrf_token": token, **body})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, (
                    path,
                    {k: v[:80] for k, v in body.items()},
                    response.text[:300],
                )
    for value in VALUES:
        for key in ("vendor", "reason", "min_amount", "max_amount", "assignee", "sort", "page"):
            response = root.get("/queue", params={key: value[:5000]})
            assert response.status_code < 500, (key, value[:80])
    # The hostile values were refused as values (422), not waved through or answered as a crash.
    assert statuses.get(422, 0) > 100
    # Rejections last: a rejected document takes no more actions.
    for document_id in seeded.values():
        token = csrf(root, f"/documents/{document_id}")
        for value in VALUES:
            response = root.post(
                f"/documents/{document_id}/reject",
                data={"csrf_token": token, "reason_code": value, "reason": value},
            )
            assert response.status_code < 500


def test_sign_in_form_takes_any_value(app, seeded) -> None:
    from fastapi.testclient import TestClient

    from tests.review_app.factory import csrf_from

    client = TestClient(app, follow_redirects=False)
    for value in VALUES:
        token = csrf_from(client.get("/login").text)
        for field in ("username", "password", "next"):
            data = {"username": "carol", "password": "x", "csrf_token": token, field: value}
            assert client.post("/login", data=data).status_code < 500
