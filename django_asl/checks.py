"""System checks on the shape of the ``DJANGO_ASL`` setting.

Ids are stable and never reused (STYLE.md): ``django_asl.E001`` … for errors,
``django_asl.W001`` … for warnings.
"""
from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from .conf import DEFAULTS, SETTING_NAME

# RFC 3986, section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _label(*keys: str) -> str:
    return SETTING_NAME + "".join(f"[{key!r}]" for key in keys)


def _must_be(label: str, what: str, *, hint: str, id: str) -> Error:
    return Error(f"The value of '{label}' must be {what}.", hint=hint, obj=None, id=id)


@register("django_asl")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Return the problems with ``settings.DJANGO_ASL``, every one of them."""
    if not hasattr(settings, SETTING_NAME):
        return []
    value = getattr(settings, SETTING_NAME)
    if not isinstance(value, dict):
        return [_must_be(
            SETTING_NAME, "a dict",
            hint="Set DJANGO_ASL to a dict such as {'TASKS': {...}}, or remove it to use the defaults.",
            id="django_asl.E001",
        )]
    problems: list[Error | Warning] = []
    problems.extend(_check_tasks(value))
    problems.extend(_check_numbers(value))
    problems.extend(_check_permission_classes(value))
    for key in value:
        if key not in DEFAULTS:
            problems.append(Warning(
                f"'{_label(str(key))}' is not a django-asl setting and is ignored.",
                hint=f"The settings are: {', '.join(sorted(DEFAULTS))}.",
                obj=None,
                id="django_asl.W001",
            ))
    return problems


def _check_tasks(value: dict) -> list[Error]:
    if "TASKS" not in value:
        return []
    tasks = value["TASKS"]
    hint = "Map each Task resource URI to the dotted path of a callable, e.g. {'urn:django-asl:orders.validate': 'shop.tasks.validate_order'}."
    if not isinstance(tasks, dict):
        return [_must_be(_label("TASKS"), "a dict", hint=hint, id="django_asl.E002")]
    problems = []
    for resource, target in tasks.items():
        if not isinstance(resource, str) or not _URI.match(resource):
            problems.append(Error(
                f"The key {resource!r} of '{_label('TASKS')}' must be a URI.",
                hint="A Task's Resource is a URI, such as 'arn:aws:lambda:eu-west-1:000000000000:function:name' or 'urn:django-asl:name'.",
                obj=None,
                id="django_asl.E003",
            ))
        elif not isinstance(target, str) or not _DOTTED_PATH.match(target):
            problems.append(_must_be(_label("TASKS", resource), "a dotted path to a callable", hint=hint,
                                     id="django_asl.E004"))
    return problems


# The numeric settings: name -> (accepts floats, lowest, highest, what it must be, hint, check id).
_NUMBERS: dict[str, tuple] = {
    "MAX_PAYLOAD_BYTES": (False, 1, None, "a positive integer",
                          "AWS Step Functions allows 262144 bytes (256 KiB).", "django_asl.E005"),
    "TASK_LEASE_SECONDS": (True, None, None, "a positive number",
                           "It is how long a Task handler without TimeoutSeconds may run before another worker "
                           "calls it again; the default is 300.", "django_asl.E006"),
    "MESSAGE_TTL_SECONDS": (True, 0, 10 ** 9, "a number of seconds from 0 to 1000000000",
                            "It is how long a message no execution waits for is kept for one that arrives later; "
                            "the default is 86400 (a day), and 0 drops such messages.", "django_asl.E008"),
    "API_PAGE_SIZE": (False, 1, 1000, "an integer from 1 to 1000",
                      "It is how many items a page of the REST API's lists holds; the default is 50.",
                      "django_asl.E021"),
    "API_LONG_POLL_SECONDS": (True, 0, 60, "a number of seconds from 0 to 60",
                              "It is the longest an activity poll of the REST API waits for a task; the "
                              "default is 60, as on AWS.", "django_asl.E022"),
    "REDRIVE_WINDOW_DAYS": (True, None, None, "a positive number",
                            "It is how many days after it stopped an unsuccessful execution can be redriven; "
                            "the default is 14, as on AWS.", "django_asl.E007"),
}


def _check_numbers(value: dict) -> list[Error]:
    problems = []
    for name, (floats, lowest, highest, what, hint, id) in _NUMBERS.items():
        number = value.get(name, DEFAULTS[name])
        kinds = (int, float) if floats else int
        fits = not isinstance(number, bool) and isinstance(number, kinds) and (
            number > 0 if lowest is None else number >= lowest) and (highest is None or number <= highest)
        if not fits:
            problems.append(_must_be(_label(name), what, hint=hint, id=id))
    return problems


def _check_permission_classes(value: dict) -> list[Error]:
    classes = value.get("API_PERMISSION_CLASSES", DEFAULTS["API_PERMISSION_CLASSES"])
    if isinstance(classes, (list, tuple)) and all(isinstance(c, str) and _DOTTED_PATH.match(c) for c in classes):
        return []
    return [_must_be(_label("API_PERMISSION_CLASSES"), "a list of dotted paths to DRF permission classes",
                     hint="The default is ['django_asl.api.permissions.AslPermissions']; an empty list "
                          "allows every request.", id="django_asl.E020")]
