"""URLs of the example project: the admin, and the orders' JSON views."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("orders/", include("example_project.orders.urls")),
]
