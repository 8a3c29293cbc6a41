"""Pure portal rules: tokens and link validity (no database)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from relance.cashapp.domain import read_creditor_reference
from relance.core.money import Money
from relance.portal import domain

SECRET = "s3cret"
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def test_a_signed_token_unsigns_to_its_raw_part():
    raw = domain.new_raw_token()
    assert domain.unsign_token(domain.sign_token(raw, SECRET), SECRET) == raw


def test_fresh_tokens_are_random_and_long():
    tokens = {domain.new_raw_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 for t in tokens)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature-changed"),
        pytest.param(lambda t: ("A" if t[0] != "A" else "B") + t[1:], id="raw-changed"),
        pytest.param(lambda t: t.split(".")[0], id="signature-missing"),
        pytest.param(lambda t: t + ".x", id="two-dots"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "é" + t, id="non-ascii"),
        pytest.param(lambda t: t * 5, id="too-long"),
    ],
)
def test_a_tampered_token_is_refused(tamper):
    token = domain.sign_token(domain.new_raw_token(), SECRET)
    assert domain.unsign_token(tamper(token), SECRET) is None


def test_a_token_signed_with_another_secret_is_refused():
    raw = domain.new_raw_token()
    assert domain.unsign_token(domain.sign_token(raw, "other"), SECRET) is None


def test_the_digest_is_sha256_hex_and_not_the_token():
    raw = domain.new_raw_token()
    digest = domain.token_digest(raw)
    assert len(digest) == 64 and raw not in digest
    assert digest == domain.token_digest(raw)


@pytest.mark.parametrize(
    ("expires_at", "revoked_at", "expected"),
    [
        pytest.param(NOW + dt.timedelta(days=1), None, domain.LinkState.VALID, id="before-expiry"),
        pytest.param(NOW, None, domain.LinkState.EXPIRED, id="at-expiry"),
        pytest.param(NOW - dt.timedelta(seconds=1), None, domain.LinkState.EXPIRED, id="after-expiry"),
        pytest.param(NOW + dt.timedelta(days=1), NOW, domain.LinkState.REVOKED, id="revoked"),
        pytest.param(NOW - dt.timedelta(days=1), NOW, domain.LinkState.REVOKED, id="revoked-and-expired"),
        pytest.param(
            NOW + dt.timedelta(days=1), NOW + dt.timedelta(hours=1), domain.LinkState.VALID, id="revoked-later"
        ),
    ],
)
def test_link_state(expires_at, revoked_at, expected):
    assert domain.link_state(expires_at=expires_at, revoked_at=revoked_at, now=NOW) == expected


def test_expiry_is_days_after_creation_and_at_least_one_day():
    assert domain.expiry(now=NOW, days=60) == NOW + dt.timedelta(days=60)
    with pytest.raises(ValueError):
        domain.expiry(now=NOW, days=0)


# --- selections and RF references ---------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**15))
def test_a_selection_reference_is_valid_iso_11649_and_reads_back_as_that_selection(selection_id):
    ref = domain.selection_reference(selection_id)
    assert iso11649.is_valid(ref) and len(ref) <= 25
    assert read_creditor_reference(f"Virement {ref[:4]} {ref[4:]} merci") == ("S", selection_id)


def test_a_mistyped_selection_reference_is_not_read():
    ref = domain.selection_reference(4242)
    wrong = ref[:-1] + ("3" if ref[-1] != "3" else "4")
    assert read_creditor_reference(wrong) != ("S", 4242)


def test_the_selection_key_ignores_order_and_duplicates():
    assert domain.selection_key([3, 1, 2, 2]) == domain.selection_key([1, 2, 3])
    assert domain.selection_key([1, 2]) != domain.selection_key([1, 3])
    with pytest.raises(ValueError):
        domain.selection_key([])


D = dt.date


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        pytest.param("150.00", [(1, Decimal("100.00")), (2, Decimal("50.00"))], id="exact-total"),
        pytest.param("120.00", [(1, Decimal("100.00")), (2, Decimal("20.00"))], id="partial-oldest-first"),
        pytest.param("80.00", [(1, Decimal("80.00"))], id="less-than-the-oldest"),
        pytest.param("200.00", [(1, Decimal("100.00")), (2, Decimal("50.00"))], id="overpayment-left-over"),
    ],
)
def test_an_online_payment_settles_the_oldest_due_first(amount, expected):
    items = [
        domain.Item(2, "B", D(2026, 6, 1), Decimal("50.00")),
        domain.Item(1, "A", D(2026, 5, 1), Decimal("100.00")),
    ]
    assert domain.allocation_plan(items, Decimal(amount)) == expected


def test_an_epc_transfer_carries_the_reference_in_the_structured_field():
    t = domain.epc_transfer(name=" Relance SAS ", iban="fr76 3000 6000 0112 3456 7890 189", bic="agrifrpp",
                            amount=Money(Decimal("1500.5"), "EUR"), reference="RF94S42")  # fmt: skip
    assert t.payload().split("\n") == [
        "BCD", "002", "2", "SCT", "AGRIFRPP", "Relance SAS", "FR7630006000011234567890189", "EUR1500.5", "",
        "RF94S42"]  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("10.00", "USD"), ("0.001", "EUR"), ("1000000000.00", "EUR")],
    ids=["not-euro", "below-a-cent", "above-the-standard-maximum"],
)
def test_no_epc_transfer_when_the_standard_cannot_carry_it(amount, currency):
    assert domain.epc_transfer(name="X", iban="FR76", bic="", amount=Money(Decimal(amount), currency),
                               reference="RF") is None  # fmt: skip


# --- webhook signatures ----------------------------------------------------------------------------------------


def test_a_webhook_signed_now_is_verified_and_any_change_breaks_it():
    body = b'{"status": "paid"}'
    header = domain.webhook_signature(secret="k", timestamp=int(NOW.timestamp()), body=body)
    assert domain.webhook_verified(secret="k", header=header, body=body, now=NOW)
    assert not domain.webhook_verified(secret="k", header=header, body=body + b" ", now=NOW)
    assert not domain.webhook_verified(secret="other", header=header, body=body, now=NOW)
    assert not domain.webhook_verified(secret="k", header=header, body=body, now=NOW + dt.timedelta(minutes=6))
    assert not domain.webhook_verified(secret="k", header="t=abc,v1=00", body=body, now=NOW)
    assert not domain.webhook_verified(secret="k", header="", body=body, now=NOW)


# --- uploads ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe1", "image/jpeg"),
        (b"GIF89a", None),
        (b"<svg xmlns=", None),
        (b"PK\x03\x04", None),
        (b"MZ\x90\x00", None),
        (b"", None),
    ],
    ids=["pdf", "png", "jpeg", "gif", "svg", "zip-or-docx", "exe", "empty"],
)
def test_the_upload_type_comes_from_the_content(head, mime):
    assert domain.sniff_upload(head) == mime
