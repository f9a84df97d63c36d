"""The admin's user page: only admins, adding users, changing role, locale, limit and sign-in."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.review import UserRow
from tests.review_app.conftest import csrf, login


def test_only_admins_see_and_change_users(client_for, seeded) -> None:
    carol = client_for("carol")
    assert carol.get("/admin/users").status_code == 403
    token = csrf(carol, "/queue")
    data = {"csrf_token": token, "username": "mallory", "password": "x" * 12, "role": "admin"}
    assert carol.post("/admin/users", data=data).status_code == 403
    assert 'id="nav-users"' not in carol.get("/queue").text


def test_an_admin_adds_a_user_and_sets_locale_and_limit(client_for, seeded, sqlite_store: Store, app) -> None:
    root = client_for("root")
    page = root.get("/admin/users")
    assert page.status_code == 200 and "carol" in page.text
    token = csrf(root, "/admin/users")
    data = {
        "csrf_token": token,
        "username": "dora",
        "password": "long enough pw",
        "role": "approver",
        "locale": "de_DE",
        "approval_limit": "5000",
    }
    assert root.post("/admin/users", data=data).status_code == 303
    with sqlite_store.session() as session:
        dora = session.scalar(select(UserRow).where(UserRow.username == "dora"))
        assert dora is not None and dora.locale == "de_DE" and dora.approval_limit == Decimal("5000")
        dora_id = dora.id
    bad = dict(data, username="eve", locale="xx_NOPE")
    assert root.post("/admin/users", data=bad).status_code == 400
    # Deactivating ends her sessions and stops her signing in.
    from fastapi.testclient import TestClient

    dora_client = TestClient(app, follow_redirects=False)
    login(dora_client, "dora", "long enough pw")
    change = {"csrf_token": token, "role": "approver", "locale": "de_DE", "approval_limit": "7.500,00"}
    assert root.post(f"/admin/users/{dora_id}", data=change).status_code == 303
    assert dora_client.get("/api/queue").status_code == 401
    with sqlite_store.session() as session:
        dora = session.get(UserRow, dora_id)
        assert dora is not None and not dora.active and dora.approval_limit == Decimal("7500.00")
