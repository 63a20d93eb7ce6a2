"""The operator's page in Chromium: signing in, what it shows, updating itself, without JavaScript,
on a phone and in dark mode, with axe-core. Screenshots are saved under ``test-artifacts/``
(the ones in docs/ come from here)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from drivequeue import Queue, open_store

from .browser_support import (  # noqa: F401 (fixtures)
    browser_settings, page, queue_dir, serious_accessibility_problems, site, site_settings,
)
from .test_browser_design import ARTIFACTS, DESKTOP, PHONE, background_luminance

KEY = "browser-operator-key-" + "o" * 12


@pytest.fixture
def site_settings():
    return {"operator_key": KEY, "operator_period": 0.3}


def gpu():
    return {"name": "Tesla T4", "memory_used": int(5.2 * 2**30), "memory_free": int(9.6 * 2**30)}


@contextmanager
def busy_queue(queue_dir):
    """A worker that wrote four stories, failed one and is writing one; a story that waits for a model."""
    queue = Queue(open_store(str(queue_dir)))
    for n in range(6):
        queue.submit("story", {"seed": f"Story {n}.", "lines": 3})
    queue.submit("story", {"seed": "Waits.", "lines": 3, "model": "shakespeare"})
    with queue.worker(host="colab-7f3a", device="cuda: Tesla T4", offers=["default"], version="0.1.0",
                      probe=gpu) as session:
        for _ in range(4):
            claim = session.claim_next()
            claim.append(["One line.", "Two lines.", "Three lines."])
            claim.complete()
        session.claim_next().fail("the model 'default' could not be loaded: the file is damaged")
        session.claim_next().append(["A line being written."])
        session.heartbeat()
        yield queue


def sign_in(page, site, check=True):
    page.goto(site + "/operator")
    if check:  # axe runs in the page: not without JavaScript
        assert serious_accessibility_problems(page) == []
    page.get_by_label("Operator key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workers")).to_be_visible()


def test_the_operator_signs_in_once_and_the_page_follows_the_queue(page, site, queue_dir):
    page.goto(site + "/operator")
    page.get_by_label("Operator key").fill("not the key at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That operator key is not right.")
    with busy_queue(queue_dir) as queue:
        sign_in(page, site)
        workers = page.get_by_role("region", name="Workers")
        expect(workers).to_contain_text("colab-7f3a")
        expect(workers).to_contain_text("5.2 GiB used, 9.6 GiB free")
        expect(workers).to_contain_text("story: 13 lines")
        expect(page.get_by_role("region", name="Waiting for a worker that serves them")).to_contain_text(
            "story v2 with model 'shakespeare'")
        expect(page.get_by_role("region", name="Failed recently")).to_contain_text("the file is damaged")
        expect(page.get_by_role("img", name="Jobs ended per minute over the last hour")).to_be_visible()
        assert serious_accessibility_problems(page) == []
        page.evaluate("window.stayedOnPage = true")
        added = queue.submit("story", {"seed": "Another.", "lines": 2, "model": "tolstoy"}).split(".")[0]
        expect(page.get_by_role("region", name="Waiting for a worker that serves them")).to_contain_text(added)
        assert page.evaluate("window.stayedOnPage === true")  # swapped in, not reloaded
        assert page.csp_violations == []
    page.reload()  # the worker closed: its heartbeat file is gone
    expect(page.get_by_text("No worker has registered with this queue.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Operator key")).to_be_visible()


@pytest.mark.parametrize("browser_settings", [{**DESKTOP, "java_script_enabled": False}])
def test_without_javascript_it_is_a_page_of_plain_tables_that_reloads_itself(page, site, queue_dir):
    with busy_queue(queue_dir):
        sign_in(page, site, check=False)
        expect(page.get_by_role("region", name="Jobs by kind and state")).to_contain_text("story")
        assert page.locator("noscript").first.inner_html().startswith('<meta http-equiv="refresh" content="15"')


@pytest.mark.parametrize("browser_settings, name", [
    (DESKTOP, "operator-desktop"),
    ({**DESKTOP, "color_scheme": "dark"}, "operator-desktop-dark"),
    (PHONE, "operator-phone"),
    ({**PHONE, "color_scheme": "dark"}, "operator-phone-dark"),
], ids=["desktop", "desktop-dark", "phone", "phone-dark"])
def test_screenshots_on_a_desktop_and_a_phone_in_light_and_dark(page, site, queue_dir, browser_settings, name):
    with busy_queue(queue_dir):
        sign_in(page, site)
        expect(page.get_by_role("region", name="Workers")).to_contain_text("Tesla T4")
        assert serious_accessibility_problems(page) == []
        width = browser_settings["viewport"]["width"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width  # tables scroll or stack, not the page
        dark = browser_settings.get("color_scheme") == "dark"
        assert (background_luminance(page) < 0.2) if dark else (background_luminance(page) > 0.8)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
