"""Every sample bank file read field by field (pure: no database)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from relance.cashapp import parsers
from relance.cashapp.parsers import cfonb120
from relance.cashapp.parsers.base import INVALID_IBAN

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bank_statements"
if not DATA.exists():  # CI clones the repo with shared/ beside it
    DATA = Path("/work/shared/data/bank_statements")


def read(name: str) -> list[parsers.ParsedStatement]:
    return parsers.parse((DATA / name).read_bytes(), file=name)


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("camt/oca_test-camt053.xml", "camt"),
        ("camt/genkgo_camt053.v2.minimal.xml", "camt"),
        ("camt/genkgo_camt053.v8.xml", "camt"),
        ("camt/genkgo_camt054.v2.xml", "camt"),
        ("mt940/jejik_abnamro.sta", "mt940"),
        ("mt940/jejik_rabobank-iban.sta", "mt940"),
        ("mt940/betterplace_sepa_mt9401.sta", "mt940"),
        ("cfonb120/oca_cfonb_classic.cfo", "cfonb120"),
        ("ofx/ofxparse_checking.ofx", "ofx"),
        ("ofx/ofxparse_bank_medium.ofx", "ofx"),
        ("ofx/ofxparse_multiple_accounts.ofx", "ofx"),
    ],
)
def test_the_format_is_detected_from_the_content(name, fmt):
    assert parsers.detect((DATA / name).read_bytes()) == fmt


def test_a_file_of_no_known_format_is_refused_with_its_name():
    with pytest.raises(parsers.StatementParseError, match="notes.txt: not a bank statement"):
        parsers.parse(b"hello world\n", file="notes.txt")
    with pytest.raises(parsers.StatementParseError, match="not an ISO 20022 camt"):
        parsers.parse(b"<Document><Other/></Document>", file="x.xml")


# --- camt.053 (OCA sample with its expected parse) ---------------------------------------------------------


def test_camt053_matches_the_expected_parse_field_by_field():
    expected = json.loads((DATA / "camt" / "oca_camt053.expected.json").read_text())
    (st,) = read("camt/oca_test-camt053.xml")
    exp = expected["statements"][0]
    assert st.format == "camt.053" and st.version == "camt.053.001.02"
    assert st.account_iban == expected["account"] == "NL77ABNA0574908765"
    assert st.currency == expected["currency"]
    assert st.statement_id == exp["name"]
    assert st.opening.amount == D("15568.27") and st.closing.amount == D("15121.12")
    assert st.opening.date == st.closing.date == dt.date.fromisoformat(exp["date"])
    assert len(st.lines) == len(exp["transactions"]) == 4
    for line, tx in zip(st.lines, exp["transactions"], strict=True):
        assert line.amount == Decimal(str(tx["amount"])).quantize(Decimal("0.01"))
        assert line.booking_date == dt.date.fromisoformat(tx["date"])
        assert line.end_to_end_id == tx["ref"]
        assert (line.additional_info or line.remittance) == tx["payment_ref"]
        assert line.counterparty_name == tx["partner_name"]
        assert line.counterparty_iban == tx["account_number"]
        assert line.transaction_code == tx["transaction_type"]
        assert line.currency == "EUR"


def test_camt053_reversed_direct_debit_batch_is_split_and_flagged_with_its_return_reason():
    (st,) = read("camt/oca_test-camt053.xml")
    insurance, dd1, dd2, incoming = st.lines
    assert not insurance.is_reversal and not incoming.is_reversal
    for line in (dd1, dd2):
        assert line.is_reversal and line.return_reason == "AC06"
        assert line.mandate_id.startswith("NL22ZZZ524885430000-C0125")
        assert line.instruction_id == line.end_to_end_id
    assert dd1.amount + dd2.amount == D("-664.05")
    assert dd1.remittance == "Direct Debit S14 0410"
    assert incoming.value_date == dt.date(2014, 1, 5)
    assert incoming.counterparty_bic == "ABNANL2A"
    assert incoming.raw["entry"]["Amt"] == {"@Ccy": "EUR", "#text": "1405.31"}


def test_an_iban_with_a_wrong_check_digit_is_kept_as_written_and_flagged():
    (st,) = read("camt/oca_test-camt053.xml")
    assert st.lines[0].counterparty_iban == "NL46ABNA0499998748"
    assert INVALID_IBAN in st.lines[0].flags
    assert st.lines[3].flags == []


@pytest.mark.parametrize("name", ["camt/genkgo_camt053.v2.minimal.xml", "camt/genkgo_camt053.v8.xml"])
def test_camt053_versions_2_and_8_read_alike(name):
    (st,) = read(name)
    assert st.account_iban == "NL26VAYB8060476890"
    assert st.opening.amount == D("18.15") and st.opening.date == dt.date(2014, 12, 30)
    assert st.closing.amount == D("-27.00") and st.closing.currency == "SEK"
    (line,) = st.lines
    assert line.amount == D("8.85") and line.currency == "EUR"
    assert line.booking_date == dt.date(2014, 12, 31) and line.value_date == dt.date(2015, 1, 2)
    assert line.counterparty_name == "NAME NAME" and line.counterparty_iban == "NL56AGDH9619008421"
    assert line.creditor_reference == "4654654654654654"
    assert not line.is_reversal


def test_camt053_v8_reads_the_references_and_the_domain_code():
    (line,) = read("camt/genkgo_camt053.v8.xml")[0].lines
    assert line.bank_reference == "AAAASESS-FP-CN_98765/01"
    assert line.end_to_end_id == "MUELL/FINP/RA12345"
    assert line.transaction_code == "PMNT-RCDT-BOOK"


def test_camt053_v2_proprietary_code_is_kept():
    (line,) = read("camt/genkgo_camt053.v2.minimal.xml")[0].lines
    assert line.transaction_code == "544"


def test_camt054_notification_keeps_every_remittance_block():
    (st,) = read("camt/genkgo_camt054.v2.xml")
    assert st.format == "camt.054" and st.version == "camt.054.001.02"
    assert st.account_id == "CH2801234000123456789" and st.currency == "SEK"
    (line,) = st.lines  # three transactions without amounts: one line for the entry
    assert line.amount == D("-200000") and line.currency == "SEK"
    assert line.booking_date == dt.date(2007, 10, 18)
    assert line.counterparty_name == "MUELLER"
    assert line.bank_reference == "AAAASESS-FP-ACCR001"
    assert line.end_to_end_id == "MUELL/FINP/RA12345"
    assert line.remittance == (
        "Unstructured Remittance Information V1 Unstructured Remittance Information V3 block 1 "
        "Unstructured Remittance Information V3 block 2"
    )
    assert line.creditor_reference.split(" ")[:3] == ["ISR", "ref", "number"]
    assert "Ref number V3 block 2" in line.creditor_reference
    assert "Additional Remittance Information V2" in line.additional_info
    assert line.transaction_code == "PMNT-ICDT-DMCT"


# --- MT940 --------------------------------------------------------------------------------------------------


def test_mt940_german_sepa_file_has_26_statements_of_97_lines_that_all_balance():
    statements = read("mt940/betterplace_sepa_mt9401.sta")
    assert len(statements) == 26
    assert sum(len(s.lines) for s in statements) == 97
    for st in statements:
        assert st.opening.amount + sum(x.amount for x in st.lines) == st.closing.amount, st.statement_id


def test_mt940_german_subfields_give_name_iban_bic_end_to_end_and_purpose():
    st = read("mt940/betterplace_sepa_mt9401.sta")[1]
    assert st.account_id == "50880050/0194777100888"
    assert st.opening.amount == D("-970499.9") and st.opening.date == dt.date(2007, 9, 3)
    line = st.lines[0]
    assert line.amount == D("15000.05") and line.currency == "EUR"
    assert line.booking_date == line.value_date == dt.date(2007, 9, 4)
    assert line.counterparty_name == "Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx"
    assert line.counterparty_iban == "DE42100100100043921105"
    assert line.counterparty_bic == "PBNKDEFF100"
    assert line.end_to_end_id == "EndToEndIdTFNR2000400001"
    assert line.bank_reference == "0724710290621954"
    assert line.remittance.startswith("TO 13 TFNr 20004 Eingangskanal Mint")
    assert line.transaction_code == "NTRF/166"
    assert line.raw["tags"]["61"].startswith("0709040904CR15000,05NTRF")


def test_mt940_returns_and_reversals_are_flagged():
    lines = read("mt940/betterplace_sepa_mt9401.sta")[0].lines
    retoure = lines[0]
    assert retoure.is_reversal and retoure.return_reason == "914" and retoure.amount == D("300")
    assert retoure.end_to_end_id == "TFNR 40005 00005"
    storno = lines[5]  # :61: ...RCR204,88: a reversal of a credit is a debit
    assert storno.is_reversal and storno.amount == D("-204.88")
    assert not lines[3].is_reversal  # SAMMLER


def test_mt940_rabobank_structured_details():
    first, second = read("mt940/jejik_rabobank-iban.sta")
    assert first.account_id == "NL71RABO0123456789"
    assert first.account_iban == ""  # the sample's IBAN has a wrong check digit: not taken as the account's IBAN
    assert first.opening.amount == D("1000.00") and first.closing.amount == D("965.00")
    for st in (first, second):
        assert st.opening.amount + sum(x.amount for x in st.lines) == st.closing.amount
    line = first.lines[0]
    assert line.amount == D("-25.00") and line.booking_date == dt.date(2013, 1, 1)
    assert line.counterparty_name == "CONTRA ACCOUNT HOLDER"
    assert line.counterparty_iban == "NL70ABNA0987654321"
    assert line.end_to_end_id == "01-01-2013 12:00 0030000987654321"
    assert first.lines[1].counterparty_name == "JOHN DOE"
    assert first.lines[1].remittance == "Reference 201301234"


def test_mt940_abn_amro_two_messages_with_booking_and_value_dates():
    first, second = read("mt940/jejik_abnamro.sta")
    assert first.account_id == "517852257" and first.account_iban == ""
    assert len(first.lines) == 8 and len(second.lines) == 2
    assert first.opening.amount == D("3236.28") and second.opening.amount == D("2876.84")
    line = first.lines[1]
    assert line.amount == D("-11.59")
    assert line.value_date == dt.date(2011, 5, 21) and line.booking_date == dt.date(2011, 5, 23)
    assert line.remittance.startswith("BEA NR:XXX1234 21.05.11/12.54 DIRCKIII")
    assert first.lines[0].amount == D("-9") and first.lines[0].transaction_code == "N192"


# --- CFONB 120 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("0000000010401G", "1040.17"),
        ("0000000013210{", "1321.00"),
        ("0000000000199R", "-19.99"),
        ("0000000006171M", "-617.14"),
        ("0000000000010}", "-1.00"),
        ("0000010173118I", "1017311.89"),
        ("00000000000001", "0.01"),
    ],
)
def test_cfonb_overpunch_last_digit_gives_the_sign(text, amount):
    assert cfonb120.overpunch(text, 2, where="x", file="f") == D(amount)


def test_cfonb_overpunch_refuses_a_wrong_sign_character():
    with pytest.raises(parsers.StatementParseError, match="sign character"):
        cfonb120.overpunch("000000000019#", 2, where="record 2", file="f.cfo")


def test_cfonb_old_balance_plus_movements_is_the_new_balance_exactly():
    (st,) = read("cfonb120/oca_cfonb_classic.cfo")
    assert st.opening.amount == D("1017311.89") and st.opening.date == dt.date(2024, 1, 12)
    assert st.closing.amount == D("1031585.79") and st.closing.date == dt.date(2024, 1, 13)
    assert st.opening.amount + sum(x.amount for x in st.lines) == st.closing.amount
    assert len(st.lines) == 13
    assert st.account_iban == "FR7630003012340123456789057"  # RIB key computed


def test_cfonb_movements_field_by_field():
    lines = read("cfonb120/oca_cfonb_classic.cfo")[0].lines
    first = lines[0]
    assert first.amount == D("1040.17") and first.booking_date == first.value_date == dt.date(2024, 1, 13)
    assert first.counterparty_name == "MA JOLIE BOUTIQUE"
    assert first.remittance == "facture F230875"
    assert first.additional_info == "VIR INST MA JOLIE BOUTIQUE"
    assert first.transaction_code == "18"
    second = lines[1]
    assert second.remittance == "F230866 F230765 F238765" and second.end_to_end_id == "0018937"
    third = lines[2]
    assert third.amount == D("4772.91") and third.end_to_end_id == "F230987, F231234"
    assert lines[3].transaction_code == "45" and lines[3].remittance == "Invoice F235678"
    assert lines[4].remittance == "Akretion factures F239765/F237654/F239875/F240001"
    assert lines[7].remittance == "" and lines[7].end_to_end_id == "REGLEMENT PRINT SARL"
    debit = lines[9]
    assert debit.amount == D("-19.99") and debit.transaction_code == "B1"
    assert debit.mandate_id == "FM-47933521-1" and debit.end_to_end_id == "fmpmt-1168225394"
    assert debit.counterparty_name == "FREE MOBILE"  # from the label when no NBE is given
    assert debit.counterparty_account == "FR07ZZZ591778"
    orange = lines[11]
    assert orange.amount == D("-617.14") and orange.counterparty_name == "Orange"
    assert orange.remittance.startswith("FIBENT - FR - Facture: 76662391")
    assert orange.raw["details"][0].startswith("0530003029101234EUR2E01234567890B1130124     LIB")
    assert not any(x.is_reversal for x in lines)


def cfonb(code: str, fields: dict[int, str]) -> str:
    """A 120-character record: ``fields`` maps 1-based start positions to their text."""
    record = [" "] * 120
    for start, text in {1: code, 3: "30003", 12: "01234", 17: "EUR", 20: "2", 22: "01234567890", **fields}.items():
        record[start - 1 : start - 1 + len(text)] = list(text)
    return "".join(record)


def test_cfonb_reject_reason_code_marks_a_return():
    text = "\n".join(
        [
            cfonb("01", {35: "120124", 91: "0000000010000{"}),
            cfonb(
                "04",
                {
                    33: "B1",
                    35: "130124",
                    41: "AM",
                    43: "130124",
                    49: "PRLV CLIENT DUPONT",
                    91: "0000000001000}",
                    105: "REF123",
                },
            ),
            cfonb("07", {35: "130124", 91: "0000000009000{"}),
        ]
    )
    (st,) = parsers.parse(text.encode(), file="r.cfo")
    (line,) = st.lines
    assert line.amount == D("-100.00") and line.is_reversal and line.return_reason == "AM"
    assert line.bank_reference == "REF123" and line.counterparty_name == "CLIENT DUPONT"
    assert st.opening.amount + line.amount == st.closing.amount


def test_cfonb_errors_name_the_file_and_the_record():
    movement = cfonb("04", {35: "130124", 91: "0000000001000{"})
    with pytest.raises(parsers.StatementParseError, match=r"bad.cfo: record 1: a movement \(04\) outside"):
        cfonb120.parse(movement.encode(), file="bad.cfo")
    opening = cfonb("01", {35: "120124", 91: "0000000010000{"})
    with pytest.raises(parsers.StatementParseError, match=r"bad.cfo: end: the last statement has no new balance"):
        cfonb120.parse(opening.encode(), file="bad.cfo")
    with pytest.raises(parsers.StatementParseError, match=r"record 2: '320124' is not a date"):
        cfonb120.parse(f"{opening}\n{cfonb('04', {35: '320124', 91: '0000000001000{'})}".encode(), file="bad.cfo")


# --- OFX ----------------------------------------------------------------------------------------------------


def test_ofx_102_checking_account():
    (st,) = read("ofx/ofxparse_checking.ofx")
    assert st.account_id == "5472369148/1452687~7" and st.currency == "USD"
    assert st.closing.amount == D("100.99")
    dividend, withdrawal, fee = st.lines
    assert dividend.amount == D("0.01") and dividend.booking_date == dt.date(2011, 3, 31)
    assert dividend.bank_reference == "0000486" and dividend.transaction_code == "CREDIT"
    assert dividend.counterparty_name == "DIVIDEND EARNED FOR PERIOD OF 03"
    assert withdrawal.amount == D("-34.51") and withdrawal.remittance == "AUTOMATIC WITHDRAWAL, ELECTRIC BILL WEB(S )"
    assert fee.entry_reference == "319" and not fee.is_reversal  # a fee for a returned cheque is a fee
    assert fee.raw["FITID"] == "0000488"


def test_ofx_dates_are_the_banks_local_day():
    (st,) = read("ofx/ofxparse_bank_medium.ofx")
    assert st.currency == "CAD" and st.account_id == "160000100/12300 000012345678"
    assert [x.booking_date for x in st.lines] == [dt.date(2009, 4, 1), dt.date(2009, 4, 2), dt.date(2009, 4, 3)]
    assert [x.amount for x in st.lines] == [D("-6.60"), D("-316.67"), D("-22.00")]
    assert st.lines[1].counterparty_name == "Joe's Bald Hairstyles"


def test_ofx_211_with_two_accounts_gives_two_statements():
    first, second = read("ofx/ofxparse_multiple_accounts.ofx")
    assert (first.account_id, second.account_id) == ("123/9100", "123/9200")
    assert (first.closing.amount, second.closing.amount) == (D("111"), D("222"))
    assert first.lines == [] and second.lines == []
