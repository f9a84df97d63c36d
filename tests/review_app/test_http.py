"""The review app over HTTP: sign-in, authorisation, CSRF, escaping, queue and document actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow, ExceptionRow, ExtractionRow
from ledgerbot.core.store.review import CorrectionRow, LoginAttemptRow, SessionRow
from review_app.config import ReviewSettings
from review_app.main import create_app
from tests.review_app.conftest import csrf, login
from tests.review_app.factory import PASSWORD, csrf_from


def _state(store: Store, document_id: int) -> str:
    with store.session() as session:
        return session.get(DocumentRow, document_id).state  # type: ignore[union-attr]


def _actions(store: Store, document_id: int) -> list[tuple[str, str | None]]:
    with store.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.document_id == document_id).order_by(AuditEventRow.id)
        )
        return [(e.actor, e.detail.get("action")) for e in events if e.stage == "review"]


def test_pages_need_a_session(app, seeded) -> None:
    client = TestClient(app, follow_redirects=False)
    assert client.get("/queue").status_code == 303
    assert client.get("/queue").headers["location"].startswith("/login")
    assert client.get("/api/queue").status_code == 401
    assert client.get(f"/api/documents/{seeded['price']}").status_code == 401
    assert client.get(f"/documents/{seeded['price']}/pages/1.png").status_code == 303


def test_session_cookie_is_httponly_and_samesite(app, seeded) -> None:
    client = TestClient(app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "carol", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "lb_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_login_without_csrf_token_is_refused(app, seeded) -> None:
    client = TestClient(app, follow_redirects=False)
    response = client.post("/login", data={"username": "carol", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/queue").status_code == 401


def test_failed_sign_ins_slow_the_account_down_but_never_lock_its_owner_out(
    app, seeded, sqlite_store
) -> None:
    client = TestClient(app, follow_redirects=False)
    for _ in range(3):
        token = csrf_from(client.get("/login").text)
        bad = client.post(
            "/login", data={"username": "carol", "password": "wrong-password", "csrf_token": token}
        )
        assert bad.status_code == 401
        assert "wrong password" in bad.text
    token = csrf_from(client.get("/login").text)
    # Right after the failures the next try waits a short while, and says how long.
    right = client.post("/login", data={"username": "carol", "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 429
    assert "E755" in right.text and int(right.headers["retry-after"]) <= 30
    # Refused tries do not stretch the wait: once it has passed, the owner gets in.
    with sqlite_store.session() as session:
        for attempt in session.scalars(select(LoginAttemptRow)):
            attempt.at = attempt.at - timedelta(seconds=31)
    login(client, "carol")
    # Other accounts behind the same address were never slowed down.
    login(TestClient(app, follow_redirects=False), "alice")


def test_no_per_address_limit_without_trusted_proxies(sqlite_store, seeded) -> None:
    settings = ReviewSettings(sync_interval_seconds=0, login_max_failures_per_client=2)
    client = TestClient(create_app(sqlite_store, settings), follow_redirects=False)
    for name in ("x1", "x2", "x3", "x4"):
        token = csrf_from(client.get("/login").text)
        assert (
            client.post("/login", data={"username": name, "password": "w", "csrf_token": token}).status_code
            == 401
        )
    login(client, "carol")  # the whole office behind one NAT still signs in


def test_per_address_limit_behind_a_trusted_proxy(sqlite_store, seeded) -> None:
    settings = ReviewSettings(
        sync_interval_seconds=0,
        login_max_failures_per_client=2,
        trusted_proxies=["testclient", "127.0.0.1/32"],
    )
    client = TestClient(
        create_app(sqlite_store, settings), follow_redirects=False, client=("127.0.0.1", 5000)
    )
    forwarded = {"x-forwarded-for": "203.0.113.9"}
    for name in ("x1", "x2"):
        token = csrf_from(client.get("/login").text)
        data = {"username": name, "password": "w", "csrf_token": token}
        assert client.post("/login", data=data, headers=forwarded).status_code == 401
    token = csrf_from(client.get("/login").text)
    data = {"username": "carol", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, headers=forwarded).status_code == 429
    # Another client behind the same proxy is not affected.
    data["csrf_token"] = csrf_from(client.get("/login").text)
    assert client.post("/login", data=data, headers={"x-forwarded-for": "203.0.113.10"}).status_code == 303


def test_cookies_are_secure_over_https_and_sessions_end_when_idle(sqlite_store, seeded) -> None:
    settings = ReviewSettings(sync_interval_seconds=0, idle_minutes=5)
    client = TestClient(
        create_app(sqlite_store, settings), base_url="https://testserver", follow_redirects=False
    )
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "carol", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()
    assert client.get("/api/queue").status_code == 200
    # Used within the idle time, a session stays alive and its last use moves on.
    with sqlite_store.session() as session:
        for row in session.scalars(select(SessionRow)):
            row.last_seen_at = row.last_seen_at - timedelta(minutes=4)
    assert client.get("/api/queue").status_code == 200
    with sqlite_store.session() as session:
        for row in session.scalars(select(SessionRow)):
            row.last_seen_at = row.last_seen_at - timedelta(minutes=4)
    assert client.get("/api/queue").status_code == 200
    with sqlite_store.session() as session:
        for row in session.scalars(select(SessionRow)):
            row.last_seen_at = row.last_seen_at - timedelta(minutes=6)
    assert client.get("/api/queue").status_code == 401


def test_logout_ends_the_session(client_for, seeded) -> None:
    carol = client_for("carol")
    token = csrf(carol, "/queue")
    assert carol.post("/logout", data={"csrf_token": token}).status_code == 303
    assert carol.get("/api/queue").status_code == 401


def test_queue_shows_what_the_store_holds(client_for, seeded) -> None:
    carol = client_for("carol")
    body = carol.get("/api/queue").json()
    assert body["total"] == 2
    by_id = {item["document_id"]: item for item in body["items"]}
    price = by_id[seeded["price"]]
    assert price["reasons"] == ["PRICE_VARIANCE"]
    assert price["vendor_name"] == "Acme Tools GmbH"
    assert price["total"] == "1368.50"  # 10 x 115.00 + 19 %
    assert price["currency"] == "EUR"
    assert price["sla"] == "ok"
    assert by_id[seeded["html"]]["reasons"] == ["PO_NOT_FOUND"]


def test_queue_filters_sorts_and_paginates(client_for, seeded) -> None:
    carol = client_for("carol")
    only = carol.get("/api/queue", params={"reason": "PO_NOT_FOUND"}).json()
    assert [i["document_id"] for i in only["items"]] == [seeded["html"]]
    # A reason's prefix is not that reason.
    assert carol.get("/api/queue", params={"reason": "PO_NOT"}).json()["total"] == 0
    by_amount = carol.get("/api/queue", params={"sort": "amount", "desc": "true"}).json()
    totals = [Decimal(i["total"]) for i in by_amount["items"]]
    assert totals == sorted(totals, reverse=True)
    big = carol.get("/api/queue", params={"min_amount": "1000"}).json()
    assert [i["document_id"] for i in big["items"]] == [seeded["price"]]
    by_vendor = carol.get("/api/queue", params={"vendor": "bolt"}).json()
    assert [i["document_id"] for i in by_vendor["items"]] == [seeded["html"]]
    assert carol.get("/api/queue", params={"page": 2}).json()["items"] == []
    assert carol.get("/api/queue", params={"sort": "nonsense"}).status_code == 422
    assert carol.get("/api/queue", params={"min_amount": "lots"}).status_code == 422


def test_html_in_vendor_name_and_fields_is_escaped(client_for, seeded) -> None:
    carol = client_for("carol")
    queue_page = carol.get("/queue").text
    assert "Bolt &amp; Nut &lt;b&gt;Ltd&lt;/b&gt;" in queue_page
    assert "<b>Ltd</b>" not in queue_page
    assert "<script>alert(1)</script>" not in queue_page
    document_page = carol.get(f"/documents/{seeded['html']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document_page
    assert "<script>alert" not in document_page
    assert "<b>Ltd</b>" not in document_page


def test_state_change_without_csrf_token_is_403(client_for, seeded, sqlite_store) -> None:
    carol = client_for("carol")
    document_id = seeded["price"]
    assert carol.post(f"/documents/{document_id}/claim").status_code == 403
    assert carol.post(f"/documents/{document_id}/claim", data={"csrf_token": "forged"}).status_code == 403
    assert carol.post(f"/documents/{document_id}/reject", data={"reason": "no"}).status_code == 403
    # Another user's token does not work either.
    alice_token = csrf(client_for("alice"), "/queue")
    assert carol.post(f"/documents/{document_id}/claim", data={"csrf_token": alice_token}).status_code == 403
    assert _state(sqlite_store, document_id) == "exception"
    assert _actions(sqlite_store, document_id) == []


def test_clerk_cannot_approve(client_for, seeded, sqlite_store) -> None:
    carol = client_for("carol")
    document_id = seeded["price"]
    page = carol.get(f"/documents/{document_id}").text
    assert 'id="approve"' not in page  # the button is not offered...
    response = carol.post(f"/documents/{document_id}/approve", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 403  # ...and the server refuses it anyway
    assert "E721" in response.text
    assert _state(sqlite_store, document_id) == "exception"


def test_correct_then_approve_by_a_second_user(client_for, seeded, sqlite_store) -> None:
    carol, alice = client_for("carol"), client_for("alice")
    document_id = seeded["price"]
    token = csrf(carol, f"/documents/{document_id}")
    response = carol.post(
        f"/documents/{document_id}/lines",
        data={
            "csrf_token": token,
            "line-0.description": "Hex bolt M8x40, box of 100",
            "line-0.sku": "HX-10020",
            "line-0.quantity": "10",
            "line-0.unit_price": "100.00",
            "line-0.amount": "1000.00",
        },
    )
    assert response.status_code == 303
    token = csrf(carol, f"/documents/{document_id}")
    response = carol.post(
        f"/documents/{document_id}/fields",
        data={
            "csrf_token": token,
            "field.subtotal": "1000.00",
            "field.tax_amount": "190.00",
            "field.total": "1190.00",
            "confirm.po_number": "1",
        },
    )
    assert response.status_code == 303
    # The rules engine re-ran on the corrected reading and found nothing left to object to.
    assert _state(sqlite_store, document_id) == "matched"
    waiting = {i["document_id"]: i for i in carol.get("/api/queue").json()["items"]}
    assert waiting[document_id]["reasons"] == ["READY_FOR_APPROVAL"]
    with sqlite_store.session() as session:
        current = session.scalars(
            select(ExtractionRow)
            .where(ExtractionRow.document_id == document_id)
            .order_by(ExtractionRow.id.desc())
        ).first()
        assert current is not None and current.created_by == "user:carol"
        assert current.result["fields"]["total"] == "1190.00"
        assert current.result["lines"][0]["unit_price"] == "100.00"
        assert current.result["field_confidence"]["total"] == 1.0
        labels = {(c.kind, c.target, c.username) for c in session.scalars(select(CorrectionRow))}
        assert {
            ("field", "total", "carol"),
            ("line", "lines", "carol"),
            ("confirm", "po_number", "carol"),
        } <= labels
    shown = alice.get(f"/api/documents/{document_id}").json()
    assert {f["name"]: f["value"] for f in shown["fields"]}["total"] == "1190.00"
    assert shown["editors"] == ["carol"]
    token = csrf(alice, f"/documents/{document_id}")
    assert alice.post(f"/documents/{document_id}/approve", data={"csrf_token": token}).status_code == 303
    assert _state(sqlite_store, document_id) == "approved"
    assert _actions(sqlite_store, document_id) == [
        ("user:carol", "correct"),
        ("user:carol", "correct"),
        ("user:alice", "approve"),
    ]
    with sqlite_store.session() as session:
        statuses = session.scalars(select(ExceptionRow.status).where(ExceptionRow.document_id == document_id))
        assert set(statuses) == {"resolved"}
        resolved_by = session.scalars(
            select(ExceptionRow.resolved_by).where(ExceptionRow.document_id == document_id)
        )
        assert set(resolved_by) == {"rules after correction by carol"}
    history = alice.get(f"/documents/{document_id}").text
    assert "user:alice" in history and "matched → approved" in history
    assert "user:carol" in history and "confirmed <ins>PO-45012</ins>" in history
    assert "<del>1368.50</del> → <ins>1190.00</ins>" in history
    # Approved documents leave the queue.
    assert document_id not in [i["document_id"] for i in alice.get("/api/queue").json()["items"]]


def test_invalid_correction_is_refused_with_a_code(client_for, seeded, sqlite_store) -> None:
    carol = client_for("carol")
    document_id = seeded["price"]
    token = csrf(carol, f"/documents/{document_id}")
    response = carol.post(
        f"/documents/{document_id}/fields", data={"csrf_token": token, "field.total": "12,x"}
    )
    assert response.status_code == 422
    # The page comes back with the clerk's own entry in the box and the reason beside it.
    assert 'value="12,x"' in response.text and "total: is not an amount" in response.text
    response = carol.post(
        f"/documents/{document_id}/fields",
        data={"csrf_token": token, "field.total": "12,x"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "E750" and "field.total" in response.json()["errors"]
    response = carol.post(f"/documents/{document_id}/fields", data={"csrf_token": token, "field.bogus": "1"})
    assert response.status_code == 422
    with sqlite_store.session() as session:
        assert (
            len(list(session.scalars(select(ExtractionRow).where(ExtractionRow.document_id == document_id))))
            == 1
        )


def test_link_po(client_for, seeded) -> None:
    carol = client_for("carol")
    document_id = seeded["html"]
    token = csrf(carol, f"/documents/{document_id}")
    missing = carol.post(
        f"/documents/{document_id}/link-po", data={"csrf_token": token, "po_number": "PO-NOPE"}
    )
    assert missing.status_code == 422
    linked = carol.post(
        f"/documents/{document_id}/link-po", data={"csrf_token": token, "po_number": "PO-45013"}
    )
    assert linked.status_code == 303
    shown = carol.get(f"/api/documents/{document_id}").json()
    assert {f["name"]: f["value"] for f in shown["fields"]}["po_number"] == "PO-45013"
    assert [o["po_number"] for o in shown["orders"]] == ["PO-45013"]
    assert shown["history"][-1]["action"] in ("link_po", None)


def test_reject_needs_a_reason(client_for, seeded, sqlite_store) -> None:
    carol = client_for("carol")
    document_id = seeded["html"]
    token = csrf(carol, f"/documents/{document_id}")
    assert (
        carol.post(f"/documents/{document_id}/reject", data={"csrf_token": token, "reason": "  "}).status_code
        == 422
    )
    # Words without a reason from the list are not enough either.
    assert (
        carol.post(f"/documents/{document_id}/reject", data={"csrf_token": token, "reason": "no"}).status_code
        == 422
    )
    done = carol.post(
        f"/documents/{document_id}/reject",
        data={"csrf_token": token, "reason": "not our order", "reason_code": "not_ordered"},
    )
    assert done.status_code == 303
    assert _state(sqlite_store, document_id) == "rejected"
    page = carol.get(f"/documents/{document_id}").text
    assert "not our order" in page
    # A decided document takes no more actions.
    again = carol.post(
        f"/documents/{document_id}/reject",
        data={"csrf_token": token, "reason": "twice", "reason_code": "duplicate"},
    )
    assert again.status_code == 409


def test_send_back_returns_the_document_to_processing(client_for, seeded, sqlite_store) -> None:
    carol = client_for("carol")
    document_id = seeded["html"]
    token = csrf(carol, f"/documents/{document_id}")
    assert carol.post(f"/documents/{document_id}/send-back", data={"csrf_token": token}).status_code == 303
    assert _state(sqlite_store, document_id) == "received"


def test_claim_and_assign(client_for, seeded) -> None:
    carol, bob = client_for("carol"), client_for("bob")
    document_id = seeded["price"]
    assert (
        carol.post(f"/documents/{document_id}/claim", data={"csrf_token": csrf(carol, "/queue")}).status_code
        == 303
    )
    mine = carol.get("/api/queue", params={"assignee": "me"}).json()
    assert [i["document_id"] for i in mine["items"]] == [document_id]
    # A clerk cannot take a document another clerk claimed, nor assign documents.
    carol_token = csrf(carol, "/queue")
    assert (
        carol.post(
            f"/documents/{seeded['price']}/assign", data={"csrf_token": carol_token, "assignee": "bob"}
        ).status_code
        == 403
    )
    # An approver can reassign.
    bob_token = csrf(bob, "/queue")
    assert (
        bob.post(
            f"/documents/{document_id}/assign", data={"csrf_token": bob_token, "assignee": "alice"}
        ).status_code
        == 303
    )
    assert bob.get("/api/queue", params={"assignee": "alice"}).json()["total"] == 1
    unassigned = bob.get("/api/queue", params={"assignee": "-"}).json()
    assert [i["document_id"] for i in unassigned["items"]] == [seeded["html"]]


def test_document_page_shows_boxes_and_page_image(client_for, seeded) -> None:
    alice = client_for("alice")
    document_id = seeded["price"]
    shown = alice.get(f"/api/documents/{document_id}").json()
    assert shown["pages"] == [{"number": 1, "width": 595.2755737304688, "height": 841.8897705078125}]
    total = next(f for f in shown["fields"] if f["name"] == "total")
    assert total["confidence"] == 0.99
    assert 75 < total["box"]["left"] < 85 and 40 < total["box"]["top"] < 43
    po = next(f for f in shown["fields"] if f["name"] == "po_number")
    assert po["confidence"] == 0.65
    line = shown["lines"][0]
    assert line["po_line"]["po_number"] == "PO-45012" and line["po_line"]["received"] == "10"
    image = alice.get(f"/documents/{document_id}/pages/1.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert alice.get(f"/documents/{document_id}/pages/2.png").status_code == 404
    page = alice.get(f"/documents/{document_id}").text
    assert 'data-field="total"' in page and 'class="box' in page
    assert "PRICE_VARIANCE" in page and "po_price" in page
    assert alice.get("/api/documents/999999").status_code == 404


def test_queue_follows_documents_the_pipeline_adds(client_for, seeded, sqlite_store, files) -> None:
    from tests.review_app.factory import InvoiceSpec, exception_document

    carol = client_for("carol")
    assert carol.get("/api/queue").json()["total"] == 2
    with sqlite_store.session() as session:
        exception_document(session, files, InvoiceSpec(invoice_number="RE-NEW-1"))
    assert carol.get("/api/queue").json()["total"] == 3


def test_a_concurrent_change_is_a_conflict_not_a_crash(client_for, seeded, monkeypatch) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from review_app import actions

    def racing(*args, **kwargs):  # type: ignore[no-untyped-def]
        # What the optimistic lock on documents.version raises when another request won the race.
        raise StaleDataError(
            "UPDATE statement on table 'documents' expected to update 1 row(s); 0 were matched."
        )

    monkeypatch.setattr(actions, "approve", racing)
    alice = client_for("alice")
    document_id = seeded["price"]
    response = alice.post(f"/documents/{document_id}/approve", data={"csrf_token": csrf(alice, "/queue")})
    assert response.status_code == 409
    assert "E722" in response.text and "reload" in response.text


def test_sla_colouring_and_html_pagination(sqlite_store, seeded, app, files) -> None:
    from datetime import timedelta

    from ledgerbot.core.store.models import utcnow
    from tests.review_app.conftest import login
    from tests.review_app.factory import InvoiceSpec, exception_document

    with sqlite_store.session() as session:
        for n in range(6):
            exception_document(session, files, InvoiceSpec(invoice_number=f"RE-PAGE-{n}"))
        session.get(DocumentRow, seeded["price"]).received_at = utcnow() - timedelta(hours=100)  # type: ignore[union-attr]
        session.get(DocumentRow, seeded["html"]).received_at = utcnow() - timedelta(hours=30)  # type: ignore[union-attr]
    app.state.review.settings.page_size = 5
    client = TestClient(app, follow_redirects=False)
    login(client, "carol")
    items = {i["document_id"]: i for i in client.get("/api/queue").json()["items"]}
    assert items[seeded["price"]]["sla"] == "breach" and items[seeded["html"]]["sla"] == "warn"
    first = client.get("/queue").text
    assert f'<tr data-href="/documents/{seeded["price"]}" class="sla-breach"' in first
    assert f'<tr data-href="/documents/{seeded["html"]}" class="sla-warn"' in first
    assert "page 1 of 2" in first and 'id="next-page"' in first and 'id="prev-page"' not in first
    assert first.count("<tr data-href=") == 5
    second = client.get("/queue?page=2").text
    assert "page 2 of 2" in second and 'id="prev-page"' in second and second.count("<tr data-href=") == 3
    # The sort links keep the filter and flip the direction of the active column.
    filtered = client.get("/queue?reason=PRICE_VARIANCE&sort=amount").text
    assert 'href="/queue?reason=PRICE_VARIANCE&amp;sort=amount&amp;desc=true"' in filtered


def test_saved_corrections_teach_the_vendors_template_after_the_answer(
    client_for, seeded, tmp_path, monkeypatch
) -> None:
    from extractors.templates.lifecycle import list_templates
    from ledgerbot.core.settings import get_settings

    folder = tmp_path / "vendor-templates"
    monkeypatch.setenv("LEDGERBOT_TEMPLATES_DIR", str(folder))
    get_settings.cache_clear()
    carol = client_for("carol")
    document_id = seeded["price"]
    token = csrf(carol, f"/documents/{document_id}")
    response = carol.post(
        f"/documents/{document_id}/fields",
        data={
            "csrf_token": token,
            "field.subtotal": "1000.00",
            "field.tax_amount": "190.00",
            "field.total": "1190.00",
        },
    )
    assert response.status_code == 303
    # The test client runs the response's background work before it returns: the vendor, who had
    # no template, now has one in shadow, learned from this document's corrected values.
    learned = list(list_templates(folder))
    assert len(learned) == 1 and learned[0]["status"] == "shadow"
