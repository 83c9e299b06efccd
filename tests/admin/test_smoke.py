"""Open every admin URL of django_asl as a viewer: each answers 200 (or a redirect), none a 500."""
from __future__ import annotations

import pytest
from django.urls import reverse

from django_asl.engine import start_batch

pytestmark = pytest.mark.django_db


def test_every_admin_page_opens_for_a_viewer(viewer, failed, running, drain):
    batch = start_batch("pass", {"state_machine": "flaky"}, name_prefix="smoke")
    drain(until_callbacks=True)
    child = failed.children.first()
    machine = failed.state_machine
    event = failed.history.first()
    urls = [
        reverse("admin:index"), reverse("admin:app_list", args=["django_asl"]),
        reverse("admin:django_asl_statemachine_changelist"),
        reverse("admin:django_asl_statemachine_change", args=[machine.pk]),
        reverse("admin:django_asl_statemachine_statistics", args=[machine.pk]),
        reverse("admin:django_asl_execution_changelist"),
        reverse("admin:django_asl_execution_change", args=[failed.pk]),
        reverse("admin:django_asl_execution_change", args=[child.pk]),
        reverse("admin:django_asl_execution_change", args=[running.pk]),
        reverse("admin:django_asl_execution_status", args=[failed.pk]),
        reverse("admin:django_asl_historyevent_changelist"),
        reverse("admin:django_asl_historyevent_change", args=[event.pk]),
        reverse("admin:django_asl_batch_changelist"),
        reverse("admin:django_asl_batch_change", args=[batch.pk]),
        reverse("admin:django_asl_batch_status", args=[batch.pk]),
    ]
    for url in urls:
        response = viewer.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("name", [
    "admin:django_asl_statemachine_start", "admin:django_asl_execution_stop", "admin:django_asl_execution_redrive",
    "admin:django_asl_execution_rerun", "admin:django_asl_execution_send_message",
])
def test_a_viewer_is_refused_every_action(viewer, failed, running, name):
    target = failed.state_machine.pk if "statemachine" in name else running.pk
    url = reverse(name, args=[target])
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {}).status_code == 403


def test_a_viewer_cannot_launch_or_cancel_batches_or_add_anything(viewer, failed):
    assert viewer.get(reverse("admin:django_asl_execution_batch_launch")).status_code == 403
    assert viewer.get(reverse("admin:django_asl_statemachine_add")).status_code == 403
    assert viewer.get(reverse("admin:django_asl_execution_add")).status_code == 403


@pytest.mark.parametrize("url", ["/admin/django_asl/execution/not-a-uuid/change/",
                                 "/admin/django_asl/execution/00000000-0000-0000-0000-000000000000/change/",
                                 "/admin/django_asl/batch/nope/change/"])
def test_unknown_objects_are_404_not_500(viewer, url):
    assert viewer.get(url).status_code in (302, 404)


def test_a_staff_user_without_view_permissions_sees_no_page(client, failed):
    from tests.admin.conftest import user_with

    client.force_login(user_with("nobody"))
    batch = start_batch("pass", {"state_machine": "flaky"}, name_prefix="hidden")
    machine = failed.state_machine
    for name, args in (("statemachine_change", [machine.pk]), ("statemachine_statistics", [machine.pk]),
                       ("execution_changelist", []), ("execution_change", [failed.pk]),
                       ("execution_status", [failed.pk]), ("historyevent_changelist", []),
                       ("batch_changelist", []), ("batch_change", [batch.pk]), ("batch_status", [batch.pk])):
        assert client.get(reverse(f"admin:django_asl_{name}", args=args)).status_code == 403, name
