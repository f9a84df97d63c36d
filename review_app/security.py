"""Passwords (argon2), server-side sessions, CSRF tokens and sign-in throttling."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledgerbot.core.errors import BusinessError, LedgerbotError, LoginSlowedDown
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import utcnow
from ledgerbot.core.store.review import ROLES, LoginAttemptRow, SessionRow, UserRow
from review_app.config import ReviewSettings

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Verified when the user name is unknown, so a wrong name costs as long as a wrong password
# and response time does not tell an attacker which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class UserError(BusinessError):
    code = "E701"


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


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def login_wait(
    session: Session, settings: ReviewSettings, username: str, client: str | None, now: datetime
) -> float:
    """Seconds until a sign-in on this account (and, behind trusted proxies, from this client) is tried.

    Per account, failures since the last success slow the next try down: none for the first few,
    then a wait that doubles up to a short maximum. It is never a lock, so whoever knows the
    password gets in after at most that wait, however many wrong guesses others made; refused
    tries are not counted, so they cannot stretch it. A client address is limited only when it
    is known (``client``), that is behind configured proxies: otherwise every office behind one
    NAT would share one address and one limit.
    """
    since = now - timedelta(minutes=settings.login_window_minutes)
    last_ok = session.scalar(
        select(func.max(LoginAttemptRow.at)).where(
            LoginAttemptRow.username == username, LoginAttemptRow.success.is_(True)
        )
    )
    start = max(since, _aware(last_ok)) if last_ok is not None else since
    failed = select(func.count(), func.max(LoginAttemptRow.at)).where(
        LoginAttemptRow.success.is_(False), LoginAttemptRow.at > start, LoginAttemptRow.username == username
    )
    count, latest = session.execute(failed).one()
    wait = 0.0
    if count >= settings.login_free_failures and latest is not None:
        delay = min(
            settings.login_backoff_seconds * 2 ** (count - settings.login_free_failures),
            settings.login_backoff_max_seconds,
        )
        wait = max(0.0, (_aware(latest) + timedelta(seconds=delay) - now).total_seconds())
    if client is not None:
        by_client = select(func.count(), func.min(LoginAttemptRow.at)).where(
            LoginAttemptRow.success.is_(False), LoginAttemptRow.at >= since, LoginAttemptRow.client == client
        )
        failures, oldest = session.execute(by_client).one()
        if failures >= settings.login_max_failures_per_client and oldest is not None:
            until = _aware(oldest) + timedelta(minutes=settings.login_window_minutes)
            wait = max(wait, (until - now).total_seconds())
    return wait


def authenticate(
    session: Session, settings: ReviewSettings, username: str, password: str, client: str | None
) -> UserRow | None:
    """The user whose name and password these are, or ``None``; raises when the try comes too soon.

    ``client`` is the caller's address when trusted proxies vouch for it, else ``None``.
    """
    username = username.strip()[:100]
    now = utcnow()
    wait = login_wait(session, settings, username, client, now)
    if wait > 0:
        seconds = max(1, round(wait))
        raise LoginSlowedDown(
            f"too many failed sign-ins on this account; try again in {seconds} s",
            retry_after=seconds,
        )
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    recorded = (client or "-")[:100]
    session.add(LoginAttemptRow(username=username, client=recorded, success=ok, at=now))
    if ok and user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user if ok else None


def _networks(proxies: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return networks


def is_trusted_proxy(address: str | None, proxies: list[str]) -> bool:
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(proxies))


def trusted_client(peer: str | None, forwarded_for: str | None, proxies: list[str]) -> str | None:
    """The client's address when the direct peer is a trusted proxy, else ``None`` (not known).

    The right-most address in X-Forwarded-For that is not itself a trusted proxy is the client:
    everything left of it was written by the client and proves nothing.
    """
    if not is_trusted_proxy(peer, proxies):
        return None
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None
    return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """What a request knows about its user; detached from any database session."""

    user_id: int
    username: str
    role: str
    csrf_token: str
    locale: str | None = None
    approval_limit: Decimal | None = None

    @property
    def can_approve(self) -> bool:
        return self.role in ("approver", "admin")

    @property
    def can_assign(self) -> bool:
        return self.role in ("approver", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


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
            last_seen_at=now,
        )
    )
    return token


# Read on every request: built once, run on the session's connection without ORM objects.
_SIGNED_IN = (
    select(
        SessionRow.expires_at,
        SessionRow.last_seen_at,
        SessionRow.created_at,
        SessionRow.csrf_token,
        UserRow.id,
        UserRow.username,
        UserRow.role,
        UserRow.locale,
        UserRow.approval_limit,
    )
    .join(UserRow, UserRow.id == SessionRow.user_id)
    .where(SessionRow.token_hash == bindparam("token_hash"), UserRow.active.is_(True))
)
# Only ever forward: a last use written late (it waited for the lock) never moves a newer one back.
_SEEN = (
    update(SessionRow)
    .where(
        SessionRow.token_hash == bindparam("seen_token"),
        or_(SessionRow.last_seen_at.is_(None), SessionRow.last_seen_at < bindparam("seen_at")),
    )
    .values(last_seen_at=bindparam("seen_at"))
)
# How stale the last-seen time may get before a request writes it again: one write a minute per
# session keeps the idle timeout exact to a minute without a write on every request.
SEEN_RESOLUTION = timedelta(seconds=60)
# How long writing last-use times waits for SQLite's write lock before leaving them for the next
# request: a page view must not wait behind a writer for a bookkeeping write.
TOUCH_LOCK_WAIT_SECONDS = 0.1


class SessionTouches:
    """Last-use times of sessions, noted while a request reads and written apart, per process.

    Page views read in transactions that take no lock (``Store.read_session``); the last-use time
    they owe (once a minute per session) is written in a short write transaction of its own that
    waits at most ``lock_wait`` seconds for the lock. Times that lose that race stay here and go
    out with the next request's, so a busy store delays them and never loses them.
    """

    def __init__(self, store: Store, lock_wait: float = TOUCH_LOCK_WAIT_SECONDS) -> None:
        self.store = store
        self.lock_wait = lock_wait
        self._lock = threading.Lock()
        self._pending: dict[str, datetime] = {}

    def note(self, digest: str, at: datetime) -> None:
        with self._lock:
            known = self._pending.get(digest)
            if known is None or known < at:
                self._pending[digest] = at

    @property
    def pending(self) -> int:
        return len(self._pending)

    def write(self) -> bool:
        """Write every noted time; whether all went out (``False``: kept for the next try)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return True
        try:
            with self.store.session(lock_wait=self.lock_wait) as session:
                db = session.connection()
                for digest, at in batch.items():
                    db.execute(_SEEN, {"seen_token": digest, "seen_at": at})
        except OperationalError as error:
            # The lock stayed taken (or the database could not be reached): the next request retries.
            log.info("session last-use times left for the next request: %s", error.orig)
            for digest, at in batch.items():
                self.note(digest, at)
            return False
        return True


def resolve_session(
    session: Session,
    token: str | None,
    now: datetime | None = None,
    idle: timedelta | None = None,
    touches: SessionTouches | None = None,
) -> SignedIn | None:
    """The signed-in user of a session cookie; ``None`` once it expired or sat idle for ``idle``.

    Only reads: a use that moves the session's last-use time on is noted in ``touches`` for the
    caller to write (``None`` reads the session without counting a use).
    """
    if not token or len(token) > 200:
        return None
    digest = _digest(token)
    row = session.connection().execute(_SIGNED_IN, {"token_hash": digest}).first()
    now = now or utcnow()
    if row is None or _aware(row.expires_at) <= now:
        return None
    seen = _aware(row.last_seen_at or row.created_at)
    if idle is not None and now - seen > idle:
        return None
    if touches is not None and now - seen > SEEN_RESOLUTION:
        touches.note(digest, now)
    limit = row.approval_limit
    return SignedIn(
        user_id=row.id,
        username=row.username,
        role=row.role,
        csrf_token=row.csrf_token,
        locale=row.locale,
        approval_limit=Decimal(str(limit)) if limit is not None else None,
    )


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def update_user(
    session: Session,
    user: UserRow,
    *,
    role: str,
    active: bool,
    locale: str | None,
    approval_limit: Decimal | None,
    password: str | None = None,
) -> dict[str, list[object]]:
    """Change a user's role, status, locale, limit or password; returns what changed (before, after)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role[:20]!r}; choose one of {', '.join(ROLES)}", role=role)
    if approval_limit is not None and approval_limit < 0:
        raise UserError("an approval limit is zero or more")
    changes: dict[str, list[object]] = {}
    for name, value in (
        ("role", role),
        ("active", active),
        ("locale", locale),
        ("approval_limit", approval_limit),
    ):
        if getattr(user, name) != value:
            changes[name] = [getattr(user, name), value]
            setattr(user, name, value)
    if password:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        user.password_hash = hash_password(password)
        changes["password"] = ["", "changed"]
    if changes.get("active") == [True, False] or "password" in changes or "role" in changes:
        # A deactivated user, a new password or another role ends the user's open sessions.
        session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
    return changes
