"""The pages in a real browser: Debian's Chromium driven by Playwright, the app on a real HTTP server.

The full story test also starts a real worker (``python -m colab_worker run``)
with the shipped model on the same local queue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .browser_support import (  # noqa: F401 (fixtures)
    ROOT, browser_settings, line_count, page, queue_dir, site, site_settings, start_story, wait_for_expression,
    worker, worker_session,
)


def test_without_a_worker_the_page_says_so_and_can_copy_and_cancel(page, site):
    seed = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> Once upon a time'
    start_story(page, site, seed, 5)
    status = page.locator("#status")
    expect(status).to_have_text(
        "Queued: yours is next. No worker is online: it is written when one starts."
    )
    expect(page.locator("#story-text .seed")).to_have_text(seed)
    assert page.evaluate("window.pwned") is None
    expect(page.get_by_role("button", name="Continue the story")).to_be_hidden()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-result")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == page.url

    page.get_by_role("button", name="Cancel", exact=True).click()  # nothing is being written yet
    expect(status).to_have_text("Cancelled: 0 lines written.")
    expect(page.get_by_role("button", name="Continue the story")).to_be_visible()
    story_url = page.url

    page.goto(site + "/")
    mine = page.locator("#my-stories")
    expect(mine).to_be_visible()
    link = mine.get_by_role("link")
    expect(link).to_have_count(1)
    assert site + link.get_attribute("href") == story_url
    assert page.csp_violations == []


@pytest.fixture
def slow_cancel_check(queue_dir, monkeypatch):
    """Workers look for a cancel only every 3 s, so a line may land well after one."""
    monkeypatch.setenv("DRIVEQUEUE_CHECK", "3")


def test_a_line_written_as_the_story_is_cancelled_still_appears(slow_cancel_check, page, site, queue_dir):
    start_story(page, site, "The fox and the geese.", 5)
    lines = page.locator("#story-text .line")
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(["The fox came to a meadow."], progress={"line": 2, "of": 5})
        expect(lines).to_have_count(1)
        page.get_by_role("button", name="Stop writing").click()
        status = page.locator("#status")
        expect(status).to_have_text("Stopping: the worker ends the story after the line it is writing.")
        expect(page.get_by_role("button", name="Continue the story")).to_be_hidden()
        page.evaluate("window.sameDocument = true")
        # the worker finishes the line it was on, then notices the cancel
        claim.append(["There sat a flock of fine fat geese."])
        assert claim.cancelled
        claim.complete()
    expect(status).to_have_text("Cancelled: 2 lines written.")
    expect(lines).to_have_count(2)
    expect(lines.last).to_contain_text("There sat a flock of fine fat geese.")
    expect(page.get_by_role("button", name="Continue the story")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True  # it came by polling, not by a reload


def test_the_pages_fit_a_phone_screen(page, site):
    page.set_viewport_size({"width": 360, "height": 740})
    start_story(page, site, "A long seed " * 40, 3)
    for url in (page.url, site + "/"):
        page.goto(url)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_a_story_grows_line_by_line_and_can_be_continued_cancelled_and_downloaded(page, site, worker):
    start_story(page, site, "Once upon a time there was a king who had three daughters.", 100)
    status = page.locator("#status")
    # Count the lines each time the page's script changes the story: they appear one at a time.
    page.evaluate("""() => {
        window.lineCounts = [];
        new MutationObserver(() => window.lineCounts.push(
            document.querySelectorAll('#story-text .line').length
        )).observe(document.getElementById('story-text'), {childList: true, subtree: true});
    }""")
    wait_for_expression(page, "window.lineCounts.length >= 3", timeout_s=120, worker=worker)
    counts = page.evaluate("window.lineCounts")
    assert counts == sorted(set(counts)) and counts[0] >= 1  # more lines at each step
    expect(status).to_have_text(re.compile(r"Writing line \d+ of 100 on worker .+'s processor \(no GPU\)\."))
    page.get_by_role("button", name="Stop writing").click()
    # the page shows every line the worker wrote before it noticed the stop, then says how many
    expect(status).to_have_text(re.compile(r"Cancelled: \d+ lines written\."), timeout=30_000)
    stopped_at = line_count(page)
    assert status.text_content() == f"Cancelled: {stopped_at} lines written."
    assert 3 <= stopped_at < 100

    page.get_by_label("More lines").fill("3")
    page.get_by_role("button", name="Continue the story").click()
    expect(status).to_have_text(re.compile(r"Done: \d+ lines written\."), timeout=120_000)
    total = line_count(page)
    assert status.text_content() == f"Done: {total} lines written."
    assert total == stopped_at + 3

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download .txt").click()
    text = Path(download_info.value.path()).read_text()
    shown = page.locator("#story-text p").all_text_contents()
    assert text == "\n\n".join(shown) + "\n"  # the download is the text the page shows, a blank line between paragraphs
    position = 0
    for line in page.locator("#story-text .line").all_text_contents():  # every line, in order
        position = text.index(line.strip(), position) + len(line.strip())

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "story-page.png"), full_page=True)
    assert page.csp_violations == []
