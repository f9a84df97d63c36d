"""The shared value types: amounts, dates, IBANs, VAT ids and currencies parse one way everywhere."""

from datetime import date
from decimal import Decimal

import pytest

from extractors.values import (
    DATE_PATTERN,
    VALUE_TYPES,
    find_doubtful_ibans,
    find_ibans,
    iban_guessed,
    parse_amount,
    parse_currency,
    parse_date,
    parse_iban,
    parse_vat_id,
    payment_term_days,
    repair_doubtful_iban,
    repair_iban,
)


def _iban(country: str, bban: str) -> str:
    """A valid IBAN of ``country`` for ``bban``: its ISO 7064 check digits worked out."""
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u202f234,56", "1234.56"),
        ("1'234.56", "1234.56"),
        ("(12.00)", "-12.00"),
        ("12.00-", "-12.00"),
        ("-5,00", "-5.00"),
        ("€ 1.190,00", "1190.00"),
        ("1.190,00 EUR", "1190.00"),
        ("CHF11.732,53", "11732.53"),
        ("11.732,53CHF", "11732.53"),
        ("$12.5", "12.5"),
        ("1,234", "1234"),
        ("0,5", "0.5"),
        ("1.234.567", "1234567"),
        ("42", "42"),
    ],
)
def test_amounts_in_every_common_form(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1.23.4", "12,34,5", "1 23,00", ",5", "XEUR12"])
def test_non_amounts_are_rejected(text: str) -> None:
    assert parse_amount(text) is None


def test_template_decimal_separator_overrides_the_guess() -> None:
    assert parse_amount("1,234", ",") == Decimal("1.234")
    assert parse_amount("1.234", ".") == Decimal("1.234")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-14", date(2026, 3, 14)),
        ("14.03.2026", date(2026, 3, 14)),
        ("14/03/26", date(2026, 3, 14)),
        ("03/14/2026", date(2026, 3, 14)),
        ("14 March 2026", date(2026, 3, 14)),
        ("14. März 2026", date(2026, 3, 14)),
        ("14 mars 2026", date(2026, 3, 14)),
        ("14 février 2026", date(2026, 2, 14)),
        ("March 14, 2026", date(2026, 3, 14)),
        ("Dec 1st, 2026", date(2026, 12, 1)),
        ("20260314", date(2026, 3, 14)),
        ("14-Mar-2026", date(2026, 3, 14)),
        ("14 Mar 26", date(2026, 3, 14)),
        ("Mar 14, 26", date(2026, 3, 14)),
        ("1 déc. 2026", date(2026, 12, 1)),
        # Month abbreviations German, Austrian, Dutch and French programs print.
        ("14 Mär 2026", date(2026, 3, 14)),
        ("14. Jän. 2026", date(2026, 1, 14)),
        ("14 mrt 2026", date(2026, 3, 14)),
        ("14 fév. 2026", date(2026, 2, 14)),
        # As OCR glues them: no space after the month name, none after the comma.
        ("May10, 2026", date(2026, 5, 10)),
        ("Oct 3,2025", date(2025, 10, 3)),
    ],
)
def test_dates_iso_numeric_and_month_names(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_a_month_name_before_a_price_is_no_date() -> None:
    # A two-digit year is taken only after a space or a dash; "3,25" is an amount.
    assert DATE_PATTERN.search("Nov 3,25") is None
    assert DATE_PATTERN.search("Nov2025") is None


def test_date_order_option_decides_ambiguous_numeric_dates() -> None:
    assert parse_date("04/03/2026") == date(2026, 3, 4)
    assert parse_date("04/03/2026", "MDY") == date(2026, 4, 3)
    assert parse_date("31.02.2026") is None


def test_iban_needs_a_valid_checksum_and_length() -> None:
    assert parse_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert parse_iban("IBAN: GB29 NWBK 6016 1331 9268 19") == "GB29NWBK60161331926819"
    assert parse_iban("DE89 3704 0044 0532 0130 01") is None  # checksum
    assert parse_iban("DE89 3704 0044 0532 0130") is None  # length


def test_vat_ids_per_country() -> None:
    assert parse_vat_id("DE 123 456 789") == "DE123456789"
    assert parse_vat_id("FR 12 345678901") == "FR12345678901"
    assert parse_vat_id("GB123456789") == "GB123456789"
    assert parse_vat_id("ATU12345678") == "ATU12345678"
    assert parse_vat_id("DE12345678") is None
    assert parse_vat_id("XX123456789") is None


def test_currency_symbols_codes_and_names() -> None:
    assert parse_currency("€") == "EUR"
    assert parse_currency("gbp") == "GBP"
    assert parse_currency("£") == "GBP"
    assert parse_currency("Euro") == "EUR"
    assert parse_currency("ABC") is None


def test_an_eight_digit_date_reads_year_first_or_with_the_year_last() -> None:
    assert parse_date("20260314") == date(2026, 3, 14)
    # Separators OCR did not see: day first, or month first when the document says so.
    assert parse_date("27032018") == date(2018, 3, 27)
    assert parse_date("03272018", "MDY") == date(2018, 3, 27)
    assert parse_date("12345678") is None
    assert parse_date("00990811") is None


def test_a_look_alike_in_an_alphanumeric_account_number_is_put_back_when_mod_97_confirms_it() -> None:
    from stdnum import iban

    valid = "FR7630006000011234567890189"
    assert iban.is_valid(valid)
    # The French account number allows letters: OCR reading "0" as "O" there is no class error.
    misread = valid[:23] + "O" + valid[24:]
    assert repair_iban(misread) == valid
    assert parse_iban(misread) is None
    # Digits wrong in other ways are never guessed.
    assert repair_iban(valid[:23] + "7" + valid[24:]) is None


def test_an_iban_ocr_glued_to_its_label_is_found() -> None:
    valid = _iban("DE", "370400440532013000")
    grouped = " ".join(valid[i : i + 4] for i in range(0, len(valid), 4))
    printed = f"auf das Konto IBAN{grouped}."
    assert [v for _, v in find_ibans(printed)] == [valid]
    # Glued to any other word it is no IBAN.
    assert not list(find_ibans(f"XYZ{valid}"))


def test_a_bracket_ocr_read_for_a_j_in_an_account_number_is_a_j() -> None:
    valid = _iban("IT", "X0542811101000000123J56")
    misread = valid.replace("J", ")")
    assert [v for _, v in find_ibans(f"IBAN {misread[:15]} {misread[15:]}")] == [valid]
    assert repair_iban(misread) == valid
    assert not iban_guessed(misread, valid)  # the one reading a bracket has, no guess


@pytest.mark.parametrize("bban", ["KQYA0417164300", "QNBK0417164300", "ABNQ0123456789"])
def test_a_q_read_as_o_in_a_bank_code_of_letters_is_put_back_when_mod_97_confirms_it(bban: str) -> None:
    valid = _iban("NL", bban)
    misread = valid.replace("Q", "O")
    assert parse_iban(misread) is None
    assert repair_iban(misread) == valid
    assert iban_guessed(misread, valid)  # chosen by its check digits among several readings


@pytest.mark.parametrize(
    ("bban", "at", "read"), [("JKJB12345678901234", 6, "I"), ("AIBK93115212345678", 5, "J")]
)
def test_a_j_and_an_i_read_for_one_another_in_a_bank_code_are_put_back_when_mod_97_confirms_it(
    bban: str, at: int, read: str
) -> None:
    valid = _iban("IE", bban)
    misread = valid[:at] + read + valid[at + 1 :]
    assert misread != valid
    assert parse_iban(misread) is None
    assert repair_iban(misread) == valid
    assert [v for _, v in find_ibans(f"IBAN: {misread}")] == [valid]


def test_a_look_alike_in_a_word_ocr_was_unsure_of_settles_an_iban_several_swaps_would() -> None:
    printed = "IT21 X054 2811 1017 B76E 1M78 CXO"  # the last group read with little confidence
    last = printed.rindex(" ") + 1
    # "B", "1" and "O" each have a look-alike: more than one swap holds, so nothing is guessed ...
    assert repair_iban(printed) is None
    # ... unless OCR's doubt says where to look.
    assert repair_doubtful_iban(printed, lambda i: i >= last) == "IT21X05428111017B76E1M78CX0"
    assert repair_doubtful_iban(printed, lambda i: False) is None
    text = f"IBAN: {printed} BIC ABCDITMM"
    start = text.index(printed) + last
    assert [v for _, v in find_doubtful_ibans(text, lambda i: i >= start)] == ["IT21X05428111017B76E1M78CX0"]


def test_two_look_alikes_in_words_ocr_was_unsure_of_are_put_back_when_only_one_reading_holds() -> None:
    printed = "IT70 X054 2811 1019 5DNA HB4A LSS"  # "55" read "SS"
    assert repair_iban(printed) is None
    doubtful_from = len(printed) - 9
    assert repair_doubtful_iban(printed, lambda i: i >= doubtful_from) == "IT70X054281110195DNAHB4AL55"
    assert repair_doubtful_iban(printed, lambda i: False) is None


def test_a_rarer_look_alike_never_makes_a_confirmed_common_one_ambiguous() -> None:
    valid = _iban("FR", "30006000011234A67890189")
    assert repair_iban(valid[:18] + "4" + valid[19:]) == valid  # "A" read "4"
    common = _iban("FR", "30006000011234567890O89")
    misread = common.replace("O", "0")
    # Tried with the rarer slips as well, "0" as "O" or as "D" and "4" as "A" might each hold.
    assert repair_iban(misread) == common
    assert iban_guessed(misread, common)


def test_a_currency_glued_to_the_amount_after_it_is_that_amounts() -> None:
    # OCR lost the space after the currency: "MwSt. 19% / -584,90 €-111,13".
    text = "MwSt. 19% / -584,90 €-111,13"
    found = list(VALUE_TYPES["amount"].find(text))
    assert [v for _, v in found] == [Decimal("-584.90"), Decimal("-111.13")]
    assert text[found[1][0][0] : found[1][0][1]] == "€-111,13"
    # A currency after an amount and apart from the next one stays the first one's.
    assert [span for span, _ in VALUE_TYPES["amount"].find("584,90 € 111,13")] == [(0, 8), (9, 15)]


def test_value_types_find_candidates_with_spans() -> None:
    text = "Total EUR 1.190,00 for 3 items, IBAN DE89 3704 0044 0532 0130 00, due 13 April 2026"
    amounts = [v for _, v in VALUE_TYPES["amount"].find(text)]
    assert Decimal("1190.00") in amounts and Decimal("3") in amounts
    assert [v for _, v in VALUE_TYPES["iban"].find(text)] == ["DE89370400440532013000"]
    assert [v for _, v in VALUE_TYPES["date"].find(text)] == [date(2026, 4, 13)]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Zahlbar innerhalb 30 Tagen ohne Abzug.", 30),
        ("Zahlungsziel: 14 Tage netto", 14),
        ("Zahlungsbedingungen: 30 Tage", 30),
        ("14 Tage 3% Skonto, 30 Tage netto", 30),  # the net period, not the discount period
        ("Payable within 14 days of the invoice date", 14),
        ("Terms: Net 30", 30),
        ("Paiement à 45 jours", 45),
        ("Paiement à 45 jours fin de mois", None),  # ends at a month's end, not 45 days on
        ("innerhalb von 10 Tagen 2 % Skonto", None),  # only a discount period
        ("Lieferung innerhalb 3 Tagen", None),  # a delivery term
        ("Rechnung vom 12.03.2013", None),
        ("net weight 12 kg", None),
        ("Betaling binnen 30 dagen.", 30),
        ("Betalingstermijn: 14 dagen netto.", 14),
        ("Pago a 60 días.", 60),
        ("Condiciones de pago: 30 días fecha factura.", 30),
        ("Pagamento a 30 giorni data fattura.", 30),
        ("Condizioni di pagamento: 90 gg d.f.", 90),
        ("Pago a 60 días fin de mes", None),
        ("Pagamento 60 gg d.f.f.m.", None),
        ("Levering binnen 3 dagen", None),  # a delivery term
        ("Consegna entro 10 giorni", None),
    ],
)
def test_payment_terms_give_the_days_to_pay_in_full(text: str, days: int | None) -> None:
    assert payment_term_days(text) == days


@pytest.mark.parametrize(("text", "value"), [("0.025", "0.025"), ("0,025 €", "0.025"), ("1.000", "1000")])
def test_a_zero_before_the_mark_makes_it_a_decimal_mark(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


def test_a_number_and_a_date_joined_are_no_iban_of_a_country_outside_the_registry() -> None:
    # "QZ5640719931DU07032026" passes mod-97; printed as a number, a word and a date it is none.
    assert not list(find_ibans("Facture QZ5640719931 du 07-03-2026"))
    assert not list(find_ibans("Invoice QZ5640719931 of 07.03.2026"))
    # Set in capitals and digits, as an IBAN is printed, it still reads.
    assert [v for _, v in find_ibans("IBAN QZ56 4071 9931 DU07 0320 26")] == ["QZ5640719931DU07032026"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07.01.97", date(1997, 1, 7)), ("07.01.26", date(2026, 1, 7)), ("31.12.68", date(2068, 12, 31))],
)
def test_a_two_digit_year_reads_as_strptime_reads_it(text: str, expected: date) -> None:
    assert parse_date(text) == expected
