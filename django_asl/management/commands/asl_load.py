"""``asl_load``: create or update state machines from JSON or YAML definition files.

    python manage.py asl_load workflows/            # every *.json, *.yaml, *.yml below it
    python manage.py asl_load order.asl.json refund.yaml --type EXPRESS

A file holds either the definition itself, named after the file
(``order.asl.json`` -> ``order``), or a wrapper that names it::

    {"Name": "order", "Type": "EXPRESS", "Description": "...", "Definition": {...}}

``Definition`` may also be definition text (a JSON string), as AWS's
``CreateStateMachine`` takes it. Every file is read and the valid ones are
published; the problems of the others are printed as ``FILE: path: message``
on stderr, and the command then fails. Issue paths are JSONPath from the
definition's root, also in the wrapper form.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_asl.asl import DefinitionError, Issue
from django_asl.asl.definition import text_format
from django_asl.asl.loading import load_text
from django_asl.engine import publish
from django_asl.exceptions import DjangoAslError
from django_asl.models import StateMachine

#: File suffixes read from directories, and the format each one means.
SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
WRAPPER_FIELDS = ("Name", "Type", "Description", "Definition")
MAX_NAME_LENGTH = StateMachine._meta.get_field("name").max_length


@dataclass
class Source:
    """One definition file, once read: what to publish, or why not."""

    path: pathlib.Path
    name: str | None = None
    type: str | None = None
    description: str | None = None
    definition: Any = None
    issues: list[Issue] = field(default_factory=list)

    def problem(self, path: str, code: str, message: str) -> None:
        """Record a problem with the file (an error ``Issue``)."""
        self.issues.append(Issue(path, code, message))


def state_machine_name(path: pathlib.Path) -> str:
    """Return the name a file gives its state machine: its stem, without a trailing ``.asl``."""
    stem = path.stem
    return stem[:-4] if stem.lower().endswith(".asl") and len(stem) > 4 else stem


def definition_files(path: pathlib.Path) -> list[pathlib.Path]:
    """Return the definition files under a directory, recursively, in a stable order; skip hidden ones."""
    return sorted(
        candidate for candidate in path.rglob("*")
        if candidate.suffix.lower() in SUFFIXES and candidate.is_file()
        and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
    )


def read_source(path: pathlib.Path, default_type: str) -> Source:
    """Read one file into a ``Source``; problems become its issues, never exceptions."""
    source = Source(path, name=state_machine_name(path), type=default_type)
    try:
        data = path.read_bytes()
    except OSError as exc:
        source.problem("$", "unreadable_file", f"The file cannot be read: {exc.strerror or exc}.")
        return source
    format = SUFFIXES.get(path.suffix.lower()) or text_format(data)
    value, issues = load_text(data, format)
    if issues:
        source.issues.extend(issues)
        return source
    if isinstance(value, dict) and "Definition" in value and "States" not in value:
        unwrap(source, value)
    else:
        source.definition = value
    if not isinstance(source.name, str) or not 1 <= len(source.name) <= MAX_NAME_LENGTH:
        source.problem("$.Name", "invalid_name",
                       f"The state machine name must be a string of 1 to {MAX_NAME_LENGTH} characters; "
                       f"name it with the wrapper form's '$.Name'.")
    return source


def unwrap(source: Source, wrapper: dict) -> None:
    """Take the name, type, description and definition from the wrapper form."""
    for key in wrapper:
        if key not in WRAPPER_FIELDS:
            source.problem(f"$.{key}" if str(key).isidentifier() else f"$['{key}']", "unknown_field",
                           f"'{key}' is not a field of the wrapper form; its fields are "
                           f"{', '.join(WRAPPER_FIELDS)}.")
    for key in getattr(wrapper, "duplicate_keys", ()):
        source.problem(f"$.{key}", "duplicate_key", f"'$.{key}' appears more than once.")
    source.name = wrapper.get("Name", source.name)
    source.type = wrapper.get("Type", source.type)
    if source.type not in StateMachine.Type.values:
        source.problem("$.Type", "invalid_type", "The value of '$.Type' must be 'STANDARD' or 'EXPRESS'.")
    source.description = wrapper.get("Description")
    if source.description is not None and not isinstance(source.description, str):
        source.problem("$.Description", "invalid_description", "The value of '$.Description' must be a string.")
    definition = wrapper["Definition"]
    if isinstance(definition, str):
        # AWS takes the definition as a string; so may the wrapper.
        definition, issues = load_text(definition, text_format(definition))
        source.issues.extend(issues)
    source.definition = definition


class Command(BaseCommand):
    help = ("Create or update state machines from JSON or YAML definition files "
            "(a changed definition becomes a new version).")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR",
                            help="Definition files, or directories to search for *.json, *.yaml and *.yml files.")
        parser.add_argument("--type", choices=StateMachine.Type.values, default=StateMachine.Type.STANDARD,
                            help="The type of state machines whose file does not say (default: STANDARD).")

    def handle(self, *args, paths: list[str], type: str, **options):
        self.verbosity = options["verbosity"]
        files, failed = [], 0
        for argument in paths:
            path = pathlib.Path(argument)
            if path.is_dir():
                found = definition_files(path)
                if not found:
                    self.stderr.write(f"{argument}: There are no *.json, *.yaml or *.yml files in this directory.")
                    failed += 1
                files.extend(found)
            elif path.exists():
                files.append(path)
            else:
                self.stderr.write(f"{argument}: No such file or directory.")
                failed += 1
        files = list(dict.fromkeys(files))  # a file named twice is read once
        total = len(files) + failed
        loaded: dict[str, pathlib.Path] = {}
        for path in files:
            source = read_source(path, type)
            if not source.issues and source.name in loaded:
                source.problem("$", "duplicate_name",
                               f"The state machine '{source.name}' is also defined by {loaded[source.name]}.")
            if not source.issues:
                self.load(source)
            if source.issues:
                failed += 1
                for issue in source.issues:
                    self.stderr.write(f"{path}: {issue}")
            else:
                loaded[source.name] = path
        if failed:
            raise CommandError(f"{failed} of {total} definition files could not be loaded.")

    def load(self, source: Source) -> None:
        """Publish one file's state machine and say what changed; record failures as issues."""
        before = (StateMachine.objects.filter(name=source.name)
                  .values_list("current_version_id", "type", "description").first())
        try:
            machine = publish(source.name, source.definition, type=source.type, description=source.description)
        except DefinitionError as exc:
            source.issues.extend(exc.issues)
            return
        except DjangoAslError as exc:
            source.problem("$", "not_published", str(exc))
            return
        after = (machine.current_version_id, machine.type, machine.description)
        verb = "created" if before is None else "unchanged" if before == after else "updated"
        if self.verbosity >= 1:
            self.stdout.write(f"{verb} {machine.name} (version {machine.current_version.number})")
