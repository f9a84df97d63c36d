"""Tryton's JSON-RPC as the robot's account uses it: log in, call model methods, log in again on expiry.

The same protocol sao speaks (``POST /<database>/rpc/`` with ``{"method", "params"}``); a session
is the pair (user id, session key) sent as HTTP basic credentials. Tryton's user errors and
warnings come back as typed exceptions so the adapter can turn them into clerk exceptions.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import httpx

from ledgerbot.core.target import ErpRejected, ErpUnavailable


class TrytonUserError(ErpRejected):
    """Tryton refused a call with a message meant for a user (validation, access, a missing record)."""


class TrytonWarning(ErpRejected):
    """Tryton asked for a confirmation (a similar invoice exists, ...): a finding, never clicked away."""


def decode(value: Any) -> Any:
    """Tryton's JSON extensions (``__class__`` objects) -> Python values (Decimal, date, ...)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        kind = value.get("__class__")
        if kind == "Decimal":
            return Decimal(value["decimal"])
        if kind == "date":
            return dt.date(value["year"], value["month"], value["day"])
        if kind == "datetime":
            return dt.datetime(
                value["year"], value["month"], value["day"], value["hour"], value["minute"], value["second"]
            )
        if kind == "bytes":
            return base64.b64decode(value["base64"])
        return {k: decode(v) for k, v in value.items()}
    return value


def encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": format(value, "f")}
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


class TrytonRpc:
    """One logged-in JSON-RPC session of a Tryton user on one database."""

    def __init__(self, url: str, database: str, login: str, password: str, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self._password = password
        self._http = httpx.Client(timeout=timeout)
        self._session: tuple[int, str] | None = None
        self.context: dict[str, Any] = {}
        self.logins = 0
        self.calls = 0  # round trips and the time spent in them, for benchmarks and diagnostics
        self.call_seconds = 0.0
        # The same by method (``model.account.invoice.create``, ...): which calls a posting makes.
        self.calls_by_method: Counter[str] = Counter()
        self.seconds_by_method: defaultdict[str, float] = defaultdict(float)

    def close(self) -> None:
        self._http.close()

    def _post(self, method: str, params: list[Any], *, auth: bool = True) -> Any:
        headers = {}
        if auth and self._session:
            user, key = self._session
            token = base64.b64encode(f"{self.login}:{user}:{key}".encode()).decode()
            headers["Authorization"] = f"Session {token}"
        started = time.monotonic()
        try:
            response = self._http.post(
                f"{self.url}/{self.database}/rpc/",
                json={"id": 0, "method": method, "params": encode(params)},
                headers=headers,
            )
        except httpx.TimeoutException as error:
            raise ErpUnavailable(f"Tryton did not answer {method} in time") from error
        except httpx.HTTPError as error:
            raise ErpUnavailable(f"cannot reach Tryton at {self.url}: {error}") from error
        finally:
            spent = time.monotonic() - started
            self.calls += 1
            self.call_seconds += spent
            self.calls_by_method[method] += 1
            self.seconds_by_method[method] += spent
        if response.status_code == 401:
            raise _SessionExpired()
        if response.status_code >= 500:
            raise ErpUnavailable(f"Tryton answered {response.status_code} to {method}")
        if response.status_code == 429:
            raise ErpUnavailable("Tryton refused too many logins: try later")
        try:
            body = response.json()
        except ValueError:
            raise ErpUnavailable(
                f"Tryton answered {response.status_code} to {method}: {response.text[:200]!r}"
            ) from None
        failure = body.get("error")
        if failure:
            raise _error(method, failure)
        return decode(body.get("result"))

    def log_in(self) -> None:
        started = time.monotonic()
        result = self._post("common.db.login", [self.login, {"password": self._password}, "en"], auth=False)
        if not result:
            raise ErpRejected(f"Tryton refused the login of {self.login!r}")
        self._session = (int(result[0]), str(result[1]))
        self.logins += 1
        self.context = self._post("model.res.user.get_preferences", [True, {}])
        self.login_seconds = time.monotonic() - started

    def call(self, method: str, *args: Any) -> Any:
        """``model.<name>.<method>`` with the user's context appended, logging in when needed."""
        for attempt in range(2):
            if self._session is None:
                self.log_in()
            try:
                return self._post(method, [*args, self.context])
            except _SessionExpired:
                self._session = None
                if attempt:
                    raise ErpUnavailable("Tryton keeps refusing the robot's session") from None
        raise AssertionError("unreachable")

    def model(self, name: str, method: str, *args: Any) -> Any:
        return self.call(f"model.{name}.{method}", *args)

    def search_read(
        self,
        name: str,
        domain: list[Any],
        fields: list[str],
        *,
        order: list[tuple[str, str]] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.model(name, "search_read", domain, 0, limit, order, fields)
        return rows

    def read(self, name: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.model(name, "read", ids, fields)
        return rows


class _SessionExpired(Exception):
    pass


def _error(method: str, error: Any) -> Exception:
    """A JSON-RPC error -> a typed exception: user errors and warnings are business findings."""
    if isinstance(error, list) and error:
        kind = error[0]
        args = error[1] if len(error) > 1 else []
        if kind == "UserError":
            message = args[0] if args else "Tryton refused the request"
            description = args[1] if len(args) > 1 else ""
            return TrytonUserError(
                f"Tryton: {message}", tryton_message=message, tryton_description=description
            )
        if kind == "UserWarning":
            name = args[0] if args else ""
            message = args[1] if len(args) > 1 else "Tryton asked for a confirmation"
            return TrytonWarning(f"Tryton warning: {message}", tryton_warning=name, tryton_message=message)
        if kind in ("ConcurrencyException",):
            return ErpUnavailable(f"Tryton: {kind} on {method}")
        if kind in ("NotLogged", "LoginException"):
            return _SessionExpired()
    return ErpUnavailable(f"Tryton failed on {method}: {str(error)[:300]}")
