"""Who really sent a forwarded invoice: the original sender, date and subject of a forwarded mail.

Two shapes occur: the original attached as a message (``message/rfc822`` or an ``.eml`` file),
whose headers say it all, and an inline forward, where the mail client quotes the original's
header block in the body and attaches the original's files to the forward itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

# The line a mail client puts above a quoted original (Gmail, Outlook, Apple Mail, Thunderbird
# in EN/DE/FR/NL/ES), and the labels of the quoted header lines.
_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|urspr[üu]ngliche nachricht"
    r"|message transf[ée]r[ée]|message d'origine|doorgestuurd bericht|mensaje reenviado)\s*-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:|_{10,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_LABELS = {
    "sender": ("from", "von", "de", "van", "da"),
    "date": ("date", "sent", "datum", "gesendet", "envoyé", "envoye", "verzonden", "fecha", "enviado"),
    "subject": ("subject", "betreff", "objet", "onderwerp", "asunto"),
}
_HEADER_LINE = re.compile(r"^\s*>?\s*\*?([A-Za-zÀ-ÿ]+)\s*:\*?\s*(.*?)\s*$")
# How far below the marker the quoted header block may end.
_BLOCK_LINES = 12


@dataclass(frozen=True)
class Origin:
    """The mail a forwarded document first came with."""

    sender: str
    date: str
    subject: str
    message_id: str = ""
    how: str = "attached"  # "attached" (a message inside the mail) or "inline" (quoted header block)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.sender,
            "date": self.date,
            "subject": self.subject,
            "message_id": self.message_id,
            "how": self.how,
        }


def header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header must not cost the document its provenance
        return ""
    return clean(str(value)) if value is not None else ""


def clean(text: str) -> str:
    """One line, valid UTF-8 (undecodable header bytes arrive as surrogates)."""
    return " ".join(text.encode("utf-8", "replace").decode("utf-8").split())


def of_message(message: Message) -> Origin:
    return Origin(
        sender=header(message, "from"),
        date=header(message, "date"),
        subject=header(message, "subject"),
        message_id=header(message, "message-id"),
    )


def inline_origin(body: str) -> Origin | None:
    """The original's sender, date and subject from a quoted header block in a forward's body."""
    marker = _MARKER.search(body)
    if marker is None:
        return None
    found: dict[str, str] = {}
    for line in body[marker.end() :].lstrip("\r\n").splitlines()[:_BLOCK_LINES]:
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        label = match.group(1).lower()
        for key, labels in _LABELS.items():
            if label in labels and key not in found:
                found[key] = clean(match.group(2))
    if "sender" not in found:
        return None
    return Origin(
        sender=found["sender"], date=found.get("date", ""), subject=found.get("subject", ""), how="inline"
    )
