"""Reading a file a user or a sender named, without trusting what it is.

Only regular files are read: a FIFO would block the reader forever, ``/dev/zero`` would fill
memory, a folder cannot be read at all. The check uses ``stat`` (which never blocks), and the
file is opened non-blocking and checked again, so a file swapped for a FIFO in between cannot
hang the batch either. File names are escaped for display: control and bidirectional-override
characters (U+202E makes ``evil\u202efdp.exe`` look like ``evilexe.pdf``) are shown as escapes.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

from ledgerbot.core.errors import UnreadableFile, UnsupportedFile

# Largest file the store accepts: far above any invoice (a 300-page scan is ~30 MiB).
MAX_FILE_BYTES = 50 * 1024 * 1024
_CHUNK = 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def display_name(name: str) -> str:
    """``name`` with control, format (bidi) and separator characters other than space escaped."""
    out = []
    for char in name:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp") or (category == "Zs" and char != " "):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, or a coded error (E401 not regular/unreadable, E101 over ``limit``)."""
    shown = display_name(str(path))
    try:
        info = os.stat(path)
    except OSError as error:
        raise UnreadableFile(
            f"{shown}: cannot read the file ({error.strerror or error})", path=shown
        ) from error
    if not stat.S_ISREG(info.st_mode):
        kind = _kind(info.st_mode)
        raise UnreadableFile(f"{shown} is {kind}, not a regular file", path=shown, kind=kind)
    if info.st_size > limit:
        raise UnsupportedFile(
            f"{shown}: {info.st_size} bytes is over the {limit} byte limit", path=shown, size=info.st_size
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UnreadableFile(
            f"{shown}: cannot open the file ({error.strerror or error})", path=shown
        ) from error
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the two looks
            raise UnreadableFile(f"{shown} is {_kind(mode)}, not a regular file", path=shown)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise UnreadableFile(f"{shown}: reading failed ({error.strerror or error})", path=shown) from error
    finally:
        os.close(fd)
    if size > limit:
        raise UnsupportedFile(f"{shown}: more than the {limit} byte limit", path=shown)
    return b"".join(chunks)
