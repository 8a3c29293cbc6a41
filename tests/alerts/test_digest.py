"""The daily digest: one e-mail per user with the new alerts of their scope; never twice; retried if unsent."""

from __future__ import annotations

import datetime as dt

from relance.alerts import digest, services
from relance.alerts.models import Digest
from relance.channels import mail
from relance.core import clock

DAY = dt.date(2026, 6, 30)


class Outbox:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list = []
        self.fail = fail

    def send(self, message) -> None:  # noqa: ANN001
        if self.fail:
            raise mail.Unreachable("no server")
        self.sent.append(message)


def test_each_user_gets_the_new_alerts_of_their_scope_once(world):
    clock.freeze(dt.datetime(2026, 6, 30, 6, 0, tzinfo=dt.UTC))
    services.alert_raise(kind="risk.limit_overrun", company=world.fr, customer=world.customers["c_par_alice"],
                         title="Exposure above the limit", as_of=DAY)  # fmt: skip
    clock.freeze(dt.datetime(2026, 6, 30, 7, 0, tzinfo=dt.UTC))
    outbox = Outbox()
    counts = digest.send_digests(as_of=DAY, mailer=outbox)
    recipients = {m.to[0] for m in outbox.sent}
    # alice's customer: admin, credit manager, auditor, collector alice, sales rep sam, PAR agency manager
    assert recipients == {
        "admin@example.com", "cm@example.com", "auditor@example.com", "alice@example.com", "sam@example.com",
        "am-par@example.com",
    }  # fmt: skip
    assert counts["sent"] == 6
    body = next(m for m in outbox.sent if m.to == ["alice@example.com"]).body
    assert "PAR001" in body and "Exposure above the limit" in body and "/alerts/" in body
    again = Outbox()
    assert digest.send_digests(as_of=DAY, mailer=again)["already"] == 6 and again.sent == []


def test_the_next_day_lists_only_what_is_new_and_nothing_new_sends_nothing(world):
    clock.freeze(dt.datetime(2026, 6, 30, 6, 0, tzinfo=dt.UTC))
    services.alert_raise(kind="risk.limit_overrun", company=world.fr, customer=world.customers["c_par_alice"],
                         title="Over", as_of=DAY)  # fmt: skip
    clock.freeze(dt.datetime(2026, 6, 30, 7, 0, tzinfo=dt.UTC))
    digest.send_digests(as_of=DAY, mailer=Outbox())
    clock.freeze(dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC))
    outbox = Outbox()
    digest.send_digests(as_of=DAY + dt.timedelta(days=1), mailer=outbox)
    assert outbox.sent == []


def test_an_unreachable_server_releases_the_claim_for_the_next_run(world):
    clock.freeze(dt.datetime(2026, 6, 30, 6, 0, tzinfo=dt.UTC))
    services.alert_raise(kind="risk.limit_overrun", company=world.uk, customer=world.customers["c_uk_carol"],
                         title="Over", as_of=DAY)  # fmt: skip
    clock.freeze(dt.datetime(2026, 6, 30, 7, 0, tzinfo=dt.UTC))
    assert digest.send_digests(as_of=DAY, mailer=Outbox(fail=True))["failed"] > 0
    assert not Digest.objects.exists()
    outbox = Outbox()
    digest.send_digests(as_of=DAY, mailer=outbox)
    assert "cm-uk@example.com" in {m.to[0] for m in outbox.sent}  # carol is narrowed to FR1: not hers
