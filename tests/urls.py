"""URLs of the test project: the admin, where admin tests open every page."""
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
