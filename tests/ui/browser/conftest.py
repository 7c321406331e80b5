"""Headless Chromium driven by Selenium against a live Hearth; screenshots of every page.

Debian's `chromium` and `chromium-driver` are used as they are: the driver's path is given, so
Selenium Manager never runs, and SE_OFFLINE forbids it anything online anyway. Without Chromium these
tests skip, unless HEARTH_REQUIRE_BROWSER is set (CI sets it), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Secret, Settings
from tests.conftest import TOKEN
from tests.ui.browser.live import TAKEN, LiveHearth
from tests.ui.dashboard import CHEAP_HASH

CHROMIUM = Path(os.environ.get("HEARTH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("HEARTH_CHROMEDRIVER", "/usr/bin/chromedriver"))
SHOTS = Path(
    os.environ.get("HEARTH_SCREENSHOTS_DIR") or Path(__file__).resolve().parents[3] / "build" / "screenshots"
)
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--password-store=basic",
    "--window-size=1280,900",
)


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("HEARTH_REQUIRE_BROWSER"):
            pytest.fail(f"HEARTH_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER), log_output=str(log)), options=options)
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHearth]:
    """A Hearth with a dashboard password, on its own data directory."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'hearth.db'}",
        skills_dir=tmp_path / "no-skills",
        send_retry_s=0.05,
        api_token=Secret(TOKEN),
        dashboard_password=CHEAP_HASH,
    )
    with LiveHearth(settings) as server:
        yield server


@pytest.fixture(scope="session")
def shots() -> Path:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    return SHOTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The screenshots' paths in the test output, so CI's log says where each page's picture is."""
    if TAKEN:
        terminalreporter.section("dashboard screenshots")
        for path, what in TAKEN:
            terminalreporter.write_line(f"{path}  {what}")
