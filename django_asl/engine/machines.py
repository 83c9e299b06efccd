"""Parsed state machines for stored versions, built once per process and version."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

from ..asl import StateMachine, parse_definition

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[int, str], StateMachine] = OrderedDict()
_lock = threading.Lock()


def machine_for(version, machine_path: str = "") -> StateMachine:
    """Return the parsed (sub-)machine of a ``StateMachineVersion``.

    Versions never change, so the parsed tree is kept per version (and its
    digest, in case a database was restored under the same ids).
    ``machine_path`` names a Parallel branch or Map processor inside it; see
    ``child_path``.
    """
    key = (version.pk, version.digest)
    machine = _cache.get(key)
    if machine is None:
        machine = parse_definition(version.definition)
        with _lock:
            _cache[key] = machine
            if len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return sub_machine(machine, machine_path) if machine_path else machine


def sub_machine(machine: StateMachine, machine_path: str) -> StateMachine:
    """Return the sub-machine of ``machine`` that ``machine_path`` names."""
    for state_name, branch in json.loads(machine_path):
        state = machine.states[state_name]
        machine = state.processor if branch is None else state.branches[branch]
    return machine
