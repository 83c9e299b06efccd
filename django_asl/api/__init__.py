"""The REST API: DRF viewsets over the engine's public API (``django_asl.engine``).

Include ``django_asl.api.urls`` under any prefix; docs/api.md lists the endpoints,
their permissions, the settings and the errors.
"""
