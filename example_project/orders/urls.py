"""URLs of the orders app, included under ``orders/``."""
from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/fulfil/", views.fulfil_order, name="fulfil"),
]
