"""Passwords (argon2), server-side sessions, CSRF tokens and sign-in throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from ledgerbot.core.errors import BusinessError, LedgerbotError
from ledgerbot.core.store.models import utcnow
from ledgerbot.core.store.review import ROLES, LoginAttemptRow, SessionRow, UserRow
from review_app.config import ReviewSettings

_hasher = PasswordHasher()
# Verified when the user name is unknown, so a wrong name costs as long as a wrong password
# and response time does not tell an attacker which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class UserError(BusinessError):
    code = "E701"


class LoginThrottled(LedgerbotError):
    code = "E702"


class Forbidden(LedgerbotError):
    code = "E703"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(session: Session, username: str, password: str, role: str) -> UserRow:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UserError("a user name is 1-100 characters without spaces", username=username)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", role=role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise UserError(f"user {username!r} already exists", username=username)
    user = UserRow(username=username, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def _throttled(session: Session, settings: ReviewSettings, username: str, client: str) -> bool:
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    failures = select(func.count()).where(LoginAttemptRow.success.is_(False), LoginAttemptRow.at >= since)
    by_user = session.scalar(failures.where(LoginAttemptRow.username == username)) or 0
    by_client = session.scalar(failures.where(LoginAttemptRow.client == client)) or 0
    return by_user >= settings.login_max_failures or by_client >= settings.login_max_failures_per_client


def authenticate(
    session: Session, settings: ReviewSettings, username: str, password: str, client: str
) -> UserRow | None:
    """The user whose name and password these are, or ``None``; raises when throttled.

    Every attempt is recorded; once a name or a client address has too many recent failures,
    even the right password is refused until the window passes.
    """
    username = username.strip()[:100]
    client = client[:100]
    if _throttled(session, settings, username, client):
        session.add(LoginAttemptRow(username=username, client=client, success=False, at=utcnow()))
        raise LoginThrottled(
            f"too many failed sign-ins; try again in {settings.login_window_minutes} minutes"
        )
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    session.add(LoginAttemptRow(username=username, client=client, success=ok, at=utcnow()))
    if ok and user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user if ok else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """What a request knows about its user; detached from any database session."""

    user_id: int
    username: str
    role: str
    csrf_token: str

    @property
    def can_approve(self) -> bool:
        return self.role in ("approver", "admin")

    @property
    def can_assign(self) -> bool:
        return self.role in ("approver", "admin")


def open_session(session: Session, settings: ReviewSettings, user: UserRow) -> str:
    """Start a session for ``user`` and return the cookie value (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
    # Attempts older than the throttling window no longer count; keep the table small.
    session.execute(
        delete(LoginAttemptRow).where(
            LoginAttemptRow.username == user.username,
            LoginAttemptRow.at < now - timedelta(minutes=settings.login_window_minutes),
        )
    )
    session.add(
        SessionRow(
            token_hash=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    return token


# Read on every request: built once, run on the session's connection without ORM objects.
_SIGNED_IN = (
    select(SessionRow.expires_at, SessionRow.csrf_token, UserRow.id, UserRow.username, UserRow.role)
    .join(UserRow, UserRow.id == SessionRow.user_id)
    .where(SessionRow.token_hash == bindparam("token_hash"), UserRow.active.is_(True))
)


def resolve_session(session: Session, token: str | None, now: datetime | None = None) -> SignedIn | None:
    if not token or len(token) > 200:
        return None
    row = session.connection().execute(_SIGNED_IN, {"token_hash": _digest(token)}).first()
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return SignedIn(user_id=row.id, username=row.username, role=row.role, csrf_token=row.csrf_token)


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)
