"""Real-browser tests of the admin in headless Chromium (Debian's chromium and chromium-driver, via Selenium).

They open the definition editor and see a validation issue, start an execution
and watch its diagram colour as it runs, launch batches from a filter and from
a selected row, and see the statistics charts. Screenshots go to
``artifacts/screenshots/``. Without Chromium they skip, except on CI
(``CI=true``), where they fail.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import tempfile
import time

import pytest

from tests.shared import REPO_ROOT, on_ci

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1100"]
# Pass, then a one-second Wait (the test runs the timer), then Pass: running, then succeeded.
DEFINITION = {"StartAt": "Prepare", "States": {
    "Prepare": {"Type": "Pass", "Result": {"ready": True}, "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Fan out"},
    "Fan out": {"Type": "Parallel", "Branches": [
        {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
        {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}}], "Next": "Done"},
    "Done": {"Type": "Succeed"}}}


def _missing() -> str | None:
    if not (pathlib.Path(CHROMIUM).exists() and pathlib.Path(CHROMEDRIVER).exists()):
        return f"headless Chromium not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Selenium, with a fresh profile; skips (fails on CI) without one."""
    reason = _missing()
    if reason:
        if on_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="django-asl-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition, timeout: float = 10.0):
    """Return condition()'s first truthy value, polling for up to ``timeout`` seconds.

    An element that goes away while it is read (the execution page reloads itself
    when the execution ends) counts as "not yet".
    """
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value or time.monotonic() > deadline:
            assert value, "timed out waiting in the browser"
            return value
        time.sleep(0.1)


def login(browser, live_server, django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    browser.get(live_server.url + "/admin/login/")
    browser.find_element("name", "username").send_keys("admin")
    browser.find_element("name", "password").send_keys("pw")
    browser.find_element("css selector", "input[type=submit]").click()
    wait_for(lambda: "/admin/login/" not in browser.current_url)


def outcomes(browser) -> dict:
    raw = browser.find_element("id", "asl-diagram").get_attribute("data-outcomes")
    return dict(json.loads(raw)) if raw else {}


@pytest.mark.django_db(transaction=True)
def test_define_start_watch_and_batch_launch(browser, live_server, django_user_model):
    from django_asl.engine import timers
    from django_asl.models import Batch, Execution, StateMachine

    login(browser, live_server, django_user_model)
    # 1. The definition editor: a validation issue next to the field.
    browser.get(live_server.url + "/admin/django_asl/statemachine/add/")
    browser.find_element("name", "name").send_keys("browser-demo")
    text = browser.find_element("name", "definition_text")
    text.send_keys("StartAt: Missing\nStates:\n  Prepare:\n    Type: Pass\n    End: true\n")
    browser.find_element("name", "_continue").click()
    error = wait_for(lambda: browser.find_elements("css selector", ".errorlist li"))
    assert error[0].text.startswith("$.StartAt: "), error[0].text
    browser.save_screenshot(str(SCREENSHOTS / "definition-issue.png"))
    text = browser.find_element("name", "definition_text")
    text.clear()
    text.send_keys(json.dumps(DEFINITION))
    browser.find_element("name", "_continue").click()
    wait_for(lambda: browser.find_elements("id", "asl-start-link"))
    machine = StateMachine.objects.get(name="browser-demo")
    assert machine.current_version.number == 1
    wait_for(lambda: browser.execute_script("return window.aslDiagram && window.aslDiagram.nodes().length") == 8)  # 6 states, 2 branch groups
    browser.save_screenshot(str(SCREENSHOTS / "definition-diagram.png"))

    # 2. Start an execution and watch its diagram colour as it runs.
    browser.find_element("id", "asl-start-link").click()
    browser.find_element("name", "name").send_keys("watched")
    browser.find_element("name", "input").clear()
    browser.find_element("name", "input").send_keys('{"order": 7}')
    browser.find_element("name", "_confirm").click()
    wait_for(lambda: browser.find_elements("id", "asl-diagram"))
    seen = wait_for(lambda: outcomes(browser).get("|Pause") == "running" and outcomes(browser))
    assert seen["|Prepare"] == "succeeded"
    browser.save_screenshot(str(SCREENSHOTS / "execution-running.png"))
    time.sleep(1.05)
    timers.run_due_timers()  # the Wait is over: the execution runs to its end
    assert Execution.objects.get(name="watched").status == "SUCCEEDED"
    done = wait_for(lambda: outcomes(browser).get("|Done") == "succeeded" and outcomes(browser))
    assert done['[["Fan out", 0]]|Left'] == "succeeded"
    assert browser.find_element("id", "asl-execution-status").text == "SUCCEEDED"
    browser.save_screenshot(str(SCREENSHOTS / "execution-succeeded.png"))

    # 3. Launch a batch from the filtered execution list.
    browser.get(f"{live_server.url}/admin/django_asl/execution/?state_machine__id__exact={machine.pk}"
                "&status__exact=SUCCEEDED")
    browser.save_screenshot(str(SCREENSHOTS / "execution-list.png"))
    browser.find_element("id", "asl-batch-launch").click()
    from selenium.webdriver.support.select import Select

    Select(browser.find_element("name", "target")).select_by_visible_text("browser-demo")
    browser.find_element("name", "name_prefix").send_keys("replay")
    browser.find_element("name", "_confirm").click()
    wait_for(lambda: browser.find_elements("id", "asl-batch-progress"))
    batch = Batch.objects.get()
    assert (batch.total, batch.name_prefix) == (1, "replay")
    time.sleep(1.05)
    timers.run_due_timers()
    wait_for(lambda: browser.find_element("id", "asl-batch-status").text == "SUCCEEDED", timeout=15)
    assert "1 succeeded" in browser.find_element("id", "asl-batch-figures").text
    browser.save_screenshot(str(SCREENSHOTS / "batch-progress.png"))

    # 4. Launch a batch from a hand-picked row: tick it, choose the action, confirm.
    watched = Execution.objects.get(name="watched")
    browser.get(f"{live_server.url}/admin/django_asl/execution/?state_machine__id__exact={machine.pk}")
    browser.find_element("css selector", f"input.action-select[value='{watched.pk}']").click()
    Select(browser.find_element("name", "action")).select_by_value("launch_batch")
    browser.find_element("name", "index").click()
    sources = wait_for(lambda: browser.find_elements("css selector", "#asl-batch-sources li"))
    assert [item.text for item in sources] == ["watched"]
    Select(browser.find_element("name", "target")).select_by_visible_text("browser-demo")
    browser.find_element("name", "name_prefix").send_keys("picked")
    browser.save_screenshot(str(SCREENSHOTS / "batch-from-selection.png"))
    browser.find_element("name", "_confirm").click()
    wait_for(lambda: browser.find_elements("id", "asl-batch-progress"))
    picked = Batch.objects.get(name_prefix="picked")
    assert (picked.total, picked.source_filter) == (1, {"ids": [str(watched.pk)]})

    # 5. The statistics page draws its charts (Chart.js, vendored).
    browser.get(f"{live_server.url}/admin/django_asl/statemachine/{machine.pk}/statistics/?days=1&buckets=12")
    wait_for(lambda: browser.execute_script(
        "return typeof Chart !== 'undefined' && !!Chart.getChart('asl-chart-counts')"))
    browser.save_screenshot(str(SCREENSHOTS / "statistics.png"))
