"""What each document type is called in the languages ledgerbot reads (English, German, French).

A title such as "AVIS DE PAIEMENT" names the type outright, but a model trained on German and
English remittance advices has never seen the French words. This glossary turns a type name
found in a title into a language-neutral hint token (``kwt_remittance_advice``) that both models
learn from; the models still weigh it against everything else on the page. Only titles count: the
same words in running text ("Bon de commande PO-1" on an invoice) are references, not names.
"""

from __future__ import annotations

import re
import unicodedata

from ledgerbot.domain import DocType

TYPE_NAMES: dict[DocType, tuple[str, ...]] = {
    DocType.INVOICE: ("invoice", "tax invoice", "commercial invoice", "rechnung", "facture"),
    DocType.CREDIT_NOTE: (
        "credit note",
        "credit memo",
        "gutschrift",
        "rechnungskorrektur",
        "avoir",
        "note de credit",
        "facture d avoir",
    ),
    DocType.PURCHASE_ORDER: ("purchase order", "bestellung", "bon de commande", "commande"),
    DocType.DELIVERY_NOTE: (
        "delivery note",
        "packing slip",
        "dispatch note",
        "lieferschein",
        "bon de livraison",
    ),
    DocType.STATEMENT: (
        "statement of account",
        "account statement",
        "statement",
        "kontoauszug",
        "kontoubersicht",
        "releve de compte",
        "releve",
    ),
    DocType.REMITTANCE_ADVICE: (
        "remittance advice",
        "payment advice",
        "remittance",
        "zahlungsavis",
        "zahlungsanzeige",
        "avis de paiement",
        "avis de virement",
    ),
    DocType.OTHER: (
        "newsletter",
        "lettre d information",
        "special offer",
        "sonderangebot",
        "offre speciale",
        "invitation",
        "einladung",
    ),
}

ENGLISH = {t: names[0] for t, names in TYPE_NAMES.items()}
_NON_WORD = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Lower case, accents off, every non-letter run one space: "Relevé  de-compte" -> "releve de compte"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return f" {_NON_WORD.sub(' ', plain).strip()} "


# Longest names first, so "bon de commande" wins over "commande" and "facture d avoir" over "facture".
_PHRASES = sorted(
    ((f" {name} ", t) for t, names in TYPE_NAMES.items() for name in names), key=lambda p: -len(p[0])
)


def type_names_in(text: str) -> list[DocType]:
    """The document types named in ``text`` (a title), each once, in order of first mention."""
    folded = fold(text)
    found: list[tuple[int, DocType]] = []
    for phrase, doc_type in _PHRASES:
        at = folded.find(phrase)
        if at >= 0:
            found.append((at, doc_type))
            # Blank the match so a shorter name inside it ("facture" in "facture d avoir") is not counted.
            folded = folded[:at] + " " * len(phrase) + folded[at + len(phrase) :]
    seen: list[DocType] = []
    for _, doc_type in sorted(found, key=lambda f: f[0]):
        if doc_type not in seen:
            seen.append(doc_type)
    return seen
