"""A real browser for the tests: Debian's chromium, headless, through its chromedriver (Selenium).

Selenium's own driver download cannot work offline, so the system's chromedriver is named explicitly.
A missing browser fails the test with what to install: never a skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _find(names: tuple[str, ...]) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


def chromium_driver(width: int = 1280, height: int = 900):
    """A headless chromium WebDriver; raises with the install command when the browser is missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _find(CHROMIUM_NAMES), _find(("chromedriver",))
    if binary is None or driver is None:
        raise RuntimeError("no chromium/chromedriver on PATH: apt-get install chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.fixture
def browser() -> Iterator:
    """A fresh headless chromium per test (use ``from tests.browser import browser``)."""
    try:
        driver = chromium_driver()
    except Exception as exc:  # noqa: BLE001 - any start failure is a test failure with its reason
        pytest.fail(f"cannot start headless chromium: {exc}")
    try:
        yield driver
    finally:
        driver.quit()
