"""The sandbox ERP as a real server: serve_in_thread over HTTP, concurrent postings, and the CLI process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sandbox.erp import serve_in_thread
from tests.sandbox.erp_support import by_id, error_codes, form_token, po_invoice, tree


def _login(client: httpx.Client, user: str = "ap-robot", password: str = "robot-pass-1") -> None:
    response = client.post(
        "/login", data={"username": user, "password": password, "next": "/"}, follow_redirects=True
    )
    assert response.status_code == 200 and by_id(tree(response), "session-user") == user


def test_serve_in_thread_serves_and_stops(tmp_path: Path) -> None:
    with serve_in_thread(tmp_path / "erp.db") as url:
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as client:
            assert client.get("/vendors").url.path == "/login"
            _login(client)
            assert by_id(tree(client.get("/vendors")), "record-count") == "36"
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/login", timeout=5)
    assert (tmp_path / "erp.db").exists()  # the database outlives the server


def test_posted_invoices_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "erp.db"
    with serve_in_thread(db) as url, httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        _login(client)
        response = client.post("/invoices/new", data=po_invoice(client, "PO-45010", invoice_number="KEEP-1"))
        assert response.status_code == 303
    with serve_in_thread(db) as url, httpx.Client(base_url=url, follow_redirects=True, timeout=30) as client:
        _login(client)
        page = tree(client.get("/invoices/search", params={"invoice_number": "KEEP-1"}))
        assert by_id(page, "result-count") == "1"


def test_concurrent_postings_of_one_invoice_book_it_once(tmp_path: Path) -> None:
    """Two robots typing the same invoice at the same moment: the ERP books it exactly once."""
    with serve_in_thread(tmp_path / "erp.db") as url:
        clients = [httpx.Client(base_url=url, follow_redirects=False, timeout=30) for _ in range(2)]
        try:
            _login(clients[0])
            _login(clients[1], "clerk", "clerk-pass-1")
            for attempt in range(3):
                forms = [po_invoice(c, "PO-45020", invoice_number=f"RACE-{attempt}") for c in clients]
                barrier = threading.Barrier(len(clients))
                results: list[tuple[int, str]] = []

                def post(
                    index: int,
                    forms: list[dict[str, str]] = forms,
                    barrier: threading.Barrier = barrier,
                    results: list[tuple[int, str]] = results,
                ) -> None:
                    barrier.wait()
                    response = clients[index].post("/invoices/new", data=forms[index])
                    results.append((response.status_code, response.text))

                threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
                assert sorted(status for status, _ in results) == [303, 409]
                refused = next(body for status, body in results if status == 409)
                assert error_codes(tree(httpx.Response(200, text=refused))) == {
                    "invoice_number": "DUPLICATE_INVOICE"
                }
            page = tree(clients[0].get("/invoices/search"))
            assert by_id(page, "record-count") == "3"
        finally:
            for client in clients:
                client.close()


def test_each_form_render_gets_its_own_token(tmp_path: Path) -> None:
    with serve_in_thread(tmp_path / "erp.db") as url, httpx.Client(base_url=url, timeout=30) as client:
        _login(client)
        tokens = {form_token(client) for _ in range(5)}  # type: ignore[arg-type]
        assert len(tokens) == 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ledgerbot() -> list[str]:
    return [sys.executable, "-m", "ledgerbot"]


@pytest.mark.slow
def test_cli_serves_seeded_erp_and_prints_one_json_line(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "cli-erp.db"
    env = {**os.environ, "LEDGERBOT_ERP_PASSWORD": "cli-pass"}
    command = [*_ledgerbot(), "sandbox", "erp", "--port", str(port), "--db", str(db), "--slow-every", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["url"] == f"http://127.0.0.1:{port}"
        assert info["seeded"] is True and info["vendors"] >= 30 and info["purchase_orders"] >= 300
        assert "cli-pass" not in json.dumps(info)
        base = info["url"]
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "CLI server did not come up"
                time.sleep(0.1)
        with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
            _login(client, "ap-robot", "cli-pass")
            assert by_id(tree(client.get("/orders")), "record-count") == str(info["purchase_orders"])
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert db.exists()
    # A second start reuses the database instead of reseeding, and --reset starts over.
    port = _free_port()
    process = subprocess.Popen(
        [*_ledgerbot(), "sandbox", "erp", "--port", str(port), "--db", str(db), "--reset"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["seeded"] is True
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*_ledgerbot(), "sandbox", "erp", "--port", str(port), "--db", str(tmp_path / "e.db")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "[E300]" in result.stderr and str(port) in result.stderr
    assert not (tmp_path / "e.db").exists()  # nothing seeded for a server that cannot start


def test_cli_refuses_a_database_of_another_application(tmp_path: Path) -> None:
    import sqlite3

    store = tmp_path / "ledgerbot.db"
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY)")
    result = subprocess.run(
        [*_ledgerbot(), "sandbox", "erp", "--port", str(_free_port()), "--db", str(store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "[E301]" in result.stderr and "Traceback" not in result.stderr
    with sqlite3.connect(store) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"documents"}  # nothing was added to the other application's file
