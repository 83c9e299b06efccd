"""BatchAdmin: changelist, detail page with its items, the status JSON it polls, and cancel (with denials)."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from django_asl.engine import start_batch, start_execution
from django_asl.models import Batch

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_asl_batch_changelist")


def url(name, *args):
    return reverse(f"admin:django_asl_batch_{name}", args=args)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def sources(machines, drain):
    """Return a function that starts ``count`` 'pass' executions and runs them to SUCCEEDED."""

    def make(count, prefix="src"):
        for index in range(count):
            start_execution("pass", {"i": index}, name=f"{prefix}-{index}")
        drain()

    return make


@pytest.fixture
def batch(sources, drain, django_capture_on_commit_callbacks):
    """A RUNNING batch of 3 items into 'waits', at most 2 at once: 2 executions wait for a callback, 1 pending."""
    sources(3)
    with django_capture_on_commit_callbacks(execute=True):
        started = start_batch("waits", {"state_machine": "pass"}, name_prefix="wave", concurrency=2)
    drain(until_callbacks=True)
    return started


def test_the_changelist_lists_batches_with_their_progress(viewer, batch):
    response = viewer.get(CHANGELIST)
    assert response.status_code == 200
    assert [row.name_prefix for row in response.context["cl"].result_list] == ["wave"]
    assert b"<progress" in response.content and b"0/3 (0 failed)" in response.content


def test_the_changelist_query_count_does_not_grow_with_batches(viewer, sources, django_assert_num_queries):
    sources(2)
    start_batch("pass", {"state_machine": "pass"}, name_prefix="one")
    with django_assert_num_queries(7) as few:
        assert viewer.get(CHANGELIST).status_code == 200
    for index in range(5):
        start_batch("pass", {"state_machine": "pass"}, name_prefix=f"more-{index}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert viewer.get(CHANGELIST, {"status__exact": "RUNNING"}).status_code == 200


def test_the_detail_page_shows_figures_and_a_page_of_items(viewer, batch):
    response = viewer.get(url("change", batch.pk))
    assert response.status_code == 200
    described = response.context["described"]
    assert (described["status"], described["total"], described["running"], described["pending"]) == (
        "RUNNING", 3, 2, 1)
    assert [item.index for item in response.context["items"]] == [0, 1, 2]
    assert b'id="asl-batch-progress"' in response.content and b"wave-0" in response.content
    assert b"/cancel/" not in response.content  # a viewer has no cancel link


def test_the_detail_page_query_count_does_not_grow_with_items(viewer, sources, django_assert_num_queries):
    sources(3, prefix="few")
    small = start_batch("pass", {"name_prefix": "few-"}, name_prefix="small")
    with django_assert_num_queries(7) as few:
        assert viewer.get(url("change", small.pk)).status_code == 200
    sources(120, prefix="many")
    large = start_batch("pass", {"name_prefix": "many-"}, name_prefix="large")
    assert large.total == 120
    with django_assert_num_queries(len(few.captured_queries)):
        response = viewer.get(url("change", large.pk), {"items": "3"})
    assert [item.index for item in response.context["items"]] == list(range(100, 120))
    assert response.context["items"].paginator.num_pages == 3


def test_the_status_json_is_describe_batch(viewer, batch, django_assert_num_queries):
    with django_assert_num_queries(6):
        data = viewer.get(url("status", batch.pk)).json()
    assert (data["batch_id"], data["name_prefix"], data["status"], data["total"]) == (
        str(batch.pk), "wave", "RUNNING", 3)
    assert data["source_filter"] == {"state_machine": "pass"}


def test_cancel_asks_then_cancels_and_refuses_an_ended_batch(operator, batch, django_assert_num_queries):
    assert b"/cancel/" in operator.get(url("change", batch.pk)).content
    page = operator.get(url("cancel", batch.pk))
    assert page.status_code == 200 and b"stop_running" in page.content
    # The batch is locked and cancelled, then each running execution is stopped in a transaction of its
    # own: the count grows with the running executions (at most the batch's concurrency), not its items.
    with django_assert_num_queries(38):
        response = operator.post(url("cancel", batch.pk), {"stop_running": "on"})
    assert response.status_code == 302 and response["Location"] == url("change", batch.pk)
    batch.refresh_from_db()
    assert batch.status == "CANCELLED"
    assert set(batch.items.values_list("status", flat=True)) == {"CANCELLED", "FAILED"}  # pending; stopped
    again = operator.post(url("cancel", batch.pk), follow=True)
    assert any("has already ended" in message for message in messages_of(again))


def test_a_viewer_cannot_cancel(viewer, batch):
    assert viewer.get(url("cancel", batch.pk)).status_code == 403
    assert viewer.post(url("cancel", batch.pk), {"stop_running": "on"}).status_code == 403
    batch.refresh_from_db()
    assert batch.status == "RUNNING"


def test_batches_are_not_added_changed_or_deleted_even_by_a_superuser(client, batch):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    assert client.get(url("add")).status_code == 403
    assert client.post(url("change", batch.pk), {"concurrency": "99"}).status_code == 403
    assert client.get(url("delete", batch.pk)).status_code == 403
    assert Batch.objects.get(pk=batch.pk).concurrency == 2
