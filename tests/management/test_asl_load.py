"""Tests of ``asl_load``: files and directories, JSON and YAML, the wrapper form, versions and errors."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_asl.models import StateMachine
from tests.asl.machines import single

pytestmark = pytest.mark.django_db

PASS = single({"Type": "Pass", "Result": 1})
PASS_YAML = """\
StartAt: S
States:
  S:
    Type: Pass
    Result: 1
    End: true
"""


def load(*paths, **options) -> tuple[str, str]:
    """Run asl_load; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("asl_load", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def load_failing(*paths, **options) -> tuple[str, str, str]:
    """Run asl_load expecting it to fail; return (stdout, stderr, the CommandError's message)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("asl_load", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue(), str(failure.value)


def write(path, value) -> None:
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")


@pytest.mark.parametrize("filename, text", [
    ("order.json", json.dumps(PASS)),           # plain JSON, named after the stem
    ("order.asl.json", json.dumps(PASS)),       # .asl is stripped from the name
    ("order.yaml", PASS_YAML),                  # YAML
    ("order.yml", PASS_YAML),                   # the short YAML suffix
    ("order.asl.yaml", PASS_YAML),              # .asl before a YAML suffix
    ("order.txt", PASS_YAML),                   # a named file with another suffix: the format is sniffed
])
def test_creates_state_machine_named_after_the_file(tmp_path, filename, text):
    write(tmp_path / filename, text)
    out, err = load(tmp_path / filename)
    assert (out, err) == ("created order (version 1)\n", "")
    machine = StateMachine.objects.get()
    assert (machine.name, machine.type, machine.definition) == ("order", "STANDARD", PASS)


def test_new_version_on_change_and_unchanged_otherwise(tmp_path):
    path = tmp_path / "order.json"
    write(path, PASS)
    assert load(path)[0] == "created order (version 1)\n"
    assert load(path)[0] == "unchanged order (version 1)\n"
    # Key order and spacing do not make a new version.
    path.write_text(json.dumps(PASS, indent=4, sort_keys=True), encoding="utf-8")
    assert load(path)[0] == "unchanged order (version 1)\n"
    write(path, single({"Type": "Pass", "Result": 2}))
    assert load(path)[0] == "updated order (version 2)\n"
    assert load(path)[0] == "unchanged order (version 2)\n"
    # Going back to an earlier definition makes that version current again.
    write(path, PASS)
    assert load(path)[0] == "updated order (version 1)\n"
    assert StateMachine.objects.get().versions.count() == 2


def test_type_option_and_a_changed_type_is_an_update(tmp_path):
    write(tmp_path / "order.json", PASS)
    assert load(tmp_path / "order.json", type="EXPRESS")[0] == "created order (version 1)\n"
    assert StateMachine.objects.get().type == "EXPRESS"
    assert load(tmp_path / "order.json")[0] == "updated order (version 1)\n"
    assert StateMachine.objects.get().type == "STANDARD"


def test_wrapper_form(tmp_path):
    write(tmp_path / "anything.json", {"Name": "refund", "Type": "EXPRESS", "Description": "Refunds.",
                                       "Definition": PASS})
    assert load(tmp_path / "anything.json")[0] == "created refund (version 1)\n"
    machine = StateMachine.objects.get()
    assert (machine.name, machine.type, machine.description, machine.definition) == (
        "refund", "EXPRESS", "Refunds.", PASS)
    # The wrapper's Type wins over --type; a new Description alone is an update.
    write(tmp_path / "anything.json", {"Name": "refund", "Type": "EXPRESS", "Description": "Money back.",
                                       "Definition": PASS})
    assert load(tmp_path / "anything.json", type="STANDARD")[0] == "updated refund (version 1)\n"
    assert StateMachine.objects.get().description == "Money back."


def test_wrapper_form_defaults_and_definition_text(tmp_path):
    # Without Name the file's stem names it; Definition may be text, as AWS takes it.
    write(tmp_path / "order.asl.json", {"Definition": json.dumps(PASS)})
    assert load(tmp_path / "order.asl.json")[0] == "created order (version 1)\n"
    machine = StateMachine.objects.get()
    assert (machine.type, machine.description, machine.definition) == ("STANDARD", "", PASS)


def test_wrapper_form_in_yaml(tmp_path):
    text = "Name: refund\nType: EXPRESS\nDefinition:\n" + "".join(f"  {line}\n" for line in PASS_YAML.splitlines())
    write(tmp_path / "refund.yaml", text)
    assert load(tmp_path / "refund.yaml")[0] == "created refund (version 1)\n"
    assert StateMachine.objects.get().definition == PASS


def test_directory_is_searched_recursively_in_order(tmp_path):
    write(tmp_path / "b.json", PASS)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "a.asl.yaml", PASS_YAML)
    write(tmp_path / "notes.md", "not a definition")
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / ".hidden" / "c.json", "{")
    out, err = load(tmp_path)
    assert (out, err) == ("created b (version 1)\ncreated a (version 1)\n", "")
    assert sorted(StateMachine.objects.values_list("name", flat=True)) == ["a", "b"]


def test_quiet_with_verbosity_zero(tmp_path):
    write(tmp_path / "order.json", PASS)
    assert load(tmp_path / "order.json", verbosity=0) == ("", "")
    assert StateMachine.objects.count() == 1


def test_invalid_files_are_reported_and_valid_ones_loaded(tmp_path):
    write(tmp_path / "a_good.json", PASS)
    write(tmp_path / "b_bad.json", {"StartAt": "Nope", "States": {"S": {"Type": "Pass", "End": True}}})
    write(tmp_path / "c_good.yaml", PASS_YAML)
    out, err, message = load_failing(tmp_path)
    assert out == "created a_good (version 1)\ncreated c_good (version 1)\n"
    bad = tmp_path / "b_bad.json"
    assert err == f"{bad}: $.StartAt: '$.StartAt' refers to state 'Nope', which does not exist.\n"
    assert message == "1 of 3 definition files could not be loaded."
    assert sorted(StateMachine.objects.values_list("name", flat=True)) == ["a_good", "c_good"]


def test_every_issue_of_a_file_is_printed(tmp_path):
    definition = {"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "Missing", "ResultPath": 5}}}
    write(tmp_path / "bad.json", definition)
    _, err, _ = load_failing(tmp_path / "bad.json")
    lines = err.splitlines()
    assert len(lines) >= 2
    assert any(line.startswith(f"{tmp_path / 'bad.json'}: $.States.S.Next: ") for line in lines)
    assert any(line.startswith(f"{tmp_path / 'bad.json'}: $.States.S.ResultPath: ") for line in lines)


@pytest.mark.parametrize("filename, text, expected", [
    # not JSON
    ("bad.json", '{"StartAt": ', "$: The definition is not valid JSON: "),
    # not YAML
    ("bad.yaml", "StartAt: [unclosed", "$: The definition is not valid YAML: "),
    # an empty file
    ("bad.json", "", "$: The definition is empty."),
    # not UTF-8
    ("bad.json", b"\xff\xfe{\x00}\x00", "$: The definition must be UTF-8 text"),
    # a task resource with no handler
    ("bad.json", json.dumps(single({"Type": "Task", "Resource": "urn:nothing"})),
     "$.States.S.Resource: '$.States.S.Resource' refers to 'urn:nothing', which is not a registered task"),
    # wrapper: unknown field
    ("bad.json", json.dumps({"Definition": PASS, "Comment": "x"}),
     "$.Comment: 'Comment' is not a field of the wrapper form"),
    # wrapper: a field given twice
    ("bad.json", '{"Definition": {}, "Definition": 1}', "$.Definition: '$.Definition' appears more than once."),
    # wrapper: bad type
    ("bad.json", json.dumps({"Definition": PASS, "Type": "FAST"}),
     "$.Type: The value of '$.Type' must be 'STANDARD' or 'EXPRESS'."),
    # wrapper: bad name
    ("bad.json", json.dumps({"Definition": PASS, "Name": ""}),
     "$.Name: The state machine name must be a string of 1 to 80 characters"),
    # wrapper: name too long
    ("bad.json", json.dumps({"Definition": PASS, "Name": "x" * 81}),
     "$.Name: The state machine name must be a string of 1 to 80 characters"),
    # wrapper: bad description
    ("bad.json", json.dumps({"Definition": PASS, "Description": 3}),
     "$.Description: The value of '$.Description' must be a string."),
    # wrapper: definition text that is not JSON
    ("bad.json", json.dumps({"Definition": "{oops"}), "$: The definition is not valid JSON: "),
    # a file name longer than a state machine name may be
    ("x" * 81 + ".json", json.dumps(PASS), "$.Name: The state machine name must be a string of 1 to 80"),
])
def test_bad_file(tmp_path, tasks, filename, text, expected):
    path = tmp_path / filename
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        write(path, text)
    out, err, message = load_failing(path)
    assert out == ""
    assert err.startswith(f"{path}: {expected}"), err
    assert message == "1 of 1 definition files could not be loaded."
    assert not StateMachine.objects.exists()


def test_missing_path_and_empty_directory(tmp_path):
    write(tmp_path / "order.json", PASS)
    (tmp_path / "empty").mkdir()
    out, err, message = load_failing(tmp_path / "missing.json", tmp_path / "empty", tmp_path / "order.json")
    assert out == "created order (version 1)\n"
    assert err.splitlines() == [
        f"{tmp_path / 'missing.json'}: No such file or directory.",
        f"{tmp_path / 'empty'}: There are no *.json, *.yaml or *.yml files in this directory.",
    ]
    assert message == "2 of 3 definition files could not be loaded."


def test_two_files_defining_one_name(tmp_path):
    write(tmp_path / "order.json", PASS)
    write(tmp_path / "order.yaml", PASS_YAML)
    out, err, _ = load_failing(tmp_path)
    assert out == "created order (version 1)\n"
    assert err == (f"{tmp_path / 'order.yaml'}: $: The state machine 'order' is also defined by "
                   f"{tmp_path / 'order.json'}.\n")


def test_the_same_file_twice_is_loaded_once(tmp_path):
    write(tmp_path / "order.json", PASS)
    assert load(tmp_path / "order.json", tmp_path)[0] == "created order (version 1)\n"


def test_bad_type_option():
    with pytest.raises(CommandError, match="invalid choice: 'FAST'"):
        call_command("asl_load", "x.json", "--type", "FAST")
