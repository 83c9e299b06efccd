"""The example project: its order workflow's handlers, the orders app, and the workflow end to end.

In-process through the language core (``asl.run``), and durably: an order's
``post_save`` starts the execution, the engine advances it (queued work runs
synchronously, Wait and Retry move a virtual clock), and the execution's end
sets the order's status.
"""
from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from django.db import transaction

from django_asl import asl, publish
from django_asl.asl.runner import TaskContext
from django_asl.engine import registry
from django_asl.models import Execution
from example_project import demo
from example_project.orders import asl_tasks
from example_project.orders.models import WORKFLOW, Order
from tests.engine.conftest import clock, drain, tasks  # noqa: F401 - fixtures, found by name

HANDLERS = {
    asl_tasks.VALIDATE_ORDER: asl_tasks.validate_order,
    asl_tasks.RESERVE_STOCK: asl_tasks.reserve_stock,
    asl_tasks.CHARGE_PAYMENT: asl_tasks.charge_payment,
    asl_tasks.SHIP_ORDER: asl_tasks.ship_order,
    asl_tasks.SEND_EMAIL: asl_tasks.send_email,
    asl_tasks.SEND_SMS: asl_tasks.send_sms,
}
SHIPPED = {
    "order_id": "A-1001", "status": "SHIPPED", "total": 150.0, "charge_id": "ch_A-1001",
    "shipping": "express", "tracking": "TRK-A-1001", "reserved_lines": 3, "notified": ["email", "sms"],
}


def definition() -> dict:
    return json.loads(demo.DEFINITION.read_text())


def _pairs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pairs(item)


def context(attempt: int = 0) -> TaskContext:
    # Handlers only read the attempt; the language core's Env is not needed.
    return TaskContext(None, asl_tasks.CHARGE_PAYMENT, attempt)


# -- the handlers ------------------------------------------------------------------------------------


def test_every_resource_has_a_registered_handler():
    # Each Task Resource of the definition reaches the @django_asl.task function of asl_tasks.py.
    resources = {value for key, value in _pairs(definition()) if key == "Resource"}
    assert resources == set(HANDLERS)
    assert {resource: registry.get_handler(resource) for resource in resources} == HANDLERS


def test_definition_is_valid():
    assert [issue for issue in asl.validate(definition()) if issue.is_error] == []


@pytest.mark.parametrize(
    "lines, result",
    [
        # 89 + 2 * 24.5 + 12
        (demo.sample_order()["order"]["lines"], {"valid": True, "total": 150.0, "line_count": 3}),
        # rounded to the cent
        ([{"sku": "X", "quantity": 3, "unit_price": 0.1}], {"valid": True, "total": 0.3, "line_count": 1}),
    ],
)
def test_validate_order(lines, result):
    assert asl_tasks.validate_order({"order_id": "A-1", "lines": lines}) == result


@pytest.mark.parametrize(
    "lines, message",
    [
        ([], "order A-1 has no lines"),  # nothing ordered
        ([{"sku": "X", "quantity": 0, "unit_price": 1}], "line 'X' has quantity 0"),  # an empty line
    ],
)
def test_validate_order_rejects(lines, message):
    with pytest.raises(asl_tasks.InvalidOrder, match=message):
        asl_tasks.validate_order({"order_id": "A-1", "lines": lines})


@pytest.mark.parametrize(
    "attempt, card, outcome",
    [
        (0, "4242424242424242", asl_tasks.PaymentGatewayTimeout),  # the first attempt always times out
        (1, "4242424242424242", {"charge_id": "ch_A-1", "amount": 150.0, "currency": "EUR"}),  # the retry
        (1, asl_tasks.DECLINED_CARD, asl_tasks.PaymentDeclined),  # the retry reaches the issuer, who declines
    ],
)
def test_charge_payment(attempt, card, outcome):
    payment = {"order_id": "A-1", "amount": 150.0, "card": card}
    if isinstance(outcome, dict):
        assert asl_tasks.charge_payment(payment, context(attempt)) == outcome
    else:
        with pytest.raises(outcome):
            asl_tasks.charge_payment(payment, context(attempt))


def test_other_handlers():
    assert asl_tasks.reserve_stock({"sku": "KB-01", "line_no": 0, "quantity": 1}) == {
        "reservation_id": "R-KB-01-0", "quantity": 1}
    assert asl_tasks.ship_order({"order_id": "A-1", "method": "express"}) == {
        "carrier": "DHL", "tracking_number": "TRK-A-1"}
    assert asl_tasks.ship_order({"order_id": "A-1", "method": "standard"})["carrier"] == "Post"
    assert asl_tasks.send_email({"to": "ada@example.com"}) == {"channel": "email", "to": "ada@example.com"}
    assert asl_tasks.send_sms({"to": "+44"}) == {"channel": "sms", "to": "+44"}


@pytest.mark.parametrize(
    "scenario, status, output, error",
    [
        # total 150: express shipping; the gateway's first timeout is retried
        ("ok", "SUCCEEDED", SHIPPED, None),
        # PaymentDeclined is caught and leads to the PaymentFailed Fail state
        ("declined", "FAILED", None, "PaymentFailed"),
        # InvalidOrder (no lines) is caught and leads to OrderRejected
        ("invalid", "FAILED", None, "OrderRejected"),
    ],
)
def test_scenarios_in_process(scenario, status, output, error):
    result = asl.run(definition(), demo.sample_order(scenario), tasks=HANDLERS)
    assert (result.status, result.error, result.output) == (status, error, output)


# -- the orders app, durably ------------------------------------------------------------------------


@pytest.fixture
def order_tasks(tasks):  # noqa: F811 - the engine's fixture
    """The engine's fake registry, holding the order workflow's handlers only."""
    tasks.update(HANDLERS)
    return tasks


@pytest.fixture
def workflow(order_tasks):
    return publish(WORKFLOW, definition())


def create_order(scenario: str = "ok", number: str = "A-1001") -> Order:
    data = demo.sample_order(scenario)["order"]
    return Order.objects.create(number=number, customer_email=data["email"], customer_phone=data["phone"],
                                address=data["address"], card=data["card"], lines=data["lines"])


@pytest.mark.django_db
def test_order_workflow_input():
    order = create_order()
    assert order.total == Decimal("150.00")
    assert order.workflow_input() == demo.sample_order()


@pytest.mark.django_db
def test_a_new_order_starts_its_execution_after_commit(workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order = create_order()
        assert not Execution.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks():  # the start's own queued work is not run here
        callbacks[0]()
    order.refresh_from_db()
    execution = Execution.objects.get()
    assert (order.execution, order.status) == (execution, Order.Status.PROCESSING)
    assert (execution.name, execution.status, execution.input) == ("order-A-1001", "RUNNING", demo.sample_order())


@pytest.mark.django_db
def test_saving_an_order_again_starts_nothing(workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order()
    with django_capture_on_commit_callbacks() as callbacks:
        order.save()
    assert callbacks == []
    assert Execution.objects.filter(parent=None).count() == 1


@pytest.mark.django_db
def test_a_rolled_back_order_starts_nothing(workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            create_order()
            raise RuntimeError("the checkout failed")
    assert not Execution.objects.exists()


@pytest.mark.django_db
def test_an_order_before_the_workflow_is_published_stays_new(order_tasks, django_capture_on_commit_callbacks,
                                                               caplog):
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        order = create_order()
    order.refresh_from_db()
    assert (order.status, order.execution) == (Order.Status.NEW, None)
    assert "Order A-1001 was not fulfilled: the 'order' workflow is not published." in caplog.messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    "scenario, status, order_status, failure",
    [
        ("ok", "SUCCEEDED", Order.Status.SHIPPED, ""),  # shipped after a retried gateway timeout
        ("declined", "FAILED", Order.Status.FAILED, "PaymentFailed"),  # Catch -> PaymentFailed
        ("invalid", "FAILED", Order.Status.FAILED, "OrderRejected"),  # Catch -> OrderRejected
    ],
)
def test_order_workflow_runs_durably(workflow, drain, django_capture_on_commit_callbacks,  # noqa: F811
                                     scenario, status, order_status, failure):
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order(scenario)
    drain()
    order.refresh_from_db()
    execution = Execution.objects.get(pk=order.execution_id)
    assert execution.status == status
    assert (order.status, order.failure) == (order_status, failure)
    if status == "SUCCEEDED":
        assert execution.output == SHIPPED


@pytest.mark.django_db
def test_order_workflow_history(workflow, drain, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order()
    drain()
    order.refresh_from_db()
    events = list(order.execution.history.order_by("sequence").values_list("type", "state_name"))
    assert [(event_type, name) for event_type, name in events if event_type.endswith("StateEntered")] == [
        ("TaskStateEntered", "ValidateOrder"), ("MapStateEntered", "ReserveStock"),
        ("TaskStateEntered", "ChargePayment"), ("ChoiceStateEntered", "ChooseShipping"),
        ("PassStateEntered", "ExpressShipping"), ("WaitStateEntered", "WaitForWarehouse"),
        ("TaskStateEntered", "ShipOrder"), ("ParallelStateEntered", "NotifyCustomer"),
        ("PassStateEntered", "OrderComplete"),
    ]
    # The gateway's first timeout, then the retry two seconds later (IntervalSeconds).
    charge = [event_type for event_type, _ in events if event_type.startswith("LambdaFunction")][3:9]
    assert charge == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
                      "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]
    assert events[-1] == ("ExecutionSucceeded", "")
    assert order.execution.children.count() == 5  # three Map iterations, two Parallel branches


# -- the views -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_fulfil_view_answers_with_the_orders_execution(workflow, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order()
    order.refresh_from_db()
    response = client.post("/orders/A-1001/fulfil/")
    # The order's execution started when the order was created: the same one, not a second.
    assert response.status_code == 202
    assert response.json() == {"order": "A-1001", "execution_id": str(order.execution_id), "status": "RUNNING"}
    assert Execution.objects.filter(parent=None).count() == 1


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_fulfil_view_starts_an_order_created_before_publishing(order_tasks, client,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        create_order()
    assert client.post("/orders/A-1001/fulfil/").status_code == 503  # not published yet
    publish(WORKFLOW, definition())
    with django_capture_on_commit_callbacks():
        response = client.post("/orders/A-1001/fulfil/")
    execution = Execution.objects.get()
    assert (response.status_code, response.json()["execution_id"]) == (202, str(execution.pk))
    assert Order.objects.get().execution == execution


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_order_view_shows_the_execution(workflow, drain, client, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order()
    drain()
    order.refresh_from_db()
    data = client.get("/orders/A-1001/").json()
    assert {key: data[key] for key in ("number", "total", "status", "failure", "execution_id")} == {
        "number": "A-1001", "total": "150.00", "status": "SHIPPED", "failure": "",
        "execution_id": str(order.execution_id)}
    assert {key: data["execution"][key] for key in ("name", "status", "output", "error")} == {
        "name": "order-A-1001", "status": "SUCCEEDED", "output": SHIPPED, "error": None}


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
@pytest.mark.parametrize(
    "method, url, status",
    [
        ("get", "/orders/A-404/", 404),  # no such order
        ("post", "/orders/A-404/fulfil/", 404),  # no such order
        ("get", "/orders/A-1001/fulfil/", 405),  # fulfilling takes a POST
        ("post", "/orders/A-1001/", 405),  # the order view is read-only
    ],
)
def test_order_views_refuse(client, order_tasks, method, url, status):
    create_order()
    assert getattr(client, method)(url).status_code == status


# -- the REST API of the example project --------------------------------------------------------------


def test_the_example_project_serves_the_api_with_token_and_session_authentication(tmp_path):
    # With its own settings, in a process of its own (the suite runs on tests.settings).
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example_project.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(root / "tests" / "example_api_check.py")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "anonymous": [401, "Token"], "wrong token": 401, "token": 200, "session": 200,
        "session post without CSRF token": "CSRF Failed: CSRF cookie not set.", "created": 201, "started": [201, "first"],
        "anonymous schema": 401, "schema": [200, "application/vnd.oai.openapi; charset=utf-8"], "swagger": 200, "redoc": 200,
        "swagger offline": True,
    }
