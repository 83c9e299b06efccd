"""HistoryEventAdmin: read-only for everyone (a superuser too), searched by execution id, never counted whole."""
from __future__ import annotations

import django
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from django_asl.engine import start_execution
from django_asl.models import HistoryEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_asl_historyevent_changelist")


def url(name, *args):
    return reverse(f"admin:django_asl_historyevent_{name}", args=args)


@pytest.fixture
def superuser(client):
    """A client logged in as a superuser: every permission, yet history stays read-only."""
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_history_is_read_only_for_a_superuser(superuser, failed):
    event = failed.history.order_by("sequence").first()
    page = superuser.get(url("change", event.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert b'name="_save"' not in page.content and b"deletelink" not in page.content
    assert superuser.get(url("add")).status_code == 403
    assert superuser.get(url("delete", event.pk)).status_code == 403
    assert superuser.post(url("delete", event.pk), {"post": "yes"}).status_code == 403
    assert superuser.post(url("change", event.pk), {"type": "Tampered"}).status_code == 403
    listing = superuser.get(CHANGELIST)
    assert "delete_selected" not in listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    refused = superuser.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [str(event.pk)],
                                          "post": "yes"})
    assert refused.status_code in (200, 302)
    event.refresh_from_db()
    assert event.type == "ExecutionStarted" and HistoryEvent.objects.filter(pk=event.pk).exists()


def test_a_viewer_reads_history_and_changes_nothing(viewer, failed):
    event = failed.history.order_by("sequence").first()
    assert viewer.get(CHANGELIST).status_code == 200
    assert viewer.get(url("change", event.pk)).status_code == 200
    assert viewer.post(url("change", event.pk), {"type": "Tampered"}).status_code == 403
    assert viewer.get(url("add")).status_code == 403


def test_search_by_execution_id_only(viewer, failed, machines, drain):
    other = start_execution("pass", {}, name="other")
    drain()
    found = viewer.get(CHANGELIST, {"q": str(failed.pk)}).context["cl"].result_list
    assert {event.execution_id for event in found} == {failed.pk}
    assert list(viewer.get(CHANGELIST, {"q": "flaky"}).context["cl"].result_list) == []  # a name: nothing
    assert other.history.exists()


def test_the_changelist_query_count_does_not_grow_and_never_counts_the_table(
        viewer, machines, drain, django_assert_num_queries):
    start_execution("pass", {}, name="first")
    drain()
    with django_assert_num_queries(6) as few:
        assert viewer.get(CHANGELIST).status_code == 200
    for index in range(30):
        start_execution("pass", {}, name=f"more-{index}")
    drain()
    assert HistoryEvent.objects.count() > 100  # more than one page
    with django_assert_num_queries(len(few.captured_queries)) as many:
        assert viewer.get(CHANGELIST).status_code == 200
    counts = [query["sql"] for query in many.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


def test_the_change_page_has_a_pinned_query_count(viewer, failed, django_assert_num_queries):
    event = failed.history.order_by("-sequence").first()
    # Before Django 5.0 the admin's change form ran a GET in a transaction too: a savepoint and its release.
    with django_assert_num_queries(6 if django.VERSION >= (5, 0) else 8):
        assert viewer.get(url("change", event.pk)).status_code == 200
