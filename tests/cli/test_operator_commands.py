"""The `relance` operator commands that set up a group without the admin."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.core.models import AuditEntry
from relance.orgs import services
from relance.orgs.models import Agency, BankAccount, Company, Group, User


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_json(*args: str):
    return json.loads(run(*args, "--json"))


def test_set_up_a_group_from_the_command_line(db):
    assert run_json("group", "set", "--name", "Acme Group", "--currency", "eur") == {
        "name": "Acme Group",
        "currency": "EUR",
    }
    company = run_json(
        "company",
        "add",
        "FR1",
        "--name",
        "Acme France",
        "--country",
        "FR",
        "--currency",
        "EUR",
        "--siren",
        "552100554",
        "--vat",
        "FR96552100554",
        "--iban",
        "FR7630006000011234567890189",
        "--bic",
        "BNPAFRPP",
    )
    assert company["timezone"] == "Europe/Paris"
    assert company["siren"] == "552100554" and company["bank_accounts"] == [
        {"iban": "FR7630006000011234567890189", "bic": "BNPAFRPP"}
    ]
    run("agency", "add", "PAR", "--company", "FR1", "--name", "Paris")
    user = run_json(
        "user", "add", "AM@Example.com", "--role", "agency_manager", "--agency", "PAR", "--password", "a-long-password"
    )
    assert user == {
        "email": "am@example.com",
        "role": "agency_manager",
        "active": True,
        "scope": "agencies",
        "companies": [],
        "agencies": ["PAR"],
    }
    assert User.objects.get(email="am@example.com").check_password("a-long-password")
    assert Group.objects.get().name == "Acme Group"
    assert Company.objects.get().group.name == "Acme Group"
    assert AuditEntry.objects.filter(actor_label="cli").count() >= 4


def test_rerunning_the_setup_updates_instead_of_duplicating(db):
    for _ in range(2):
        run("company", "add", "fr1", "--name", "Acme France", "--country", "FR", "--currency", "EUR")
        run("agency", "add", "PAR", "--company", "FR1", "--name", "Paris")
    assert Company.objects.count() == 1 and Agency.objects.count() == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--siren", "552100555"], "not a valid SIREN"),
        (["--vat", "FR00552100554"], "not a valid VAT"),
        (["--iban", "FR7630006000011234567890188"], "not a valid IBAN"),
        (["--currency", "EURO"], "Unknown currency"),
    ],
)
def test_bad_company_input_is_refused_with_the_value_and_nothing_is_written(db, args, message):
    base = {"--name": "X", "--country": "FR", "--currency": "EUR"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message):
        run("company", "add", "FR1", *flat)
    assert not Company.objects.exists() and not BankAccount.objects.exists()


def test_an_agency_manager_needs_an_agency(db):
    with pytest.raises(CommandError, match="needs at least one agency"):
        run("user", "add", "x@example.com", "--role", "agency_manager")
    assert not User.objects.exists()


def test_unknown_company_is_named(db):
    with pytest.raises(CommandError, match="Unknown company 'NOPE'"):
        run("user", "add", "x@example.com", "--role", "credit_manager", "--company", "NOPE")


def test_an_api_key_is_printed_once_and_stored_hashed(db):
    services.user_add(actor="test", email="erp@example.com", role="admin")
    result = run_json("apikey", "create", "erp@example.com", "--label", "ERP")
    token = result["token"]
    assert services.apikey_authenticate(token).email == "erp@example.com"
    assert not User.objects.get().api_keys.filter(digest=token).exists()
    run("apikey", "revoke", result["prefix"])
    assert services.apikey_authenticate(token) is None


def test_rates_load_reports_counts(db, tmp_path):
    path = tmp_path / "eurofxref.csv"
    path.write_text("Date, USD, GBP,\n22 November 2024, 1.0463, 0.83280,\n")
    assert run_json("rates", "load", str(path)) == {"read": 2, "created": 2, "updated": 0}
    with pytest.raises(CommandError, match="no such file"):
        run("rates", "load", str(tmp_path / "missing.csv"))


def test_daily_jobs_run_once_per_date(db):
    first = run_json("daily", "--date", "2026-06-30")
    again = run_json("daily", "--date", "2026-06-30")
    assert {r["status"] for r in first["runs"]} == {"done"}
    assert {r["status"] for r in again["runs"]} == {"already_done"}


def test_ledger_check_passes_on_a_sound_ledger(world):
    result = run_json("ledger_check")
    assert result["problems"] == [] and result["counts"]["customers"] == 5


def _cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RELANCE_SQLITE_PATH"] = str(tmp_path / "cli.sqlite3")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"  # as an operator runs it, not the test settings
    return env


def test_the_console_command_has_help_and_passes_django_commands_through(tmp_path):
    env = _cli_env(tmp_path)
    top = subprocess.run([sys.executable, "-m", "relance", "--help"], capture_output=True, text=True, env=env)
    assert top.returncode == 0 and "company" in top.stdout and "migrate" in top.stdout
    for command in ("company", "user", "apikey", "serve", "rates", "daily", "group", "agency"):
        result = subprocess.run(
            [sys.executable, "-m", "relance", command, "--help"], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
        assert "usage: relance" in result.stdout
    migrate = subprocess.run(
        [sys.executable, "-m", "relance", "migrate", "-v0"], capture_output=True, text=True, env=env
    )
    assert migrate.returncode == 0, migrate.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "relance",
            "company",
            "add",
            "FR1",
            "--name",
            "X",
            "--country",
            "FR",
            "--currency",
            "EUR",
            "--siren",
            "123",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "not a valid SIREN" in bad.stderr


def test_serve_runs_the_web_app_and_the_worker_and_stops_both(tmp_path):
    import signal
    import socket
    import time
    import urllib.request

    env = _cli_env(tmp_path)
    subprocess.run([sys.executable, "-m", "relance", "migrate", "-v0"], env=env, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "relance", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    status = response.status
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and "Relance" in body
        time.sleep(4)  # give the worker process time to start and say so
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert f"serving on http://127.0.0.1:{port}" in output
    assert "Starting worker" in output and "shutting down gracefully" in output
    assert "Traceback" not in output
