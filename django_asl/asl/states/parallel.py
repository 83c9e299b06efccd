"""The Parallel state: runs every branch on the same input and collects their outputs."""
from __future__ import annotations

from typing import Any

from ..errors import StatesError
from ..outcomes import ForkBranches, Outcome
from .base import State, check_result_size


class ParallelState(State):
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
        return ForkBranches(self.branches, self.effective_input(data, env))

    def complete(self, data: Any, results: list, env: Any) -> Outcome:
        """Finish the state with the branches' outputs, in branch order."""
        try:
            check_result_size(results, self.name)
            return self.finish(data, results, env)
        except StatesError as exc:
            return self.on_error(data, exc.name, exc.cause, env)

    def fail_fork(self, data: Any, error: str | None, cause: str | None, env: Any) -> Outcome:
        """Finish the state after a branch failed."""
        return self.on_error(data, error, cause, env)
