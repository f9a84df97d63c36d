"""Reading mail settings that users type by hand: host lists as JSON or comma-separated."""

from __future__ import annotations

import json
import re
from typing import Any

from ledgerbot.errors import MailSettingsInvalid

# A host name or an IPv4/IPv6 address, as urlsplit(...).hostname gives it (lower case, no port).
_HOST = re.compile(r"^(\[?[0-9a-f:.]+\]?|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$")


def parse_host_list(value: Any, *, setting: str = "LEDGERBOT_IMAP_LINK_HOSTS") -> list[str]:
    """Hosts from a JSON list (``["a.test", "b.test"]``), a comma-separated string or a list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise MailSettingsInvalid(
                    f"{setting} is not a valid JSON list ({error.msg} at column {error.colno}); "
                    'write it as ["host1", "host2"] or host1,host2',
                    setting=setting,
                ) from None
        else:
            value = [item for item in text.split(",")]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise MailSettingsInvalid(f"{setting} must be a list of host names", setting=setting)
    hosts = [item.strip().lower() for item in value if item.strip()]
    for host in hosts:
        if not _HOST.match(host.strip("[]")):
            raise MailSettingsInvalid(
                f"{setting}: {host!r} is not a host name (give hosts only, no scheme, port or path)",
                setting=setting,
            )
    return [host.strip("[]") for host in hosts]
