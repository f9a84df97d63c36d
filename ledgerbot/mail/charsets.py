"""Decoding mail text whatever charset it declares: declared, then detected, then latin-1."""

from __future__ import annotations

import codecs

# Names seen in the wild that Python's codec registry does not know, mapped to the codec meant.
# iso-8859-8-i is logical-order Hebrew: the same bytes as iso-8859-8.
_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
}


def _codec(name: str) -> str | None:
    name = name.strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(payload: bytes, declared: str | None) -> tuple[str, str | None]:
    """The text of ``payload`` and, when the declared charset did not work, a note saying what did."""
    codec = _codec(declared) if declared else "utf-8"
    if codec is not None:
        try:
            return payload.decode(codec), None
        except UnicodeDecodeError:
            pass
    # Imported here: charset detection is only needed for the odd mail.
    from charset_normalizer import from_bytes

    best = from_bytes(payload).best()
    if best is not None and best.encoding:
        return str(best), f"charset {declared!r} did not decode; read as {best.encoding} (detected)"
    return payload.decode("latin-1", "replace"), f"charset {declared!r} did not decode; read as latin-1"
