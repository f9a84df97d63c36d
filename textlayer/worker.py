"""A guarded worker process: runs parse and OCR tasks under a memory limit, one at a time.

Started by :class:`~textlayer.reader.TextLayerReader` as ``python -m
textlayer.worker READ_FD WRITE_FD MEMORY_MB``, or forked and calling ``main`` the same way, with
``OMP_THREAD_LIMIT=1`` in its environment (tesseract inherits it), so two workers use two cores
and no more. The parent
enforces wall-clock budgets by killing the worker's process group (tesseract included).
"""

from __future__ import annotations

import os
import resource
import sys
from multiprocessing.connection import Connection
from typing import Any


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a lower hard limit is already in place
        pass


def run_task(kind: str, args: tuple[Any, ...]) -> Any:
    """Run one task; every failure comes back as a TextLayerError with its code."""
    from textlayer import tasks
    from textlayer.errors import CorruptFile, OCRFailed, ResourceLimit, TextLayerError

    name = str(args[1]) if kind == "parse" else str(args[2])
    try:
        if kind == "parse":
            return tasks.parse(*args)
        if kind == "ocr":
            return tasks.ocr_page(*args)
        raise ValueError(f"unknown task kind {kind!r}")
    except TextLayerError:
        raise
    except RecursionError as error:
        raise ResourceLimit("the file nests its objects too deeply to parse safely", source=name) from error
    except MemoryError as error:
        raise ResourceLimit("parsing the file ran over the worker's memory limit", source=name) from error
    except Exception as error:
        root = tasks.root_cause(error)
        if isinstance(root, RecursionError | MemoryError):
            raise ResourceLimit(
                "the file is too deeply nested or too large to parse safely", source=name
            ) from error
        if kind == "ocr":
            raise OCRFailed(f"OCR failed ({tasks.describe(error)})", source=name) from error
        raise CorruptFile(f"the file cannot be parsed ({tasks.describe(error)})", source=name) from error


def serve(conn: Connection) -> None:
    from textlayer.errors import ResourceLimit, TextLayerError

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if message is None:
            return
        task_id, kind, args = message
        try:
            reply = (task_id, True, run_task(kind, args))
        except TextLayerError as error:
            reply = (task_id, False, error)
        except MemoryError:
            reply = (task_id, False, ResourceLimit("ran over the worker's memory limit"))
        try:
            conn.send(reply)
        except (RecursionError, MemoryError):
            conn.send((task_id, False, ResourceLimit("the result is too large or deep to hand back")))
        del message, reply


def preload() -> None:
    """Import the parsing libraries once, up front, so the first parse pays no start-up cost.

    The OCR ones load with the first OCR task (a batch of born-digital PDFs never needs them),
    and pdfplumber with the first parse only where it reads the born-digital pages (pdfium does
    by default).
    """
    import pypdfium2  # noqa: F401

    from textlayer import pdfium_words, tasks  # noqa: F401


def main(argv: list[str]) -> None:
    read_fd, write_fd, memory_mb = int(argv[0]), int(argv[1]), int(argv[2])
    _limit_memory(memory_mb)
    preload()
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    # Tell the parent the imports are done: its wall-clock budgets start with the first task.
    outbox.send(("ready", None, None))
    _Duplex(inbox, outbox).serve()
    # Asked to stop (or the parent went away): the parent waits for this exit, and tearing the
    # interpreter and the parsing libraries down would only make it wait longer.
    sys.stderr.flush()
    os._exit(0)


class _Duplex:
    """One read pipe and one write pipe used as a single connection."""

    def __init__(self, inbox: Connection, outbox: Connection) -> None:
        self.inbox = inbox
        self.outbox = outbox

    def recv(self) -> Any:
        return self.inbox.recv()

    def send(self, obj: Any) -> None:
        self.outbox.send(obj)

    def serve(self) -> None:
        serve(self)  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
