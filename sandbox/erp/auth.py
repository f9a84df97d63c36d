"""Users, session cookies with an idle timeout, and one-time form tokens for the sandbox ERP."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from sandbox.erp.db import ErpDatabase

SESSION_COOKIE = "ERPSESSIONID"
ROBOT_USER = "ap-robot"
CLERK_USER = "clerk"
PASSWORD_ENV = "LEDGERBOT_ERP_PASSWORD"
DEFAULT_ROBOT_PASSWORD = "robot-pass-1"
DEFAULT_CLERK_PASSWORD = "clerk-pass-1"


def default_users() -> dict[str, str]:
    """The robot account (password from ``LEDGERBOT_ERP_PASSWORD``) and a human clerk."""
    return {
        ROBOT_USER: os.environ.get(PASSWORD_ENV) or DEFAULT_ROBOT_PASSWORD,
        CLERK_USER: DEFAULT_CLERK_PASSWORD,
    }


class SessionManager:
    """Server-side sessions in the ERP database; a session dies after ``ttl`` idle seconds."""

    def __init__(
        self, db: ErpDatabase, users: Mapping[str, str], ttl: float, clock: Callable[[], float]
    ) -> None:
        self.db = db
        self.ttl = ttl
        self.clock = clock
        # Low-cost argon2 parameters: this is a sandbox, and tests log in many times.
        self._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        self._hashes = {name: self._hasher.hash(password) for name, password in users.items()}
        # Verifying a dummy hash for unknown users keeps their timing like a wrong password.
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    def authenticate(self, username: str, password: str) -> bool:
        stored = self._hashes.get(username)
        try:
            self._hasher.verify(stored or self._dummy, password)
        except VerificationError:
            return False
        return stored is not None

    def open(self, username: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, username, now, now))
            # Old sessions are swept here rather than by a background job.
            conn.execute("DELETE FROM sessions WHERE last_seen < ?", (now - max(self.ttl, 3600) * 4,))
            conn.execute("DELETE FROM form_tokens WHERE session_id NOT IN (SELECT session_id FROM sessions)")
        return session_id

    def resolve(self, session_id: str | None) -> tuple[str | None, bool]:
        """(user, expired): the logged-in user and whether a known session had timed out."""
        if not session_id:
            return None, False
        now = self.clock()
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT username, last_seen FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None, False
            if now - row["last_seen"] > self.ttl:
                conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
                conn.execute("DELETE FROM form_tokens WHERE session_id = ?", (session_id,))
                return None, True
            conn.execute("UPDATE sessions SET last_seen = ? WHERE session_id = ?", (now, session_id))
        return str(row["username"]), False

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
                conn.execute("DELETE FROM form_tokens WHERE session_id = ?", (session_id,))

    def issue_form_token(self, session_id: str) -> str:
        token = secrets.token_urlsafe(24)
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO form_tokens VALUES (?, ?, ?)", (token, session_id, self.clock()))
        return token

    def consume_form_token(self, session_id: str, token: str) -> bool:
        """True once per token issued to this session: a resubmitted form is refused."""
        if not token:
            return False
        with self.db.transaction() as conn:
            # Spending deletes the token: an unknown token and a spent one are refused alike.
            cursor = conn.execute(
                "DELETE FROM form_tokens WHERE token = ? AND session_id = ?", (token, session_id)
            )
            return cursor.rowcount == 1
