"""A small handle on the browser for the flows: open a page, sign in, press a button, take a screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.wait import WebDriverWait

from tests.ui.browser.live import TAKEN, LiveHearth
from tests.ui.dashboard import PASSWORD

WAIT_S = 10


@dataclass
class Browser:
    driver: WebDriver
    live: LiveHearth
    shots: Path

    def open(self, path: str) -> None:
        self.driver.get(self.live.url + path)

    def find(self, css: str) -> WebElement:
        """The element, once the page shows it."""
        found: WebElement = WebDriverWait(self.driver, WAIT_S).until(
            seen.presence_of_element_located((By.CSS_SELECTOR, css))
        )
        return found

    def text(self, css: str) -> str:
        return self.find(css).text

    def wait_text(self, css: str, part: str) -> None:
        """Wait until the element's text holds `part` (after a form posted and the next page loaded)."""
        WebDriverWait(self.driver, WAIT_S).until(
            seen.text_to_be_present_in_element((By.CSS_SELECTOR, css), part)
        )

    def press(self, element_id: str) -> None:
        """Press a form's button and wait for the page it leads to.

        The old page is marked on its `window`; a new page has a fresh one. This waits on that rather than on
        the button going stale, which Chromium sometimes reports as an inspector error instead.
        """
        self.driver.execute_script("window.hearthOldPage = true")
        self.find(f"#{element_id}").click()
        WebDriverWait(self.driver, WAIT_S).until(_new_page)

    def sign_in(self, password: str = PASSWORD) -> None:
        field = self.find("#password")
        field.clear()
        field.send_keys(password)
        self.press("sign-in")

    @property
    def path(self) -> str:
        url: str = self.driver.current_url
        return url.removeprefix(self.live.url)

    def shot(self, name: str, what: str) -> Path:
        """Save the whole page as `name`.png; its path and `what` it shows go into the test summary."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(900, min(int(height), 4000)))
        path = self.shots / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), path
        self.driver.set_window_size(1280, 900)
        TAKEN.append((str(path), what))
        print(f"screenshot {path}: {what}")
        return path

    def run(self, work: Any) -> Any:
        return self.live.run(work)


def _new_page(driver: WebDriver) -> bool:
    script = "return window.hearthOldPage !== true && document.readyState === 'complete'"
    return bool(driver.execute_script(script))
