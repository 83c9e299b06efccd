"""JSON views of the orders: start an order's workflow, and show an order with its execution."""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

import django_asl

from .models import Order


@require_POST
def fulfil_order(request: HttpRequest, number: str) -> JsonResponse:
    """Start the order's workflow, or find it started already, and answer with the execution id.

    202 Accepted when the execution runs; the workflow goes on in the workers.
    Orders start their workflow when created (``signals.py``); this view
    starts one that could not start then, e.g. before the workflow was
    published, and is harmless for the others.
    """
    order = get_object_or_404(Order, number=number)
    try:
        execution = order.start_workflow()
    except django_asl.StateMachineDoesNotExist as exc:
        return JsonResponse({"detail": str(exc)}, status=503)
    except django_asl.ExecutionAlreadyExists as exc:  # the order changed since its execution started
        return JsonResponse({"detail": str(exc)}, status=409)
    return JsonResponse({"order": order.number, "execution_id": str(execution.pk), "status": execution.status},
                        status=202 if execution.status == "RUNNING" else 200)


@require_GET
def order_detail(request: HttpRequest, number: str) -> JsonResponse:
    """Return the order and its execution's status, output or error."""
    order = get_object_or_404(Order, number=number)
    data = order.as_dict()
    if order.execution_id is not None:
        execution = django_asl.describe_execution(str(order.execution_id))
        data["execution"] = {key: execution[key] for key in (
            "execution_id", "name", "status", "output", "error", "cause", "start_date", "stop_date")}
    else:
        data["execution"] = None
    return JsonResponse(data)
