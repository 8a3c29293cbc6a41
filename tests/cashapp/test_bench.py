"""The cashapp benchmark runs on a temporary database and scores a labelled set drawn from the demo data."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_cashapp_benchmark_reports_shares_precision_and_speed():
    out = io.StringIO()
    call_command("bench", "cashapp", "--customers", "20", "--invoices", "600", "--lines", "120", "--json",
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    (result,) = json.loads(out.getvalue())
    figures = result["figures"]
    assert figures["lines"] > 50 and figures["open_items"] > 0
    assert float(figures["precision"]) >= 0.99
    assert float(figures["auto_share"]) > 0.6
    assert figures["lines_per_s"] > 0 and result["baseline"]["lines_per_s"] > 0
    assert isinstance(result["target"]["pass"], bool)
