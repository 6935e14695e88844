"""The page in a real browser: Debian's headless chromium, driven by Selenium through chromedriver.

The first test is the whole path with the packaged model: ask, wait for the rows, check them against the
database, see a chart, follow up, approve the answer and find the pair in the example file. The second
puts markup in a question and in a database value and checks it stays text. Set QWEN3_SCREENSHOT_TO to
keep the answered page's screenshot somewhere else as well (docs/service.png is made so).
"""

import os
import shutil
from contextlib import contextmanager

import pytest

from MoE.service import FeedbackStore, create_app
from MoE.sql import load_orchestrator
from service_load import sample_config, scripted_runner
from support import REPO, require_offline_model

ANSWER_TIMEOUT_S = 300


def require_browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        chromium = None
    if not (chromium and driver):
        if os.environ.get("QWEN3_REQUIRE_BROWSER") == "1":
            pytest.fail("QWEN3_REQUIRE_BROWSER=1 but chromium, chromedriver or selenium is missing")
        pytest.skip("needs Debian's chromium and chromium-driver, and selenium")
    return chromium, driver


@pytest.fixture
def browser(tmp_path):
    chromium, driver_path = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--no-proxy-server", "--disable-extensions"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.downloads = tmp_path / "downloads"
    driver.downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(driver.downloads)})
    yield driver
    driver.quit()


def wait_for(driver, css, timeout=ANSWER_TIMEOUT_S, count=1):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, css)) >= count)
    return driver.find_elements(By.CSS_SELECTOR, css)


def ask(driver, question):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "question")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def answered_turn(driver, n):
    """The n-th turn (1-based) once its answer is shown."""
    wait_for(driver, f".turn:nth-of-type({n}) .answer:not([hidden])")
    return wait_for(driver, ".turn")[n - 1]


def page_rows(turn):
    from selenium.webdriver.common.by import By

    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in turn.find_elements(By.CSS_SELECTOR, ".rows tr")[1:]]


@contextmanager
def scripted_page(browser, serve, tmp_path, data_file=None):
    """The page open on a server whose model is scripted by role (no planner), on the sample database."""
    config = dict(sample_config(None, str(tmp_path / "cache")), router={"plan_threshold": 9})
    if data_file is not None:
        config["database"]["data_file"] = str(data_file)
    with load_orchestrator(config, runner=scripted_runner(0.0)) as orchestrator:
        browser.get(serve(create_app(orchestrator)))
        wait_for(browser, "#schema details")
        yield orchestrator


def as_text(value):
    return "NULL" if value is None else str(value)


@pytest.mark.offline_model
def test_ask_follow_up_and_approve_in_a_browser(browser, serve, tmp_path):
    require_offline_model("qwen2.5-coder-0.5b")
    from selenium.webdriver.common.by import By

    store = FeedbackStore(tmp_path / "examples.jsonl")
    store.ensure_exists()
    config = dict(sample_config("offline:qwen2.5-coder-0.5b", str(tmp_path / "cache")),
                  few_shot={"file": str(store.examples_file)})
    with load_orchestrator(config) as orchestrator:
        browser.get(serve(create_app(orchestrator, store)))
        wait_for(browser, "#schema details")
        assert "8 tables" in browser.find_element(By.ID, "status").text

        question = "How many orders are there for each status?"
        ask(browser, question)
        first = answered_turn(browser, 1)
        sql = first.find_element(By.CSS_SELECTOR, ".sql").text
        assert first.find_element(By.CSS_SELECTOR, ".badge").text.startswith("confidence:")
        stages = [li.text for li in first.find_elements(By.CSS_SELECTOR, ".stages li")]
        assert stages[0].startswith("router:") and any(s.startswith("sql_writer (") for s in stages)
        expected = orchestrator.database.execute(sql, 1000)   # the rows shown are the rows the SQL gives
        assert 2 <= len(expected.rows) <= 25   # one row per status: the page shows them all
        # as a multiset: without ORDER BY, DuckDB may return the groups in another order each time
        assert sorted(page_rows(first)) == sorted([as_text(v) for v in row] for row in expected.rows)
        chart = wait_for(browser, ".turn:nth-of-type(1) .chart .main-svg", timeout=30)
        assert chart and first.find_element(By.CSS_SELECTOR, ".chart").get_attribute("data-chart") == "bar"
        browser.save_screenshot(str(tmp_path / "answered.png"))
        if os.environ.get("QWEN3_SCREENSHOT_TO"):
            shutil.copy(tmp_path / "answered.png", os.environ["QWEN3_SCREENSHOT_TO"])
        assert (tmp_path / "answered.png").stat().st_size > 10_000

        ask(browser, "only the cancelled ones")
        second = answered_turn(browser, 2)
        assert "follow-up" in second.find_element(By.CSS_SELECTOR, ".question").text
        assert question in second.find_element(By.CSS_SELECTOR, ".history").text

        thumbs_up = first.find_element(By.CSS_SELECTOR, ".good")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumbs_up)
        thumbs_up.click()
        wait_for(browser, ".turn:nth-of-type(1) .feedback-note", timeout=60)
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(browser, 60).until(
            lambda _: "kept as an example" in first.find_element(By.CSS_SELECTOR, ".feedback-note").text)
    kept = [e for e in store_examples(store) if e["question"] == question]
    assert [" ".join(e["sql"].split()) for e in kept] == [" ".join(sql.split())]


def store_examples(store):
    import json

    return [json.loads(line) for line in store.examples_file.read_text().splitlines()]


def test_markup_in_questions_and_values_stays_text(browser, serve, tmp_path):
    """A product named with markup (the most expensive one), and a question with a script tag: shown as text,
    in the table and on the chart's axis, and nothing runs."""
    from selenium.webdriver.common.by import By

    data = tmp_path / "data.sql"
    data.write_text((REPO / "MoE" / "schemas" / "ecommerce_sample_data.sql").read_text() +
                    "\nINSERT INTO products VALUES (99999, 'X-1', "
                    "'<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>', 1, 99999.00, TRUE);\n")
    with scripted_page(browser, serve, tmp_path, data_file=data):
        ask(browser, "List the ten most expensive products. <script>window.pwned=3</script>")
        turn = answered_turn(browser, 1)
        assert "<script>window.pwned=3</script>" in turn.find_element(By.CSS_SELECTOR, ".question").text
        assert page_rows(turn)[0][0].startswith("<img src=x onerror=")
        wait_for(browser, ".chart .main-svg", timeout=30)
        assert browser.execute_script("return window.pwned === undefined")
        assert browser.execute_script("return document.scripts.length") == 2   # the page's own two
        assert browser.find_elements(By.CSS_SELECTOR, ".turn img, .turn script") == []


def test_rows_page_and_download_as_csv(browser, serve, tmp_path):
    import csv
    import time

    from selenium.webdriver.common.by import By

    with scripted_page(browser, serve, tmp_path) as orchestrator:
        ask(browser, "List every customer with their email")
        turn = answered_turn(browser, 1)
        everyone = orchestrator.database.execute(
            "SELECT customer_id, full_name, email FROM customers ORDER BY customer_id", 1000).rows
        assert len(everyone) > 25
        assert page_rows(turn) == [[as_text(v) for v in row] for row in everyone[:25]]
        assert turn.find_element(By.CSS_SELECTOR, ".pager .page").text == f"rows 1-25 of {len(everyone)}"
        for button in (".pager .next", ".pager .download"):
            element = turn.find_element(By.CSS_SELECTOR, button)
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
        assert page_rows(turn) == [[as_text(v) for v in row] for row in everyone[25:50]]
        assert browser.find_elements(By.CSS_SELECTOR, ".chart[data-chart]") == []   # ids and text: no chart
        downloaded = browser.downloads / "result.csv"
        for _ in range(100):
            if downloaded.exists():
                break
            time.sleep(0.1)
        with downloaded.open(newline="") as f:
            table = list(csv.reader(f))
        assert table[0] == ["customer_id", "full_name", "email"]
        assert table[1:] == [[as_text(v) for v in row] for row in everyone]


def test_a_date_and_a_measure_make_a_line_chart_in_date_order(browser, serve, tmp_path):
    from selenium.webdriver.common.by import By

    with scripted_page(browser, serve, tmp_path):
        ask(browser, "How many orders per month?")
        turn = answered_turn(browser, 1)
        wait_for(browser, ".chart .main-svg", timeout=30)
        assert turn.find_element(By.CSS_SELECTOR, ".chart").get_attribute("data-chart") == "line"
        xs = browser.execute_script("return document.querySelector('.chart').data[0].x")
        assert len(xs) > 12 and xs == sorted(xs)   # the rows came unordered; the line follows the dates
