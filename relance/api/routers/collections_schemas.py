"""Schemas of the collections endpoints: disputes, promises to pay, the collection history, reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from relance.api.schemas import CustomerRef


class DisputeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1)
    documents: list[str] = Field(min_length=1, description="Numbers of the customer's documents disputed.")
    reason: str = Field(description="price, quantity, quality, not_received, duplicate or other.")
    message: str = Field("", max_length=5000)


class ResolveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="credit_note, rejected or paid.")


class DisputeOut(Schema):
    id: int
    company: str
    customer: CustomerRef
    documents: list[str]
    reason: str
    message: str
    status: str
    opened_on: dt.date
    resolved_on: dt.date | None


class PromiseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(ge=1)
    documents: list[str] = Field(default_factory=list, description="Numbers of the documents; none: the account.")
    amount: str = Field(pattern=r"^\d+(\.\d+)?$", description='A decimal string such as "1200.00".')
    currency: str
    promised_for: dt.date


class PromiseOut(Schema):
    id: int
    company: str
    customer: CustomerRef
    documents: list[str]
    amount: str
    currency: str
    promised_for: dt.date
    made_on: dt.date
    status: str
    resolved_on: dt.date | None
    source: str


class ActivityOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    actor: str
    text: str
    data: dict[str, Any]


class ReminderOut(Schema):
    id: int
    reference: str
    run_date: dt.date
    company: str
    customer: CustomerRef
    currency: str
    step: str
    channel: str
    documents: list[str]
    amount: str
    status: str
    message_id: str
