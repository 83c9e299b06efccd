"""The Message state in the durable engine: send_message, kept messages, timeouts, purging, settings.

Races between send_message and executions entering the state with several
worker processes are in test_message_races.py (PostgreSQL).
"""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import OperationalError, transaction

import django_asl
from django_asl.checks import check_settings
from django_asl.engine import (
    InvalidMessage,
    SentMessage,
    get_execution_history,
    messages,
    publish,
    purge_messages,
    redrive_execution,
    runtime,
    send_message,
    start_execution,
    stop_execution,
    timers,
)
from django_asl.models import Execution, Message, MessageSubscription

pytestmark = pytest.mark.django_db

RESOURCE = "urn:test:messages.ship"
RECEIVED = ["ExecutionStarted", "MessageStateEntered", "MessageWaitStarted", "MessageReceived",
            "MessageStateExited", "ExecutionSucceeded"]


def machine(**fields) -> dict:
    """Return a machine of one Message state waiting for ('payment', $.order)."""
    state = {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order",
             "ResultPath": "$.payment", "End": True, **fields}
    return {"StartAt": "Await", "States": {"Await": state}}


def types(execution: Execution) -> list[str]:
    return [event["type"] for event in get_execution_history(execution)]


@pytest.fixture
def run(clock, django_capture_on_commit_callbacks):
    """Return ``run(fn, *args)``: call it, then run the work it queued and every due timer, without moving the clock."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            value = fn(*args, **kwargs)
        for _ in range(100):
            with django_capture_on_commit_callbacks(execute=True):
                if not timers.run_due_timers():
                    break
        return value

    return call


def refreshed(execution: Execution) -> Execution:
    execution.refresh_from_db()
    return execution


def test_a_message_resumes_the_waiting_execution(tasks, run):
    sm = publish("pay", machine())
    execution = run(start_execution, sm, {"order": "A-1"})
    assert refreshed(execution).status == "RUNNING"
    subscription = MessageSubscription.objects.get()
    assert (subscription.execution_id, subscription.state_name, subscription.correlation_key,
            subscription.correlation_value) == (execution.pk, "Await", "payment", "A-1")
    assert refreshed(execution).wake_at is None  # no timeout: no timer either

    sent = run(send_message, "payment", "A-1", {"amount": 10})
    assert sent == SentMessage(delivered_to=(execution.pk,))
    assert (sent.delivered, sent.kept) == (True, False)
    execution = refreshed(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"order": "A-1", "payment": {"amount": 10}})
    assert types(execution) == RECEIVED
    received = get_execution_history(execution)[3]["details"]
    assert received == {"correlation_key": "payment", "correlation_value": "A-1", "data": {"amount": 10}}
    assert not MessageSubscription.objects.exists() and not Message.objects.exists()


def test_every_waiting_execution_receives_the_message_and_others_keep_waiting(tasks, run):
    sm = publish("pay", machine())
    first = run(start_execution, sm, {"order": "A-1"}, name="first")
    second = run(start_execution, sm, {"order": "A-1"}, name="second")
    other = run(start_execution, sm, {"order": "B-2"}, name="other")
    sent = run(send_message, "payment", "A-1", 5)
    assert sorted(sent.delivered_to) == sorted([first.pk, second.pk])
    assert [refreshed(e).status for e in (first, second, other)] == ["SUCCEEDED", "SUCCEEDED", "RUNNING"]
    assert list(MessageSubscription.objects.values_list("execution_id", flat=True)) == [other.pk]


def test_a_message_that_arrives_first_is_kept_for_one_execution(tasks, run, clock):
    sm = publish("pay", machine())
    sent = run(send_message, "payment", "A-1", {"amount": 3})
    message = Message.objects.get()
    assert sent == SentMessage(kept_message_id=message.pk) and sent.kept
    assert message.expires_at == clock.now() + timedelta(days=1)
    clock.advance(60)
    early = run(start_execution, sm, {"order": "A-1"}, name="early")
    late = run(start_execution, sm, {"order": "A-1"}, name="late")
    early = refreshed(early)
    assert (early.status, early.output) == ("SUCCEEDED", {"order": "A-1", "payment": {"amount": 3}})
    assert types(early) == RECEIVED
    message.refresh_from_db()
    assert (message.delivered_to_id, message.delivered_at) == (early.pk, clock.now())
    assert refreshed(late).status == "RUNNING"  # one message, one execution: the first to arrive
    assert MessageSubscription.objects.get().execution_id == late.pk


def test_kept_messages_are_delivered_oldest_first(tasks, run, clock):
    sm = publish("pay", machine())
    run(send_message, "payment", "A-1", "first")
    clock.advance(1)
    run(send_message, "payment", "A-1", "second")
    one = run(start_execution, sm, {"order": "A-1"}, name="one")
    two = run(start_execution, sm, {"order": "A-1"}, name="two")
    assert [refreshed(e).output["payment"] for e in (one, two)] == ["first", "second"]


def test_an_expired_message_is_ignored_and_purged(tasks, run, clock, settings):
    settings.DJANGO_ASL = {"MESSAGE_TTL_SECONDS": 60}
    sm = publish("pay", machine())
    run(send_message, "payment", "A-1", 1)
    assert Message.objects.get().expires_at == clock.now() + timedelta(seconds=60)
    clock.advance(60)
    execution = run(start_execution, sm, {"order": "A-1"})
    assert refreshed(execution).status == "RUNNING"
    assert purge_messages(dry_run=True) == (1, 0)
    assert purge_messages() == (1, 0)
    assert not Message.objects.exists()
    assert MessageSubscription.objects.count() == 1  # the execution still waits


def test_a_zero_ttl_drops_messages_nobody_waits_for(tasks, run, settings):
    settings.DJANGO_ASL = {"MESSAGE_TTL_SECONDS": 0}
    assert run(send_message, "payment", "A-1", 1) == SentMessage()
    assert not Message.objects.exists()


def test_values_equal_as_json_correlate(tasks, run):
    sm = publish("pay", machine(CorrelationValuePath="$.key"))
    execution = run(start_execution, sm, {"key": {"order": 7, "line": 2}})
    assert run(send_message, "payment", {"order": 7, "line": 2.0}, "x").delivered_to == (execution.pk,)
    flagged = run(start_execution, sm, {"key": True}, name="flag")
    assert run(send_message, "payment", 1, "x").kept  # 1 is not true
    assert refreshed(flagged).status == "RUNNING"


def test_a_timeout_raises_states_timeout_which_catch_handles(tasks, run, clock):
    sm = publish("pay", {"StartAt": "Await", "States": {
        "Await": {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order",
                  "TimeoutSeconds": 30, "Next": "Done",
                  "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Gave up"}]},
        "Done": {"Type": "Succeed"},
        "Gave up": {"Type": "Pass", "End": True}}})
    execution = run(start_execution, sm, {"order": "A-1"})
    assert refreshed(execution).wake_at == clock.now() + timedelta(seconds=30)
    clock.advance(29)
    run(lambda: None)
    assert refreshed(execution).status == "RUNNING"
    clock.advance(1)
    run(lambda: None)
    execution = refreshed(execution)
    cause = "The Message state 'Await' received no message for CorrelationKey 'payment' within 30 seconds."
    assert (execution.status, execution.output) == (
        "SUCCEEDED", {"order": "A-1", "error": {"Error": "States.Timeout", "Cause": cause}})
    assert types(execution) == ["ExecutionStarted", "MessageStateEntered", "MessageWaitStarted", "MessageTimedOut",
                                "MessageStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert not MessageSubscription.objects.exists()
    assert run(send_message, "payment", "A-1", 1).kept  # too late for this one: kept for another


def test_an_uncaught_timeout_fails_the_execution(tasks, run, clock):
    sm = publish("pay", machine(TimeoutSeconds=5))
    execution = run(start_execution, sm, {"order": "A-1"})
    clock.advance(5)
    run(lambda: None)
    execution = refreshed(execution)
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert execution.cause == ("The Message state 'Await' received no message for CorrelationKey 'payment' "
                               "within 5 seconds.")


def test_a_retried_timeout_waits_again_and_can_still_receive(tasks, run, clock):
    sm = publish("pay", machine(TimeoutSecondsPath="$.wait", Retry=[
        {"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2, "MaxAttempts": 1}]))
    execution = run(start_execution, sm, {"order": "A-1", "wait": 10})
    clock.advance(10)
    run(lambda: None)
    assert refreshed(execution).status == "RUNNING" and not MessageSubscription.objects.exists()
    clock.advance(2)
    run(lambda: None)
    subscription = MessageSubscription.objects.get()
    assert subscription.entered_event_id == 2  # the same state entry, waiting again
    assert run(send_message, "payment", "A-1", "ok").delivered_to == (execution.pk,)
    execution = refreshed(execution)
    assert (execution.status, execution.output["payment"]) == ("SUCCEEDED", "ok")
    assert types(execution) == ["ExecutionStarted", "MessageStateEntered", "MessageWaitStarted", "MessageTimedOut",
                                "MessageWaitStarted", "MessageReceived", "MessageStateExited", "ExecutionSucceeded"]


def test_the_execution_timeout_ends_a_wait_and_its_subscription(tasks, run, clock):
    sm = publish("pay", {**machine(), "TimeoutSeconds": 60})
    execution = run(start_execution, sm, {"order": "A-1"})
    assert refreshed(execution).wake_at == clock.now() + timedelta(seconds=60)
    clock.advance(60)
    run(lambda: None)
    assert refreshed(execution).status == "TIMED_OUT"
    assert not MessageSubscription.objects.exists()


def test_a_stopped_execution_is_never_resumed_and_its_subscription_is_cleaned(tasks, run):
    sm = publish("pay", machine())
    execution = run(start_execution, sm, {"order": "A-1"})
    stop_execution(execution)
    assert purge_messages(dry_run=True) == (0, 1)
    sent = run(send_message, "payment", "A-1", 1)
    assert sent.kept and not sent.delivered
    assert refreshed(execution).status == "ABORTED"
    assert not MessageSubscription.objects.exists()  # send_message deleted the leftover


def test_a_leftover_subscription_of_an_earlier_entry_does_not_hide_the_current_one(tasks, run):
    # A redriven execution enters its Message state again: its subscription from before may still be there.
    sm = publish("pay", machine())
    execution = run(start_execution, sm, {"order": "A-1"})
    current = MessageSubscription.objects.get()
    MessageSubscription.objects.filter(pk=current.pk).update(entered_event_id=current.entered_event_id + 10)
    current.pk = None
    current.save()  # the live one now comes after the leftover
    assert run(send_message, "payment", "A-1", "ok").delivered_to == (execution.pk,)
    assert refreshed(execution).status == "SUCCEEDED"
    assert not MessageSubscription.objects.exists()


def test_asl_purge_deletes_expired_messages_and_leftover_subscriptions(tasks, run, clock):
    sm = publish("pay", machine())
    stop_execution(run(start_execution, sm, {"order": "A-1"}))
    run(send_message, "payment", "gone", 1)
    clock.advance(86_400)
    out = StringIO()
    call_command("asl_purge", "--older-than", "100000", stdout=out)  # the stopped execution itself stays
    assert out.getvalue().splitlines() == [
        "Deleted 0 executions (0 top-level) and 0 history events.",
        "Deleted 1 expired message and 1 message subscription of ended executions."]
    assert not Message.objects.exists() and not MessageSubscription.objects.exists()


def test_what_follows_the_message_is_queued_and_runs(tasks, run):
    tasks[RESOURCE] = lambda payload: {"shipped": payload["payment"]}
    sm = publish("ship", {"StartAt": "Await", "States": {
        "Await": {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order",
                  "ResultPath": "$.payment", "Next": "Ship"},
        "Ship": {"Type": "Task", "Resource": RESOURCE, "End": True}}})
    execution = run(start_execution, sm, {"order": "A-1"})
    run(send_message, "payment", "A-1", 12)
    execution = refreshed(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"shipped": 12})


def test_a_task_result_leading_to_a_kept_message_resumes_in_the_same_step(tasks, run):
    tasks[RESOURCE] = lambda payload: {"order": payload["order"], "charged": True}
    sm = publish("charge", {"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": RESOURCE, "Next": "Await"},
        "Await": {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order",
                  "ResultPath": "$.payment", "Next": "Again"},
        "Again": {"Type": "Message", "CorrelationKey": "payment", "CorrelationValuePath": "$.order",
                  "ResultPath": "$.again", "End": True}}})
    run(send_message, "payment", "A-1", "one")
    run(send_message, "payment", "A-1", "two")
    execution = refreshed(run(start_execution, sm, {"order": "A-1"}))
    assert (execution.status, execution.output) == (
        "SUCCEEDED", {"order": "A-1", "charged": True, "payment": "one", "again": "two"})
    assert not Message.objects.filter(delivered_at__isnull=True).exists()


def test_message_states_in_parallel_branches_are_child_executions(tasks, run):
    def branch(name, key):
        return {"StartAt": name, "States": {name: {"Type": "Message", "CorrelationKey": key,
                                                   "CorrelationValuePath": "$.order", "End": True}}}

    sm = publish("both", {"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [branch("Paid", "payment"), branch("Packed", "packing")]}}})
    execution = run(start_execution, sm, {"order": "A-1"})
    assert MessageSubscription.objects.count() == 2
    run(send_message, "packing", "A-1", "packed")
    assert refreshed(execution).status == "RUNNING"
    run(send_message, "payment", "A-1", "paid")
    execution = refreshed(execution)
    assert (execution.status, execution.output) == ("SUCCEEDED", ["paid", "packed"])


@pytest.mark.parametrize(
    "args, message",
    [
        # the key must be a string
        ((7, "A-1"), "The correlation key must be a string, not int."),
        # of 1 to 256 characters
        (("", "A-1"), "The correlation key must be 1 to 256 characters long, not 0."),
        (("k" * 257, "A-1"), "The correlation key must be 1 to 256 characters long, not 257."),
        # the value must be JSON
        (("k", {1, 2}), "The message's correlation value must be JSON: Object of type set is not JSON serializable."),
        (("k", float("nan")), ("The message's correlation value must be JSON: Out of range float values are not "
                               "JSON compliant.")),
        # so must the data
        (("k", 1, object()), "The message's data must be JSON: Object of type object is not JSON serializable."),
    ],
)
def test_bad_arguments_raise_invalid_message(tasks, args, message):
    with pytest.raises(InvalidMessage) as raised:
        send_message(*args)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)
    assert not Message.objects.exists()


def test_data_over_the_payload_limit_is_refused(tasks, settings):
    settings.DJANGO_ASL = {"MAX_PAYLOAD_BYTES": 100}
    with pytest.raises(InvalidMessage, match=r"The message's data is 102 bytes; the limit is 100 bytes"):
        send_message("k", 1, "x" * 100)


def test_the_public_api_exports_send_message():
    assert django_asl.send_message is send_message
    assert django_asl.InvalidMessage is InvalidMessage
    assert django_asl.SentMessage is SentMessage


@pytest.mark.parametrize(
    "value, expected",
    [
        # the default and zero are fine
        (86_400, []),
        (0, []),
        # a negative number, a string, a boolean are not
        (-1, ["E008"]),
        ("day", ["E008"]),
        (True, ["E008"]),
    ],
)
def test_the_message_ttl_setting_is_checked(settings, value, expected):
    settings.DJANGO_ASL = {"MESSAGE_TTL_SECONDS": value}
    problems = [problem for problem in check_settings() if "MESSAGE_TTL_SECONDS" in problem.msg]
    assert [problem.id.rpartition(".")[2] for problem in problems] == expected
    if expected:
        assert problems == [checks.Error(
            "The value of 'DJANGO_ASL['MESSAGE_TTL_SECONDS']' must be a number of seconds from 0 to 1000000000.",
            hint="It is how long a message no execution waits for is kept for one that arrives later; "
                 "the default is 86400 (a day), and 0 drops such messages.",
            id="django_asl.E008")]


def test_a_redriven_execution_waits_again_and_receives(tasks, run):
    sm = publish("pay", machine())
    execution = run(start_execution, sm, {"order": "A-1"})
    stop_execution(execution)
    run(redrive_execution, execution)
    assert run(send_message, "payment", "A-1", "ok").delivered_to == (execution.pk,)
    assert types(refreshed(execution)) == [
        "ExecutionStarted", "MessageStateEntered", "MessageWaitStarted", "ExecutionAborted", "ExecutionRedriven",
        "MessageStateEntered", "MessageWaitStarted", "MessageReceived", "MessageStateExited", "ExecutionSucceeded"]


class FakeDeadlock(Exception):
    sqlstate = "40P01"


@pytest.mark.parametrize(
    "failure",
    [
        # an execution waiting for the message was locked by another transaction
        messages._Busy(),
        # PostgreSQL broke a lock cycle
        OperationalError("deadlock detected"),
    ],
)
@pytest.mark.django_db(transaction=True)  # send_message outside any transaction, as in a view
def test_send_message_rolls_back_and_tries_again(tasks, run, monkeypatch, failure):
    if isinstance(failure, OperationalError):
        failure.__cause__ = FakeDeadlock()
    sm = publish("pay", machine())
    execution = run(start_execution, sm, {"order": "A-1"})
    real, calls = messages._send, []

    def flaky(*args, wait_for_rows):
        calls.append(wait_for_rows)
        if len(calls) == 1:
            Message.objects.create(correlation_key="x", correlation="x", expires_at=clock_now())  # rolled back
            raise failure
        return real(*args, wait_for_rows=wait_for_rows)

    monkeypatch.setattr(messages, "_send", flaky)
    monkeypatch.setattr(messages.time, "sleep", lambda seconds: None)
    assert run(send_message, "payment", "A-1", 1).delivered_to == (execution.pk,)
    assert calls == [False, False]
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried(tasks, monkeypatch):
    calls = []

    def broken(*args, wait_for_rows):
        calls.append(wait_for_rows)
        raise OperationalError("connection lost")

    monkeypatch.setattr(messages, "_send", broken)
    with pytest.raises(OperationalError):
        send_message("payment", "A-1", 1)
    assert len(calls) == 1


def test_inside_a_callers_transaction_send_message_waits_for_row_locks(tasks, monkeypatch):
    calls = []
    real = messages._send

    def spy(*args, wait_for_rows):
        calls.append(wait_for_rows)
        return real(*args, wait_for_rows=wait_for_rows)

    monkeypatch.setattr(messages, "_send", spy)
    with transaction.atomic():
        send_message("payment", "A-1", 1)
    assert calls == [True]


def clock_now():
    return runtime.CLOCK.now()
