"""Schemas of the risk endpoints: credit check, ERP orders, alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, model_validator

from relance.api.schemas import Amount, CurrencyCode, CustomerRef

AMOUNT_NOTE = 'A decimal string such as "1200.00".'


class CreditCheckIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, ge=1, description="The customer's id; or give customer_ref and company.")
    customer_ref: str | None = Field(None, max_length=50, description="The account reference in the company.")
    company: str | None = Field(None, max_length=20, description="Company code, with customer_ref.")
    amount: str = Field(description="The order or quote amount. " + AMOUNT_NOTE, pattern=r"^\d+(\.\d+)?$")
    currency: str = Field(description="ISO 4217 code of the amount.", examples=["EUR"])
    payment_terms_days: int = Field(ge=0, le=365, description="Payment terms asked for, in days.")

    @model_validator(mode="after")
    def _who(self) -> CreditCheckIn:
        if self.customer_id is None and not (self.customer_ref and self.company):
            raise ValueError("give customer_id, or customer_ref and company")
        return self


class CreditCheckOut(Schema):
    decision: Literal["approve", "approve_with_deposit", "cash_in_advance", "block"]
    deposit_percent: int | None = Field(description="The deposit asked, in percent; null unless a deposit is asked.")
    reasons: list[str]
    exposure_after: Amount = Field(description="Exposure after this order, in the company's currency.")
    currency: CurrencyCode = Field(description="The company's currency.")


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    company: str = Field(max_length=20, description="Company code.", examples=["FR1"])
    customer_ref: str = Field(max_length=50, description="The customer's reference (it must exist).")
    reference: str = Field(max_length=80, description="Order number, unique in the company.")
    order_date: dt.date
    amount: str = Field(description="Amount not yet invoiced. " + AMOUNT_NOTE, pattern=r"^\d+(\.\d+)?$")
    currency: str = Field(examples=["EUR"])
    status: Literal["open", "invoiced", "cancelled"] = Field("open", description="Only open orders count.")


class OrderOut(Schema):
    id: int
    company: str
    customer: CustomerRef
    reference: str
    order_date: dt.date
    amount: Amount
    currency: CurrencyCode
    status: str
    result: Literal["created", "updated", "unchanged"]


class AlertOut(Schema):
    id: int
    company: str
    customer: CustomerRef | None
    kind: str
    key: str
    severity: str
    status: str
    title: str
    message: str
    data: dict[str, Any]
    raised_on: dt.date
    cleared_on: dt.date | None
    assigned_to: str | None = Field(description="E-mail of the assignee.")

    @staticmethod
    def resolve_company(obj: Any) -> str:
        return obj.company.code

    @staticmethod
    def resolve_assigned_to(obj: Any) -> str | None:
        return obj.assigned_to.email if obj.assigned_to_id else None


class AlertAssignIn(Schema):
    user_id: int | None = Field(None, description="The assignee's user id; null to unassign.")


class AlertCommentIn(Schema):
    text: str = Field(min_length=1, max_length=5000)
