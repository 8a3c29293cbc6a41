import uuid
from typing import Any

from django.core.management.base import CommandParser

from relance.channels import services, webhooks
from relance.channels.models import DeliveryState, WebhookDelivery, WebhookEvent, WebhookSubscription
from relance.core import errors
from relance.core.management.base import CLI_ACTOR, RelanceCommand

ACTIONS = "{add,list,remove,types,deliveries,retry,replay}"


def _subscription_row(s: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": s.pk,
        "url": s.url,
        "event_types": s.event_types,
        "company": s.company.code if s.company_id else None,
        "active": s.active,
        "description": s.description,
        "created_at": s.created_at,
    }


def _delivery_row(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "event_id": str(d.event_id),
        "type": d.event.type,
        "subscription_id": d.subscription_id,
        "url": d.subscription.url,
        "state": d.state,
        "attempts": d.attempts,
        "replays": d.replays,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "last_response_body": d.last_response_body,
        "delivered_at": d.delivered_at,
        "created_at": d.created_at,
    }


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Manage outgoing webhooks: subscriptions, the delivery log, the retry sweep (run it every minute "
        "from cron when no task worker runs) and replays."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar=ACTIONS)
        add = sub.add_parser("add", help="Subscribe URL to event types; prints the signing secret (shown once).")
        add.add_argument("url")
        add.add_argument("--events", required=True, help="Comma-separated event types (see `webhooks types`).")
        add.add_argument("--secret", default="", help="Signing secret (default: a generated one).")
        add.add_argument("--company", default="", help="Company code: only that company's events.")
        add.add_argument("--description", default="")
        sub.add_parser("list", help="List subscriptions (secrets are not shown).")
        remove = sub.add_parser("remove", help="Delete subscription ID and its delivery log.")
        remove.add_argument("id", type=int)
        sub.add_parser("types", help="List the event types.")
        deliveries = sub.add_parser("deliveries", help="The delivery log, newest first.")
        deliveries.add_argument("--state", choices=DeliveryState.values)
        deliveries.add_argument("--subscription", type=int)
        deliveries.add_argument("--event", help="Event id.")
        deliveries.add_argument("--limit", type=int, default=50)
        sub.add_parser("retry", help="Attempt every delivery whose next attempt is due (the sweep).")
        replay = sub.add_parser("replay", help="Send a delivery again, with the same event id.")
        target = replay.add_mutually_exclusive_group(required=True)
        target.add_argument("delivery_id", nargs="?", type=int, help="Delivery id.")
        target.add_argument("--event", dest="event_id", help="Replay every delivery of this event id.")
        for p in (add, sub.choices["list"], remove, sub.choices["types"], deliveries, sub.choices["retry"], replay):
            p.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        return getattr(self, f"_{options['action']}")(**options)

    def _add(self, **options: Any) -> dict[str, Any]:
        subscription = services.subscription_create(
            actor=CLI_ACTOR,
            url=options["url"],
            event_types=options["events"].split(","),
            secret=options["secret"],
            company=options["company"] or None,
            description=options["description"],
        )
        self.say(f"Subscription {subscription.pk}: {subscription.url} ← {', '.join(subscription.event_types)}")
        self.say(f"Signing secret (shown once): {subscription.secret}")
        return {**_subscription_row(subscription), "secret": subscription.secret}

    def _list(self, **options: Any) -> list[dict[str, Any]]:
        rows = [_subscription_row(s) for s in WebhookSubscription.objects.select_related("company").order_by("pk")]
        for r in rows:
            scope = r["company"] or "all companies"
            state = "active" if r["active"] else "inactive"
            self.say(f"{r['id']:>4}  {state:<8} {r['url']}  [{', '.join(r['event_types'])}]  {scope}")
        return rows

    def _remove(self, **options: Any) -> dict[str, Any]:
        subscription = WebhookSubscription.objects.filter(pk=options["id"]).first()
        if subscription is None:
            raise errors.NotFound(f"No webhook subscription {options['id']}.", field="id")
        services.subscription_delete(actor=CLI_ACTOR, subscription=subscription)
        self.say(f"Subscription {options['id']} deleted.")
        return {"deleted": options["id"]}

    def _types(self, **options: Any) -> list[dict[str, str]]:
        for name, text in webhooks.EVENT_TYPES.items():
            self.say(f"{name:<24} {text}")
        return [{"name": name, "description": text} for name, text in webhooks.EVENT_TYPES.items()]

    def _deliveries(self, **options: Any) -> list[dict[str, Any]]:
        rows = WebhookDelivery.objects.select_related("event", "subscription").order_by("-pk")
        if options.get("state"):
            rows = rows.filter(state=options["state"])
        if options.get("subscription"):
            rows = rows.filter(subscription_id=options["subscription"])
        if options.get("event"):
            rows = rows.filter(event_id=_event_id(options["event"]))
        out = [_delivery_row(d) for d in rows[: options["limit"]]]
        for r in out:
            status = r["last_status_code"] or r["last_error"] or "-"
            self.say(
                f"{r['id']:>6}  {r['state']:<9} {r['type']:<20} attempts {r['attempts']}  last: {status}  "
                f"event {r['event_id']}  → {r['url']}"
            )
        return out

    def _retry(self, **options: Any) -> dict[str, int]:
        counts = services.retry_due()
        self.say(
            f"{counts['attempted']} attempted: {counts['delivered']} delivered, {counts['retrying']} to retry, "
            f"{counts['failed']} failed for good."
        )
        return counts

    def _replay(self, **options: Any) -> list[dict[str, Any]]:
        if options.get("event_id"):
            event = WebhookEvent.objects.filter(pk=_event_id(options["event_id"])).first()
            if event is None:
                raise errors.NotFound(f"No webhook event {options['event_id']}.", field="event")
            replayed = services.event_replay(actor=CLI_ACTOR, event=event)
        else:
            delivery = WebhookDelivery.objects.select_related("subscription", "event").filter(pk=options["delivery_id"])
            if not delivery.exists():
                raise errors.NotFound(f"No webhook delivery {options['delivery_id']}.", field="delivery_id")
            replayed = [services.delivery_replay(actor=CLI_ACTOR, delivery=delivery.get())]
        for d in replayed:  # an operator waits for the outcome: attempt now (the queued task then finds it done)
            services.deliver(d.pk)
        fresh = WebhookDelivery.objects.select_related("event", "subscription").filter(pk__in=[d.pk for d in replayed])
        out = [_delivery_row(d) for d in fresh.order_by("pk")]
        for r in out:
            last = r["last_status_code"] or r["last_error"] or "-"
            self.say(f"Delivery {r['id']} (event {r['event_id']}): {r['state']}, last: {last}")
        return out


def _event_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.ValidationError(f"{value!r} is not an event id (a UUID).", field="event")
