"""Set-based inserts: rows as tuples, one ``executemany`` (``COPY`` on PostgreSQL) per table and chunk.

No per-row ORM objects and no per-row audit rows: the generator writes one audit row for the whole run.
Column names come from the models (``field.column``); each table spec lists its fields in row order and
is checked against the model, so a new column fails loudly here instead of inserting wrong data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model

from relance.collections.models import Dispute
from relance.ledger.models import Allocation, Contact, Customer, Document, ExchangeRate, LegalEntity, Payment


class SchemaDrift(RuntimeError):
    """A model gained or lost a column the demo writer does not know about."""


@dataclass(frozen=True)
class TableSpec:
    model: type[Model]
    fields: tuple[str, ...]  # in row order; "id" first when the generator assigns ids itself

    @property
    def assigns_ids(self) -> bool:
        return self.fields[0] == "id"

    @cached_property
    def columns(self) -> list[str]:
        return [self.model._meta.get_field(name).column for name in self.fields]

    def check(self) -> None:
        expected = {f.name for f in self.model._meta.concrete_fields} - ({"id"} if not self.assigns_ids else set())
        missing, unknown = expected - set(self.fields), set(self.fields) - expected
        if missing or unknown:
            raise SchemaDrift(
                f"{self.model._meta.label}: the demo writer does not match the model "
                f"(columns to add: {sorted(missing)}, columns gone: {sorted(unknown)}); "
                "update relance/demo/writer.py and the rows built in relance/demo/."
            )

    @cached_property
    def sql(self) -> str:
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        return f"INSERT INTO {qn(self.model._meta.db_table)} ({cols}) VALUES ({marks})"  # noqa: S608 - model names

    @cached_property
    def copy_sql(self) -> str:
        qn = connection.ops.quote_name
        return f"COPY {qn(self.model._meta.db_table)} ({', '.join(qn(c) for c in self.columns)}) FROM STDIN"


LEGAL_ENTITIES = TableSpec(
    LegalEntity, ("id", "key", "name", "country", "siren", "vat_number", "created_at", "updated_at")
)
CUSTOMERS = TableSpec(
    Customer,
    (
        "id",
        "company",
        "reference",
        "name",
        "legal_entity",
        "siren",
        "siret",
        "vat_number",
        "country",
        "sector_code",
        "size",
        "language",
        "payment_terms_days",
        "kind",
        "strategic",
        "agency",
        "collector",
        "sales_rep",
        "payer_profile",
        "risk_class",
        "created_at",
        "updated_at",
    ),
)
CONTACTS = TableSpec(Contact, ("customer", "name", "email", "phone", "role", "is_main_ap", "language"))
DOCUMENTS = TableSpec(
    Document,
    (
        "id",
        "company",
        "customer",
        "number",
        "type",
        "issue_date",
        "due_date",
        "currency",
        "amount",
        "tax_amount",
        "open_amount",
        "settled_on",
        "corrects",
        "original_file",
        "source",
        "created_at",
        "updated_at",
    ),
)
PAYMENTS = TableSpec(
    Payment,
    (
        "id",
        "company",
        "customer",
        "reference",
        "kind",
        "date",
        "currency",
        "amount",
        "unallocated_amount",
        "method",
        "bank_reference",
        "payer_name",
        "source",
        "returned_on",
        "created_at",
        "updated_at",
    ),
)
ALLOCATIONS = TableSpec(
    Allocation,
    (
        "company",
        "customer",
        "target",
        "payment",
        "credit_note",
        "currency",
        "amount",
        "date",
        "reverses",
        "source",
        "created_by",
        "created_at",
    ),
)
DISPUTES = TableSpec(
    Dispute,
    (
        "id",
        "company",
        "customer",
        "reason",
        "message",
        "status",
        "opened_on",
        "resolved_on",
        "owner",
        "created_at",
        "updated_at",
    ),
)
DISPUTE_DOCUMENTS = TableSpec(Dispute.documents.through, ("dispute", "document"))
EXCHANGE_RATES = TableSpec(ExchangeRate, ("date", "currency", "base", "rate", "source"))

LEDGER_TABLES: dict[str, TableSpec] = {
    "documents": DOCUMENTS,
    "payments": PAYMENTS,
    "allocations": ALLOCATIONS,
    "disputes": DISPUTES,
    "dispute_documents": DISPUTE_DOCUMENTS,
}
ALL_TABLES = (
    LEGAL_ENTITIES,
    CUSTOMERS,
    CONTACTS,
    DOCUMENTS,
    PAYMENTS,
    ALLOCATIONS,
    DISPUTES,
    DISPUTE_DOCUMENTS,
    EXCHANGE_RATES,
)


def check_schema() -> None:
    for spec in ALL_TABLES:
        spec.check()


def next_id(spec: TableSpec) -> int:
    """The first free id of the table (the generator numbers its rows from there)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        table = qn(spec.model._meta.db_table)
        cursor.execute(f"SELECT COALESCE(MAX({qn('id')}), 0) + 1 FROM {table}")  # noqa: S608 - a model's table
        return int(cursor.fetchone()[0])


def insert(spec: TableSpec, rows: Sequence[tuple]) -> int:
    """Write ``rows``: one ``executemany`` (SQLite), or one ``COPY … FROM STDIN`` (PostgreSQL, psycopg 3).

    Returns how many rows were written.
    """
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(spec.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(spec.sql, rows)
    return len(rows)


def reset_sequences() -> None:
    """After explicit ids, move PostgreSQL's identity sequences past them (SQLite's AUTOINCREMENT follows alone)."""
    models = [spec.model for spec in ALL_TABLES if spec.assigns_ids]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def finish() -> None:
    """Refresh the planner's statistics; on SQLite also fold the WAL back into the database file."""
    tables = [spec.model._meta.db_table for spec in ALL_TABLES]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def suspend_indexes(specs: Sequence[TableSpec]) -> list[str]:
    """Drop the plain (non-unique) secondary indexes of empty tables; return the statements recreating them.

    Building an index once, sorted, after the load is much cheaper than growing it row by row in random
    key order. Unique indexes and constraints stay in place. Call inside the load's transaction, so that
    a failure restores the indexes with everything else (DDL is transactional on SQLite and PostgreSQL).
    """
    recreate: list[str] = []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for spec in specs:
            table = spec.model._meta.db_table
            cursor.execute(f"SELECT 1 FROM {qn(table)} LIMIT 1")  # noqa: S608 - a model's table
            if cursor.fetchone() is not None:
                continue  # not empty: keep its indexes as they are
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                    "AND tablename = %s AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, qn(table)],
                )
            else:
                continue
            for name, sql in cursor.fetchall():
                if sql.upper().startswith("CREATE UNIQUE"):
                    continue
                cursor.execute(f"DROP INDEX {qn(name)}")
                recreate.append(sql)
    return recreate


def restore_indexes(statements: Sequence[str]) -> None:
    """Recreate the indexes dropped by :func:`suspend_indexes`.

    PostgreSQL does not build an index on a table with pending deferred foreign-key checks: run them now
    (the same checks the commit would run), then return to Django's default, deferred.
    """
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql in statements:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
