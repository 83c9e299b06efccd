"""The Parallel state: runs every branch on the same input and collects their outputs."""
from __future__ import annotations

from typing import Any

from ..outcomes import ForkBranches, Outcome
from .base import ForkingState


class ParallelState(ForkingState):
    """Spec, "Parallel State": "The Parallel state causes the interpreter to execute
    each branch ... The output is an array with one element for each branch,
    containing the output from that branch", in the order of the branches.

    If any branch fails, the whole state fails with that branch's error (and
    Retry/Catch apply to it); the driver stops the other branches.
    """

    type = "Parallel"
    entered_event = "ParallelStateEntered"
    exited_event = "ParallelStateExited"

    def __init__(self, name: str, raw: dict, build_machine: Any) -> None:
        super().__init__(name, raw, build_machine)
        self.branches = tuple(build_machine(branch) for branch in raw.get("Branches", ()))

    def _step(self, data: Any, env: Any) -> Outcome:
        return ForkBranches(self.branches, self.effective_input(data, env), env.variables)

