"""Callback tasks (.waitForTaskToken) and activities: tokens, answers, heartbeats, timeouts, workers."""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest

import django_asl
from django_asl.asl import DefinitionError
from django_asl.engine import (
    ActivityDoesNotExist, ActivityInUse, InvalidOutput, InvalidToken, TaskDoesNotExist, TaskTimedOut, callbacks,
    create_activity, delete_activity, get_activity_task, get_execution_history, list_activities, publish, queue,
    run_task, send_task_failure, send_task_heartbeat, send_task_success, start_execution, stop_execution,
)
from django_asl.engine.timers import run_due_timers
from django_asl.models import Activity, Execution, TaskToken

pytestmark = pytest.mark.django_db

SHIP = "urn:test:ship"
CALLBACK = SHIP + ".waitForTaskToken"
ACTIVITY_ARN = "arn:aws:states:eu-west-1:123456789012:activity:resize"
SCHEDULED_ONLY = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled"]
WAITING = [*SCHEDULED_ONLY, "TaskStarted"]
# A Task whose Resource names an activity records Activity* events, as on AWS.
ACTIVITY_SCHEDULED = ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]


def machine(states: dict, start: str, **top) -> dict:
    return {"StartAt": start, "States": states, **top}


def ship_machine(name: str = "ship", **task) -> Execution:
    """Publish and start a machine whose Ship task waits for a callback; return the execution."""
    definition = machine({
        "Ship": {"Type": "Task", "Resource": CALLBACK, "ResultPath": "$.shipment", "Next": "Done",
                 "Parameters": {"order.$": "$.order", "token.$": "$$.Task.Token"}, **task},
        "Done": {"Type": "Pass", "End": True},
    }, "Ship")
    return start_execution(publish(name, definition), {"order": 7})


def types(execution: Execution) -> list[str]:
    return [event["type"] for event in get_execution_history(execution)]


def events(execution: Execution, event_type: str) -> list[dict]:
    return [event["details"] for event in get_execution_history(execution) if event["type"] == event_type]


def refreshed(execution: Execution) -> Execution:
    execution.refresh_from_db()
    return execution


@pytest.fixture
def shipped(tasks):
    """Register a handler for the Ship task that records each call's payload and token, and returns junk."""
    calls: list[dict] = []

    def ship(payload, context):
        calls.append({"payload": payload, "token": context.task_token})
        return "ignored, as on AWS"

    tasks[SHIP] = ship
    return calls


@pytest.fixture
def answer(django_capture_on_commit_callbacks):
    """Call an answering function as a web request would: its transaction commits, queued work runs."""

    def call(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call


# -- .waitForTaskToken -----------------------------------------------------------------------------


def test_the_handler_gets_the_token_and_the_execution_waits_for_send_task_success(shipped, drain, answer):
    execution = ship_machine()
    drain(until_callbacks=True)
    assert refreshed(execution).status == "RUNNING"
    assert execution.wake_at is None  # no deadline: nothing for the timer loop, no worker held
    [call] = shipped
    token = call["token"]
    assert call["payload"] == {"order": 7, "token": token} and len(token) == 64
    assert types(execution) == WAITING
    row = TaskToken.objects.get(execution=execution)
    assert (row.token, row.status, row.state_name, row.resource, row.attempt) == (
        token, "STARTED", "Ship", CALLBACK, 0)

    answer(send_task_success, token, {"tracking": "T1"})
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"order": 7, "shipment": {"tracking": "T1"}})
    assert types(execution) == [*WAITING, "TaskSucceeded", "TaskStateExited", "PassStateEntered", "PassStateExited",
                                "ExecutionSucceeded"]
    assert events(execution, "TaskSucceeded") == [{"output": {"tracking": "T1"}}]
    row.refresh_from_db()
    assert row.status == "SUCCEEDED" and row.closed_at is not None
    assert len(shipped) == 1  # the handler ran once


@pytest.mark.parametrize("output, expected", [
    ('{"tracking": "T1"}', {"tracking": "T1"}),  # a str is JSON text, as AWS's SendTaskSuccess takes it
    ('"done"', "done"),  # JSON text of a string
    ([1, 2], [1, 2]),  # any other value is the output itself
    (None, None),  # JSON null
])
def test_output_is_json_text_or_a_value(output, expected, shipped, drain, answer):
    execution = ship_machine(ResultPath="$")
    drain(until_callbacks=True)
    answer(send_task_success, shipped[0]["token"], output)
    drain()
    assert (refreshed(execution).status, execution.output) == ("SUCCEEDED", expected)


@pytest.mark.parametrize("output, message", [
    ("not json", "output is a str, so it must be JSON text"),  # a str that is not JSON text
    ("NaN", "output is a str, so it must be JSON text"),  # JSON has no NaN
    ({1, 2}, "output must be a JSON value"),  # a set is not JSON
    (float("inf"), "output must be a JSON value"),  # nor is infinity
    ({"blob": "x" * 2000}, "the limit is 1024 bytes"),  # over DJANGO_ASL["MAX_PAYLOAD_BYTES"]
])
def test_invalid_output_is_refused_and_the_task_still_waits(output, message, shipped, drain, answer, settings):
    settings.DJANGO_ASL = {"MAX_PAYLOAD_BYTES": 1024}
    execution = ship_machine()
    drain(until_callbacks=True)
    token = shipped[0]["token"]
    with pytest.raises(InvalidOutput, match=message):
        answer(send_task_success, token, output)
    assert types(execution) == WAITING
    answer(send_task_success, token, {"ok": True})
    drain()
    assert refreshed(execution).status == "SUCCEEDED"


def test_send_task_failure_is_caught_by_catch(shipped, drain, answer):
    execution = ship_machine(Catch=[{"ErrorEquals": ["Declined"], "ResultPath": "$.error", "Next": "Done"}])
    drain(until_callbacks=True)
    answer(send_task_failure, shipped[0]["token"], "Declined", "card expired")
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == (
        "SUCCEEDED", {"order": 7, "error": {"Error": "Declined", "Cause": "card expired"}})
    assert events(execution, "TaskFailed") == [{"error": "Declined", "cause": "card expired"}]
    assert TaskToken.objects.get(execution=execution).status == "FAILED"


def test_send_task_failure_without_an_error_fails_with_states_task_failed(shipped, drain, answer):
    execution = ship_machine()
    drain(until_callbacks=True)
    answer(send_task_failure, shipped[0]["token"])
    drain()
    assert (refreshed(execution).status, execution.error, execution.cause) == ("FAILED", "States.TaskFailed", None)


@pytest.mark.parametrize("arguments, error, message", [
    ((123,), TypeError, "error must be a string or None, not int"),  # not a string
    (("x" * 257,), ValueError, "error has 257 characters; the limit is 256"),  # AWS's limit
    (("E", "c" * 32769), ValueError, "cause has 32769 characters; the limit is 32768"),  # AWS's limit
    (("",), ValueError, "error must not be empty"),  # an empty name matches no Retry or Catch
])
def test_send_task_failure_checks_its_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        send_task_failure(secrets.token_urlsafe(48), *arguments)


def test_a_retry_gets_a_new_token_and_the_old_one_is_refused(shipped, drain, answer, clock):
    execution = ship_machine(Retry=[{"ErrorEquals": ["Busy"], "IntervalSeconds": 5, "MaxAttempts": 2}])
    drain(until_callbacks=True)
    first = shipped[0]["token"]
    answer(send_task_failure, first, "Busy", "try later")
    drain(until_callbacks=True)
    second = shipped[1]["token"]
    assert second != first and shipped[1]["payload"]["token"] == second
    with pytest.raises(TaskTimedOut, match=r"'Ship' \(attempt 1\) .* was already answered \(failed\)"):
        answer(send_task_success, first, {"late": True})
    answer(send_task_success, second, {"tracking": "T2"})
    drain()
    assert (refreshed(execution).status, execution.output["shipment"]) == ("SUCCEEDED", {"tracking": "T2"})
    assert list(TaskToken.objects.filter(execution=execution).order_by("attempt").values_list("attempt", "status")) \
        == [(0, "FAILED"), (1, "SUCCEEDED")]
    assert types(execution)[:9] == [*WAITING, "TaskFailed", "TaskScheduled", "TaskStarted", "TaskSucceeded",
                                    "TaskStateExited"]


def test_a_token_is_used_once(shipped, drain, answer):
    execution = ship_machine()
    drain(until_callbacks=True)
    token = shipped[0]["token"]
    answer(send_task_success, token, {"n": 1})
    for function, arguments in ((send_task_success, ({"n": 2},)), (send_task_failure, ("Late",)),
                                (send_task_heartbeat, ())):
        with pytest.raises(TaskTimedOut, match="was already answered \\(succeeded\\); a token is used once"):
            answer(function, token, *arguments)
    drain()
    assert refreshed(execution).output["shipment"] == {"n": 1}
    assert types(execution).count("TaskSucceeded") == 1


@pytest.mark.parametrize("token", [
    None,  # not a string
    123,  # not a string
    "",  # empty
    "abc",  # too short to be a token
    "x" * 129,  # too long
    "has spaces in it, so it is no token",  # not URL-safe base64
])
@pytest.mark.parametrize("function", [send_task_success, send_task_failure, send_task_heartbeat])
def test_a_malformed_token_is_invalid(token, function):
    arguments = ({},) if function is send_task_success else ()
    with pytest.raises(InvalidToken, match=f"{function.__name__}\\(\\): the task token is malformed"):
        function(token, *arguments)


@pytest.mark.parametrize("function", [send_task_success, send_task_failure, send_task_heartbeat])
def test_an_unknown_token_names_no_task(function):
    token = secrets.token_urlsafe(48)
    arguments = ({},) if function is send_task_success else ()
    with pytest.raises(TaskDoesNotExist, match=f"no task has the token '{token[:8]}\\.\\.\\.'") as raised:
        function(token, *arguments)
    assert token not in str(raised.value)  # a secret is not echoed whole into logs


def test_heartbeats_keep_a_task_alive_and_a_missing_one_times_it_out(shipped, drain, answer, clock):
    execution = ship_machine(HeartbeatSeconds=60)
    drain(until_callbacks=True)
    start = clock.now()
    token = shipped[0]["token"]
    assert refreshed(execution).wake_at == start + timedelta(seconds=60)
    for _ in range(3):
        clock.advance(50)
        answer(send_task_heartbeat, token)
        assert run_due_timers() == 0
    assert refreshed(execution).wake_at == start + timedelta(seconds=210)
    drain()  # no more heartbeats
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("FAILED", "States.HeartbeatTimeout")
    assert execution.stop_date - start == timedelta(seconds=210)
    assert types(execution)[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    assert events(execution, "TaskTimedOut") == [{"error": "States.HeartbeatTimeout", "cause": None}]
    assert TaskToken.objects.get(execution=execution).status == "TIMED_OUT"
    with pytest.raises(TaskTimedOut, match="timed out before this call"):
        answer(send_task_success, token, {})


def test_timeout_seconds_ends_the_wait_with_states_timeout_and_catch_applies(shipped, drain, answer, clock):
    execution = ship_machine(TimeoutSeconds=300, HeartbeatSeconds=100, Catch=[
        {"ErrorEquals": ["States.TaskFailed"], "Next": "Done"},  # does not match States.Timeout, as on AWS
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Done"}])
    drain(until_callbacks=True)
    start = execution.start_date
    for _ in range(3):  # heartbeats do not push TimeoutSeconds back
        clock.advance(90)
        answer(send_task_heartbeat, shipped[0]["token"])
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output["error"]) == ("SUCCEEDED", {"Error": "States.Timeout", "Cause": ""})
    assert execution.stop_date - start == timedelta(seconds=300)
    assert events(execution, "TaskTimedOut") == [{"error": "States.Timeout", "cause": None}]


def test_an_answer_after_the_deadline_is_refused_even_before_the_timer_loop_ran(shipped, drain, answer, clock):
    execution = ship_machine(TimeoutSeconds=300)
    drain(until_callbacks=True)
    clock.advance(300)
    with pytest.raises(TaskTimedOut, match=r"timed out \(States.Timeout\) before this call"):
        answer(send_task_success, shipped[0]["token"], {})
    execution.refresh_from_db()  # the refusal recorded the timeout
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert "TaskSucceeded" not in types(execution)


def test_a_handler_exception_fails_the_task_and_closes_its_token(tasks, drain, answer):
    tokens = []

    def ship(payload, context):
        tokens.append(context.task_token)
        raise ConnectionError("carrier unreachable")

    tasks[SHIP] = ship
    execution = ship_machine()
    drain()
    assert (refreshed(execution).status, execution.error, execution.cause) == (
        "FAILED", "ConnectionError", "carrier unreachable")
    assert types(execution) == [*SCHEDULED_ONLY, "TaskFailed", "ExecutionFailed"]
    assert TaskToken.objects.get(execution=execution).status == "CLOSED"
    with pytest.raises(TaskTimedOut, match=r"no longer waits: the execution has ended \(FAILED\)"):
        answer(send_task_success, tokens[0], {})


def test_a_handler_may_answer_before_it_returns(tasks, drain):
    def ship(payload, context):
        send_task_success(payload["token"], {"quick": True})

    tasks[SHIP] = ship
    execution = ship_machine()
    drain()
    assert (refreshed(execution).status, execution.output["shipment"]) == ("SUCCEEDED", {"quick": True})
    assert types(execution)[:6] == [*WAITING, "TaskSucceeded", "TaskStateExited"]


def test_a_handler_whose_worker_died_is_called_again_after_its_lease(shipped, drain, clock, monkeypatch):
    real, lost = queue.enqueue, []

    def lossy(function: str, *args) -> None:
        if function.endswith(".run_task") and not lost:
            lost.append(args)  # the worker that took it died before calling the handler
            return
        real(function, *args)

    monkeypatch.setattr(queue, "enqueue", lossy)
    execution = ship_machine()
    drain(until_callbacks=True)
    assert lost and shipped == [] and refreshed(execution).wake_at == clock.now() + timedelta(seconds=300)
    clock.advance(300)  # DJANGO_ASL["TASK_LEASE_SECONDS"]
    drain(until_callbacks=True)
    [call] = shipped
    assert call["token"] == TaskToken.objects.get(execution=execution).token  # the same attempt, the same token
    assert refreshed(execution).wake_at is None
    assert types(execution) == WAITING


def test_a_repeated_delivery_calls_the_handler_again_but_records_task_started_once(shipped, drain):
    execution = ship_machine()
    drain(until_callbacks=True)
    row = TaskToken.objects.get(execution=execution)
    run_task(execution.pk, row.entered_event_id, row.attempt)  # a duplicate delivery from the queue
    assert len(shipped) == 2 and shipped[1]["token"] == shipped[0]["token"] == row.token
    assert types(execution) == WAITING


def test_stop_execution_closes_its_tokens_and_those_of_its_iterations(shipped, drain, answer):
    publish("fan", machine({"Fan": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Ship", "States": {
        "Ship": {"Type": "Task", "Resource": CALLBACK, "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}}}},
        "Fan"))
    execution = start_execution("fan", [1, 2])
    drain(until_callbacks=True)
    assert TaskToken.objects.filter(status="STARTED").count() == 2
    stop_execution(execution, error="Operator")
    assert set(TaskToken.objects.values_list("status", flat=True)) == {"CLOSED"}
    with pytest.raises(TaskTimedOut, match=r"the execution has ended \(ABORTED\)"):
        answer(send_task_success, shipped[0]["token"], {})


def test_callback_tasks_in_map_iterations_resume_the_map_in_order(shipped, drain, answer):
    publish("fan", machine({"Fan": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Ship", "States": {
        "Ship": {"Type": "Task", "Resource": CALLBACK, "End": True,
                 "Parameters": {"item.$": "$", "token.$": "$$.Task.Token"}}}}}}, "Fan"))
    execution = start_execution("fan", ["a", "b", "c"])
    drain(until_callbacks=True)
    for call in reversed(shipped):  # answered in any order
        answer(send_task_success, call["token"], [call["payload"]["item"].upper()])
    drain()
    assert (refreshed(execution).status, execution.output) == ("SUCCEEDED", [["A"], ["B"], ["C"]])


def test_the_execution_timeout_closes_the_token(shipped, drain, answer, clock):
    definition = machine({"Ship": {"Type": "Task", "Resource": CALLBACK, "End": True}}, "Ship", TimeoutSeconds=100)
    execution = start_execution(publish("slow", definition))
    drain()
    assert (refreshed(execution).status, execution.stop_date - execution.start_date) == (
        "TIMED_OUT", timedelta(seconds=100))
    assert TaskToken.objects.get(execution=execution).status == "CLOSED"
    with pytest.raises(TaskTimedOut, match=r"the execution has ended \(TIMED_OUT\)"):
        answer(send_task_success, shipped[0]["token"], {})


def test_publishing_needs_a_handler_for_the_base_of_a_wait_for_token_resource(tasks):
    definition = machine({"Ship": {"Type": "Task", "Resource": "urn:nobody.waitForTaskToken", "End": True}}, "Ship")
    with pytest.raises(DefinitionError) as raised:
        publish("nobody", definition)
    [issue] = raised.value.issues
    assert (issue.path, issue.code) == ("$.States.Ship.Resource", "unknown_resource")
    assert "no handler is registered for 'urn:nobody'" in issue.message
    tasks["urn:nobody"] = lambda payload: None
    assert publish("nobody", definition).current_version is not None
    tasks.clear()
    tasks["urn:nobody.waitForTaskToken"] = lambda payload: None  # a handler for the whole string will do too
    assert publish("nobody", definition).current_version is not None


# -- activities --------------------------------------------------------------------------------------


def resize_machine(name: str = "resize", **task) -> dict:
    return machine({
        "Resize": {"Type": "Task", "Resource": ACTIVITY_ARN, "Parameters": {"image.$": "$.image"},
                   "ResultPath": "$.thumb", "Next": "Done", **task},
        "Done": {"Type": "Pass", "End": True},
    }, "Resize")


@pytest.mark.parametrize("resource", [ACTIVITY_ARN, "django-asl:activity:resize"])
def test_publishing_an_activity_task_needs_the_activity(resource, tasks):
    definition = machine({"Resize": {"Type": "Task", "Resource": resource, "End": True}}, "Resize")
    with pytest.raises(DefinitionError) as raised:
        publish("resize", definition)
    assert [(issue.path, issue.code, issue.message) for issue in raised.value.issues] == [(
        "$.States.Resize.Resource", "unknown_resource",
        "'$.States.Resize.Resource' refers to the activity 'resize', which does not exist: create it with "
        "django_asl.create_activity('resize').")]
    create_activity("resize")
    assert publish("resize", definition).current_version is not None


def test_get_activity_task_returns_none_when_nothing_is_scheduled(monkeypatch):
    create_activity("resize")
    assert get_activity_task("resize", "worker-1", wait_seconds=0) is None
    monkeypatch.setattr(callbacks, "POLL_INTERVAL", 0.05)
    started = time.monotonic()
    assert get_activity_task("resize", wait_seconds=0.3) is None  # long-polls, then gives up
    assert time.monotonic() - started >= 0.3


def test_an_activity_worker_claims_the_task_and_answers_it(tasks, drain, answer, clock):
    create_activity("resize", "Make thumbnails")
    execution = start_execution(publish("resize", resize_machine()), {"image": "a.png"})
    drain(until_callbacks=True)
    row = TaskToken.objects.get(execution=execution)
    assert (row.status, row.token, row.input, row.activity.name) == ("SCHEDULED", None, {"image": "a.png"}, "resize")
    assert types(execution) == ACTIVITY_SCHEDULED and refreshed(execution).wake_at is None

    clock.advance(5)
    task = get_activity_task("resize", "worker-1", wait_seconds=0)
    assert task == {"task_token": task["task_token"], "input": {"image": "a.png"}} and len(task["task_token"]) == 64
    assert events(execution, "ActivityStarted") == [{"resource": ACTIVITY_ARN, "worker_name": "worker-1"}]
    row.refresh_from_db()
    assert (row.status, row.worker_name, row.claimed_at) == ("STARTED", "worker-1", clock.now())
    assert get_activity_task("resize", "worker-2", wait_seconds=0) is None  # taken

    answer(send_task_success, task["task_token"], '{"url": "a-small.png"}')
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"image": "a.png", "thumb": {"url": "a-small.png"}})
    assert types(execution)[3:5] == ["ActivityStarted", "ActivitySucceeded"]


def test_two_workers_never_get_the_same_task_and_the_oldest_goes_first(tasks, drain, clock):
    create_activity("resize")
    publish("resize", resize_machine())
    for index in range(3):
        start_execution("resize", {"image": f"{index}.png"})
        clock.advance(1)
    drain(until_callbacks=True)
    claimed = [get_activity_task("resize", f"worker-{index}", wait_seconds=0) for index in range(4)]
    assert [task["input"]["image"] for task in claimed[:3]] == ["0.png", "1.png", "2.png"]
    assert len({task["task_token"] for task in claimed[:3]}) == 3
    assert claimed[3] is None


def test_activity_heartbeats_count_from_the_claim_and_timeout_from_scheduling(tasks, drain, answer, clock):
    create_activity("resize")
    execution = start_execution(publish("resize", resize_machine(HeartbeatSeconds=30, TimeoutSeconds=500)),
                                {"image": "a.png"})
    drain(until_callbacks=True)
    scheduled = clock.now()
    assert refreshed(execution).wake_at == scheduled + timedelta(seconds=500)  # no heartbeat before the claim
    clock.advance(100)
    token = get_activity_task("resize", wait_seconds=0)["task_token"]
    assert refreshed(execution).wake_at == clock.now() + timedelta(seconds=30)
    clock.advance(20)
    answer(send_task_heartbeat, token)
    drain()
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("FAILED", "States.HeartbeatTimeout")
    assert execution.stop_date == scheduled + timedelta(seconds=150)


def test_an_activity_task_nobody_claims_times_out_and_is_not_handed_out(tasks, drain):
    create_activity("resize")
    execution = start_execution(publish("resize", resize_machine(TimeoutSeconds=60)), {"image": "a.png"})
    drain()
    assert (refreshed(execution).status, execution.error) == ("FAILED", "States.Timeout")
    assert types(execution)[-3:] == ["ActivityScheduled", "ActivityTimedOut", "ExecutionFailed"]
    assert TaskToken.objects.get(execution=execution).status == "TIMED_OUT"
    assert get_activity_task("resize", wait_seconds=0) is None


def test_a_task_of_an_ended_execution_is_never_handed_out(tasks, drain):
    create_activity("resize")
    publish("resize", resize_machine())
    stopped = start_execution("resize", {"image": "stopped.png"})
    ended = start_execution("resize", {"image": "ended.png"})
    drain(until_callbacks=True)
    stop_execution(stopped)  # closes its token
    # An execution that ended without closing its token (a sibling's failure aborted it, say).
    Execution.objects.filter(pk=ended.pk).update(status="ABORTED", stop_date=ended.start_date)
    assert get_activity_task("resize", wait_seconds=0) is None
    assert list(TaskToken.objects.values_list("status", flat=True)) == ["CLOSED", "CLOSED"]


def test_an_activity_deleted_after_publishing_fails_its_task_with_states_runtime(tasks, drain):
    create_activity("resize")
    publish("resize", resize_machine())
    delete_activity("resize")
    execution = start_execution("resize", {"image": "a.png"})
    drain()
    assert (refreshed(execution).status, execution.error) == ("FAILED", "States.Runtime")
    assert "The activity 'resize' does not exist." in execution.cause


def test_create_list_and_delete_activities(tasks, drain, answer):
    first = create_activity("resize", "Make thumbnails")
    assert create_activity("resize") == first  # idempotent, as AWS's CreateActivity
    assert create_activity("resize", "Thumbnails").description == "Thumbnails"
    create_activity("crop")
    assert [activity.name for activity in list_activities()] == ["crop", "resize"]

    execution = start_execution(publish("resize", resize_machine()), {"image": "a.png"})
    drain(until_callbacks=True)
    with pytest.raises(ActivityInUse, match="'resize' has 1 task\\(s\\) waiting"):
        delete_activity("resize")
    answer(send_task_success, get_activity_task("resize", wait_seconds=0)["task_token"], {})
    drain()
    delete_activity(first)
    assert list(Activity.objects.values_list("name", flat=True)) == ["crop"]
    row = TaskToken.objects.get(execution=execution)
    assert (row.activity, row.resource, row.status) == (None, ACTIVITY_ARN, "SUCCEEDED")
    with pytest.raises(ActivityDoesNotExist, match="There is no activity named 'resize'"):
        delete_activity("resize")
    with pytest.raises(ActivityDoesNotExist):
        get_activity_task("resize", wait_seconds=0)


@pytest.mark.parametrize("name", [
    "",  # empty
    "x" * 81,  # longer than 80 characters
    "has space",  # whitespace
    "a:b",  # a colon would break the resource ARN
    "a/b",  # as would a slash
    None,  # not a string
])
def test_an_activity_name_must_be_valid(name):
    with pytest.raises(ValueError, match="An activity name must be a string of 1 to 80 characters"):
        create_activity(name)


@pytest.mark.parametrize("arguments, message", [
    ({"worker_name": 7}, "worker_name must be a string of at most 80 characters"),  # not a string
    ({"worker_name": "w" * 81}, "worker_name must be a string of at most 80 characters"),  # too long
    ({"wait_seconds": -1}, "wait_seconds must be a number from 0 to 60"),  # negative
    ({"wait_seconds": 61}, "wait_seconds must be a number from 0 to 60"),  # longer than AWS's long poll
    ({"wait_seconds": True}, "wait_seconds must be a number from 0 to 60"),  # a bool is no number here
])
def test_get_activity_task_checks_its_arguments(arguments, message):
    create_activity("resize")
    with pytest.raises(ValueError, match=message):
        get_activity_task("resize", **arguments)


def test_the_api_is_exported_from_django_asl():
    for name in ("ActivityDoesNotExist", "ActivityInUse", "InvalidOutput", "InvalidToken", "TaskDoesNotExist",
                 "TaskTimedOut", "create_activity", "delete_activity", "get_activity_task", "list_activities",
                 "send_task_failure", "send_task_heartbeat", "send_task_success"):
        assert getattr(django_asl, name) is getattr(callbacks, name)


@pytest.mark.parametrize(("state", "waits_for"), [
    ({"Type": "Task", "Resource": "urn:test:ship.waitForTaskToken", "End": True}, "a callback"),
    ({"Type": "Task", "Resource": "django-asl:activity:resize", "End": True}, "a callback"),
    ({"Type": "Message", "CorrelationKey": "order", "End": True}, "a message"),
])
def test_an_express_state_machine_cannot_wait_for_a_callback_or_a_message(state, waits_for, tasks):
    tasks["urn:test:ship"] = lambda payload: None
    create_activity("resize")
    definition = {"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Wait", "States": {"Wait": state}}]}}}
    with pytest.raises(DefinitionError) as raised:
        publish("express", definition, type="EXPRESS")
    path = "$.States.Fan.Branches[0].States.Wait"
    assert [(issue.path, issue.code, issue.message) for issue in raised.value.issues] == [(
        path, "express_cannot_wait",
        f"'{path}' waits for {waits_for}, which an EXPRESS state machine cannot do: it runs to its end in the "
        f"caller's process. Make the state machine STANDARD.")]
    assert publish("standard", definition).type == "STANDARD"
