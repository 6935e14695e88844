"""Make docs/service.png: the page answering the README's demo question, with the shipped config.

    python docs/screenshot.py [--config MoE/sql_moe_orchestrator_config.yaml] [--out docs/service.png]

Starts the service on loopback in this process, opens the page in Debian's headless chromium (Selenium
through chromedriver), asks the question and saves the page once the rows are shown.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

DEMO_QUESTION = "List monthly revenue and refund totals for 2024."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(REPO / "MoE" / "sql_moe_orchestrator_config.yaml"))
    parser.add_argument("--question", default=DEMO_QUESTION)
    parser.add_argument("--out", default=str(REPO / "docs" / "service.png"))
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from MoE.service import create_app
    from MoE.sql import load_orchestrator
    from service_load import LoopbackServer

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(flag)
    with load_orchestrator(args.config) as orchestrator, LoopbackServer(create_app(orchestrator)) as server:
        browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        try:
            browser.get(server.url)
            WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#schema details"))
            box = browser.find_element(By.ID, "question")
            box.send_keys(args.question, Keys.ENTER)
            WebDriverWait(browser, 600).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".answer:not([hidden])"))
            WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chart .main-svg, .rows table"))
            browser.execute_script("document.querySelector('form').style.position = 'static'; window.scrollTo(0, 0)")
            browser.save_screenshot(args.out)
            print(f"saved {args.out}: {browser.find_element(By.CSS_SELECTOR, '.confidence').text}")
        finally:
            browser.quit()


if __name__ == "__main__":
    main()
