"""GET /customers and /customers/{id}: filters, pagination, synchronisation, the customer's full picture."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from relance.core.vocab import DocumentType, PayerProfile, RiskClass
from relance.ledger.models import Customer, Document, LegalEntity
from tests.factories import ContactFactory, DocumentFactory, PaymentFactory

from .conftest import assert_problem, customer_keys


@pytest.fixture
def admin(world, api_as):
    return api_as("admin")


def keys(world, api, params=None):
    return customer_keys(world, api.items("/customers", params))


class TestListFilters:
    @pytest.mark.parametrize(
        "params, expected",
        [
            ({"q": "atelier"}, {"c_par_alice"}),
            ({"q": "UK000"}, {"c_uk_alice", "c_uk_carol"}),
            ({"company": "fr1"}, {"c_par_alice", "c_lyo_bob", "c_fr_noagency"}),
            ({"company": "UK1"}, {"c_uk_alice", "c_uk_carol"}),
            ({"agency": "PAR"}, {"c_par_alice"}),
            ({"currency": "gbp"}, {"c_uk_alice", "c_uk_carol"}),
            ({"currency": "USD"}, set()),
            ({"company": "FR1", "agency": "LYO"}, {"c_lyo_bob"}),
        ],
        ids=["q-name", "q-reference", "company", "company-uk", "agency", "currency", "currency-none", "combined"],
    )
    def test_filters_narrow_the_list(self, world, admin, params, expected):
        assert keys(world, admin, params) == expected

    def test_a_collector_filter_takes_the_user_id(self, world, admin):
        carol = world.users["collector_carol_fr"]
        assert keys(world, admin, {"collector": carol.pk}) == {"c_fr_noagency", "c_uk_carol"}

    def test_overdue_true_and_false_split_the_customers(self, world, admin):
        bob_invoice = world.documents["c_lyo_bob"]
        Document.objects.filter(pk=bob_invoice.pk).update(open_amount=0, settled_on=dt.date(2026, 5, 2))
        DocumentFactory(
            customer=world.customers["c_par_alice"], due_date=dt.date(2026, 7, 31), issue_date=dt.date(2026, 7, 1)
        )
        assert keys(world, admin, {"overdue": "true"}) == set(world.customers) - {"c_lyo_bob"}
        assert keys(world, admin, {"overdue": "false"}) == {"c_lyo_bob"}

    def test_overdue_is_judged_on_todays_business_date(self, world, admin):
        from relance.core import clock

        clock.freeze(dt.date(2026, 5, 1))  # the world's invoices fall due on 2026-05-01: not yet overdue
        assert keys(world, admin, {"overdue": "true"}) == set()
        clock.freeze(dt.date(2026, 5, 2))
        assert keys(world, admin, {"overdue": "true"}) == set(world.customers)


class TestPagination:
    def test_pages_follow_the_ids_and_count_all_rows(self, world, admin):
        first = admin.json("/customers", {"limit": 2})
        second = admin.json("/customers", {"limit": 2, "offset": 2})
        last = admin.json("/customers", {"limit": 2, "offset": 4})
        assert first["count"] == second["count"] == last["count"] == 5
        ids = [c["id"] for page in (first, second, last) for c in page["items"]]
        assert ids == sorted(c.pk for c in world.customers.values())
        assert admin.json("/customers", {"offset": 5}) == {"items": [], "count": 5}

    def test_the_default_page_holds_100_rows_and_a_page_at_most_1000(self, world, admin):
        from relance.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

        assert (DEFAULT_LIMIT, MAX_LIMIT) == (100, 1000)
        assert admin.get("/customers", {"limit": 1000}).status_code == 200
        assert admin.get("/customers", {"limit": 1001}).status_code == 422

    def test_an_update_between_two_pages_neither_skips_nor_repeats_a_row(self, world, admin):
        since = "2026-01-01T00:00:00Z"
        first = admin.json("/customers", {"limit": 2, "updated_since": since})
        first_customer = Customer.objects.get(pk=first["items"][0]["id"])
        first_customer.name = "Renamed meanwhile"
        first_customer.save()  # its updated_at moves; its place in the list does not
        rest = admin.items("/customers", {"updated_since": since})[2:]
        assert [c["id"] for c in first["items"] + rest] == sorted(c.pk for c in world.customers.values())


class TestUpdatedSince:
    def stamp(self, world):
        base = timezone.make_aware(dt.datetime(2026, 6, 1, 12, 0), dt.UTC)
        for hours, key in enumerate(["c_par_alice", "c_lyo_bob", "c_fr_noagency", "c_uk_alice", "c_uk_carol"]):
            Customer.objects.filter(pk=world.customers[key].pk).update(updated_at=base + dt.timedelta(hours=hours))

    @pytest.mark.parametrize(
        "since, expected",
        [
            ("2026-06-01T14:00:00Z", {"c_fr_noagency", "c_uk_alice", "c_uk_carol"}),
            ("2026-06-01T16:00:00+02:00", {"c_fr_noagency", "c_uk_alice", "c_uk_carol"}),
            ("2026-06-01T16:00:00 02:00", {"c_fr_noagency", "c_uk_alice", "c_uk_carol"}),  # '+' sent unencoded
            ("2026-06-01T16:00:00", {"c_fr_noagency", "c_uk_alice", "c_uk_carol"}),  # Europe/Paris, UTC+2 in June
            ("2026-06-01T14:00:00.000001Z", {"c_uk_alice", "c_uk_carol"}),
            ("2026-06-02", set()),
            ("2026-05-31", {"c_par_alice", "c_lyo_bob", "c_fr_noagency", "c_uk_alice", "c_uk_carol"}),
        ],
        ids=["utc", "offset", "unencoded-plus", "naive-local", "microseconds", "date-after", "date-before"],
    )
    def test_only_rows_changed_at_or_after_the_instant_are_listed(self, world, admin, since, expected):
        self.stamp(world)
        assert keys(world, admin, {"updated_since": since}) == expected


class TestDetail:
    def test_the_detail_has_contacts_legal_entity_balances_and_scoring_fields(self, world, admin):
        customer = world.customers["c_par_alice"]
        entity = LegalEntity.objects.create(
            key="SIREN:732829320", name="Atelier Paris SAS", country="FR", siren="732829320", vat_number=""
        )
        Customer.objects.filter(pk=customer.pk).update(
            legal_entity=entity, payer_profile=PayerProfile.SLOW_STEADY, risk_class=RiskClass.B, siren="732829320"
        )
        ContactFactory(customer=customer, name="Zoé Martin", email="zoe@atelier.example", is_main_ap=True)
        ContactFactory(customer=customer, name="Albert", email="", phone="+33 1 23 45 67 89", is_main_ap=False)
        DocumentFactory(
            customer=customer, type=DocumentType.CREDIT_NOTE, currency="EUR", amount=Decimal("50"), tax_amount=0
        )
        DocumentFactory(
            customer=customer, currency="USD", amount=Decimal("99.5"), tax_amount=0, due_date=dt.date(2026, 12, 1)
        )

        body = admin.json(f"/customers/{customer.pk}")

        assert body["id"] == customer.pk
        assert (body["company"], body["agency"], body["reference"]) == ("FR1", "PAR", "PAR001")
        assert body["collector"]["email"] == "alice@example.com"
        assert body["sales_rep"]["id"] == world.users["sales_rep_sam"].pk
        assert body["legal_entity"] == {
            "id": entity.pk,
            "name": "Atelier Paris SAS",
            "siren": "732829320",
            "vat_number": None,
        }
        assert (body["payer_profile"], body["risk_class"]) == ("slow_steady", "B")
        assert [c["name"] for c in body["contacts"]] == ["Zoé Martin", "Albert"]
        assert body["contacts"][1]["email"] is None
        assert body["balances"] == [
            {
                "currency": "EUR",
                "invoices_open": "1200.00",
                "credit_notes_open": "50.00",
                "unallocated_cash": "100.00",
                "overdue": "1200.00",
                "net": "1050.00",
            },
            {
                "currency": "USD",
                "invoices_open": "99.50",
                "credit_notes_open": "0.00",
                "unallocated_cash": "0.00",
                "overdue": "0.00",
                "net": "99.50",
            },
        ]

    def test_fields_not_yet_filled_are_null(self, world, admin):
        body = admin.json(f"/customers/{world.customers['c_uk_carol'].pk}")
        assert body["payer_profile"] is None
        assert body["risk_class"] is None
        assert body["legal_entity"] is None
        assert body["agency"] is None
        assert body["siren"] is None and body["vat_number"] is None
        assert body["contacts"] == []

    def test_timestamps_carry_a_time_zone(self, world, admin):
        body = admin.json(f"/customers/{world.customers['c_uk_carol'].pk}")
        for name in ("created_at", "updated_at"):
            assert dt.datetime.fromisoformat(body[name]).tzinfo is not None

    def test_balances_are_limited_to_cash_of_the_customer(self, world, admin):
        PaymentFactory(customer=None, company=world.fr, reference="PAY-UNKNOWN-2", currency="EUR")
        body = admin.json(f"/customers/{world.customers['c_fr_noagency'].pk}")
        assert body["balances"][0]["unallocated_cash"] == "100.00"

    def test_a_non_numeric_id_is_a_422_naming_the_path_parameter(self, world, admin):
        body = assert_problem(admin.get("/customers/abc"), 422)
        assert body["errors"][0]["loc"] == ["path", "customer_id"]
