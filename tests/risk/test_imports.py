"""relance import financials / legal-events / scores: errors name file, row and column; re-runs change nothing."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.ledger.models import Customer, LegalEntity
from relance.risk.models import ExternalScore, FinancialStatement, LegalEvent
from relance.risk.providers import normalise

DATA = Path(__file__).parent / "data"
SIREN = "552100554"


@pytest.fixture
def entity(world):
    entity = LegalEntity.objects.create(key=f"SIREN:{SIREN}", name="Vasseur", country="FR", siren=SIREN)
    Customer.objects.filter(pk=world.customers["c_par_alice"].pk).update(legal_entity=entity, siren=SIREN)
    return entity


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("import", *args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def refused(*args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


FIN_HEADER = "siren;fiscal_year_end;currency;total_assets;total_liabilities;equity;working_capital;"
FIN_HEADER += "retained_earnings;ebit;sales;cash\n"


def test_financials_are_imported_once_and_updated_when_they_change(entity, tmp_path):
    path = tmp_path / "fin.csv"
    path.write_text(FIN_HEADER + f"{SIREN};2025-12-31;EUR;1 000 000;400000;600000;250000;300000;120000;2000000;1e5\n")
    assert run("financials", str(path))["counts"]["created"] == 1
    assert run("financials", str(path))["counts"]["unchanged"] == 1
    path.write_text(FIN_HEADER + f"{SIREN};2025-12-31;EUR;1000000;400000;600000;250000;300000;-5000;2000000;0\n")
    assert run("financials", str(path))["counts"]["updated"] == 1
    statement = FinancialStatement.objects.get()
    assert statement.ebit == Decimal("-5000") and statement.legal_entity == entity


def test_a_bad_financials_file_names_row_and_column_and_writes_nothing(entity, tmp_path):
    path = tmp_path / "fin.csv"
    path.write_text(
        FIN_HEADER
        + f"{SIREN};2025-12-31;EUR;1000000;400000;600000;250000;300000;120000;2000000;0\n"
        + "123456789;2025-12-31;EUR;1000000;400000;600000;250000;300000;120000;2000000;0\n"
        + f"{SIREN};31/12/2024;EUR;0;400000;600000;abc;300000;120000;2000000;0\n"
    )
    err = refused("financials", str(path))
    assert "row 3, column siren: '123456789': no customer with this SIREN" in err
    assert "row 4, column fiscal_year_end" in err and "row 4, column working_capital" in err
    assert "row 4, column total_assets" in err
    assert not FinancialStatement.objects.exists()


def test_a_bodacc_feed_records_the_proceedings_of_our_customers_only(entity):
    result = run("legal-events", str(DATA / "bodacc_sample.json"))
    assert result["counts"] == {"read": 4, "created": 1, "updated": 0, "unchanged": 0, "ignored": 3}
    event = LegalEvent.objects.get()
    assert (event.kind, event.reference, str(event.published_on), str(event.judgment_date)) == (
        "receivership",
        "A202601230001",
        "2026-06-25",
        "2026-06-18",
    )
    assert event.representative.startswith("SELARL MJ Nord") and "LILLE" in event.court
    assert run("legal-events", str(DATA / "bodacc_sample.json"))["counts"]["unchanged"] == 1


def test_a_csv_of_legal_events_with_explicit_kinds(entity, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "reference,siren,kind,published_on,court\n"
        f"PI-1,{SIREN},incident de paiement,2026-05-02,Banque de France\n"
        f"PI-2,{SIREN},bankruptcy,2026-05-02,\n"
    )
    assert "row 3, column kind: 'bankruptcy': unknown kind" in refused("legal-events", str(path))
    path.write_text(
        f"reference,siren,kind,published_on,court\nPI-1,{SIREN},incident de paiement,2026-05-02,Banque de France\n"
    )
    assert run("legal-events", str(path))["counts"]["created"] == 1
    assert LegalEvent.objects.get().kind == "payment_incident"


@pytest.mark.parametrize(
    "label, value, low, high, lower_is_safer, expected",
    [
        ("0-100 as is", "73", "0", "100", False, 73),
        ("0-20 scale", "15", "0", "20", False, 75),
        ("default probability, lower is safer", "2", "0", "10", True, 80),
    ],
)
def test_provider_scales_are_normalised(label, value, low, high, lower_is_safer, expected):
    assert normalise(Decimal(value), Decimal(low), Decimal(high), higher_is_safer=not lower_is_safer) == expected


def test_scores_are_imported_per_provider_and_date_idempotently(entity, tmp_path):
    path = tmp_path / "scores.json"
    path.write_text(json.dumps({"scores": [{"siren": SIREN, "score": 12, "as_of": "2026-06-01",
                                            "recommended_limit": "15000", "currency": "EUR"}]}))  # fmt: skip
    assert run("scores", str(path), "--provider", "ellisphere", "--scale", "0-20")["counts"]["created"] == 1
    assert run("scores", str(path), "--provider", "ellisphere", "--scale", "0-20")["counts"]["unchanged"] == 1
    score = ExternalScore.objects.get()
    assert (score.provider, score.score, score.recommended_limit) == ("ellisphere", 60, Decimal("15000"))


def test_a_bad_scores_file_is_refused_naming_the_row(entity, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(f"siren,score,as_of\n{SIREN},140,2026-06-01\n{SIREN},50,\n")
    err = refused("scores", str(path), "--provider", "bureau")
    assert "row 2, column score: '140': outside the provider's scale" in err
    assert "row 3, column as_of: is required" in err
    assert not ExternalScore.objects.exists()
