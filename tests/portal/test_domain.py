"""Pure portal rules: tokens and link validity (no database)."""

import datetime as dt

import pytest

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
