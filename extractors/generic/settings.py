"""The generic extractor's remaining constants, in one frozen, validated settings object.

Which candidate is the answer is learned (``learned.py``); what is left here are the limits of
candidate generation and of the arithmetic checks, the confidences of values the extractor
works out rather than reads, and the sizes of the learned model. Each has a line on what it
means. ``GenericSettings()`` is the default; a changed copy (``settings.model_copy(update=...)``)
is validated like the default, so a negative tolerance or a share above 1 never reaches the code.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class GenericSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- arithmetic (rules: these do not vary between vendors) ---
    # Two amounts within this are equal: a cent, plus room for a float-free rounding slip.
    cent: Decimal = Field(Decimal("0.011"), ge=0, le=1)
    # At most this many scanned rows have their amount worked out as quantity x price.
    max_reconciled_rows: int = Field(6, ge=0, le=12)
    # Tesseract's word confidence below which a read number may be misread.
    doubtful_read: float = Field(0.9, ge=0, le=1)
    # Candidates per field (distinct values, best first) tried in the arithmetic combinations.
    combination_top: int = Field(4, ge=1, le=10)
    # A combination of subtotal, tax and total scores the sum of its amounts' log chances (a
    # field left empty: the log chance that the document does not print it), plus log odds for
    # subtotal + tax = total holding (or minus for failing) and for the lines adding up to the
    # subtotal (a misread table fails that more often than the printed totals are wrong).
    agreement_log_odds: float = Field(4.0, ge=0)
    disagreement_log_odds: float = Field(2.0, ge=0)
    lines_log_odds: float = Field(3.0, ge=0)
    lines_disagreement_log_odds: float = Field(1.0, ge=0)
    # A total that is what was tendered less the change given back (two amounts a payment label
    # names: "Cash 50.00", "Change 3.75"): log odds for it; none against, most documents print
    # no payment at all.
    tender_log_odds: float = Field(3.0, ge=0)
    # Chances are kept this far off 0 and 1.
    probability_floor: float = Field(0.002, gt=0, lt=0.5)
    # The chance that a document prints no subtotal, no tax amount, no total at all: what
    # leaving the field empty scores in a combination.
    unprinted_net: float = Field(0.3, gt=0, lt=1)
    unprinted_tax: float = Field(0.3, gt=0, lt=1)
    unprinted_total: float = Field(0.02, gt=0, lt=1)
    # Cash rounding ("Rounding -0,02"): the payable total is a multiple of this step.
    rounding_step: Decimal = Field(Decimal("0.05"), gt=0, le=1)
    # The least chance given an amount below the line table that no label names, of being the
    # subtotal or the tax (about one in the number of amounts a totals block prints).
    unlabelled_prior: float = Field(0.15, ge=0, le=1)
    # The least chance given the largest amount below the line table of being the total.
    largest_total_prior: float = Field(0.3, ge=0, le=1)
    # The largest tax as a share of the net amount: above the highest VAT rate any country charges
    # (27 %), so a pair whose "tax" is more is no (net, tax) pair.
    max_tax_share: Decimal = Field(Decimal("0.35"), gt=0, le=1)
    # An invoice/due date pair in order gains this, a pair with the due date first loses the other,
    # each times the lower score of the pair's two dates.
    ordered_dates_bonus: float = Field(0.5, ge=0)
    reversed_dates_penalty: float = Field(0.3, ge=0)

    # A table of dated amounts under a bare "Date" heading ("Instalment | Date | Amount"): at most
    # this many of its rows are read, and a gap of more than this many row heights ends it.
    column_date_rows: int = Field(8, ge=1, le=50)
    column_date_gap: float = Field(2.2, gt=0, le=10)

    # --- confidences of values worked out, not read (below any review threshold on purpose) ---
    # The one amount of subtotal, tax and total missing, worked out from the other two.
    derived_amount_confidence: float = Field(0.4, ge=0, le=1)
    # A tax of 0.00 where the net amount printed is the total and no tax is printed.
    untaxed_confidence: float = Field(0.5, ge=0, le=1)
    # A due date derived from payment terms ("zahlbar innerhalb 30 Tagen").
    terms_confidence: float = Field(0.5, ge=0, le=1)
    # A printed due date that is the invoice date plus the days the payment terms state ("30
    # Tage netto bis 04.04.2026" beside 05.03.2026): two printed facts agree, the ranker aside.
    terms_agree_confidence: float = Field(0.9, ge=0, le=1)
    # Lines that do not add up to the printed totals.
    lines_disagree_confidence: float = Field(0.4, ge=0, le=1)
    # A row amount worked out as quantity x price because the lines then add up.
    reconciled_confidence: float = Field(0.5, ge=0, le=1)
    # An IBAN whose check digits fail: a misprint or a fraud signal.
    unchecked_iban_confidence: float = Field(0.3, ge=0, le=1)
    # A currency printed nowhere, taken as the one of the vendor's country (its VAT id or IBAN).
    country_currency_confidence: float = Field(0.5, ge=0, le=1)
    # On OCR'd pages a word of the vendor's name read without its accents takes them from the
    # same word read with them elsewhere in the document (a footer, an imprint), when it has at
    # least this many letters: short words ("a"/"à", "du"/"dû") are different words.
    accent_min_letters: int = Field(4, ge=1, le=20)
    # On OCR'd pages the vendor name read twice, its letters at most ``reading_slips`` apart (one
    # slip in six letters at most), is taken from the reading in type this much larger: OCR reads
    # a letterhead's large letters more surely than a footer's small ones.
    clearer_type_ratio: float = Field(1.25, ge=1)
    reading_slips: int = Field(2, ge=0, le=5)
    # On OCR'd pages a word read with less confidence than this is no word of a vendor name: what
    # OCR makes of a logo or a stamp ("sm", "ce" beside a graphic) at the edge of a name.
    debris_confidence: float = Field(0.5, ge=0, le=1)
    # ... unless it is a capitalised word of at least this many letters ("Nordwind" beside a speck).
    spelled_letters: int = Field(5, ge=2, le=20)
    # ... nor is a run of at least this many fragments (words of one or two letters or marks: "Fe
    # R D |"), which is how OCR reads the letters of a logo drawn as graphics.
    fragment_run: int = Field(3, ge=2, le=10)

    # --- line tables ---
    # A page whose text is at most this many characters wide is a till slip (58 and 80 mm
    # paper print 32 to 48): its items may be a list of amounts without counts.
    slip_characters: int = Field(60, ge=20, le=200)
    # Body rows under a header read to settle which columns hold quantity, price and amount.
    role_rows: int = Field(40, ge=3, le=500)
    # An OCR'd page whose text slopes more than this (rise per width; 0.01 is about 0.6
    # degrees) has its table read from words regrouped along the slope.
    min_tilt: float = Field(0.01, ge=0, le=0.2)
    # A list of priced rows without a header (items each ending in one amount, summed by the
    # total under them) ends at a gap of more than this many row heights: a blank line.
    list_gap: float = Field(1.0, gt=0, le=10)
    # Its amounts end where the total's does, within this many row heights.
    list_align: float = Field(1.0, gt=0, le=10)
    # Its items start at the page's left margin, within this many row heights (an indent).
    list_indent: float = Field(3.0, gt=0, le=50)

    # --- the learned candidate ranker ---
    # Dimensions of the distilled MiniLM phrase vectors (PCA of the word-piece table).
    embedding_dimensions: int = Field(64, ge=8, le=384)
    # Of those, how many enter the ranker per phrase (label, left and above neighbour).
    embedding_features: int = Field(16, ge=0, le=384)
    # Words left of a candidate (same row) and above it (the row over it) read as its context.
    context_words: int = Field(5, ge=1, le=20)
    # Rows above a candidate searched for the phrase over it, within this many row heights.
    above_rows_reach: float = Field(2.5, gt=0)
    # Gradient-boosted trees: rounds, leaves per tree, learning rate, L2 penalty, min leaf size.
    boosting_rounds: int = Field(250, ge=10, le=5000)
    boosting_leaves: int = Field(15, ge=2, le=255)
    boosting_learning_rate: float = Field(0.08, gt=0, le=1)
    boosting_l2: float = Field(1.0, ge=0)
    boosting_min_leaf: int = Field(20, ge=1)
    # Folds (by layout / source document) for out-of-fold scores that calibrate confidences.
    calibration_folds: int = Field(4, ge=2, le=20)
    # Out-of-fold values a field needs for its own calibration map.
    calibration_min_field: int = Field(10, ge=2)
    # Out-of-fold values a field read one way (text layer or OCR) needs for a map of its own;
    # with fewer, the field's map answers.
    calibration_min_kind: int = Field(40, ge=2)
    # Bins of the expected calibration error.
    ece_bins: int = Field(10, ge=2, le=100)
    # An optional field (it is often not printed) is left empty when the calibrated chance that
    # its best candidate is right is below this: an empty field costs less than a wrong one.
    abstain_below: float = Field(0.35, ge=0, le=1)
    # A vendor name heading the block that prints the company's VAT id or IBAN is taken over the
    # ranker's choice without one when it scored at most this much lower.
    id_block_margin: float = Field(0.2, ge=0, le=1)
    # A name the page prints in two places (letterhead and footer) is taken over the ranker's
    # choice from the letter's address window (the recipient) when it scored at most this much lower.
    window_name_margin: float = Field(0.2, ge=0, le=1)


OPTIONAL_FIELDS = frozenset({"po_number", "due_date", "vendor_iban", "vendor_tax_id"})
DEFAULT = GenericSettings()
