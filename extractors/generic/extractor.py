"""The template-free extractor: header fields and line items from any layout, with confidences and boxes.

Steps: regroup words into rows, find the line-item table, generate label/value candidates for
each header field, score them (heuristics or the trained ranker), then let the consistency
checks pick the totals and the dates. Works for English, German and French documents.
"""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from extractors.generic import label_words
from extractors.generic.candidates import (
    LEGAL_FORM,
    Candidate,
    PageContext,
    accents_from_document,
    document_spellings,
    header_candidates,
    page_context,
    spanish_acutes,
)
from extractors.generic.consistency import Choice, choose, choose_dates, choose_totals
from extractors.generic.context import attach_context
from extractors.generic.domains import MIN_LABEL, printed_domains, spelling
from extractors.generic.geometry import build_rows, cut_words
from extractors.generic.labels import after_cuts, build_indexes, label_finder, tokens
from extractors.generic.learned import reading_kind
from extractors.generic.ranking import HeuristicScorer, Scorer, load_scorer
from extractors.generic.settings import DEFAULT, OPTIONAL_FIELDS, GenericSettings
from extractors.generic.tables import Item, extract_tables, skip_rows, stop_rows
from extractors.values import (
    DateOrder,
    country_currency,
    find_currency,
    numeric_date_order,
    parse_date,
    payment_term_days,
)
from ledgerbot.core.domain import DocType, ExtractionResult, FieldBox, InvoiceFields, InvoiceLine
from textlayer.model import Document

VERSION = "generic-2.0"
_CREDIT_TITLES = frozenset(tuple(title.split()) for title in label_words.CREDIT_TITLES)


@dataclass(slots=True)
class Reading:
    """What the extractor read from one document before choosing."""

    candidates: dict[str, list[Candidate]]
    table: Any
    labelled: frozenset[str]  # label kinds printed anywhere in the document


class GenericExtractor:
    """Extractor protocol: ``name``, ``is_available()``, ``prepare()``, ``extract(document, doc_type)``."""

    name = "generic"
    version = VERSION

    def __init__(self, scorer: Scorer | None = None, settings: GenericSettings = DEFAULT) -> None:
        self.scorer: Scorer = scorer or HeuristicScorer()
        self.settings = settings

    @classmethod
    def load(cls, models_dir: Path | None = None) -> GenericExtractor:
        return cls(load_scorer(models_dir))

    def is_available(self) -> bool:
        return True

    def prepare(self) -> None:
        """Build what the first document would build for every later one (``build_indexes``)."""
        build_indexes()

    @property
    def lineage(self) -> str:
        return f"{self.version}+{self.scorer.name}@{self.scorer.version}"

    def candidates(self, document: Document) -> tuple[dict[str, list[Candidate]], Any]:
        """All scored candidates and the line table (the ranker's training reads these too)."""
        reading = self.read(document)
        return reading.candidates, reading.table

    def read(self, document: Document) -> Reading:
        """Candidates (scored), line table and the field labels printed anywhere in the document."""
        reading = self.read_unscored(document)
        self.score(reading)
        return reading

    def score(self, reading: Reading) -> None:
        """Score every candidate with this extractor's scorer (all fields in one call when it can)."""
        score_all = getattr(self.scorer, "score_all", None)
        if score_all is not None:
            score_all(reading.candidates)
            return
        # Values no label claims are for a ranker that learned how to weigh them; the hand-set
        # weights never did.
        for name, cs in reading.candidates.items():
            reading.candidates[name] = [c for c in cs if not c.features.get("unlabelled")]
        for _name, cs in reading.candidates.items():
            for c, s in zip(cs, self.scorer.score(cs), strict=True):
                c.score = s

    def read_unscored(self, document: Document) -> Reading:
        """Candidates with their features and context, the line table, the labels printed."""
        pages_rows = [build_rows(page) for page in document.pages]
        finder = label_finder()
        labels_by_page = [
            {row.index: finder.find([w.text for w in row.words], row.breaks) for row in rows}
            for rows in pages_rows
        ]
        for rows, labels in zip(pages_rows, labels_by_page, strict=True):
            for row in rows:
                # A label glued to its value in one word ("Nr.12345"): the value becomes a word.
                cuts = {m.end - 1: m.tail_at for m in labels[row.index] if m.partial_tail}
                if cuts:
                    cut_words(row, cuts)
                    labels[row.index] = [after_cuts(m, cuts) for m in labels[row.index]]
        stops = {
            rows[0].page: stop_rows(rows, labels)
            for rows, labels in zip(pages_rows, labels_by_page, strict=True)
            if rows
        }
        skips = {
            rows[0].page: skip_rows(rows, labels)
            for rows, labels in zip(pages_rows, labels_by_page, strict=True)
            if rows
        }
        table = extract_tables(pages_rows, stops, skips, self.settings)
        contexts: list[PageContext] = []
        for page, rows, labels in zip(document.pages, pages_rows, labels_by_page, strict=True):
            in_table = {index for (p, index) in table.row_indexes if p == page.number}
            ocr = page.source == "ocr"
            contexts.append(page_context(rows, page.width, page.height, in_table, labels, ocr=ocr))
        cands = header_candidates(contexts)
        for context in contexts:
            for c in (
                c for cs in cands.values() for c in cs if c.page == context.rows[0].page if context.rows
            ):
                c.features["page1"] = float(c.page == 1)
        order = numeric_date_order(document.text)
        if order is not None:
            for name in ("invoice_date", "due_date"):
                _reread_dates(cands[name], order)
        attach_context(cands, contexts, self.settings)
        labelled = frozenset(m.kind for labels in labels_by_page for ms in labels.values() for m in ms)
        return Reading(cands, table, labelled)

    def extract(self, document: Document, doc_type: DocType | None = None) -> ExtractionResult:
        return self.decide(self.read(document), document, doc_type)

    def decide(
        self, reading: Reading, document: Document, doc_type: DocType | None = None
    ) -> ExtractionResult:
        """Choose each field from scored candidates: arithmetic first, then the best score."""
        settings = self.settings
        cands, table = reading.candidates, reading.table
        items = table.items
        lines_sum = sum((i.amount for i in items if i.amount is not None), Decimal(0)) if items else None
        if items and any(i.amount is None for i in items):
            lines_sum = None
        choices: dict[str, Choice] = {}
        scanned = {page.number for page in document.pages if page.source == "ocr"}
        choices.update(
            choose_totals(
                cands["subtotal"],
                cands["tax_amount"],
                cands["total"],
                lines_sum,
                reading.labelled,
                settings,
                [(i.page, i.bbox) for i in items if i.boxes],
                scanned,
            )
        )
        target = _printed_net(choices)
        if (
            items
            and target is not None
            and (lines_sum is None or abs(abs(lines_sum) - abs(target)) > settings.cent)
        ):
            fixed = reconcile_lines(items, target, scanned, settings)
            if fixed:
                for index in fixed:
                    item = items[index]
                    assert item.quantity is not None and item.unit_price is not None
                    # A quantity printed with its minus (goods taken back) makes the product
                    # negative already: the sign comes from the amount as printed.
                    product = abs(item.quantity * item.unit_price).quantize(Decimal("0.01"))
                    item.amount = -product if item.amount is not None and item.amount < 0 else product
                    item.confidence = min(item.confidence, settings.reconciled_confidence)
                lines_sum = sum((i.amount for i in items if i.amount is not None), Decimal(0))
        choices.update(choose_dates(cands["invoice_date"], cands["due_date"], settings))
        if _month_first_fits(document, choices):
            for name in ("invoice_date", "due_date"):
                _reread_dates(cands[name], "MDY")
            choices.update(choose_dates(cands["invoice_date"], cands["due_date"], settings))
        agreed_due = _due_as_terms_say(document, cands["due_date"], choices, settings.terms_agree_confidence)
        if agreed_due is not None:
            choices["due_date"] = agreed_due
        derived_due = _due_from_terms(document, choices, settings.terms_confidence)
        if derived_due is not None:
            choices["due_date"] = derived_due
        for name in ("vendor_tax_id", "vendor_iban"):
            # Rule: an id in the buyer's address block, or after a buyer's label, is the buyer's;
            # the vendor's is chosen among the others whenever the page prints one.
            # One a buyer's label names ("NIF cliente", "TVA client") never is, even when no other
            # is printed.
            buyers = [c for c in cands[name] if c.features.get("in_buyer") or c.features.get("buyer_label")]
            own = [c for c in cands[name] if c not in buyers]
            cands[name] = own or [c for c in cands[name] if not c.features.get("buyer_label")]
        for name in (
            "vendor_name",
            "vendor_tax_id",
            "vendor_iban",
            "invoice_number",
            "po_number",
            "currency",
        ):
            choices[name] = choose([c for c in cands[name] if name != "currency" or c.label is not None])
        ibans = [c for c in cands["vendor_iban"] if not c.features.get("iban_unchecked")]
        if ibans:
            choices["vendor_iban"] = choose(ibans)
        elif (iban := choices["vendor_iban"]).candidate is not None:
            # Printed with wrong check digits: reported as printed, for a clerk to check.
            choices["vendor_iban"] = Choice(
                iban.candidate, min(iban.confidence, settings.unchecked_iban_confidence)
            )
        vendor_rule: str | None = None  # the rule that overrode the ranker's vendor name, if one did
        unsure = choices["vendor_name"]
        if unsure.candidate is None or unsure.candidate.score < settings.abstain_below:
            # Rule: when the ranker is sure of no name, one that spells the vendor's own printed
            # web or mail domain ("Nordwind Telecom" beside nordwindtelecom.fr) is the better
            # guess; its confidence stays the unsure one.
            spelled = [c for c in cands["vendor_name"] if c.features.get("domain_exact")]
            if spelled:
                choices["vendor_name"] = Choice(max(spelled, key=lambda c: c.score), unsure.confidence)
                vendor_rule = (
                    f"rule: the ranker scored no name {settings.abstain_below} or more; "
                    "this one spells the vendor's printed web or mail domain"
                )
        unsure = choices["vendor_name"]
        if unsure.candidate is not None and not unsure.candidate.features.get("block_ids"):
            # Rule: a name heading the block that prints the company's VAT id or IBAN is the
            # vendor's, where the ranker scored it nearly as high as a name without one (the
            # buyer's block set where no window marks it).
            owning = [
                c
                for c in cands["vendor_name"]
                if c.features.get("block_ids")
                and not c.features.get("window")
                and c.score >= max(unsure.candidate.score - settings.id_block_margin, settings.abstain_below)
            ]
            if owning:
                choices["vendor_name"] = Choice(max(owning, key=lambda c: c.score), unsure.confidence)
                vendor_rule = (
                    "rule: the name heading the block that prints the company's VAT id or IBAN, "
                    f"scored within {settings.id_block_margin} of the ranker's choice without one"
                )
        unsure = choices["vendor_name"]
        if unsure.candidate is not None and unsure.candidate.features.get("window"):
            # Rule: the first line of the letter's address window is the recipient; a name the
            # page prints in two places outside it (letterhead and footer), scored nearly as
            # high, is the sender's.
            repeated = [
                c
                for c in cands["vendor_name"]
                if not c.features.get("window")
                and not c.features.get("in_buyer")
                and _printed_in_two_places(c, cands["vendor_name"])
                and c.score >= unsure.candidate.score - settings.window_name_margin
            ]
            if repeated:
                choices["vendor_name"] = Choice(max(repeated, key=lambda c: c.score), unsure.confidence)
                vendor_rule = (
                    "rule: the ranker's choice is the address window's first line (the recipient); "
                    f"this name is printed in two places and scored within {settings.window_name_margin}"
                )
        name_choice = choices["vendor_name"].candidate
        fuller = _fuller_name(name_choice, cands["vendor_name"]) if name_choice is not None else None
        if fuller is not None:
            # A letterhead wrapped over several lines or cut short by a logo: the same name
            # printed whole elsewhere (footer, imprint), with its legal form, is the name.
            choices["vendor_name"] = Choice(fuller, choices["vendor_name"].confidence)
        name_choice = choices["vendor_name"].candidate
        if name_choice is not None and name_choice.value.isupper():
            # A letterhead in capitals: prefer the same name as typed elsewhere (footer, imprint).
            typed = [c for c in cands["vendor_name"] if c.value.casefold() == name_choice.value.casefold()]
            mixed = next((c for c in typed if not c.value.isupper()), None)
            if mixed is not None:
                choices["vendor_name"] = Choice(mixed, choices["vendor_name"].confidence)
        name_choice = choices["vendor_name"].candidate
        if name_choice is not None and name_choice.page in scanned:
            # The name read twice with a slip between the readings ("Informnatik" in the
            # footer, "Informatik" in the letterhead): the reading in larger type is the clearer.
            clearer = _clearer_reading(name_choice, cands["vendor_name"], document, settings)
            if clearer is not None:
                choices["vendor_name"] = Choice(clearer, choices["vendor_name"].confidence)
                name_choice = clearer
        if name_choice is not None and name_choice.page in scanned:
            # OCR drops or mistakes accents more in large letterhead type than in a footer's.
            # ... but a spelling OCR was unsure of is no evidence ("Montajés" read at 0.88).
            ocr_lines = [
                [w.text for w in line.words if w.confidence >= settings.doubtful_read]
                for page in document.pages
                if page.source == "ocr"
                for line in page.lines
            ]
            spellings = document_spellings(w for line in ocr_lines for w in line)
            name = accents_from_document(name_choice.value, spellings, settings.accent_min_letters, ocr_lines)
            name = spanish_acutes(name)
            if "ı" in name and not _TURKISH_LETTERS.intersection(document.text):
                # An "i" whose dot OCR lost, in a document of no language that writes "ı".
                name = name.replace("ı", "i")
            if name != name_choice.value:
                choices["vendor_name"] = Choice(
                    dataclasses.replace(name_choice, value=name), choices["vendor_name"].confidence
                )
        if choices["currency"].candidate is None:
            choices["currency"] = self._currency(cands, choices)

        fields: dict[str, Any] = {}
        confidence: dict[str, float] = {}
        boxes: dict[str, FieldBox] = {}
        calibration = getattr(self.scorer, "calibration", None)
        kind = reading_kind(document)
        for name, choice in choices.items():
            cand = choice.candidate
            if cand is None:
                continue
            sure = choice.confidence
            # An IBAN failing its check digits keeps its fixed low confidence and is reported, so
            # that a clerk sees what is printed (a misprint or a fraud signal), not an empty field.
            settled = cand.features.get("terms_agree") or (
                name == "vendor_iban" and cand.features.get("iban_unchecked")
            )
            if calibration is not None and calibration.points and not settled:
                # How often a value reported this sure was right on documents the ranker never saw.
                sure = calibration(name, sure, kind)
                if name in OPTIONAL_FIELDS and sure < settings.abstain_below:
                    continue  # often not printed at all: an empty field costs less than a wrong one
            if (
                cand.features.get("digit_repaired")
                or cand.features.get("sign_repaired")
                or cand.features.get("iban_guessed")
            ):
                sure = min(sure, settings.reconciled_confidence)  # a clerk should look at the print
            fields[name] = cand.value
            confidence[name] = sure
            if cand.relation != "derived":
                boxes[name] = FieldBox(page=cand.page, bbox=cand.bbox)

        if items:
            # A row repaired from OCR or one that does not multiply out makes the lines as
            # unsure as their weakest row, so the document routes to review on it.
            confidence["lines"] = round(min(i.confidence for i in items), 3)
            if not _lines_agree(lines_sum, choices, settings.cent):
                # The printed totals stand; the lines that do not add up to them are suspect.
                confidence["lines"] = min(confidence["lines"], settings.lines_disagree_confidence)
        lineage = {"extractor": self.lineage}
        if vendor_rule is not None:
            lineage["vendor_name"] = vendor_rule
        account = choices["vendor_iban"].candidate
        if account is not None and account.features.get("iban_unchecked"):
            lineage["vendor_iban"] = "printed IBAN fails its check digits (ISO 7064 mod 97-10)"
        elif account is not None and account.features.get("iban_guessed"):
            lineage["vendor_iban"] = (
                f"OCR read {account.text!r}; the one look-alike swap the check digits accept, to confirm"
            )
        elif account is not None and account.features.get("repaired"):
            lineage["vendor_iban"] = f"OCR look-alikes put back in {account.text!r}, check digits confirm"
        for name in ("subtotal", "tax_amount", "total"):
            amount = choices[name].candidate if name in choices else None
            if amount is not None and amount.features.get("digit_repaired"):
                lineage[name] = (
                    f"rule: OCR read {amount.text!r}; one look-alike digit put back so that "
                    "subtotal + tax = total with the other two printed amounts"
                )
            elif amount is not None and amount.features.get("sign_repaired"):
                lineage[name] = (
                    f"rule: OCR read {amount.text!r} without its minus; the sign put back so that "
                    "subtotal + tax = total with the other two printed amounts"
                )
        due = choices.get("due_date")
        if due is not None and due.candidate is not None and due.candidate.relation == "derived":
            lineage["due_date"] = f"payment terms: {due.candidate.text}"
        currency = choices["currency"].candidate
        if currency is not None and currency.relation == "derived" and _COUNTRY_SOURCE in currency.text:
            lineage["currency"] = f"not printed: the currency of the {currency.text}"
        credit = doc_type == DocType.CREDIT_NOTE or (doc_type is None and _looks_like_credit(document))
        lines = [
            InvoiceLine(
                description=i.description,
                sku=i.sku,
                # The contract: a credit note's quantities are positive, its amounts negative;
                # an invoice keeps a quantity printed with its minus (goods taken back).
                quantity=abs(i.quantity) if credit and i.quantity is not None else i.quantity,
                unit_price=i.unit_price,
                amount=-abs(i.amount) if credit and i.amount is not None else i.amount,
            )
            for i in items
        ]
        if credit:
            for name in ("subtotal", "tax_amount", "total"):
                if fields.get(name) is not None:
                    fields[name] = -abs(fields[name])
        return ExtractionResult(
            source=document.source,
            method=self.name,
            fields=InvoiceFields(**fields),
            field_confidence=confidence,
            field_boxes=boxes,
            lines=lines,
            lineage=lineage,
        )

    def _country_currency(self, choices: dict[str, Choice]) -> Choice:
        """No currency printed at all (a till receipt, "Totale 138,81"): the currency of the
        vendor's country, as its VAT id or IBAN names it, worked out with a low confidence."""
        source = _vendor_country(choices)
        code = country_currency(str(source.value)[:2]) if source is not None else None
        if source is None or code is None:
            return Choice(None, 0.0)
        text = f"{_COUNTRY_SOURCE} {str(source.value)[:2]}"
        derived = Candidate("currency", code, text, source.page, source.bbox, "derived")
        return Choice(derived, self.settings.country_currency_confidence)

    def _currency(self, cands: dict[str, list[Candidate]], choices: dict[str, Choice]) -> Choice:
        """No currency label: the one printed with the total (where the page prints the total
        again, as the amount due, with a sign the first printing leaves out: "Total 191.25",
        "Balance due $191.25"), else the most frequent one, else the vendor's country's."""
        total = choices.get("total")
        if total and total.candidate is not None:
            chosen = total.candidate
            again = [c for c in cands["total"] if c.value == chosen.value and not c.features.get("in_buyer")]
            for c in (chosen, *again):
                code = find_currency(c.text)
                if code:
                    return Choice(Candidate("currency", code, code, c.page, c.bbox, "derived"), 0.95)
        counts = Counter(c.value for c in cands["currency"] if not c.features.get("in_buyer"))
        if not counts:
            return self._country_currency(choices)
        code, n = counts.most_common(1)[0]
        first = next(c for c in cands["currency"] if c.value == code)
        return Choice(first, round(min(0.9, 0.5 + 0.1 * n), 3))


# What a currency worked out from the vendor's country says it came from (and lineage reads).
_COUNTRY_SOURCE = "vendor's country"


def _vendor_country(choices: dict[str, Choice]) -> Candidate | None:
    """The vendor's own VAT id or IBAN as chosen, which names the vendor's country."""
    for name in ("vendor_tax_id", "vendor_iban"):
        choice = choices.get(name)
        if choice is not None and choice.candidate is not None and str(choice.candidate.value)[:2].isalpha():
            return choice.candidate
    return None


def _printed(choices: dict[str, Choice], name: str) -> Decimal | None:
    """The chosen value of ``name`` when it was read from the page (not worked out)."""
    choice = choices.get(name)
    cand = choice.candidate if choice is not None else None
    return cand.value if cand is not None and cand.relation != "derived" else None


def _printed_net(choices: dict[str, Choice]) -> Decimal | None:
    """What the lines must add up to: the printed subtotal, or the printed total less the tax."""
    subtotal, tax, total = (_printed(choices, name) for name in ("subtotal", "tax_amount", "total"))
    if subtotal is not None:
        return subtotal
    if total is not None and tax is not None:
        return abs(total) - abs(tax)
    return None


def reconcile_lines(
    items: list[Item], target: Decimal, scanned: Collection[int], settings: GenericSettings = DEFAULT
) -> list[int]:
    """The rows whose amount OCR misread, when quantity x price for them makes the lines add up.

    A suspect is a row on a scanned page (``scanned`` page numbers) whose amount is missing, or
    does not equal its quantity x price and was read doubtfully (low OCR confidence, or digits
    one slip from the product). Of all ways to replace suspects' amounts by quantity x price,
    exactly one must make the lines sum to the printed ``target``, else nothing is replaced: the
    row's own arithmetic and the document's sum agree before a number is changed. An amount
    printed wrong and read cleanly stays as printed, for the rules engine to flag.
    """
    suspects = [
        i
        for i, item in enumerate(items)
        if item.page in scanned
        and item.quantity is not None
        and item.unit_price is not None
        and (item.amount is None or _misread_amount(item, item.quantity * item.unit_price, settings))
    ]
    if not suspects or len(suspects) > settings.max_reconciled_rows:
        return []
    if any(item.amount is None for i, item in enumerate(items) if i not in suspects):
        return []
    settled = sum(
        (abs(item.amount) for i, item in enumerate(items) if i not in suspects and item.amount), Decimal(0)
    )
    found: list[list[int]] = []
    for choice in itertools.product((False, True), repeat=len(suspects)):
        total = settled
        for i, replace in zip(suspects, choice, strict=True):
            item = items[i]
            if replace:
                total += abs(item.quantity * item.unit_price)  # type: ignore[operator]
            elif item.amount is None:
                break
            else:
                total += abs(item.amount)
        else:
            if abs(total - abs(target)) <= settings.cent:
                found.append([i for i, replace in zip(suspects, choice, strict=True) if replace])
    return found[0] if len(found) == 1 and found[0] else []


def _misread_amount(item: Item, product: Decimal, settings: GenericSettings) -> bool:
    """The row's amount differs from quantity x price in a way OCR misreads do."""
    assert item.amount is not None
    if abs(abs(product) - abs(item.amount)) <= settings.cent:
        return False
    if item.amount_confidence < settings.doubtful_read:
        return True
    read = "".join(c for c in item.amount_text if c.isdigit())
    exact = "".join(c for c in format(abs(product).quantize(Decimal("0.01")), "f") if c.isdigit())
    return Levenshtein.distance(read, exact) == 1


def _lines_agree(lines_sum: Decimal | None, choices: dict[str, Choice], cent: Decimal) -> bool:
    """The lines add up to the printed subtotal (or, without one, to the total less the tax).

    True when there is nothing printed to compare with.
    """

    if lines_sum is None:
        return False
    subtotal, tax, total = (_printed(choices, name) for name in ("subtotal", "tax_amount", "total"))
    if subtotal is not None:
        return abs(abs(subtotal) - abs(lines_sum)) <= cent
    if total is not None:
        net = abs(total) - abs(tax) if tax is not None else abs(total)
        return abs(net - abs(lines_sum)) <= cent
    return True


def _due_from_terms(document: Document, choices: dict[str, Choice], confidence: float) -> Choice | None:
    """A due date the payment terms imply ("zahlbar innerhalb 30 Tagen"), when none is printed.

    Worked out as invoice date + N days, only when the terms state N; it has no box of its own
    and a low confidence, so a clerk sees that it was derived.
    """
    due, issued = choices.get("due_date"), choices.get("invoice_date")
    if (due is not None and due.candidate is not None) or issued is None or issued.candidate is None:
        return None
    days = payment_term_days(document.text)
    if days is None:
        return None
    c = issued.candidate
    value = c.value + timedelta(days=days)
    text = f"invoice date + {days} days"
    return Choice(Candidate("due_date", value, text, c.page, c.bbox, "derived"), confidence)


def _due_as_terms_say(
    document: Document, cands: list[Candidate], choices: dict[str, Choice], confidence: float
) -> Choice | None:
    """The printed due date that is the invoice date plus the days the payment terms state.

    Rule: two printed facts that agree outweigh the ranker's doubt about a date in a sentence
    ("zahlbar innerhalb 30 Tagen netto bis 04.04.2026, 3 % Skonto bis 15.03.2026"); the
    confidence is the rule's own, not the ranker's calibrated one.
    """
    issued = choices.get("invoice_date")
    if issued is None or issued.candidate is None:
        return None
    days = payment_term_days(document.text)
    if days is None:
        return None
    expected = issued.candidate.value + timedelta(days=days)
    agreeing = [c for c in cands if c.value == expected]
    if not agreeing:
        return None
    chosen = max(agreeing, key=lambda c: c.score)
    chosen.features["terms_agree"] = 1.0
    return Choice(chosen, max(confidence, choices["due_date"].confidence if "due_date" in choices else 0.0))


def _month_first_fits(document: Document, choices: dict[str, Choice]) -> bool:
    """Rule: where no printed date gives the day/month order away ("03/05/2026", "04/04/2026"),
    the order in which the due date is not before the invoice date, or is that date plus the
    days the payment terms state ("Net 30"), is the document's. Day-first unless month-first
    fits better."""
    issued, due = (choices.get(name) for name in ("invoice_date", "due_date"))
    if issued is None or due is None or issued.candidate is None or due.candidate is None:
        return False
    if numeric_date_order(document.text) is not None:
        return False
    texts = (issued.candidate.text, due.candidate.text)
    day_first = [parse_date(t, "DMY") for t in texts]
    month_first = [parse_date(t, "MDY") for t in texts]
    if day_first == month_first or None in day_first or None in month_first:
        return False
    days = payment_term_days(document.text)

    def fit(pair: list[date | None]) -> int:
        start, end = pair
        assert start is not None and end is not None
        return int(end >= start) + 2 * int(days is not None and (end - start).days == days)

    return fit(month_first) > fit(day_first)


def _reread_dates(cands: list[Candidate], order: DateOrder) -> None:
    """Read ambiguous numeric dates ("03/04/2026") in the order the rest of the document uses."""
    for c in cands:
        value = parse_date(c.text, order)
        if value is not None:
            c.value = value


def _printed_in_two_places(chosen: Candidate, cands: list[Candidate]) -> bool:
    """True when candidates of the same value stand on two rows apart (letterhead and footer)."""
    tops = {(c.page, round(c.bbox[1])) for c in cands if c.value == chosen.value}
    return len(tops) > 1


def _fuller_name(chosen: Candidate, cands: list[Candidate]) -> Candidate | None:
    """The likeliest candidate that is the chosen name with more words after it ending in a
    legal form ("Fontaine" -> "Fontaine Distribution SARL", "Acme UG" -> "Acme UG
    (haftungsbeschränkt)"), or wrapped over two lines and printed whole elsewhere too, or None."""
    head = tokens(str(chosen.value))
    fuller: Candidate | None = None
    # A name wrapped over two lines and printed whole elsewhere (a footer) is the whole name
    # though it ends in no legal form: the two printings agree where the wrap was.
    wrapped = {str(c.value) for c in cands if c.features.get("wrapped")}
    places = Counter(str(c.value) for c in cands)
    for c in cands:
        words = tokens(str(c.value))
        # A registration number after the name ("SDN BHD (162761-M)") is no part of it.
        if (
            not head
            or len(words) <= len(head)
            or words[: len(head)] != head
            or any(ch.isdigit() for w in words[len(head) :] for ch in w)
        ):
            continue
        # A form ending in a dot ("a.G.", "Inc.") keeps it, or the form is not read at the end.
        rest = str(c.value).rstrip(" ,;:")
        legal = list(LEGAL_FORM.finditer(rest))
        ends_legal = bool(legal) and (
            legal[-1].end() >= len(rest) - 1 or rest[legal[-1].end() :].lstrip().startswith("(")
        )
        confirmed = str(c.value) in wrapped and places[str(c.value)] > 1
        if (
            (ends_legal or confirmed)
            and rest.count("(") == rest.count(")")
            and (fuller is None or c.score > fuller.score)
        ):
            fuller = c
    return fuller


# Letters only Turkish and Azeri write besides the dotless "ı": where none is printed, an "ı"
# is an "i" OCR lost the dot of.
_TURKISH_LETTERS = frozenset("şŞğĞİ")


def _letters(text: str) -> str:
    """The letters (accents kept) and digits of a name in lower case: what two readings of it
    are compared on; marks and spaces OCR adds or drops are no slip of a letter."""
    return "".join(c for c in unicodedata.normalize("NFC", text.casefold()) if c.isalnum())


def _base_letters(letters: str) -> str:
    """``letters`` without their accents."""
    return "".join(c for c in unicodedata.normalize("NFD", letters) if not unicodedata.combining(c))


def _clearer_reading(
    chosen: Candidate, cands: list[Candidate], document: Document, settings: GenericSettings
) -> Candidate | None:
    """Another reading of the chosen name (as many words, its letters one or two OCR slips from
    the chosen's, outside the buyer's block and the address window) that is the clearer one, or
    None: the one of which a printed web or mail domain spells more letters ("Informatik"
    beside nordwindinformatik.example, where the footer read "Informnatik"), or else one whose
    largest printing is in type ``settings.clearer_type_ratio`` larger than the chosen name's
    largest, read no less surely (OCR has more pixels a letter)."""
    mine = _letters(str(chosen.value))
    domains = printed_domains(w.text for page in document.pages for w in page.words)
    spelled = _domain_prefix(str(chosen.value), domains)
    size, my_sure = _largest_printing(chosen, cands, document)
    best: tuple[int, float, Candidate] | None = None
    for c in cands:
        if (
            c.value == chosen.value
            or c.page != chosen.page
            or c.features.get("in_buyer")
            or c.features.get("window")
            or len(str(c.value).split()) != len(str(chosen.value).split())
            or not 0
            < Levenshtein.distance(mine, _letters(str(c.value)))
            <= min(settings.reading_slips, len(mine) // 6)
        ):
            continue
        theirs, (their_size, sure) = (
            _domain_prefix(str(c.value), domains),
            _largest_printing(c, cands, document),
        )
        if _base_letters(mine) == _base_letters(_letters(str(c.value))):
            # Apart only in their accents: large letterhead type is where OCR mistakes accents
            # most ("Hygiéne" over a footer's "Hygiène"), so the reading read more surely wins.
            larger = sure > my_sure
        else:
            larger = their_size >= settings.clearer_type_ratio * size and sure >= min(
                my_sure, settings.doubtful_read
            )
        clearer = theirs > spelled or (theirs == spelled and larger)
        if clearer and (best is None or (theirs, their_size) > best[:2]):
            best = (theirs, their_size, c)
    return best[2] if best is not None else None


def _largest_printing(cand: Candidate, cands: list[Candidate], document: Document) -> tuple[float, float]:
    """Type size and least word confidence of the largest printing of the candidate's value."""
    return max(_type_size(document, c) for c in cands if c.value == cand.value and c.page == cand.page)


def _domain_prefix(name: str, domains: frozenset[str]) -> int:
    """How many letters of the name, from its start, a printed domain spells (at least
    ``MIN_LABEL``, else 0): "Nordwind Informatik" spells all of nordwindinformatik.example,
    "Nordwind Informnatik" only its first ten."""
    key = spelling(name.split())
    best = max((_shared_start(key, d) for d in domains), default=0)
    return best if best >= MIN_LABEL else 0


def _shared_start(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share from their start."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _type_size(document: Document, cand: Candidate) -> tuple[float, float]:
    """The median height of the words inside the candidate's box (its type size as OCR boxed
    it) and the least confidence OCR read one of them with."""
    x0, top, x1, bottom = cand.bbox
    inside = [
        w
        for page in document.pages
        if page.number == cand.page
        for w in page.words
        if x0 - 1 <= (w.x0 + w.x1) / 2 <= x1 + 1 and top - 1 <= (w.top + w.bottom) / 2 <= bottom + 1
    ]
    if not inside:
        return 0.0, 0.0
    heights = sorted(w.height for w in inside)
    return heights[len(heights) // 2], min(w.confidence for w in inside)


def _looks_like_credit(document: Document) -> bool:
    """Title words of a credit note near the top of page 1 (used only when no classifier ran)."""
    if not document.pages:
        return False
    page = document.pages[0]
    for line in page.lines:
        if line.bbox[1] > 0.4 * page.height:
            continue
        toks = tuple(tokens(line.text))
        for title in _CREDIT_TITLES:
            n = len(title)
            if any(toks[i : i + n] == title for i in range(len(toks) - n + 1)):
                return True
    return False
