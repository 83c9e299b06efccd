"""The ``Order`` model: what the customer bought, and the workflow execution that fulfils it."""
from __future__ import annotations

from decimal import Decimal

from django.db import models, transaction

#: The state machine that fulfils orders, published from ``statemachines/order.asl.json``.
WORKFLOW = "order"


def lines_total(lines: list[dict]) -> Decimal:
    """Return the sum of quantity times unit price over the order lines, to the cent."""
    total = sum((Decimal(str(line.get("quantity", 0))) * Decimal(str(line.get("unit_price", 0))) for line in lines),
                Decimal("0"))
    return total.quantize(Decimal("0.01"))


class Order(models.Model):
    """One order of the example shop; creating one starts the "order" workflow (see ``signals.py``)."""

    class Status(models.TextChoices):
        NEW = "NEW", "New"
        PROCESSING = "PROCESSING", "Processing"
        SHIPPED = "SHIPPED", "Shipped"
        FAILED = "FAILED", "Failed"

    number = models.CharField(max_length=32, unique=True)
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=32, blank=True, default="")
    address = models.JSONField(default=dict, blank=True)
    # A test card number: a real shop would keep only its payment provider's token.
    card = models.CharField(max_length=32, blank=True, default="")
    lines = models.JSONField(default=list, blank=True,
                             help_text='[{"sku": "KB-01", "quantity": 1, "unit_price": 89.0}, ...]')
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    failure = models.CharField(max_length=255, blank=True, default="",
                               help_text="The workflow's error when it failed, e.g. PaymentFailed.")
    execution = models.ForeignKey("django_asl.Execution", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        self.total = lines_total(self.lines or [])
        super().save(*args, **kwargs)

    @property
    def execution_name(self) -> str:
        """Return the name of the order's execution: one execution per order, whoever starts it."""
        return f"order-{self.number}"

    def workflow_input(self) -> dict:
        """Return the input of the "order" workflow (``statemachines/order.asl.json``) for this order."""
        return {"order": {
            "id": self.number, "email": self.customer_email, "phone": self.customer_phone,
            "address": self.address, "card": self.card, "lines": self.lines,
        }}

    def start_workflow(self):
        """Start (or, when it was already started, return) the order's execution of the "order" workflow.

        The execution is named after the order, so starting twice with the same
        input returns the first execution, as Step Functions does.
        """
        import django_asl

        # One transaction: the execution runs (after commit) only once the order points to it,
        # so the receivers that set the order's status at its end always find the order.
        with transaction.atomic():
            execution = django_asl.start_execution(WORKFLOW, self.workflow_input(), name=self.execution_name)
            # update(), not save(): no second post_save.
            if Order.objects.filter(pk=self.pk, execution=None).update(
                    execution=execution, status=self.Status.PROCESSING):
                self.execution, self.status = execution, self.Status.PROCESSING
        return execution

    def as_dict(self) -> dict:
        """Return the order as JSON-able data (the order view's answer)."""
        return {
            "number": self.number, "customer_email": self.customer_email, "lines": self.lines,
            "total": str(self.total), "status": self.status, "failure": self.failure,
            "execution_id": str(self.execution_id) if self.execution_id else None,
        }
