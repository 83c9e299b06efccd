"""Command line for the language core, without Django.

    python -m django_asl.asl validate FILE...
    python -m django_asl.asl run FILE [--input JSON | --input-file FILE] [--task RESOURCE=module:function]...
    python -m django_asl.asl test-state FILE --state NAME [--input JSON | --input-file FILE]
        [--mock-result JSON | --mock-error ERROR [--mock-cause TEXT]] [--variables JSON]
        [--inspection-level INFO|DEBUG|TRACE] [--task RESOURCE=module:function]...

``validate`` prints one ``path: message`` line per issue and exits with 1 when
any definition has an error. ``run`` prints the result as one JSON object.
``test-state`` runs one state (AWS's TestState) and prints its response as one
JSON object; it exits with 1 when the status is FAILED.
Bad arguments print a one-line error and exit with 2; nothing prints a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any, Callable

from .context import Context, SystemClock
from .definition import parse_definition
from .errors import DefinitionError
from .runner import run
from .validation import validate


class UsageError(Exception):
    """A command-line argument is wrong; the message says which and why."""


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: it is not UTF-8 text") from None


def _json_argument(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None


def _handler(spec: str) -> tuple[str, Callable]:
    resource, sep, target = spec.rpartition("=")
    module_name, colon, attribute = target.partition(":")
    if not sep or not resource or not colon or not module_name or not attribute:
        raise UsageError(f"--task {spec!r} must look like RESOURCE=package.module:function")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
    except ImportError as exc:
        raise UsageError(f"--task {spec!r}: cannot import {module_name}: {exc}") from None
    except AttributeError:
        raise UsageError(f"--task {spec!r}: {module_name} has no attribute {attribute!r}") from None
    if not callable(handler):
        raise UsageError(f"--task {spec!r}: {target} is not callable")
    return resource, handler


def _format(path: str) -> str:
    """Return the definition format of a file: YAML by extension, else JSON."""
    return "yaml" if path.lower().endswith((".yaml", ".yml")) else "json"


def command_validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        issues = validate(_read(path), format=_format(path))
        if len(args.files) > 1 and issues:
            print(f"{path}:")
        for issue in issues:
            label = "" if issue.is_error else "warning: "
            print(f"{issue.path}: {label}{issue.message}")
        failed = failed or any(issue.is_error for issue in issues)
    return 1 if failed else 0


def command_run(args: argparse.Namespace) -> int:
    definition = _read(args.file)
    execution_input = _input(args)
    tasks = dict(_handler(spec) for spec in args.task)
    context = Context(clock=SystemClock()) if args.real_time else None
    try:
        machine = parse_definition(definition, format=_format(args.file))
        result = run(machine, execution_input, tasks=tasks, context=context, real_time=args.real_time)
    except DefinitionError as exc:
        return _print_issues(exc)
    document = result.as_dict()
    if args.history:
        document["history"] = result.history
    print(json.dumps(document, indent=2, default=str, ensure_ascii=False))
    return 0 if result.status == "SUCCEEDED" else 1


def _input(args: argparse.Namespace) -> Any:
    if args.input_file:
        return _json_argument(_read(args.input_file), f"the contents of {args.input_file}")
    return _json_argument(args.input, "--input")


def command_test_state(args: argparse.Namespace) -> int:
    from .teststate import test_state

    definition = _read(args.file)
    state_input = _input(args)
    options: dict[str, Any] = {"inspection_level": args.inspection_level,
                               "tasks": dict(_handler(spec) for spec in args.task)}
    if args.mock_result is not None:
        options["mock_result"] = _json_argument(args.mock_result, "--mock-result")
    if args.mock_error is not None:
        options["mock_error"] = {"error": args.mock_error, "cause": args.mock_cause}
    elif args.mock_cause is not None:
        raise UsageError("--mock-cause needs --mock-error")
    if args.variables is not None:
        variables = _json_argument(args.variables, "--variables")
        if not isinstance(variables, dict):
            raise UsageError("--variables must be a JSON object of variable names and values")
        options["variables"] = variables
    if _format(args.file) == "yaml":
        from .loading import load_text

        definition, issues = load_text(definition, "yaml")
        if issues:
            return _print_issues(DefinitionError(issues))
    try:
        response = test_state(definition, args.state, state_input, **options)
    except DefinitionError as exc:
        return _print_issues(exc)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(response, indent=2, default=str, ensure_ascii=False))
    return 1 if response["status"] == "FAILED" else 0


def _print_issues(exc: DefinitionError) -> int:
    for issue in exc.issues:
        if issue.is_error:
            print(f"{issue.path}: {issue.message}", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m django_asl.asl", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check definitions (JSON or YAML files)")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=command_validate)
    execute = commands.add_parser("run", help="run a definition in memory and print the result as JSON")
    execute.add_argument("file", metavar="FILE")
    source = execute.add_mutually_exclusive_group()
    source.add_argument("--input", default="{}", metavar="JSON", help="execution input (default {})")
    source.add_argument("--input-file", metavar="FILE", help="read the execution input from a JSON file")
    execute.add_argument("--task", action="append", default=[], metavar="RESOURCE=module:function",
                         help="handler for a Task Resource (repeatable)")
    execute.add_argument("--real-time", action="store_true", help="really wait in Wait states and retries")
    execute.add_argument("--history", action="store_true", help="include the history events")
    execute.set_defaults(handler=command_run)
    probe = commands.add_parser("test-state", help="run one state in isolation (AWS TestState) and print the response")
    probe.add_argument("file", metavar="FILE", help="a state machine definition, or one state's definition")
    probe.add_argument("--state", metavar="NAME", help="the state to run (default: StartAt)")
    source = probe.add_mutually_exclusive_group()
    source.add_argument("--input", default="{}", metavar="JSON", help="the state's input (default {})")
    source.add_argument("--input-file", metavar="FILE", help="read the state's input from a JSON file")
    mock = probe.add_mutually_exclusive_group()
    mock.add_argument("--mock-result", metavar="JSON", help="the result a Task (or Map, Parallel) returns")
    mock.add_argument("--mock-error", metavar="ERROR", help="the error a Task fails with")
    probe.add_argument("--mock-cause", metavar="TEXT", help="the cause of --mock-error")
    probe.add_argument("--variables", metavar="JSON", help="the variables the state sees (a JSON object)")
    probe.add_argument("--inspection-level", choices=("INFO", "DEBUG", "TRACE"), default="INFO")
    probe.add_argument("--task", action="append", default=[], metavar="RESOURCE=module:function",
                       help="handler for a Task Resource (repeatable), instead of a mock")
    probe.set_defaults(handler=command_test_state)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
