"""Fixtures for the review app: a seeded store, the app over it, signed-in HTTP clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from ledgerbot.core.settings import get_settings
from ledgerbot.core.store import FileStore, Store
from review_app.config import ReviewSettings
from review_app.main import create_app
from tests.review_app import factory


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's production cost is a second per hash on a busy CI box; tests need the logic, not the cost."""
    from argon2 import PasswordHasher

    from review_app import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.fixture
def files() -> FileStore:
    # The app reads originals from the settings' files folder, so the fixtures write there too.
    return FileStore(get_settings().files_dir)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def seeded(sqlite_store: Store, files: FileStore) -> dict[str, int]:
    """Users, master data and two exception documents; returns their ids."""
    with sqlite_store.session() as session:
        factory.users(session)
        first = factory.exception_document(session, files)
        second = factory.exception_document(
            session,
            files,
            factory.InvoiceSpec(
                vendor_id="V002",
                vendor_name="Bolt & Nut <b>Ltd</b>",
                invoice_number="INV-<script>alert(1)</script>",
                po_number=None,
                unit_price=factory.Decimal("20.00"),
                exceptions=[("PO_NOT_FOUND", "No purchase order on the invoice", {"po_number": None})],
            ),
        )
        return {"price": first.id, "html": second.id}


@pytest.fixture
def review_settings() -> ReviewSettings:
    return ReviewSettings(sync_interval_seconds=0, login_free_failures=3, login_backoff_seconds=30)


@pytest.fixture
def app(sqlite_store: Store, review_settings: ReviewSettings):  # type: ignore[no-untyped-def]
    return create_app(sqlite_store, review_settings)


@pytest.fixture
def client_for(app) -> Iterator[Callable[[str], TestClient]]:  # type: ignore[no-untyped-def]
    """A signed-in client per user name (each with its own cookies)."""
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        login(client, username)
        return client

    yield make
    for client in clients:
        client.close()


def login(client: TestClient, username: str, password: str = factory.PASSWORD) -> None:
    page = client.get("/login")
    token = factory.csrf_from(page.text)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token, "next": "/queue"}
    )
    assert response.status_code == 303, response.text


def csrf(client: TestClient, path: str) -> str:
    return factory.csrf_from(client.get(path).text)


# --- a real browser against a real server ------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: Any, seeded: dict[str, int]) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("no system chromium: run `make setup`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def sign_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    page.goto(f"{base}/queue")
    assert page.url.startswith(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")
    return page
