"""factory-boy factories for the ledger. Amounts are Decimal strings, never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from relance.core.vocab import DocumentType, Role
from relance.ledger.models import Contact, Customer, Document, Payment
from relance.orgs.models import Agency, Company, Group, User


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = "Test group"
    currency = "EUR"


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("code",)

    group = factory.SubFactory(GroupFactory)
    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.LazyAttribute(lambda o: f"Company {o.code}")
    country = "FR"
    currency = "EUR"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    role = Role.COLLECTOR
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def companies(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.companies.set(extracted)

    @factory.post_generation
    def agencies(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.agencies.set(extracted)
        self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    company = factory.SubFactory(CompanyFactory)
    reference = factory.Sequence(lambda n: f"CUST{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n} SAS")
    country = "FR"
    language = "fr"
    payment_terms_days = 30


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = "Accounts payable"
    email = factory.Sequence(lambda n: f"ap{n}@customer.example")
    is_main_ap = True


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    customer = factory.SubFactory(CustomerFactory)
    company = factory.LazyAttribute(lambda o: o.customer.company)
    number = factory.Sequence(lambda n: f"INV{n:06d}")
    type = DocumentType.INVOICE
    issue_date = dt.date(2026, 1, 1)
    due_date = factory.LazyAttribute(lambda o: o.issue_date + dt.timedelta(days=30))
    currency = "EUR"
    amount = Decimal("1200.00")
    tax_amount = Decimal("200.00")
    open_amount = factory.LazyAttribute(lambda o: o.amount)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    company = factory.LazyAttribute(lambda o: o.customer.company)
    reference = factory.Sequence(lambda n: f"PAY{n:06d}")
    date = dt.date(2026, 2, 1)
    currency = "EUR"
    amount = Decimal("500.00")
    unallocated_amount = factory.LazyAttribute(lambda o: o.amount)
