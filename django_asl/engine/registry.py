"""Task handlers: which Python callable a Task state's Resource reaches.

Handlers come from three places, in this order of precedence:

1. ``@django_asl.task("resource")`` on a function in any module;
2. each installed app's ``asl_tasks.py`` module, imported by ``autodiscover()``
   (as the admin imports ``admin.py``), which is where such functions live;
3. ``DJANGO_ASL["TASKS"]``, a mapping of resource to dotted path.

A definition can only reach handlers registered here: a Task whose Resource has
no handler is a validation error when the state machine is saved.
"""
from __future__ import annotations

import threading
from typing import Callable

from django.utils.module_loading import autodiscover_modules, import_string

from ..conf import asl_settings
from ..exceptions import DjangoAslError

_registry: dict[str, Callable] = {}
_lock = threading.Lock()
_discovered = False


class UnknownResource(DjangoAslError):
    """No task handler is registered for this resource."""


def task(resource: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the handler of ``resource``.

        @django_asl.task("urn:shop:charge")
        def charge(input, context):
            ...
    """
    if not isinstance(resource, str) or not resource:
        raise TypeError("task() takes the resource URI the handler serves, e.g. @task('urn:shop:charge').")

    def register(handler: Callable) -> Callable:
        if not callable(handler):
            raise TypeError(f"@task({resource!r}) must decorate a callable.")
        with _lock:
            existing = _registry.get(resource)
            if existing is not None and existing is not handler and (
                    getattr(existing, "__qualname__", None), getattr(existing, "__module__", None)) != (
                    getattr(handler, "__qualname__", None), getattr(handler, "__module__", None)):
                raise ValueError(f"Two handlers are registered for the resource {resource!r}: "
                                 f"{existing.__module__}.{existing.__qualname__} and "
                                 f"{handler.__module__}.{handler.__qualname__}.")
            _registry[resource] = handler
        return handler

    return register


def autodiscover() -> None:
    """Import every installed app's ``asl_tasks`` module, once."""
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        _discovered = True
    autodiscover_modules("asl_tasks")


def handlers() -> dict[str, Callable]:
    """Return every registered handler by resource: decorated ones, then the TASKS setting."""
    autodiscover()
    found = {}
    for resource, dotted in asl_settings.TASKS.items():
        try:
            found[resource] = import_string(dotted)
        except ImportError as exc:
            raise UnknownResource(f"DJANGO_ASL['TASKS'][{resource!r}] = {dotted!r} cannot be imported: {exc}")
    found.update(_registry)
    return found


def get_handler(resource: str) -> Callable:
    """Return the handler of ``resource``; raise ``UnknownResource`` when there is none."""
    handler = _registry.get(resource)
    if handler is not None:
        return handler
    handler = handlers().get(resource)
    if handler is None:
        raise UnknownResource(f"No task handler is registered for the resource {resource!r}.")
    return handler
