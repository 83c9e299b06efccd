"""Signal receivers: a new order starts the "order" workflow; the workflow's end sets the order's status."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from django_asl.signals import execution_aborted, execution_failed, execution_succeeded, execution_timed_out

from .models import WORKFLOW, Order

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Order, dispatch_uid="orders.start_workflow")
def start_workflow_for_new_order(sender, instance: Order, created: bool, raw: bool = False, **kwargs) -> None:
    """Start the order's workflow once the transaction that created the order commits.

    After commit, so that a worker never picks up an execution for an order
    that a rollback then removes.
    """
    if not created or raw:  # raw: loaddata, which must not start anything
        return
    order_pk = instance.pk

    def start() -> None:
        import django_asl

        order = Order.objects.filter(pk=order_pk).first()
        if order is None:
            return
        try:
            order.start_workflow()
        except django_asl.StateMachineDoesNotExist:
            # The order stays NEW; POST /orders/<number>/fulfil/ starts it once the workflow is published.
            logger.warning("Order %s was not fulfilled: the %r workflow is not published.", order.number, WORKFLOW)

    transaction.on_commit(start)


def _is_order_workflow(execution) -> bool:
    # Every execution sends these signals; only the order workflow's have an order. The engine
    # loads the state machine with the execution, so asking costs no query.
    return execution.state_machine.name == WORKFLOW


@receiver(execution_succeeded, dispatch_uid="orders.execution_succeeded")
def order_shipped(sender, execution, event, **kwargs) -> None:
    """Mark the execution's order SHIPPED."""
    if not _is_order_workflow(execution):
        return
    Order.objects.filter(execution=execution).update(status=Order.Status.SHIPPED, failure="")


@receiver(execution_failed, dispatch_uid="orders.execution_failed")
@receiver(execution_timed_out, dispatch_uid="orders.execution_timed_out")
@receiver(execution_aborted, dispatch_uid="orders.execution_aborted")
def order_failed(sender, execution, event, **kwargs) -> None:
    """Mark the execution's order FAILED, with the workflow's error."""
    if not _is_order_workflow(execution):
        return
    failure = execution.error or execution.status
    Order.objects.filter(execution=execution).update(status=Order.Status.FAILED, failure=failure[:255])
