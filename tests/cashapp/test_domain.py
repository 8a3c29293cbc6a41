"""The matching engine, pure: labelled cases without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.cashapp import domain
from relance.cashapp.domain import AUTO, REVIEW, UNIDENTIFIED, Book, Line, MatchConfig, OpenItem, Payer

D = Decimal
DAY = dt.date(2026, 6, 29)
CONFIG = MatchConfig()

PAYERS = [
    Payer(1, "ACME01", "ACME Industries SAS"),
    Payer(2, "BOUL02", "Boulangerie Martin SARL"),
    Payer(3, "DURA03", "Durancia Montgenèvre"),
    Payer(4, "WID004", "British Widgets Ltd"),
    Payer(5, "EMPTY5", "Sans Factures SA"),
    Payer(6, "MART06", "Martin Boulangerie Industrielle"),
]


def item(id_, number, customer, amount, *, issued=dt.date(2026, 5, 1), due=None, currency="EUR", open_=None):
    return OpenItem(
        id=id_,
        number=number,
        customer_id=customer,
        currency=currency,
        open_amount=D(open_ if open_ is not None else amount),
        issue_date=issued,
        due_date=due or issued + dt.timedelta(days=30),
        amount=D(amount),
    )


ITEMS = [
    item(101, "INV-2026-00101", 1, "1200.00", issued=dt.date(2026, 3, 1)),
    item(102, "INV-2026-00102", 1, "300.00", issued=dt.date(2026, 4, 1)),
    item(103, "INV-2026-00103", 1, "450.50", issued=dt.date(2026, 5, 1)),
    item(104, "INV-2026-00104", 1, "99.90", issued=dt.date(2026, 6, 1)),
    item(201, "F230875", 2, "1040.17"),
    item(202, "F230876", 2, "500.00", issued=dt.date(2026, 6, 25)),
    item(203, "F230877", 2, "500.00", issued=dt.date(2026, 6, 26)),
    item(301, "F230866", 3, "400.00"),
    item(302, "F230765", 3, "521.00"),
    item(303, "F238765", 3, "400.00"),
    item(401, "UK-000401", 4, "1000.00", currency="GBP"),
    item(601, "MB-77001", 6, "777.00"),
]
IBANS = {"FR1420041010050500013M02606": (2, 3), "DE89370400440532013000": (1, 1)}


def book() -> Book:
    return Book.build(ITEMS, PAYERS, IBANS)


def line(amount, text="", name="", iban="", currency="EUR", day=DAY, ref=""):
    return Line(1, D(amount), currency, day, name, iban, text, ref)


def run(ln: Line, config: MatchConfig = CONFIG, convert=None) -> domain.Match:
    return domain.match_line(ln, book(), config, convert=convert)


def shares(match: domain.Match) -> list[tuple[str, str]]:
    return [(s.number, str(s.amount)) for s in match.best.shares]


# --- invoice numbers in the text, tolerant to spacing, prefixes and truncation ------------------------------

NUMBER_CASES = [
    ("exact number", "Payment INV-2026-00102", [("INV-2026-00102", "300.00")]),
    ("without separators", "INV202600102 thanks", [("INV-2026-00102", "300.00")]),
    ("with spaces inside", "Facture INV 2026 00102", [("INV-2026-00102", "300.00")]),
    ("other prefix, digits only", "FACT 2026-00102", [("INV-2026-00102", "300.00")]),
    ("lower case", "inv-2026-00102", [("INV-2026-00102", "300.00")]),
    ("slashes", "INV/2026/00102", [("INV-2026-00102", "300.00")]),
    ("French invoice number", "facture F230875", [("F230875", "1040.17")]),
    ("glued to other words", "REGLT:F230875.", [("F230875", "1040.17")]),
]


@pytest.mark.parametrize(("label", "text", "expected"), NUMBER_CASES, ids=[c[0] for c in NUMBER_CASES])
def test_an_invoice_number_in_the_text_names_the_invoice(label, text, expected):
    amount = expected[0][1]
    result = run(line(amount, text))
    assert result.decision == AUTO, result.best.reasons
    assert shares(result) == expected
    assert "written in the transfer text" in result.best.reasons[0]


def test_several_invoice_numbers_in_one_line_pay_all_of_them():
    result = run(line("921.00", "F230866 F230765"))
    assert result.decision == AUTO
    assert sorted(shares(result)) == [("F230765", "521.00"), ("F230866", "400.00")]
    assert "Invoice numbers" in result.best.reasons[0]


def test_numbers_separated_by_plus_and_slashes():
    result = run(line("1321.00", "F230866+F230765/F238765"))
    assert result.decision == AUTO and len(result.best.shares) == 3


def test_a_number_cut_short_by_the_bank_is_still_found_with_less_confidence():
    result = run(line("99.90", "Payment of our invoice INV-2026-001"))  # cut from INV-2026-00104?
    # "INV2026001" begins four numbers: ambiguous, so not taken as a truncated number
    assert not any("cut short" in r for p in result.proposals for r in p.reasons)
    result = run(line("777.00", "payment MB-7700"))
    assert result.best.customer_id == 6 and "cut short" in result.best.reasons[0]
    assert result.best.confidence < D("0.95")


def test_a_number_cut_short_that_begins_several_numbers_is_told_apart_by_the_amount():
    # "INV2026001" begins four numbers, but only INV-2026-00103 is open for 450.50
    result = run(line("450.50", "Paiement INV2026-001"))
    assert result.decision == AUTO and shares(result) == [("INV-2026-00103", "450.50")]
    assert "only one open for this amount" in result.best.reasons[0]
    # an amount no candidate is open for names none of them
    result = run(line("451.50", "Paiement INV2026-001"))
    assert not any("cut short" in r for p in result.proposals for r in p.reasons)


def test_a_number_cut_short_is_not_told_apart_by_an_amount_two_candidates_share():
    items = [item(i, f"FA2301-{i:04d}", 9, "80.00") for i in (11, 12)]
    b = Book.build(items, [Payer(9, "NINE09", "Nine Corp")])
    result = domain.match_line(line("80.00", "Paiement FA2301-001"), b, CONFIG)
    assert result.decision == UNIDENTIFIED


def test_a_number_that_is_no_open_invoice_identifies_nothing():
    result = run(line("55.00", "INV-2025-99999"))
    assert result.decision == UNIDENTIFIED and result.best is None


# --- amounts: exact, combination, partial, tolerance ---------------------------------------------------------


def test_known_iban_and_exact_amount_among_the_payers_open_items():
    result = run(line("1040.17", "no reference", iban="FR1420041010050500013M02606"))
    assert result.decision == AUTO
    assert shares(result) == [("F230875", "1040.17")]
    assert any("confirmed 3 times" in r for r in result.best.reasons)
    assert any("equals the open amount of F230875" in r for r in result.best.reasons)


def test_two_items_of_the_same_amount_go_to_review_with_the_oldest_first():
    result = run(line("500.00", "", iban="FR1420041010050500013M02606"))
    assert result.decision == REVIEW
    assert shares(result) == [("F230876", "500.00")]


def test_a_combination_of_open_items_equal_to_the_amount():
    result = run(line("1500.00", "", iban="DE89370400440532013000"))  # 1200 + 300
    assert result.decision == AUTO
    assert shares(result) == [("INV-2026-00101", "1200.00"), ("INV-2026-00102", "300.00")]
    assert any("sum of 2 open invoices" in r for r in result.best.reasons)


def test_an_ambiguous_combination_is_only_suggested():
    items = [item(i, f"X{i:05d}", 9, "100.00", issued=dt.date(2026, 1, i)) for i in range(1, 5)]
    b = Book.build(items, [Payer(9, "NINE09", "Nine Corp")], {"GB29NWBK60161331926819": (9, 5)})
    result = domain.match_line(line("200.00", iban="GB29NWBK60161331926819"), b, CONFIG)
    assert result.decision == REVIEW
    assert shares(result) == [("X00001", "100.00"), ("X00002", "100.00")]


def test_a_combination_among_many_items_is_found_and_known_unique():
    # 20 open items whose small amounts make many near sums: the exhaustive search still proves uniqueness
    amounts = ["1000.01", "2000.02", *[f"{3 + k}.{k:02d}" for k in range(18)]]
    items = [item(i, f"Z{i:05d}", 9, amounts[i], issued=dt.date(2025, 1, 1) + dt.timedelta(days=i)) for i in range(20)]
    b = Book.build(items, [Payer(9, "NINE09", "Nine Corp")], {"GB29NWBK60161331926819": (9, 5)})
    result = domain.match_line(line("3000.03", iban="GB29NWBK60161331926819"), b, CONFIG)
    assert result.decision == AUTO
    assert shares(result) == [("Z00000", "1000.01"), ("Z00001", "2000.02")]


@pytest.mark.parametrize("size", [2, 5, 21, 30])
def test_the_combination_search_finds_the_oldest_of_two_sums(size):
    # beyond 24 items the bounded depth-first search takes over; both find the oldest set
    amounts = ["10.00", "15.00", "12.00", "13.00"] + [f"{1000 + k}.00" for k in range(size)]  # 25 = 10+15 = 12+13
    items = [item(i, f"W{i:05d}", 9, a, issued=dt.date(2025, 1, 1) + dt.timedelta(days=i))
             for i, a in enumerate(amounts)]  # fmt: skip
    subset, unique = domain._subset(items, D("25.00"), MatchConfig(combination_max_items=60))
    assert [i.number for i in subset] == ["W00000", "W00001"] and unique is False


def test_the_combination_search_is_bounded():
    items = [item(i, f"Y{i:05d}", 9, str(100 + i), issued=dt.date(2026, 1, 1)) for i in range(1, 40)]
    b = Book.build(items, [Payer(9, "NINE09", "Nine Corp")], {"GB29NWBK60161331926819": (9, 5)})
    tight = MatchConfig(combination_max_steps=50, document_rules=("combination",))
    result = domain.match_line(line("100000.00", iban="GB29NWBK60161331926819"), b, tight)
    assert result.best is None or result.best.rule != "combination"


def test_a_partial_payment_of_a_referenced_invoice_leaves_it_open():
    result = run(line("600.00", "INV-2026-00101"))
    assert shares(result) == [("INV-2026-00101", "600.00")]
    assert result.best.difference_kind == domain.UNDERPAYMENT
    assert any("Partial payment: 600.00 EUR of 1,200.00 EUR; 600.00 EUR stays open." in r for r in result.best.reasons)
    assert not result.best.shares[0].closes


def test_two_payments_for_one_invoice_each_apply_to_what_is_left():
    b = book()
    config = CONFIG
    first = domain.match_lines([Line(1, D("700.00"), "EUR", DAY, "", "", "INV-2026-00101")], b, config)[0]
    second = domain.match_lines([Line(2, D("500.00"), "EUR", DAY, "", "", "INV-2026-00101")], b, config)[0]
    assert first.decision == second.decision == AUTO
    assert [str(s.amount) for s in second.best.shares] == ["500.00"]
    assert second.best.shares[0].closes


UNDER_CASES = [
    ("bank fees", "1190.00", dt.date(2026, 6, 29), domain.BANK_FEES, "10.00 EUR less than due: booked as bank fees"),
    ("discount 2% in time", "1176.00", dt.date(2026, 3, 8), domain.DISCOUNT, "(2%) paid within 10 days"),
    ("discount too late is not one", "1176.00", dt.date(2026, 4, 30), domain.UNDERPAYMENT, "Partial payment"),
    ("overpayment within tolerance", "1203.00", DAY, domain.OVERPAYMENT, "3.00 EUR more than due"),
]


@pytest.mark.parametrize(("label", "paid", "day", "kind", "words"), UNDER_CASES, ids=[c[0] for c in UNDER_CASES])
def test_a_difference_within_tolerance_is_explained_and_booked(label, paid, day, kind, words):
    result = run(line(paid, "INV-2026-00101", day=day))
    assert result.best.difference_kind == kind
    assert any(words in r for r in result.best.reasons), result.best.reasons
    if kind in domain.WRITE_OFF_KINDS:
        assert result.decision == AUTO
        assert result.best.difference_document == 101 and result.best.shares[0].closes
        assert result.best.difference == 0 and result.best.allocated == D(paid)


def test_tolerances_are_configurable():
    strict = MatchConfig(bank_fees_max=D("1.00"), underpayment_pct=D("0"))
    result = run(line("1190.00", "INV-2026-00101"), strict)
    assert result.best.difference_kind == domain.UNDERPAYMENT


# --- who pays: references, IBAN, customer reference, names -------------------------------------------------


def test_relances_rf_creditor_reference_is_the_strongest_clue():
    ref = domain.creditor_reference("D", 103)
    assert ref.startswith("RF") and domain.read_creditor_reference(f"pay {ref[:4]} {ref[4:]}") == ("D", 103)
    result = run(line("450.50", ref=ref))
    assert result.decision == AUTO and shares(result) == [("INV-2026-00103", "450.50")]
    assert result.best.confidence >= D("0.99")
    assert "the one Relance gave for INV-2026-00103" in result.best.reasons[0]


def test_a_customer_rf_reference_names_the_customer():
    ref = domain.creditor_reference("C", 1)
    result = run(line("450.50", f"ref {ref}"))
    assert result.decision == AUTO and shares(result) == [("INV-2026-00103", "450.50")]


@pytest.mark.parametrize("bad", ["RF00D103", "RF13D12345X", "RF"])
def test_an_rf_reference_with_a_wrong_check_is_ignored(bad):
    assert domain.read_creditor_reference(bad) is None or domain.read_creditor_reference(bad)[1] != 103


def test_the_customer_reference_in_the_text():
    result = run(line("450.50", "client ACME01 paiement"))
    assert result.best.customer_id == 1
    assert "The customer reference ACME01 is written in the transfer text." in result.best.reasons
    assert result.decision == AUTO


NAME_CASES = [
    ("exact name without legal form", "ACME INDUSTRIES", 1, REVIEW),
    ("accents and dots", "ACME Industries S.A.S.", 1, REVIEW),
    ("words swapped", "Industries Acme", 1, REVIEW),
    ("unknown name", "Totally Different Co", None, UNIDENTIFIED),
]


@pytest.mark.parametrize(("label", "name", "customer", "decision"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_the_payers_name_alone_gives_a_suggestion_to_review(label, name, customer, decision):
    result = run(line("450.50", "", name=name))
    assert result.decision == decision
    if customer:
        assert result.best.customer_id == customer
        assert any("name" in r for r in result.best.reasons)


def test_two_similar_names_are_not_trusted():
    result = run(line("777.00", "", name="Martin Boulangerie"))
    assert result.decision != AUTO


def test_a_known_iban_and_the_name_together():
    result = run(line("450.50", "", name="Acme", iban="DE89370400440532013000"))
    assert result.decision == AUTO and result.best.customer_id == 1


def test_numbers_of_another_customer_than_the_iban_says_go_to_review():
    result = run(line("300.00", "F230876", iban="DE89370400440532013000"))
    assert result.decision == REVIEW
    assert {p.customer_id for p in result.proposals} >= {1, 2}


def test_a_customer_without_open_items_keeps_the_money_on_account():
    b = Book.build(ITEMS, PAYERS, {"GB29NWBK60161331926819": (5, 4)})
    result = domain.match_line(line("80.00", iban="GB29NWBK60161331926819"), b, CONFIG)
    assert result.decision == REVIEW and result.best.customer_id == 5 and result.best.shares == ()
    assert "no open invoice" in result.best.reasons[-1]


def test_nothing_known_stays_unidentified():
    assert run(line("12.34", "loyer juin", name="SCI du Parc")).decision == UNIDENTIFIED


def test_debits_are_not_matched():
    assert run(line("-100.00", "INV-2026-00101")).decision == UNIDENTIFIED


# --- currencies ----------------------------------------------------------------------------------------------


def fx(amount, source, target, day):
    rates = {("EUR", "GBP"): D("0.85"), ("USD", "EUR"): D("0.90")}
    rate = rates.get((source, target))
    return (amount * rate).quantize(D("0.01")) if rate else None


def test_another_currency_is_converted_at_the_days_rate():
    result = run(line("1176.47", "UK-000401", currency="EUR"), convert=fx)  # 1176.47 EUR = 1000.00 GBP
    assert result.decision == AUTO
    assert result.best.currency == "GBP" and shares(result) == [("UK-000401", "1000.00")]
    assert result.best.rate == D("0.850000")
    assert any("Converted from 1,176.47 EUR" in r for r in result.best.reasons)


def test_a_small_conversion_difference_is_an_exchange_difference():
    result = run(line("1170.00", "UK-000401"), convert=fx)  # 994.50 GBP
    assert result.best.difference_kind == domain.EXCHANGE
    assert result.best.shares[0].closes and result.best.allocated == D("994.50")


def test_without_a_rate_no_proposal_in_the_other_currency():
    result = run(line("1000.00", "UK-000401", currency="USD"), convert=fx)
    assert result.best is None or result.best.currency != "GBP"


# --- order, thresholds, configuration ------------------------------------------------------------------------


def test_rules_can_be_switched_off_and_reordered():
    only_iban = MatchConfig(customer_rules=("iban",))
    assert run(line("300.00", "INV-2026-00102"), only_iban).decision == UNIDENTIFIED
    result = run(line("300.00", "INV-2026-00102", iban="FR1420041010050500013M02606"),
                 MatchConfig(customer_rules=("iban", "invoice_number")))  # fmt: skip
    assert result.proposals[0].customer_id in (1, 2)


def test_the_auto_threshold_decides_what_is_applied():
    cautious = MatchConfig(auto_threshold=D("0.999"))
    assert run(line("300.00", "INV-2026-00102"), cautious).decision == REVIEW


def test_match_lines_never_pays_one_invoice_twice():
    b = book()
    lines = [Line(i, D("300.00"), "EUR", DAY, "", "", "INV-2026-00102") for i in (1, 2)]
    first, second = domain.match_lines(lines, b, CONFIG)
    assert first.decision == AUTO
    assert second.decision != AUTO


def test_every_proposal_has_a_confidence_between_0_and_1_and_reasons():
    for text in ("INV-2026-00102", "F230866 F230765", "ACME01", ""):
        for p in run(line("300.00", text, iban="DE89370400440532013000")).proposals:
            assert D(0) <= p.confidence <= D(1) and p.reasons


CONFIG_ERRORS = [
    ({"auto_threshold": 0.9}, "auto_threshold: write the number as a string"),
    ({"auto_threshold": "1.5"}, "auto_threshold: a number from 0 to 1"),
    ({"review_threshold": "0.95", "auto_threshold": "0.9"}, "review_threshold must not be above"),
    ({"customer_rules": ["iban", "horoscope"]}, "customer_rules: each of"),
    ({"customer_rules": ["iban", "iban"]}, "customer_rules: each of"),
    ({"name_min_score": 20}, "name_min_score: a whole number from 50 to 100"),
    ({"discount_pcts": "2"}, "discount_pcts: a list"),
    ({"colour": "blue"}, "unknown setting(s): colour"),
]


@pytest.mark.parametrize(("data", "message"), CONFIG_ERRORS, ids=[m for _, m in CONFIG_ERRORS])
def test_settings_are_validated_with_a_clear_message(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MatchConfig.from_dict(data)


def test_settings_round_trip_through_json():
    config = MatchConfig.from_dict({"auto_threshold": "0.95", "customer_rules": ["iban", "name"], "discount_days": 8})
    assert MatchConfig.from_dict(config.as_dict()) == config
    assert config.customer_rules == ("iban", "name") and config.auto_threshold == D("0.95")


def test_a_proposal_round_trips_through_json():
    best = run(line("1190.00", "INV-2026-00101")).best
    assert domain.Proposal.from_dict(best.as_dict()).as_dict() == best.as_dict()


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Acme S.A.R.L.", "ACME"), ("Boulangerie Martin SARL", "BOULANGERIE MARTIN"),
     ("Société Générale SA", "SOCIETE GENERALE"), ("THE WIDGET CO. LTD", "WIDGET"), ("Müller GmbH & Co. KG", "MULLER")],
)  # fmt: skip
def test_names_are_compared_without_legal_forms_or_accents(name, normal):
    assert domain.normal_name(name) == normal


@pytest.mark.parametrize(
    ("number", "keys"),
    [("INV-2026-00102", ("INV202600102", "202600102")), ("F230875", ("F230875", "230875")), ("1234", ("1234",)),
     ("2026/000123", ("2026000123",))],
)  # fmt: skip
def test_invoice_number_keys(number, keys):
    assert domain.number_keys(number) == keys
