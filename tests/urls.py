"""URLs of the test project: the admin, where admin tests open every page, and the REST API."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("django_asl.api.urls")),
]
