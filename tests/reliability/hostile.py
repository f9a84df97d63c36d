"""A hostile delivery built on the spot: every class of bad file beside one good invoice.

``build(folder)`` writes the set and returns, per file name, the code each entry point must
record for it: at intake (the file never becomes readable content) or when it is read.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tests.extractors.test_einvoice_security import billion_laughs, xxe
from tests.extractors.textlayer_docs import encrypted_pdf, truncated_pdf

GOOD = "good-invoice.xml"
# A file name with a right-to-left override: shown escaped, never verbatim.
BIDI = "bill\u202efdp.exe.xml"


@dataclass(frozen=True)
class Expected:
    intake: str | None  # code when the file cannot even be taken in, else None
    read: str | None  # code when reading it fails (extract, processing)


EXPECTED: dict[str, Expected] = {
    "encrypted.pdf": Expected(None, "E203"),
    "truncated.pdf": Expected(None, "E204"),
    "zip-bomb.zip": Expected(None, "E202"),
    "xxe.xml": Expected(None, "E304"),
    "billion-laughs.xml": Expected(None, "E304"),
    "huge-number.xml": Expected(None, "E306"),
    "empty.pdf": Expected("E101", "E201"),
    "fifo.pdf": Expected("E401", "E401"),
    "dev-zero.pdf": Expected("E401", "E401"),
    "a-folder.pdf": Expected("E401", "E401"),
}


def zip_bomb() -> bytes:
    """64 MiB of zeros deflated to about 64 KiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("invoice.pdf", b"\0" * (64 * 1024 * 1024))
    return out.getvalue()


def huge_number(good: bytes) -> bytes:
    """The good invoice with a million-digit grand total (BT-112)."""
    swapped, n = re.subn(
        rb"(<cbc:TaxInclusiveAmount[^>]*>)[^<]+(<)", rb"\g<1>" + b"9" * 1_000_000 + rb".00\2", good
    )
    assert n == 1
    return swapped.replace(b"<cbc:ID>", b"<cbc:ID>HUGE-", 1)


@lru_cache(maxsize=1)
def good_invoice() -> bytes:
    """A UBL invoice from the sandbox generator, billing an open PO of the sandbox master data."""
    from sandbox.corpus.generator import generate_corpus

    with tempfile.TemporaryDirectory(prefix="ledgerbot-hostile-") as tmp:
        corpus = Path(tmp) / "generated"
        generate_corpus(corpus, 40, 3, scans=False, doc_types=["invoice"])
        ubl = [p for p in sorted(corpus.glob("*.xml")) if b"TaxInclusiveAmount" in p.read_bytes()]
        assert ubl, "the generator made no UBL invoice"
        return ubl[0].read_bytes()


def build(folder: Path, work: Path, *, folder_entry: str = "link") -> dict[str, Expected]:
    """Write the hostile set and the good invoice into ``folder``.

    ``folder_entry``: "link" puts a symbolic link to a folder (a folder intake walks real
    folders, so the link is what it meets as one entry); "dir" a real folder (for ``extract``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    good = good_invoice()
    (folder / GOOD).write_bytes(good)
    (folder / "encrypted.pdf").write_bytes(encrypted_pdf())
    (folder / "truncated.pdf").write_bytes(truncated_pdf())
    (folder / "zip-bomb.zip").write_bytes(zip_bomb())
    (folder / "xxe.xml").write_bytes(xxe(Path("/etc/passwd")))
    (folder / "billion-laughs.xml").write_bytes(billion_laughs())
    (folder / "huge-number.xml").write_bytes(huge_number(good))
    (folder / "empty.pdf").write_bytes(b"")
    os.mkfifo(folder / "fifo.pdf")
    (folder / "dev-zero.pdf").symlink_to("/dev/zero")
    if folder_entry == "dir":
        (folder / "a-folder.pdf").mkdir()
    else:
        target = work / "some-folder"
        target.mkdir(exist_ok=True)
        (folder / "a-folder.pdf").symlink_to(target)
    return dict(EXPECTED)
