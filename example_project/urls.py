"""URLs of the example project: the admin, the REST API and the orders' JSON views.

The API's own URLs include its schema and docs: ``/api/schema/`` (OpenAPI 3),
``/api/docs/`` (Swagger UI) and ``/api/redoc/`` (ReDoc).
"""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("django_asl.api.urls")),
    path("orders/", include("example_project.orders.urls")),
]
