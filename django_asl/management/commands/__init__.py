"""The ``asl_*`` management commands; each calls only what ``django_asl.engine`` exports."""
