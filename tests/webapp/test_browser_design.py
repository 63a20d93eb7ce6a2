"""The pages as visitors see them in a real browser: the start page, dark mode, a phone, accessibility.

Screenshots of the story page (desktop and phone, light and dark) are saved
under ``test-artifacts/``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.helpers import eventually

from .browser_support import (  # noqa: F401 (fixtures)
    ROOT, browser_settings, page, queue_dir, reveal_all, serious_accessibility_problems, site,
    site_settings, start_story, worker_session,
)
from .test_browser_stream import LINES

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def background_luminance(page) -> float:
    rgb = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@contextmanager
def writing(queue_dir, lines=LINES, device="cuda: Tesla T4"):
    """A worker that has written ``lines`` of the story and is still on it."""
    with worker_session(queue_dir, device) as worker:
        claim = worker.claim_next()
        claim.append(lines, progress={"line": len(lines) + 1, "of": len(lines) + 4})
        yield claim


def test_the_start_page_says_who_writes_and_offers_examples_and_a_counter(page, site, queue_dir):
    page.goto(site + "/")
    expect(page.locator("#worker-line")).to_have_text(
        "No worker is online: your story will wait in the queue until the owner starts one.")
    online = "A worker is online: stories are written on worker gpu-box's Tesla T4 GPU, with the shipped model."
    with worker_session(queue_dir):
        for _ in range(40):  # the page reads the worker list at most every few seconds
            page.reload()
            if page.locator("#worker-line").text_content() == online:
                break
            page.wait_for_timeout(250)
        expect(page.locator("#worker-line")).to_have_text(online)
        expect(page.locator("#worker-line")).to_have_attribute("data-online", "true")
    seed = page.get_by_label("Beginning of the story")
    counter = page.locator("#seed-counter")
    expect(counter).to_have_text("0 of 4,000 characters")
    seed.fill("My own beginning")
    expect(counter).to_have_text("16 of 4,000 characters")
    example = page.get_by_role("button", name="The fox and the crow")
    example.click()  # over the visitor's own text: the page asks first
    question = page.locator("#replace-question")
    expect(question).to_have_text(re.compile("^The box holds your own text. Replace it with .The fox and the crow.?"))
    expect(question).to_have_attribute("role", "alert")
    expect(seed).to_have_value("My own beginning")
    page.get_by_role("button", name="Keep my text").click()
    expect(question).to_be_hidden()
    expect(seed).to_have_value("My own beginning")
    example.click()
    page.get_by_role("button", name="Replace my text").click()
    expect(seed).to_have_value(example.get_attribute("data-example"))
    assert page.url == site + "/"  # an example fills the box; it does not submit
    page.get_by_role("button", name="The lantern in the wood").click()  # an example over an example: no question
    expect(question).to_be_hidden()
    expect(seed).to_have_value(page.get_by_role("button", name="The lantern in the wood").get_attribute("data-example"))
    seed.fill("x" * 4010)
    expect(counter).to_have_text("4,010 of 4,000 characters: 10 too many")
    seed.fill("🦊" * 3000)  # one character each for the limit, two UTF-16 units each for the browser
    expect(counter).to_have_text("3,000 of 4,000 characters")
    assert serious_accessibility_problems(page) == []


def test_a_mistake_in_the_sampling_settings_opens_them_at_the_marked_field(page, site):
    page.goto(site + "/")
    page.get_by_label("Beginning of the story").fill("The tin soldier")
    page.get_by_text("Sampling settings").click()
    page.get_by_label("Temperature").fill("9")
    page.get_by_role("button", name="Write my story").click()
    expect(page.locator("#sampling")).to_have_attribute("open", "")
    temperature = page.get_by_label("Temperature")
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#temperature-error")).to_have_text("Temperature must be a number from 0.1 to 2.")
    expect(temperature).to_have_accessible_description(
        "From 0.1 to 2: lower is safer, higher is wilder. Temperature must be a number from 0.1 to 2.")
    expect(page.get_by_label("Beginning of the story")).to_have_value("The tin soldier")
    assert serious_accessibility_problems(page) == []


@pytest.mark.parametrize("site_settings", [{"stream_seconds": 1.0}])
def test_when_the_server_is_gone_the_page_says_so_instead_of_writing(page, site, queue_dir):
    start_story(page, site, "The fox and the geese.", 10)
    claim = None
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:2], progress={"line": 3, "of": 10})
        expect(page.locator("#status")).to_have_text(
            "Writing line 3 of 10 on worker gpu-box's Tesla T4 GPU.")
        page.route("**/api/**", lambda route: route.abort())  # the server is unreachable from now on
        status = page.locator("#status")
        expect(status).to_have_text(
            "Lost touch with the server after line 2. The story may still be being written: "
            "this page keeps trying.", timeout=20_000)
        expect(page.locator("#progress")).to_be_hidden()
        page.unroute("**/api/**")
        claim.append(LINES[2:4])
        claim.complete()
        expect(status).to_have_text("Done: 4 lines written.", timeout=20_000)


@pytest.mark.parametrize("browser_settings", [{"color_scheme": "dark", **DESKTOP}])
def test_dark_mode_follows_the_system_and_stays_readable(page, site, queue_dir):
    start_story(page, site, "The fox and the geese.", 10)
    assert background_luminance(page) < 0.15
    with writing(queue_dir):
        reveal_all(page, len(LINES))
        assert serious_accessibility_problems(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "story-page-dark.png"))
        page.emulate_media(color_scheme="light")
        assert background_luminance(page) > 0.85


@pytest.mark.parametrize("browser_settings", [PHONE])
def test_on_a_phone_the_text_fits_and_the_controls_stay_in_reach(page, site, queue_dir):
    start_story(page, site, "A long seed that goes on and on. " * 30, 60)
    with writing(queue_dir, LINES * 5, device="cpu"):
        reveal_all(page, len(LINES) * 5)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        page.mouse.wheel(0, 1500)  # half way down a story longer than the screen
        page.wait_for_timeout(300)
        bar = page.locator("#controls").bounding_box()
        assert bar["y"] >= 0 and bar["y"] + bar["height"] <= 844 + 1  # in view while reading
        stop = page.get_by_role("button", name="Stop writing")
        expect(stop).to_be_in_viewport()
        assert stop.bounding_box()["height"] >= 44  # a finger-sized target
        expect(page.get_by_role("button", name="Copy link")).to_be_in_viewport()
        expect(page.get_by_role("link", name="Download .txt")).to_be_in_viewport()
        assert serious_accessibility_problems(page) == []
    page.goto(site + "/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert serious_accessibility_problems(page) == []


@pytest.mark.parametrize("browser_settings", [DESKTOP])
def test_the_story_page_on_a_desktop_while_writing_and_when_done(page, site, queue_dir):
    start_story(page, site, "Once upon a time there was a fox who lived at the edge of a wood.", 10)
    assert serious_accessibility_problems(page) == []  # queued
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES, progress={"line": 7, "of": 10})
        reveal_all(page, len(LINES))
        expect(page.get_by_role("button", name="Stop writing")).to_be_in_viewport()
        assert serious_accessibility_problems(page) == []  # writing
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "story-page-desktop.png"))
        claim.complete()
    expect(page.locator("#status")).to_have_text(f"Done: {len(LINES)} lines written.")
    assert serious_accessibility_problems(page) == []  # done
    measure = page.locator("#story-text").bounding_box()["width"]
    assert measure <= 720  # a comfortable measure, not the whole 1280 px


@pytest.mark.parametrize("browser_settings", [PHONE])
def test_phone_screenshot_of_a_story_being_written(page, site, queue_dir):
    start_story(page, site, "Once upon a time there was a fox who lived at the edge of a wood.", 10)
    with writing(queue_dir):
        reveal_all(page, len(LINES))
        page.wait_for_timeout(3000)  # the newest line's mark has faded
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "story-page-phone.png"))
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390


@pytest.mark.parametrize("browser_settings", [DESKTOP])
def test_form_errors_are_listed_in_page_order_and_marked_alike_on_aligned_fields(page, site):
    page.goto(site + "/")
    page.get_by_text("Sampling settings").click()
    page.get_by_label("Lines to write").fill("500")
    page.get_by_label("Temperature").fill("0")  # below what the form accepts, as its hint says
    page.get_by_label("Top-p").fill("0")
    page.get_by_role("button", name="Write my story").click()
    summary = page.locator("#form-errors a")
    expect(summary).to_have_text([
        "Beginning of the story is blank: it needs at least one character that is not a space.",
        "Lines to write must be a whole number from 1 to 100.",
        "Temperature must be a number from 0.1 to 2.",
        "Top-p must be a number above 0 and at most 1.",
    ])
    marked = ("Beginning of the story", "Lines to write", "Temperature", "Top-p")
    for label in marked:
        expect(page.get_by_label(label)).to_have_attribute("aria-invalid", "true")

    def borders() -> set[tuple[str, str]]:
        return {tuple(page.get_by_label(label).evaluate(
            "e => [getComputedStyle(e).borderTopColor, getComputedStyle(e).borderTopWidth]")) for label in marked}

    # one border for every marked field, once the page has settled (focus moves to the first one)
    eventually(lambda: len(borders()) == 1, 10, every=0.1, what="one border on every marked field")
    tops = {label: page.get_by_label(label).bounding_box()["y"] for label in ("Temperature", "Top-k", "Top-p")}
    assert max(tops.values()) - min(tops.values()) < 1, tops  # a row's fields on one line, whatever their hints
    expect(page.locator("#temperature-hint")).to_have_text("From 0.1 to 2: lower is safer, higher is wilder.")
    assert serious_accessibility_problems(page) == []


def test_the_copied_link_notice_goes_away_after_a_few_seconds(page, site):
    page.clock.install()
    start_story(page, site, "The fox and the geese.", 3)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    page.get_by_role("button", name="Copy link").click()
    notice = page.locator("#copy-result")
    expect(notice).to_have_text("Link copied.")
    page.clock.run_for(3900)
    expect(notice).to_have_text("Link copied.")
    page.clock.run_for(200)
    expect(notice).to_have_text("")
    expect(notice).to_be_hidden()  # nothing left over the story's last line


def test_your_stories_say_when_how_long_and_how_each_stands(page, site, queue_dir):
    start_story(page, site, "The cat sat.", 2)
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:2])
        claim.complete()
    reveal_all(page, 2)
    expect(page.locator("#status")).to_have_text("Done: 2 lines written.")
    start_story(page, site, "The cat sat.", 2)
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.locator("#status")).to_have_text("Cancelled: 0 lines written.")
    start_story(page, site, "The cat sat.", 1)  # left while it waits for a worker

    page.goto(site + "/")
    items = page.locator("#my-stories li")
    started = r" · started \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M"
    expect(items).to_have_text([
        re.compile(r"^The cat sat\. 0 lines · waiting for a worker" + started + "$"),
        re.compile(r"^The cat sat\. 0 lines · stopped" + started + "$"),
        re.compile(r"^The cat sat\. 2 lines · done" + started + "$"),
    ])
    with worker_session(queue_dir) as worker:  # it was written after its page was left
        claim = worker.claim_next()
        claim.append(LINES[:1])
        claim.complete()
    for _ in range(20):  # the app reads a story again after its read period
        page.reload()
        if items.first.text_content().startswith("The cat sat. 1 line · done"):
            break
        page.wait_for_timeout(250)
    expect(items.first).to_have_text(re.compile(r"^The cat sat\. 1 line · done" + started + "$"))
    assert serious_accessibility_problems(page) == []


def test_a_link_of_the_error_summary_keeps_what_was_typed(page, site):
    page.goto(site + "/")
    page.get_by_label("Beginning of the story").fill("The fox found a key")
    page.get_by_text("Sampling settings").click()
    page.get_by_label("Lines to write").fill("500")
    page.get_by_role("button", name="Write my story").click()
    link = page.locator("#form-errors a", has_text="Lines to write")
    expect(link).to_be_visible()
    link.click()  # a jump within the page, not a page of its own: nothing is loaded again
    page.wait_for_timeout(500)
    expect(page.get_by_label("Beginning of the story")).to_have_value("The fox found a key")
    expect(page.locator("#form-errors a")).to_have_count(1)
