"""ExecutionAdmin: the bounded changelist, the detail page, its JSON endpoint and every action."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from django_asl.engine import start_execution
from django_asl.models import Batch, Execution

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/django_asl/execution/"


def url(name, *args):
    return reverse(f"admin:django_asl_execution_{name}", args=args)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def start_many(count, machine="pass", prefix="run"):
    return [start_execution(machine, {"i": index}, name=f"{prefix}-{index}") for index in range(count)]


# -- changelist

def test_the_changelist_lists_top_level_executions_only(viewer, failed):
    response = viewer.get(CHANGELIST)
    assert [row.name for row in response.context["cl"].result_list] == ["flaky-1"]
    assert failed.children.count() == 2


@pytest.mark.parametrize("params", [{}, {"status__exact": "RUNNING"}, {"q": "run-1"}, {"o": "1"},
                                    {"start_date__gte": "2026-01-01 00:00:00+00:00"}])
def test_the_changelist_query_count_does_not_grow_with_rows(viewer, machines, params, django_assert_num_queries):
    start_many(3)
    with django_assert_num_queries(7) as few:
        assert viewer.get(CHANGELIST, params).status_code == 200
    start_many(60, prefix="more")
    with django_assert_num_queries(len(few.captured_queries)):
        assert viewer.get(CHANGELIST, params).status_code == 200


def test_the_changelist_never_counts_the_whole_table(viewer, machines, django_assert_num_queries):
    start_many(5)
    with django_assert_num_queries(7) as captured:
        viewer.get(CHANGELIST, {"status__exact": "RUNNING"})
    counts = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


def test_search_by_exact_id_and_by_name_prefix(viewer, machines):
    first, second = start_many(2)
    by_id = viewer.get(CHANGELIST, {"q": str(second.pk)}).context["cl"].result_list
    by_name = viewer.get(CHANGELIST, {"q": "run-"}).context["cl"].result_list
    inside = viewer.get(CHANGELIST, {"q": "un-1"}).context["cl"].result_list
    assert [e.pk for e in by_id] == [second.pk]
    assert {e.pk for e in by_name} == {first.pk, second.pk}
    assert list(inside) == []  # a prefix, not a substring: the name index serves it


# -- detail page

def test_the_detail_page_shows_json_diagram_path_timeline_and_children(viewer, failed):
    response = viewer.get(url("change", failed.pk))
    assert response.status_code == 200
    context = response.context
    assert json.loads(context["input"]) == {"order": 1}
    assert context["inspection"]["nodes"]["|Flaky"]["status"] == "retried"
    assert context["inspection"]["nodes"]["|Broken"]["status"] == "failed"
    rows = context["timeline"]
    assert rows[0]["event"].type == "ExecutionStarted"
    exited = [row for row in rows if row["event"].type == "TaskStateExited"]
    assert exited and exited[0]["duration"] is not None
    assert [row["attempt"] for row in rows if row["event"].type == "TaskScheduled"][:2] == [1, 2]
    assert b"Broken" in response.content and b"on purpose" in response.content
    assert len(context["child_page"].object_list) == 2
    child = context["child_page"].object_list[0]
    child_page = viewer.get(url("change", child.pk))
    assert child_page.status_code == 200 and str(failed.pk).encode() in child_page.content
    assert b"&quot;input&quot;" in response.content  # each state's input and output, from the event details
    assert b"Stop</a>" not in response.content and b"Redrive</a>" not in response.content  # a viewer


def test_the_detail_page_has_a_bounded_number_of_queries_whatever_the_history(
        viewer, machines, drain, django_assert_num_queries):
    loop = {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 0, "Next": "Count"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"}}}
    from django_asl.engine import publish

    publish("loop", loop)
    counts = []
    for name, limit in (("short", 1), ("long", 120)):
        loop["States"]["More?"]["Choices"][0]["NumericLessThan"] = limit
        publish("loop", loop)
        execution = start_execution("loop", {"n": 0}, name=name)
        drain()
        execution.refresh_from_db()
        with django_assert_num_queries(13) as captured:
            response = viewer.get(url("change", execution.pk))
        counts.append(len(captured.captured_queries))
        assert response.status_code == 200
    assert execution.last_event_id > 400
    newest = response.context["timeline"]  # the newest page of the timeline by default
    assert newest[-1]["event"].sequence == execution.last_event_id and len(newest) <= 100
    older = viewer.get(url("change", execution.pk), {"events": "1"})
    assert [row["event"].sequence for row in older.context["timeline"]] == list(range(1, 101))
    assert viewer.get(url("change", execution.pk), {"events": "nope"}).status_code == 200


def test_the_detail_page_shows_the_variables_where_the_execution_stands(viewer, machines, drain,
                                                                        django_assert_num_queries):
    from django_asl.engine import publish

    publish("assigns", {"StartAt": "Remember", "States": {
        "Remember": {"Type": "Pass", "Assign": {"order.$": "$.order", "tries": 1}, "Next": "Ask"},
        "Ask": {"Type": "Task", "Resource": "urn:callback.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token"}, "End": True}}})
    execution = start_execution("assigns", {"order": "A-1"}, name="assigns-1")
    drain(until_callbacks=True)
    with django_assert_num_queries(13):  # as many as without variables: they are in the row
        response = viewer.get(url("change", execution.pk))
    assert json.loads(response.context["variables"]) == {"order": "A-1", "tries": 1}
    assert b'id="asl-variables"' in response.content and b"&quot;tries&quot;: 1" in response.content
    none = viewer.get(url("change", start_execution("pass", {}, name="no-variables").pk))
    assert none.context["variables"] == "" and b'id="asl-variables"' not in none.content


def test_the_status_endpoint_returns_the_path_taken(viewer, running, django_assert_num_queries):
    with django_assert_num_queries(7):  # + the execution, its events (types and times), its children by path
        data = viewer.get(url("status", running.pk)).json()
    assert data["status"] == "RUNNING"
    assert data["nodes"]["|Ask"]["status"] == "running"


# -- actions

def test_stop_asks_for_confirmation_then_stops(operator, running):
    page = operator.get(url("stop", running.pk))
    assert page.status_code == 200 and b"Are you sure" in page.content
    response = operator.post(url("stop", running.pk), follow=True)
    running.refresh_from_db()
    assert running.status == "ABORTED"
    assert "The execution was stopped." in messages_of(response)
    again = operator.post(url("stop", running.pk), follow=True)
    assert any("already ended" in message for message in messages_of(again))


def test_redrive_a_failed_execution_and_refuse_a_running_one(operator, failed, running, tasks):
    tasks["urn:boom"] = lambda payload: payload
    response = operator.post(url("redrive", failed.pk), follow=True)
    failed.refresh_from_db()
    assert failed.status == "RUNNING" and failed.redrive_count == 1, messages_of(response)
    refused = operator.post(url("redrive", running.pk), follow=True)
    assert refused.status_code == 200 and messages_of(refused) != ["The execution was redriven."]


def test_rerun_with_the_same_and_with_edited_input(operator, failed):
    page = operator.get(url("rerun", failed.pk))
    assert json.loads(page.context["form"].initial["input"]) == {"order": 1}
    same = operator.post(url("rerun", failed.pk), {"input": json.dumps({"order": 1})})
    edited = operator.post(url("rerun", failed.pk), {"input": '{"order": 2}'})
    reruns = Execution.objects.filter(source_execution=failed, source_link="rerun").order_by("start_date", "name")
    assert sorted(e.input["order"] for e in reruns) == [1, 2]
    assert same.status_code == 302 and edited.status_code == 302
    bad = operator.post(url("rerun", failed.pk), {"input": "[1,"})
    assert bad.status_code == 200 and bad.context["form"].errors["input"]


def test_send_message_to_a_waiting_message_state(operator, tasks, drain):
    from django_asl.engine import publish

    publish("mailbox", {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Message", "CorrelationKey": "order", "CorrelationValuePath": "$.id", "End": True}}})
    execution = start_execution("mailbox", {"id": "o-1"}, name="m-1")
    drain(until_callbacks=True)
    page = operator.get(url("send_message", execution.pk))
    assert page.status_code == 200
    response = operator.post(url("send_message", execution.pk),
                             {"correlation_key": "order", "correlation_value": '"o-1"', "data": '{"ok": true}'},
                             follow=True)
    assert response.status_code == 200 and messages_of(response)
    bad = operator.post(url("send_message", execution.pk), {"correlation_key": "order", "correlation_value": "{"})
    assert bad.status_code == 200 and bad.context["form"].errors["correlation_value"]


def test_succeed_and_fail_a_waiting_task_token(operator, running):
    execution = running
    task = execution.task_tokens.get()
    detail = operator.get(url("change", execution.pk))
    assert url("task", execution.pk, task.pk).encode() in detail.content
    response = operator.post(url("task", execution.pk, task.pk), {"outcome": "success", "output": '{"ok": 1}'},
                             follow=True)
    assert messages_of(response) == ["The task Ask succeeded."]
    again = operator.post(url("task", execution.pk, task.pk), {"outcome": "failure", "error": "E"}, follow=True)
    assert again.status_code == 200 and messages_of(again)


def test_batch_launch_from_the_current_filter(operator, failed, machines):
    page = operator.get(url("batch_launch"), {"state_machine__id__exact": failed.state_machine_id,
                                             "status__exact": "FAILED"})
    assert page.status_code == 200 and b"flaky" in page.content
    response = operator.post(url("batch_launch") + f"?state_machine__id__exact={failed.state_machine_id}"
                             "&status__exact=FAILED",
                             {"target": "pass", "name_prefix": "again", "concurrency": "2", "stop_on_error": "on"})
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/change/")
    assert (batch.total, batch.concurrency, batch.stop_on_error, batch.source_filter) == (
        1, 2, True, {"state_machine": "flaky", "status": "FAILED"})
    taken = operator.post(url("batch_launch"), {"target": "pass", "name_prefix": "again", "concurrency": "1"},
                          follow=True)
    assert any("already exists" in message for message in messages_of(taken))
    bad = operator.get(url("batch_launch"), {"start_date__gte": "yesterday"}, follow=True)
    assert any("is not a date" in message for message in messages_of(bad))


def picked_post(ids, **fields):
    """Return the changelist POST of the batch action over the rows ``ids`` (confirmed if ``fields``)."""
    data = {"action": "launch_batch", "_selected_action": [str(pk) for pk in ids]}
    return {**data, "confirmed": "yes", **fields} if fields else data


def test_the_batch_action_launches_from_the_selected_rows(operator, machines, django_assert_num_queries):
    runs = start_many(5)
    picked = [runs[3], runs[1]]
    with django_assert_num_queries(9):  # session, user, permissions, the changelist's count and filter, the ids
        confirm = operator.post(CHANGELIST, picked_post(e.pk for e in picked))
    assert confirm.status_code == 200 and confirm.context["source_names"] == ["run-1", "run-3"]  # oldest first
    assert b'name="_selected_action" value="%s"' % str(runs[3].pk).encode() in confirm.content
    assert not Batch.objects.exists()
    with django_assert_num_queries(16):  # + the target, a savepoint, the batch, its items (one INSERT)
        response = operator.post(CHANGELIST, picked_post(
            (e.pk for e in picked), target="pass", name_prefix="picked", concurrency="3"))
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/change/")
    assert batch.source_filter == {"ids": [str(runs[1].pk), str(runs[3].pk)]}
    assert list(batch.items.order_by("index").values_list("source__name", flat=True)) == ["run-1", "run-3"]
    assert (batch.total, batch.concurrency, batch.stop_on_error) == (2, 3, False)


def test_the_batch_action_reshows_its_form_on_bad_input_or_a_taken_prefix(operator, machines):
    runs = start_many(2)
    bad = operator.post(CHANGELIST, picked_post([runs[0].pk], target="pass", name_prefix="", concurrency="0"))
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"name_prefix", "concurrency"}
    operator.post(CHANGELIST, picked_post([runs[0].pk], target="pass", name_prefix="once", concurrency="1"))
    taken = operator.post(CHANGELIST, picked_post([runs[1].pk], target="pass", name_prefix="once",
                                                  concurrency="1"), follow=True)
    assert taken.status_code == 200 and taken.context["source_names"] == ["run-1"]
    assert any("already exists" in message for message in messages_of(taken))
    assert Batch.objects.count() == 1


def test_the_batch_action_takes_a_bounded_number_of_rows(operator, machines, monkeypatch):
    from django_asl import admin as asl_admin

    monkeypatch.setattr(asl_admin, "MAX_SOURCE_IDS", 2)
    runs = start_many(3)
    response = operator.post(CHANGELIST, picked_post([e.pk for e in runs], target="pass", name_prefix="many",
                                                     concurrency="1"), follow=True)
    assert any("at most 2 selected executions" in message for message in messages_of(response))
    assert not Batch.objects.exists()


def test_the_batch_action_with_select_all_goes_to_the_filter_form(operator, failed):
    across = operator.post(CHANGELIST + "?status__exact=FAILED", {"action": "launch_batch", "select_across": "1",
                                                                   "_selected_action": [str(failed.pk)]})
    assert across.status_code == 302 and "batch-launch/?status__exact=FAILED" in across["Location"]


def test_the_batch_action_is_refused_without_start_batch(viewer, machines):
    runs = start_many(1)
    refused = viewer.post(CHANGELIST, picked_post([runs[0].pk], target="pass", name_prefix="no",
                                                  concurrency="1"), follow=True)
    assert refused.status_code == 200 and not Batch.objects.exists()
    assert "launch_batch" not in refused.context["cl"].model_admin.get_actions(refused.wsgi_request)
    assert not any("Launched" in message for message in messages_of(refused))


def test_stop_selected_confirms_then_stops(operator, running):
    confirm = operator.post(CHANGELIST, {"action": "stop_selected", "_selected_action": [str(running.pk)]})
    assert confirm.status_code == 200 and b"waits-1" in confirm.content
    operator.post(CHANGELIST, {"action": "stop_selected", "_selected_action": [str(running.pk)], "confirmed": "yes"})
    running.refresh_from_db()
    assert running.status == "ABORTED"


def test_a_viewer_has_no_actions_in_the_changelist(viewer, running):
    response = viewer.get(CHANGELIST)
    assert response.context["action_form"] is None or not response.context["cl"].model_admin.get_actions(
        response.wsgi_request)
    refused = viewer.post(CHANGELIST, {"action": "stop_selected", "_selected_action": [str(running.pk)],
                                       "confirmed": "yes"})
    running.refresh_from_db()
    assert running.status == "RUNNING" and refused.status_code in (200, 302)
