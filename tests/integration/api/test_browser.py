"""Headless Chromium opens the query page, runs a curated query and sees result rows.

Needs Debian ``chromium`` and ``chromium-driver`` (the Makefile's install step adds them when
missing) and the ``selenium`` package; skips with the reason when any is unavailable.
"""

from __future__ import annotations

import shutil

import pytest

from tests.support.servers import RunningApi

pytestmark = pytest.mark.integration
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
]


def _driver():  # noqa: ANN202 - selenium WebDriver
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.skip("Debian chromium/chromium-driver not installed "
                    "(apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    try:
        return webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as exc:  # noqa: BLE001 - any start failure is an environment problem
        pytest.skip(f"chromium did not start: {exc}")


def test_query_page_runs_a_curated_query(api_server: RunningApi) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support import expected_conditions as ec  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    driver = _driver()
    try:
        driver.get(f"{api_server.url}/?token={api_server.tokens['reader']}")
        wait = WebDriverWait(driver, 30)
        example = wait.until(ec.element_to_be_clickable(
            (By.CSS_SELECTOR, "button.example[data-name='list-types']")))
        example.click()
        editor_text = driver.execute_script(
            "return window.theragraph.yasgui.getTab().getQuery();")
        assert "SELECT ?type" in editor_text
        driver.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
        wait.until(lambda d: "xmlns.com/foaf/0.1/Document" in d.find_element(
            By.CSS_SELECTOR, ".yasr").text)
        rows = driver.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")
        assert len(rows) >= 2
        assert "Document" in driver.find_element(By.CSS_SELECTOR, ".yasr").text
    finally:
        driver.quit()
