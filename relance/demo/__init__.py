"""Believable, deterministic demo data (``relance demo``).

* :mod:`.words` and :mod:`.identifiers`: names, sectors, SIREN/SIRET/VAT/IBAN (pure);
* :mod:`.behaviour`: how each payer profile pays (pure);
* :mod:`.simulate`: three years of one customer's ledger as rows (pure, integer cents);
* :mod:`.writer`: set-based inserts with ``executemany`` straight into the models' tables;
* :mod:`.org`: group, companies, agencies and users through the orgs services (audited);
* :mod:`.generator`: the whole run, streamed by customer chunks, with one summary audit row.

Same seed and as-of date → the same data, row for row.
"""

from __future__ import annotations

DEMO_PASSWORD = "relance-demo"
DEMO_EMAIL_DOMAIN = "demo.relance.test"
DEMO_GROUP_NAME = "Relance Demo Group"
DEFAULT_CUSTOMERS = 300
DEFAULT_INVOICES = 30_000
DEFAULT_SEED = 42
