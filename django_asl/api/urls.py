"""URLs of the REST API: include them under any prefix, ``path("api/", include("django_asl.api.urls"))``.

Beside the endpoints: the OpenAPI 3 schema (``schema/``), Swagger UI (``docs/``)
and ReDoc (``redoc/``), served by drf-spectacular with the UI files of
drf-spectacular-sidecar, so they work offline (no CDN). Trailing slashes are optional.
"""
from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import views

app_name = "django_asl_api"

router = DefaultRouter(trailing_slash="/?")
router.register("state-machines", views.StateMachineViewSet, basename="state-machine")
router.register("executions", views.ExecutionViewSet, basename="execution")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("messages", views.MessageViewSet, basename="message")
router.register("task-tokens", views.TaskTokenViewSet, basename="task-token")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("statistics", views.StatisticsViewSet, basename="statistics")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="django_asl_api:schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="django_asl_api:schema"), name="redoc"),
]
