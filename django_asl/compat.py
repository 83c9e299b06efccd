"""What differs between the Django versions django-asl supports (4.2 and 5.2), in one place.

Models and migrations import from here: a migration written by ``makemigrations``
on Django 5.2 spells a check constraint ``CheckConstraint(condition=...)``, which
Django 4.2 does not know (it says ``check=``).
"""
from __future__ import annotations

import django
from django.db import models


def check_constraint(condition: models.Q, name: str) -> models.CheckConstraint:
    """Return a CheckConstraint on both Django 4.2 (``check=``) and 5.1+ (``condition=``)."""
    keyword = "condition" if django.VERSION >= (5, 1) else "check"
    return models.CheckConstraint(**{keyword: condition, "name": name})
