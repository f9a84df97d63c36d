"""The one split of the real-world documents into a development part and a validation part.

Misses are read only on the development part; the validation part measures generalization.
The split is a keyed hash of the file's stem, so it is stable, needs no list of names, and a
document added later falls on one side without moving the others.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

Split = Literal["dev", "val"]

# Changing the key reshuffles every document: validation figures would stop being blind.
_SPLIT_KEY = "ledgerbot/split/3"


def realworld_split(path_or_stem: str | Path) -> Split:
    """Which part a real-world document belongs to, from its file stem."""
    stem = Path(path_or_stem).name.split(".")[0]
    digest = hashlib.sha256(f"{_SPLIT_KEY}/{stem}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "val"
