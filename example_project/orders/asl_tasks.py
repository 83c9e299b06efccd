"""The order workflow's task handlers, one per Task ``Resource`` of ``statemachines/order.asl.json``.

django-asl imports this module from every installed app (``autodiscover``), and
``@django_asl.task(resource)`` registers each function as the handler of its
resource. Handlers take ``(input)`` or ``(input, context)``. An exception raised
here fails the Task state with an ASL error named after the exception class, so
the definition's Retry and Catch can name ``PaymentDeclined``.
"""
from __future__ import annotations

from typing import Any

import django_asl

VALIDATE_ORDER = "arn:aws:lambda:eu-west-1:000000000000:function:validate-order"
RESERVE_STOCK = "urn:django-asl:inventory.reserve"
CHARGE_PAYMENT = "arn:aws:lambda:eu-west-1:000000000000:function:charge-payment"
SHIP_ORDER = "arn:aws:lambda:eu-west-1:000000000000:function:ship-order"
SEND_EMAIL = "urn:django-asl:notify.email"
SEND_SMS = "urn:django-asl:notify.sms"

DECLINED_CARD = "4000000000000002"


class InvalidOrder(Exception):
    """The order cannot be processed as it stands."""


class PaymentDeclined(Exception):
    """The card issuer declined the payment."""


class PaymentGatewayTimeout(Exception):
    """The payment gateway did not answer in time; trying again usually works."""


@django_asl.task(VALIDATE_ORDER)
def validate_order(input: dict) -> dict:
    """Check the order lines and return the order total."""
    lines = input.get("lines") or []
    if not lines:
        raise InvalidOrder(f"order {input.get('order_id')} has no lines")
    for line in lines:
        if line.get("quantity", 0) <= 0:
            raise InvalidOrder(f"line {line.get('sku')!r} has quantity {line.get('quantity')!r}")
    total = sum(line["quantity"] * line["unit_price"] for line in lines)
    return {"valid": True, "total": round(total, 2), "line_count": len(lines)}


@django_asl.task(RESERVE_STOCK)
def reserve_stock(input: dict) -> dict:
    """Reserve one order line in the warehouse."""
    return {"reservation_id": f"R-{input['sku']}-{input['line_no']}", "quantity": input["quantity"]}


@django_asl.task(CHARGE_PAYMENT)
def charge_payment(input: dict, context: Any) -> dict:
    """Charge the card; the sandbox gateway times out on the first attempt of every charge.

    The timeout shows the ChargePayment state's Retry at work in the history.
    It depends on ``context.attempt`` (0 for the first call, 1 for the first
    retry, ...), not on memory of earlier calls: in a worker cluster the retry
    may run in another process. A real gateway would get
    ``context.idempotency_key``, so that a redelivered call charges only once.
    """
    if context.attempt == 0:
        raise PaymentGatewayTimeout("no answer from the gateway within 10 s")
    if input.get("card") == DECLINED_CARD:
        raise PaymentDeclined(f"card ending {input['card'][-4:]} was declined")
    return {"charge_id": f"ch_{input['order_id']}", "amount": input["amount"], "currency": "EUR"}


@django_asl.task(SHIP_ORDER)
def ship_order(input: dict) -> dict:
    """Hand the parcel to the carrier."""
    return {"carrier": "DHL" if input["method"] == "express" else "Post",
            "tracking_number": f"TRK-{input['order_id']}"}


@django_asl.task(SEND_EMAIL)
def send_email(input: dict) -> dict:
    """Tell the customer by email that the order is on its way."""
    return {"channel": "email", "to": input["to"]}


@django_asl.task(SEND_SMS)
def send_sms(input: dict) -> dict:
    """Tell the customer by text message that the order is on its way."""
    return {"channel": "sms", "to": input["to"]}
