"""Management commands of django-asl: thin front ends over ``django_asl.engine``."""
