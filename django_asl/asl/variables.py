"""Workflow variables: the ``Assign`` field, in both query languages, and AWS's limits on it.

AWS, "Passing data between states with variables":

- ``Assign`` is allowed on Pass, Task, Choice (and each Choice rule), Wait,
  Map and Parallel, and in a Catcher. Its object maps variable names to values:
  in JSONPath states a ``"name.$"`` key takes a path (``$`` is the state's
  result), a ``$$`` context path, a ``$variable`` path or an intrinsic
  function; in JSONata states values may hold ``{% %}`` expressions.
- "Assign is evaluated ... before any new variable values are assigned": every
  value of one Assign sees the variables as they were when the state was
  entered, and so does the state's Output (or OutputPath); the new values are
  visible from the next state on.
- Scope: nested states (Parallel branches, Map iterations) see the outer
  variables as they were when the branch or iteration started; what they
  assign stays inside the branch or iteration.
- Limits: a variable's value may be at most 256 KiB, and the values of one
  Assign field together at most 256 KiB. Names (identifiers of at most 80
  characters, ``states`` reserved) and scopes (an inner state may not assign a
  name an enclosing scope assigns) are checked by the validator
  (``validation.py``).
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import ErrorName, StatesError

MAX_VARIABLE_BYTES = 256 * 1024
MAX_ASSIGN_BYTES = 256 * 1024
class Assignment:
    """A compiled ``Assign`` field: ``values(...)`` returns the new variables, checked against the limits."""

    __slots__ = ("evaluate", "jsonata")

    def __init__(self, raw: dict, *, jsonata: bool) -> None:
        self.jsonata = jsonata
        if jsonata:
            from .jsonata_ import compile_field

            self.evaluate: Callable[..., Any] = compile_field(raw, "Assign")
        else:
            from .templates import compile_template

            self.evaluate = compile_template(raw)

    def values(self, value: Any, env: Any) -> dict:
        """Return the assigned variables: ``value`` is the JSONPath ``$``, or the JSONata bindings."""
        assigned = self.evaluate(value) if self.jsonata else self.evaluate(value, env)
        check_sizes(assigned)
        return assigned


def check_sizes(assigned: dict) -> None:
    """Raise ``States.DataLimitExceeded`` when a value, or the values together, pass AWS's limits."""
    from .states.base import payload_size, within_payload_limit

    if within_payload_limit(assigned):  # well within both limits: no exact measure needed
        return
    total = 0
    for name, value in assigned.items():
        size = payload_size(value)
        if size > MAX_VARIABLE_BYTES:
            raise StatesError(ErrorName.DATA_LIMIT_EXCEEDED,
                              f"The value assigned to the variable '{name}' has {size} bytes, more than the "
                              f"maximum of {MAX_VARIABLE_BYTES} bytes.")
        total += size
    if total > MAX_ASSIGN_BYTES:
        raise StatesError(ErrorName.DATA_LIMIT_EXCEEDED,
                          f"The values of the Assign field have {total} bytes together, more than the maximum "
                          f"of {MAX_ASSIGN_BYTES} bytes.")


def merged(variables: dict, assigned: dict | None) -> dict:
    """Return the variables after an assignment (a new dict: the old one may be shared by a fork)."""
    if not assigned:
        return variables
    new = dict(variables)
    new.update(assigned)
    return new
