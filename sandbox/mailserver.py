"""A private Dovecot IMAP server on loopback, for the demo and the mail-intake tests.

It runs from its own config folder (no systemd, no system config touched), stores mail as
Maildir under that folder and accepts the users it was started with.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledgerbot.core.errors import ApplicationError

MAIL_OS_USER = "dovenull" if shutil.which("dovecot") else "nobody"


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    users: dict[str, str]
    root: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, os_user: str) -> str:
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
mail_uid = {os_user}
mail_gid = {os_user}
first_valid_uid = 1
default_internal_user = {os_user}
default_login_user = {os_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log.read_text()[-500:] if log.exists() else ""
            raise ApplicationError(f"dovecot exited at start: {detail}", code="E901")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise ApplicationError(f"dovecot did not answer on port {port} within {timeout}s", code="E902")


def start(users: dict[str, str], root: Path | None = None, port: int | None = None) -> MailServer:
    """Start Dovecot in the foreground of a child process; stop it with :func:`stop`.

    Dovecot's auth and mail processes run as an unprivileged user, so ``root`` and every folder
    above it must be traversable by that user; by default a fresh folder under /tmp is used.
    """
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        raise ApplicationError("dovecot is not installed (run `make setup`)", code="E900")
    port = port or free_port()
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="ledgerbot-imap-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, MAIL_OS_USER))
    owner = pwd.getpwnam(MAIL_OS_USER)
    for path in [root / "mail", *(root / "mail").rglob("*")]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _wait_for_port(port, process, root / "dovecot.log", timeout=20)
    return MailServer(host="127.0.0.1", port=port, users=dict(users), root=root, process=process)


def stop(server: MailServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def running(users: dict[str, str], root: Path | None = None, port: int | None = None) -> Iterator[MailServer]:
    server = start(users, root, port)
    try:
        yield server
    finally:
        stop(server)
