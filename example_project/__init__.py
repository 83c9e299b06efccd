"""An example Django project that uses django-asl: an order-processing workflow."""
