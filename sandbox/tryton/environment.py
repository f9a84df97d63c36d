"""A Tryton server a machine sets up by itself: install, seeded database, a running trytond.

Tryton lives in a virtual environment of its own (its pins, lxml among them, need not follow
ledgerbot's), its web client sao comes from the npm registry, and both sit in a cache folder
shared by every run on the machine. A seeded SQLite database is built once per master-data
set and copied for every server, so a test or a demo starts from a known state in seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ledgerbot.core.errors import ApplicationError

# Exact pins of the Tryton side; a change here builds a new environment next to the old one.
TRYTON_PACKAGES = (
    "trytond==8.0.12",
    "trytond-account-invoice==8.0.2",
    "trytond-purchase==8.0.3",
    "trytond-stock==8.0.5",
    "trytond-purchase-invoice-line-standalone==8.0.0",
    # Suppliers' bank accounts: the rules engine checks the IBAN an invoice asks payment to.
    "trytond-bank==8.0.0",
    "proteus==8.0.0",
)
SAO_PACKAGE = "tryton-sao@8.0.11"
# Modules activated in every database (their dependencies come along).
MODULES = ("account_invoice", "purchase", "stock", "purchase_invoice_line_standalone", "bank")
ADMIN_PASSWORD = "ledgerbot-admin"
ROBOT_LOGIN, ROBOT_PASSWORD = "ap-robot", "robot-pass-1"
COMPANY_NAME = "Ledgerbot Demo GmbH"
# Company currency EUR; foreign currencies at a fixed rate so foreign invoices can be booked.
CURRENCY_RATES = {"EUR": "1", "GBP": "0.86", "USD": "1.08"}
FISCAL_YEARS = (2025, 2026, 2027)
SEED_SCRIPT = Path(__file__).with_name("seed_database.py")
# trytond as its own script runs it, on SQLite without restarting transactions for no-op locks.
SERVE_SCRIPT = Path(__file__).with_name("serve.py")


class TrytonSetupFailed(ApplicationError):
    code = "E733"


def _say(message: str) -> None:
    print(f"[tryton] {message}", file=sys.stderr, flush=True)


def default_home() -> Path:
    """Where the Tryton environment is kept: ``LEDGERBOT_TRYTON_HOME`` or the user's cache folder."""
    configured = os.environ.get("LEDGERBOT_TRYTON_HOME")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ledgerbot" / "tryton-8.0"


@dataclass(frozen=True)
class Installation:
    """An installed Tryton: its interpreter, server and admin scripts, and sao's web root."""

    home: Path

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def trytond(self) -> Path:
        return self.venv / "bin" / "trytond"

    @property
    def trytond_admin(self) -> Path:
        return self.venv / "bin" / "trytond-admin"

    @property
    def web_root(self) -> Path:
        return self.home / "www"


def _run(command: list[str], *, what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise TrytonSetupFailed(f"{what} failed: {' | '.join(tail)[:600]}")
    return done.stdout


def _stamp_ok(stamp: Path, want: str) -> bool:
    return stamp.exists() and stamp.read_text() == want


def ensure_installed(home: Path | None = None) -> Installation:
    """Install trytond (pip, own venv) and sao (npm) once; later calls only check the stamps."""
    install = Installation(home or default_home())
    install.home.mkdir(parents=True, exist_ok=True)
    want_python = "\n".join(TRYTON_PACKAGES)
    python_stamp = install.venv / ".ledgerbot-installed"
    if not _stamp_ok(python_stamp, want_python):
        _say(f"installing trytond into {install.venv} (once)")
        if install.venv.exists():
            shutil.rmtree(install.venv)
        _run([sys.executable, "-m", "venv", str(install.venv)], what="creating Tryton's venv")
        _run(
            [
                str(install.python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *TRYTON_PACKAGES,
            ],
            what="pip install of trytond",
        )
        python_stamp.write_text(want_python)
    web_stamp = install.web_root / ".ledgerbot-installed"
    if not _stamp_ok(web_stamp, SAO_PACKAGE):
        _say(f"installing the sao web client into {install.web_root} (once)")
        npm_dir = install.home / "npm"
        shutil.rmtree(npm_dir, ignore_errors=True)
        npm_dir.mkdir()
        npm = shutil.which("npm")
        if npm is None:
            raise TrytonSetupFailed("npm is not installed: it is needed once to fetch Tryton's web client")
        _run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(npm_dir),
                SAO_PACKAGE,
            ],
            what="npm install of sao",
        )
        # sao's index.html loads its libraries from node_modules beside it: the web root is
        # the package itself with the installed dependencies moved next to it.
        shutil.rmtree(install.web_root, ignore_errors=True)
        shutil.copytree(npm_dir / "node_modules" / "tryton-sao", install.web_root)
        (npm_dir / "node_modules" / "tryton-sao").rename(npm_dir / "tryton-sao-package")
        (npm_dir / "node_modules").rename(install.web_root / "node_modules")
        for name in ("custom.js", "custom.css"):
            (install.web_root / name).write_text("")
        web_stamp.write_text(SAO_PACKAGE)
    return install


def write_config(folder: Path, install: Installation, *, port: int = 0, session_timeout: int = 3600) -> Path:
    """A trytond configuration for SQLite databases in ``folder``."""
    config = folder / "trytond.conf"
    config.write_text(
        "[database]\n"
        "uri = sqlite://\n"
        f"path = {folder}\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        f"root = {install.web_root}\n"
        "[session]\n"
        f"timeout = {session_timeout}\n"
        "max_attempt = 1000\n"
        "[password]\n"
        "length = 4\n"
    )
    return config


def seed_payload(
    master: Any, tax_rates: dict[str, Decimal], po_numbers: Iterable[str] | None = None
) -> dict[str, Any]:
    """The books and master data (``sandbox.masterdata.MasterData``) a Tryton database is seeded with.

    ``po_numbers`` limits the purchase orders (and their receipts) to those a batch of documents
    refers to: Tryton books an order in about a second, all 320 would take minutes.
    ``tax_rates`` is the VAT percentage by supplier country.
    """
    wanted = set(po_numbers) if po_numbers is not None else None
    orders = [o for o in master.purchase_orders if wanted is None or o.po_number in wanted]
    receipts = [r for r in master.receipts if wanted is None or r.po_number in wanted]

    return {
        "company_name": COMPANY_NAME,
        "company_currency": "EUR",
        "currencies": CURRENCY_RATES,
        "fiscal_years": list(FISCAL_YEARS),
        "tax_rates": {country: format(rate, "f") for country, rate in tax_rates.items()},
        "robot_login": ROBOT_LOGIN,
        "robot_password": ROBOT_PASSWORD,
        "vendors": [v.model_dump(mode="json") for v in master.vendors],
        "orders": [o.model_dump(mode="json") for o in orders],
        "receipts": [r.model_dump(mode="json") for r in receipts],
    }


def seeded_database(
    install: Installation, payload: dict[str, Any], *, name: str = "ledgerbot", cache: Path | None = None
) -> Path:
    """The seeded SQLite file for this payload, built once and kept in ``cache`` (a template to copy)."""
    request = {"modules": list(MODULES), "admin_email": "admin@ledgerbot.invalid", **payload}
    digest = hashlib.sha256(
        json.dumps(request, sort_keys=True).encode()
        + SEED_SCRIPT.read_bytes()
        + "\n".join(TRYTON_PACKAGES).encode()
    ).hexdigest()[:16]
    databases = (cache or install.home / "databases").resolve()
    templates = databases / digest
    target = templates / f"{name}.sqlite"
    if target.exists():
        return target
    building = databases / f"{digest}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    started = time.monotonic()
    _say(f"creating and seeding a Tryton database ({len(payload['orders'])} purchase orders)")
    config = write_config(building, install)
    (building / f"{name}.sqlite").touch()
    password_file = building / "admin-password"
    password_file.write_text(ADMIN_PASSWORD)
    env = {**os.environ, "TRYTONPASSFILE": str(password_file)}
    data_file = building / "seed.json"
    data_file.write_text(json.dumps(request))
    # One process activates the modules and seeds: Tryton's pool is loaded once, not twice.
    out = _run(
        [str(install.python), str(SEED_SCRIPT), str(config), name, str(data_file)], what="seeding", env=env
    )
    _say(f"seeded in {time.monotonic() - started:.1f} s: {out.strip()}")
    templates.mkdir(parents=True, exist_ok=True)
    # A rename is atomic: a parallel run either sees the finished file or builds its own.
    os.replace(building / f"{name}.sqlite", target)
    shutil.rmtree(building, ignore_errors=True)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningTryton:
    """A trytond serving one database copy; ``url`` is both the JSON-RPC root and sao's address."""

    url: str
    database: str
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def database_file(self) -> Path:
        return self.folder / f"{self.database}.sqlite"

    def client_url(self) -> str:
        return f"{self.url}/"


@contextmanager
def running_tryton(
    install: Installation,
    template: Path,
    folder: Path,
    *,
    name: str = "ledgerbot",
    session_timeout: int = 3600,
    start_timeout: float = 60.0,
) -> Iterator[RunningTryton]:
    """Copy the seeded database into ``folder``, serve it on a free loopback port, stop it after."""
    # trytond opens its SQLite files by the configured path, which must not depend on its cwd.
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / f"{name}.sqlite")
    port = free_port()
    config = write_config(folder, install, port=port, session_timeout=session_timeout)
    log = (folder / "trytond.log").open("ab")
    process = subprocess.Popen(
        [str(install.python), str(SERVE_SCRIPT), "-c", str(config), "-d", name],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise TrytonSetupFailed(
                    f"trytond exited with {process.returncode}; see {folder / 'trytond.log'}"
                )
            try:
                answer = httpx.post(
                    f"{url}/rpc/", json={"method": "common.server.version", "params": []}, timeout=2
                )
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TrytonSetupFailed(f"trytond did not answer on {url} within {start_timeout:.0f} s")
            time.sleep(0.2)
        yield RunningTryton(url=url, database=name, folder=folder, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
