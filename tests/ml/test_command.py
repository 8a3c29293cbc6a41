"""`relance ml evaluate|train|predict|profiles|models` from the outside."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.ml import csvinput
from relance.ml.models import InvoicePrediction, ModelVersion
from tests.factories import CompanyFactory, CustomerFactory

from .helpers import invoices, monthly


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ml", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write_csv(
    path,
    rows,
    header=(
        "customer_ref",
        "number",
        "issue_date",
        "due_date",
        "currency",
        "amount",
        "paid_date",
        "disputed",
        "comment",
    ),
):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def synthetic_rows(seed=7, customers=12, per_customer=25):
    """Customers with steady habits: some pay on time, some 20 days late, some erratically."""
    rng = random.Random(seed)
    rows = []
    start = dt.date(2024, 1, 1)
    for c in range(customers):
        habit = c % 3
        for i in range(per_customer):
            issue = start + dt.timedelta(days=14 * i + rng.randint(0, 6))
            due = issue + dt.timedelta(days=30)
            delay = [rng.randint(-3, 3), rng.randint(15, 30), rng.choice([0, 5, 45, 90])][habit]
            rows.append(
                (
                    f"C{c:02d}",
                    f"F{c:02d}-{i:03d}",
                    issue.isoformat(),
                    due.isoformat(),
                    "EUR",
                    f"{rng.randint(100, 5000)}.00",
                    (due + dt.timedelta(days=delay)).isoformat(),
                    "1" if habit == 2 and i % 7 == 0 else "0",
                    "ignored",
                )
            )
    return rows


def test_evaluate_on_a_csv_file_prints_the_figures_and_beats_the_due_date(tmp_path):
    path = write_csv(tmp_path / "invoices.csv", synthetic_rows())
    result = json.loads(run("evaluate", "--input", str(path), "--json"))
    for key in (
        "mae_days",
        "auc_late",
        "calibration",
        "baseline_due_date_mae",
        "baseline_customer_mean_mae",
        "baseline_customer_mean_auc",
        "n_test",
        "n_train",
    ):
        assert key in result
    assert result["n_test"] == 60 and result["n_train"] == 240  # the last 20% by issue date
    assert result["mae_days"] < result["baseline_due_date_mae"]
    assert result["baseline_due_date_auc"] is None
    assert 0.0 <= result["calibration"]["brier"] <= 1.0


def test_auc_is_null_when_no_test_invoice_is_late(tmp_path):
    rows = [
        r[:6] + ((dt.date.fromisoformat(r[3]) + dt.timedelta(days=2)).isoformat(), "0", "") for r in synthetic_rows()
    ]
    path = write_csv(tmp_path / "prompt.csv", rows)
    result = json.loads(run("evaluate", "--input", str(path), "--json"))
    assert result["auc_late"] is None and result["late_rate_test"] == 0.0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("C1", "F1", "2024-13-01", "2024-02-01", "EUR", "10.00", "2024-02-01"), "row 3, column issue_date"),
        (("C1", "F1", "2024-01-01", "2024-02-01", "EUR", "-5", "2024-02-01"), "row 3, column amount"),
        (("C1", "F1", "2024-01-01", "2024-02-01", "EURO", "10.00", "2024-02-01"), "row 3, column currency"),
        (("C1", "F1", "2024-03-01", "2024-02-01", "EUR", "10.00", "2024-03-02"), "row 3, column due_date"),
        (("C1", "F1", "2024-03-01", "2024-04-01", "EUR", "10.00", "2024-02-02"), "row 3, column paid_date"),
        (("C1", "", "2024-03-01", "2024-04-01", "EUR", "10.00", ""), "row 3, column number: empty"),
        (
            ("C1", "F0", "2024-03-01", "2024-04-01", "EUR", "10.00", ""),
            "invoice 'F0' of customer 'C1' already on row 2",
        ),
    ],
)
def test_bad_rows_are_named_by_file_row_and_column(tmp_path, row, message):
    good = ("C1", "F0", "2024-01-01", "2024-01-31", "EUR", "10.00", "2024-02-01")
    path = write_csv(tmp_path / "bad.csv", [good, row], header=csvinput.REQUIRED)
    with pytest.raises(CommandError) as err:
        run("evaluate", "--input", str(path))
    assert message in str(err.value) and "bad.csv" in str(err.value)


def test_a_missing_column_or_file_is_refused(tmp_path):
    path = write_csv(tmp_path / "cols.csv", [("C1", "F1")], header=("customer_ref", "number"))
    with pytest.raises(CommandError, match="missing column.*issue_date, due_date, currency, amount, paid_date"):
        run("evaluate", "--input", str(path))
    with pytest.raises(CommandError, match="no such file"):
        run("evaluate", "--input", str(tmp_path / "nope.csv"))


def test_disputed_counts_only_in_the_customer_history(tmp_path):
    path = write_csv(tmp_path / "d.csv", synthetic_rows(customers=3, per_customer=4))
    history = csvinput.read_invoices(path)
    disputed = [inv for invs in history.values() for inv in invs if inv.disputes]
    assert disputed and all(inv.disputes == (inv.settled_on,) for inv in disputed)


@pytest.fixture
def ledger(db):
    company = CompanyFactory(code="CLI1")
    rng = random.Random(3)
    start = dt.date(2025, 3, 1)
    for k in range(6):
        customer = CustomerFactory(company=company, reference=f"K{k}")
        invoices(customer, monthly(start, 22, lambda i, k=k: (k * 6) + rng.randint(-2, 2)))
        invoices(customer, [(dt.date(2026, 6, 20), 30, None, "800.00")], prefix="O")
    return company


def test_train_predict_and_list_models_from_the_command_line(ledger):
    trained = json.loads(run("train", "--company", "cli1", "--json"))
    version = trained["CLI1"]["version"]
    assert version and trained["CLI1"]["n_settled"] == 132 and "mae_days" in trained["CLI1"]["metrics"]
    listed = json.loads(run("models", "--json"))
    assert [m["version"] for m in listed] == [version] and listed[0]["active"]
    assert "trained" in run("models")
    predicted = json.loads(run("predict", "--json"))
    assert predicted["CLI1"] == {"predicted": 6, "fallback": 0, "model": version}
    assert InvoicePrediction.objects.filter(model_version=version).count() == 6
    assert ModelVersion.objects.count() == 1


def test_profiles_compare_reports_agreement_without_writing_on_dry_run(ledger):
    result = json.loads(run("profiles", "--dry-run", "--json"))
    assert result["CLI1"]["comparison"]["labelled"] == 0  # the customers have no profile yet
    assert "customers" not in result["CLI1"]
    written = json.loads(run("profiles", "--json"))
    assert written["CLI1"]["customers"] == 6
    again = json.loads(run("profiles", "--compare", "--json"))
    assert again["CLI1"]["comparison"]["agreement"] == 1.0 and again["CLI1"]["changed"] == 0


def test_an_unknown_company_is_refused(db):
    with pytest.raises(CommandError, match="Unknown company 'ZZ'"):
        run("train", "--company", "ZZ")
