"""Tests of ``asl_start``: starting, input sources, waiting for the end, and every error path."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management import base as management_base
from django.core.management.base import CommandError
from django.test import override_settings

from django_asl.engine import publish
from django_asl.management.commands import asl_start
from django_asl.models import Execution
from tests.asl.machines import single

pytestmark = pytest.mark.django_db

PASS = single({"Type": "Pass", "Parameters": {"got.$": "$"}})
FAIL = single({"Type": "Fail", "Error": "Oops", "Cause": "It broke."})
WAIT = single({"Type": "Wait", "Seconds": 3600})
PARALLEL = single({"Type": "Parallel", "Branches": [
    single({"Type": "Pass", "Result": "left"}, "L"), single({"Type": "Pass", "Result": "right"}, "R")]})

MAP = single({"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": single({"Type": "Pass"}, "Item")})


def start(*args, **options) -> dict:
    """Run asl_start and return the JSON object it printed."""
    out = io.StringIO()
    call_command("asl_start", *args, stdout=out, **options)
    return json.loads(out.getvalue())


def start_failing(*args, **options) -> tuple[str, str]:
    """Run asl_start expecting CommandError; return (stdout, its message)."""
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("asl_start", *args, stdout=out, **options)
    return out.getvalue(), str(failure.value)


@pytest.fixture
def machines(clock, tasks):
    for name, definition in [("pass", PASS), ("fail", FAIL), ("wait", WAIT), ("parallel", PARALLEL), ("map", MAP)]:
        publish(name, definition)


def test_start_prints_the_execution(machines):
    printed = start("pass", "--input", '{"order": 42}', "--name", "order-42")
    execution = Execution.objects.get()
    assert printed == {
        "execution_id": str(execution.pk), "name": "order-42", "state_machine": "pass", "version": 1,
        "status": "RUNNING", "input": {"order": 42}, "output": None, "error": None, "cause": None,
        "start_date": "2026-01-01T00:00:00+00:00", "stop_date": None, "parent": None, "redrive_count": 0,
    }


def test_input_defaults_to_an_empty_object(machines):
    assert start("pass")["input"] == {}
    assert len(Execution.objects.get().name) == 36  # a UUID


def test_input_file(machines, tmp_path):
    (tmp_path / "input.json").write_text('[1, "two"]', encoding="utf-8")
    assert start("pass", "--input-file", str(tmp_path / "input.json"))["input"] == [1, "two"]


def test_input_from_standard_input(machines, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"from": "stdin"}'))
    assert start("pass", "--input-file", "-")["input"] == {"from": "stdin"}


def test_same_name_and_input_returns_the_existing_execution(machines):
    first = start("pass", "--input", "{}", "--name", "once")
    assert start("pass", "--input", "{}", "--name", "once") == first
    assert Execution.objects.count() == 1


def test_wait_until_succeeded(machines):
    printed = start("pass", "--input", '{"x": 1}', "--wait")
    assert printed["status"] == "SUCCEEDED"
    assert printed["output"] == {"got": {"x": 1}}
    assert printed["stop_date"] == "2026-01-01T00:00:00+00:00"


def test_wait_runs_branches(machines):
    printed = start("parallel", "--wait", "--timeout", "10")
    assert (printed["status"], printed["output"]) == ("SUCCEEDED", ["left", "right"])
    assert Execution.objects.filter(status="SUCCEEDED").count() == 3


def test_wait_runs_iterations_one_at_a_time(machines):
    printed = start("map", "--input", "[1, 2, 3]", "--wait", "--timeout", "10")
    assert (printed["status"], printed["output"]) == ("SUCCEEDED", [1, 2, 3])
    assert Execution.objects.filter(status="SUCCEEDED").count() == 4


def test_wait_drives_timers(machines, clock, monkeypatch):
    # Each poll's sleep moves the virtual clock on by half an hour: the Wait ends on the second.
    monkeypatch.setattr(asl_start.time, "sleep", lambda seconds: clock.advance(1800))
    printed = start("wait", "--wait")
    assert printed["status"] == "SUCCEEDED"
    assert printed["stop_date"] == "2026-01-01T01:00:00+00:00"


def test_wait_for_a_failure_prints_it_then_fails(machines):
    out, message = start_failing("fail", "--wait")
    printed = json.loads(out)
    assert (printed["status"], printed["error"], printed["cause"]) == ("FAILED", "Oops", "It broke.")
    assert message == f"The execution {printed['execution_id']} ended with status FAILED."


def test_wait_times_out(machines):
    # The virtual clock does not move, so the hour-long Wait never ends.
    out, message = start_failing("wait", "--wait", "--timeout", "0.3")
    printed = json.loads(out)
    assert printed["status"] == "RUNNING"
    assert message == f"The execution {printed['execution_id']} is still running after 0.3 seconds."


@pytest.mark.parametrize("args, expected", [
    # no such state machine
    (["nothing"], "There is no state machine named 'nothing'."),
    # input that is not JSON
    (["pass", "--input", "{oops"], "--input is not valid JSON: Expecting property name enclosed in double quotes"),
    # JSON's non-standard constants
    (["pass", "--input", "NaN"], "--input is not valid JSON: NaN is not a JSON value."),
    # an execution name that is too long
    (["pass", "--name", "x" * 81], "An execution name must be a string of 1 to 80 characters."),
    # a negative timeout
    (["pass", "--wait", "--timeout", "-1"], "--timeout must be a number of seconds, 0 or more."),
    # a timeout that is not a number at all
    (["pass", "--wait", "--timeout", "nan"], "--timeout must be a number of seconds, 0 or more."),
    # a missing input file
    (["pass", "--input-file", "/nonexistent/input.json"], "/nonexistent/input.json: No such file or directory."),
    # both input sources
    (["pass", "--input", "{}", "--input-file", "x.json"], "not allowed with argument --input"),
    # a timeout that is not a number
    (["pass", "--timeout", "soon"], "invalid float value: 'soon'"),
])
def test_bad_input(machines, args, expected):
    out, message = start_failing(*args)
    assert out == ""
    assert expected in message
    assert not Execution.objects.exists()


def test_input_file_that_is_not_json_or_not_utf8(machines, tmp_path):
    (tmp_path / "bad.json").write_text("[1,", encoding="utf-8")
    assert "bad.json is not valid JSON: Expecting value" in start_failing(
        "pass", "--input-file", str(tmp_path / "bad.json"))[1]
    (tmp_path / "latin1.json").write_bytes(b'"caf\xe9"')
    assert start_failing("pass", "--input-file", str(tmp_path / "latin1.json"))[1] == (
        f"{tmp_path / 'latin1.json'}: the input file must be UTF-8 text.")


def test_name_conflict(machines):
    start("pass", "--input", "{}", "--name", "once")
    assert start_failing("pass", "--input", '{"other": 1}', "--name", "once")[1] == (
        "An execution named 'once' of 'pass' already exists with a different input.")


@override_settings(DJANGO_ASL={"MAX_PAYLOAD_BYTES": 10})
def test_input_too_large(machines):
    assert start_failing("pass", "--input", '{"text": "more than ten bytes"}')[1] == (
        "The execution input is 30 bytes; the limit is 10 bytes.")


def test_command_line_exit_status_and_no_traceback(machines, capsys, monkeypatch):
    # run_from_argv closes the database connections when it is done; keep the test's open.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit:
        ManagementUtility(["django-admin", "asl_start", "fail", "--wait"]).execute()
    assert exit.value.code == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "FAILED"
    assert err.startswith("CommandError: The execution ") and "Traceback" not in err
    with pytest.raises(SystemExit) as exit:
        ManagementUtility(["django-admin", "asl_start", "nothing"]).execute()
    assert exit.value.code == 1
    assert capsys.readouterr().err == "CommandError: There is no state machine named 'nothing'.\n"
    ManagementUtility(["django-admin", "asl_start", "pass", "--wait"]).execute()  # exit status 0
    assert json.loads(capsys.readouterr().out)["status"] == "SUCCEEDED"


def test_ctrl_c_stops_waiting_not_the_execution(machines, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(asl_start.time, "sleep", interrupt)
    out, message = start_failing("wait", "--wait")
    printed = json.loads(out)
    assert printed["status"] == "RUNNING"
    assert message == f"The execution {printed['execution_id']} is still running; stopped waiting."
