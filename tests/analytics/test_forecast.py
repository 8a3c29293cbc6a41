"""The cash forecast of a scope, its back-test command, and the insured/factored figures, on the example ledger."""

import datetime as dt
import json
from decimal import Decimal as D
from io import StringIO

from django.core.management import call_command

from relance.analytics import forecast, selectors, services
from relance.collections.models import Promise
from relance.core.scope import SystemActor
from relance.risk.models import CreditInsuranceCover, FactoredDocument

SYSTEM = SystemActor("test")


def weeks(fc, n=4):
    return [w[2].quantize(D("0.01")) for w in fc.weeks[:n]]


def test_forecast_uses_each_customers_delay_and_spreads_the_overdue(example_ledger):
    assert services.behaviour_refresh(actor=SYSTEM, as_of=dt.date(2026, 6, 30)) == {"customers": 2}
    fc = forecast.cash_forecast(SYSTEM)
    # I2 due 07-15 + 10 days → 07-25 (week 3); I1 (540), I3 (120), I4 (700 EUR × 0.4 = 280) spread: 235 a week
    assert weeks(fc) == [D("235.00"), D("235.00"), D("235.00"), D("735.00")]


def test_a_promise_comes_first_and_its_documents_leave_the_rest(example_ledger):
    services.behaviour_refresh(actor=SYSTEM, as_of=dt.date(2026, 6, 30))
    led = example_ledger
    p = Promise.objects.create(
        company=led.customers["eur"].company,
        customer=led.customers["eur"],
        amount=D("600.00"),
        currency="EUR",
        promised_for=dt.date(2026, 7, 10),
        made_on=dt.date(2026, 6, 28),
    )
    p.documents.add(led.docs[1])
    fc = forecast.cash_forecast(SYSTEM)
    assert weeks(fc) == [D("100.00"), D("700.00"), D("100.00"), D("600.00")]
    assert selectors.kpis(SYSTEM).kpis.under_promise == D("600.00")


def test_without_behaviour_rows_the_delay_is_zero(example_ledger):
    fc = forecast.cash_forecast(SYSTEM)
    # I2 expected on its due date 07-15 (week 2)
    assert weeks(fc) == [D("235.00"), D("235.00"), D("735.00"), D("235.00")]


def test_insured_and_factored_outstanding(example_ledger):
    led = example_ledger
    CreditInsuranceCover.objects.create(
        customer=led.customers["gbp"], insurer="Allianz Trade", insured_amount=D("340.00"), currency="GBP",
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    CreditInsuranceCover.objects.create(
        customer=led.customers["eur"], insurer="Coface", insured_amount=D("5000.00"), currency="EUR",
        valid_from=dt.date(2026, 1, 1), expires_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    FactoredDocument.objects.create(document=led.docs[2], factor="Factor SA", assigned_on=dt.date(2026, 6, 20))
    k = selectors.kpis(SYSTEM).kpis
    assert (k.insured, k.factored) == (D("1700.00"), D("500.00"))
    assert selectors.kpis(SYSTEM, as_of=dt.date(2026, 6, 16)).kpis.factored == D("0.00")


def test_backtest_command(example_ledger):
    out = StringIO()
    call_command("forecast-backtest", "--json", "--dates", "2", "--every", "30", "--last", "2026-05-31", stdout=out)
    data = json.loads(out.getvalue())
    assert [r["as_of"] for r in data["runs"]] == ["2026-05-01", "2026-05-31"]
    first = data["runs"][0]
    assert first["weeks"] == 8  # whole weeks between 05-01 and today (06-30)
    # the receipts really applied to invoices open on 05-01: P1's 400 EUR on 06-10, in week 5 (06-05..06-11)
    assert first["actual"][5] == "400.00" and sum(D(a) for a in first["actual"]) == D("400.00")
    assert set(data["summary"]) == {"forecast_mae", "forecast_wape", "naive_mae", "naive_wape"}


def test_a_model_prediction_moves_its_invoice(example_ledger):
    from relance.ml.models import InvoicePrediction

    services.behaviour_refresh(actor=SYSTEM, as_of=dt.date(2026, 6, 30))
    led = example_ledger
    InvoicePrediction.objects.create(
        document=led.docs[2], company=led.docs[2].company, customer=led.docs[2].customer, as_of=dt.date(2026, 6, 30),
        expected_payment_date=dt.date(2026, 7, 2), expected_days_late=0, prob_late=0.1,
        interval_low=dt.date(2026, 7, 1), interval_high=dt.date(2026, 7, 5), model_version="test",
    )  # fmt: skip
    fc = forecast.cash_forecast(SYSTEM)
    # I2 (500) predicted on 07-02 (week 1) instead of its due date + 10 days; the rest as before
    assert weeks(fc) == [D("735.00"), D("235.00"), D("235.00"), D("235.00")]


def test_without_the_risk_ml_and_promise_models_the_figures_are_zero_and_the_rest_stands(example_ledger, monkeypatch):
    from relance.analytics import extras

    real = extras.model
    monkeypatch.setattr(
        extras, "model", lambda label: None if label.split(".")[0] in {"risk", "ml", "collections"} else real(label)
    )
    CreditInsuranceCover.objects.create(
        customer=example_ledger.customers["eur"], insurer="Coface", insured_amount=D("5000.00"), currency="EUR",
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    k = selectors.kpis(SYSTEM, use_summary=False).kpis
    assert (k.insured, k.factored, k.under_promise) == (D("0.00"), D("0.00"), D("0.00"))
    assert k.total_receivables == D("2000.00")
    assert weeks(forecast.cash_forecast(SYSTEM, use_summary=False)) == [
        D("235.00"),
        D("235.00"),
        D("735.00"),
        D("235.00"),
    ]
