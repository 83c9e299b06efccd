"""The order workflow's task handlers: plain Python callables, ``handler(input, context)``.

``settings.DJANGO_ASL["TASKS"]`` maps each Task ``Resource`` URI of
``statemachines/order.asl.json`` to one of these by dotted path. An exception
raised here fails the Task state with an ASL error named after the exception
class, so the definition's Retry and Catch can name ``PaymentDeclined``.
"""
from __future__ import annotations

from typing import Any

DECLINED_CARD = "4000000000000002"


class InvalidOrder(Exception):
    """The order cannot be processed as it stands."""


class PaymentDeclined(Exception):
    """The card issuer declined the payment."""


class PaymentGatewayTimeout(Exception):
    """The payment gateway did not answer in time; trying again usually works."""


def validate_order(event: dict, context: Any = None) -> dict:
    """Check the order lines and return the order total."""
    lines = event.get("lines") or []
    if not lines:
        raise InvalidOrder(f"order {event.get('order_id')} has no lines")
    for line in lines:
        if line.get("quantity", 0) <= 0:
            raise InvalidOrder(f"line {line.get('sku')!r} has quantity {line.get('quantity')!r}")
    total = sum(line["quantity"] * line["unit_price"] for line in lines)
    return {"valid": True, "total": round(total, 2), "line_count": len(lines)}


def reserve_stock(event: dict, context: Any = None) -> dict:
    """Reserve one order line in the warehouse."""
    return {"reservation_id": f"R-{event['sku']}-{event['line_no']}", "quantity": event["quantity"]}


class FlakyGateway:
    """A payment gateway that times out on the first attempt for each order.

    It shows the ChargePayment state's Retry at work in the history.
    """

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}

    def __call__(self, event: dict, context: Any = None) -> dict:
        order_id = event["order_id"]
        self.attempts[order_id] = self.attempts.get(order_id, 0) + 1
        if self.attempts[order_id] == 1:
            raise PaymentGatewayTimeout("no answer from the gateway within 10 s")
        if event.get("card") == DECLINED_CARD:
            raise PaymentDeclined(f"card ending {event['card'][-4:]} was declined")
        return {"charge_id": f"ch_{order_id}", "amount": event["amount"], "currency": "EUR"}


charge_payment = FlakyGateway()


def ship_order(event: dict, context: Any = None) -> dict:
    """Hand the parcel to the carrier."""
    return {"carrier": "DHL" if event["method"] == "express" else "Post",
            "tracking_number": f"TRK-{event['order_id']}"}


def send_email(event: dict, context: Any = None) -> dict:
    """Tell the customer by email that the order is on its way."""
    return {"channel": "email", "to": event["to"]}


def send_sms(event: dict, context: Any = None) -> dict:
    """Tell the customer by text message that the order is on its way."""
    return {"channel": "sms", "to": event["to"]}
