"""The vendor's own web and mail domains, and the names that spell them.

A company's domain very often spells its name: "Nordwind Telecom" and nordwindtelecom.fr,
"Kestrel S.L." and accounts@kestrel.es. A name candidate that spells a domain printed on the
page (outside the buyer's block) is likely the sender's name, and a name printed only in a
sentence ("Ihre Leistungen von Nordwind Telecom") becomes a candidate when it spells one. The ranker
weighs this like any other feature; nothing is decided here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from extractors.generic.labels import fold

_EMAIL = re.compile(r"[\w.+-]+@((?:[\w-]+\.)+[a-z]{2,})", re.IGNORECASE)
_WEB = re.compile(r"(?:https?://|www\.)((?:[\w-]+\.)+[a-z]{2,})", re.IGNORECASE)
# A web address printed without "www": "nordwindtelecom.fr", "acme.co.uk" (common endings only,
# so that "Nr.12" or "S.A." is no domain).
_BARE = re.compile(
    r"(?:[a-z][\w-]*\.)+(?:com|net|org|info|biz|eu|fr|de|be|nl|es|it|at|ch|uk|lu|ie|pt|pl|se|dk|no|fi"
    r"|cz|io|us|ca|au|my|sg)",
    re.IGNORECASE,
)
_AROUND = ".,;:()[]<>«»\"'"
# Second-level labels under which companies register a country's domains: "acme.co.uk".
_REGISTRY_LABELS = frozenset({"co", "com", "org", "net", "gov", "ac", "or", "ne", "gv", "edu"})
# Mail providers and hosts, which name no company.
_HOSTS = frozenset({
    "gmail", "googlemail", "yahoo", "ymail", "outlook", "hotmail", "live", "msn", "aol", "icloud",
    "me", "mac", "gmx", "web", "tonline", "freenet", "orange", "free", "wanadoo", "laposte", "sfr",
    "libero", "virgilio", "tiscali", "alice", "hetnet", "ziggo", "kpnmail", "telefonica", "proton",
    "protonmail", "mail", "email", "posteo", "yandex", "zoho", "arcor", "bluewin", "telenet",
})  # fmt: skip
# Shortest domain label a name is compared with: "ab.de" may stand for anything.
MIN_LABEL = 4
# Words a name spelling a domain may span.
MAX_WORDS = 4


def domain_label(host: str) -> str | None:
    """The label that names the owner: "nordwindtelecom" in "www.nordwindtelecom.fr"."""
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) < 2:
        return None
    owner = labels[-2]
    if owner in _REGISTRY_LABELS and len(labels) >= 3:
        owner = labels[-3]
    owner = owner.replace("-", "").replace("_", "")
    if len(owner) < MIN_LABEL or owner in _HOSTS or not owner.isalnum():
        return None
    return owner


def printed_domains(words: Iterable[str]) -> frozenset[str]:
    """The owners' labels of every mail address and web address among ``words``."""
    out: set[str] = set()
    for word in words:
        hosts = [m.group(1) for pattern in (_EMAIL, _WEB) for m in pattern.finditer(word)]
        if not hosts and _BARE.fullmatch(bare := word.strip(_AROUND)):
            hosts.append(bare)
        out.update(label for host in hosts if (label := domain_label(host)) is not None)
    return frozenset(out)


def spelling(words: Iterable[str]) -> str:
    """Letters and digits of ``words``, folded: "Nordwind Telecom" -> "nordwindtelecom"."""
    return "".join(c for c in fold("".join(words)) if c.isalnum())


def domain_match(name_words: list[str], domains: frozenset[str]) -> float:
    """1 when the name (without its legal form) spells a domain or begins with one ("Becker &
    Zimmermann" and becker.de), 0.5 when a domain begins with it (a name cut short), else 0."""
    if not domains:
        return 0.0
    key = spelling(name_words)
    if len(key) < MIN_LABEL:
        return 0.0
    if any(key.startswith(d) for d in domains):
        return 1.0
    if any(d.startswith(key) for d in domains):
        return 0.5
    return 0.0


def names_domain(name_words: list[str], domains: frozenset[str]) -> bool:
    """The name spells a domain whole ("Nordwind Telecom") or is one ("kestrel.io")."""
    if spelling(name_words) in domains:
        return True
    bare = " ".join(name_words).strip(_AROUND)
    return bool(_BARE.fullmatch(bare)) and domain_label(bare) in domains


def spelled_spans(words: list[str], domains: frozenset[str]) -> list[tuple[int, int]]:
    """Runs of two words or more (capitalised, no address or number) that spell a domain
    exactly; a single word that does is most often the first word of a longer name."""
    out = []
    for a, first in enumerate(words):
        if not first[:1].isupper():
            continue
        for b in range(a + 1, min(a + MAX_WORDS, len(words)) + 1):
            run = words[a:b]
            if any("@" in w or "." in w.rstrip(".,") or any(c.isdigit() for c in w) for w in run):
                break
            key = spelling(run)
            if key in domains:
                if b - a >= 2:
                    out.append((a, b))
                break
            if not any(d.startswith(key) for d in domains):
                break
    return out
