"""Long stories in a real browser: a 100-line story continued and edited, and the new words of a
story with a long beginning brought into view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser_support import (  # noqa: F401 (fixtures)
    browser_settings, page, queue_dir, reveal_all, site, site_settings, start_story, worker_session,
)
from .test_browser_stream import LINES

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def long_lines(count: int) -> list[str]:
    return [f"Then, on the {i + 1}th morning, the fox walked on through the wood and thought about the geese "
            f"he had not caught, and about the crow who had laughed at him from the old oak." for i in range(count)]


def write(queue_dir, lines: list[str], first: bool = True) -> None:
    """A worker writes ``lines`` as sentences (a paragraph after every tenth) and finishes."""
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        ends = [i for i in range(len(lines)) if i % 10 == 9]
        claim.append(lines, marks={"paragraph_ends": ends}, meta={"seed_end": "sentence"} if first else None)
        claim.complete()


def test_a_story_of_a_hundred_lines_can_be_continued_and_its_end_edited(page, site, queue_dir):
    start_story(page, site, "The fox set out on a long road.", 100)
    write(queue_dir, long_lines(100))
    reveal_all(page, 100)
    status = page.locator("#status")
    expect(status).to_have_text("Done: 100 lines written.")
    story_url = page.url
    whole = page.request.get(story_url + "/story.txt").text()
    assert len(whole) > 14_000

    # more lines of the same story: the worker already holds the whole text, no limit applies
    page.get_by_label("More lines").fill("3")
    page.get_by_role("button", name="Continue the story").click()
    write(queue_dir, LINES[:3], first=False)
    reveal_all(page, 103)
    expect(status).to_have_text("Done: 103 lines written.", timeout=20_000)

    # edit: the box holds the story's end; the limit and its counter are on the box
    page.get_by_text("Edit the text, then continue").click()
    box = page.get_by_label("The end of the story")
    end = box.input_value()
    assert 0 < len(end) <= 2000 and end.endswith(LINES[2]) and not end.startswith(" ")
    counter = page.locator("#edit-seed-counter")
    expect(counter).to_have_text(f"{len(end):,} of 4,000 characters")
    kept = int(page.locator("#edit-keep").input_value())
    expect(box).to_have_accessible_description(re.compile(
        f"^The {kept:,} characters before this part stay as they are. Change it, add to it, or cut it short."))

    box.fill(end + " And then" * 500)
    expect(counter).to_have_text(re.compile(r"^[\d,]+ of 4,000 characters: [\d,]+ too many$"))
    page.get_by_role("button", name="Start the edited story").click()
    expect(page.locator("#edit-seed-error")).to_have_text("The end of the story is longer than 4000 characters.")
    expect(page.get_by_label("The end of the story")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("The end of the story")).to_have_value(end + " And then" * 500)  # kept whole
    assert page.url.startswith(story_url)  # the story page, not the start page

    page.get_by_label("The end of the story").fill(end.replace(LINES[2], "The geese flew away."))
    page.get_by_role("button", name="Start the edited story").click()
    page.wait_for_url(re.compile(r".*/stories/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))
    assert page.url != story_url
    expect(page.get_by_text("Edited from an earlier story.")).to_be_visible()
    child = page.request.get(page.url.replace("/stories/", "/api/stories/")).json()
    assert child["status"] == "queued"
    parent_text = page.request.get(story_url.replace("/stories/", "/api/stories/")).json()
    seed = child["payload"]["seed"]
    assert len(seed) > 14_000 and seed.endswith("The geese flew away.")
    assert seed.startswith("The fox set out on a long road. " + long_lines(1)[0])
    assert parent_text["line_count"] == 103


@pytest.mark.parametrize("browser_settings", [DESKTOP])
def test_after_a_long_beginning_the_new_words_are_brought_into_view(page, site, queue_dir):
    seed = ("The miller's daughter sat by the window and spun, and the wheel hummed all day long. " * 40)[:3000]
    start_story(page, site, seed.strip(), 5)
    seed_span = page.locator("#story-text .seed").first
    # the visitor's own words are in a quieter ink, not a striped highlight
    assert seed_span.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert (seed_span.evaluate("e => getComputedStyle(e).color")
            != page.locator("#story-text").evaluate("e => getComputedStyle(e).color"))
    lines = page.locator("#story-text .line")
    controls = page.locator("#controls")

    def above_the_controls(line) -> bool:
        return line.bounding_box()["y"] + line.bounding_box()["height"] <= controls.bounding_box()["y"] + 1

    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append([LINES[0]], meta={"seed_end": "sentence"})
        expect(lines.first).to_be_in_viewport()
        page.wait_for_timeout(800)  # the smooth scroll has ended
        assert above_the_controls(lines.first)

        page.mouse.wheel(0, -2500)  # the visitor goes back to reread the beginning
        page.wait_for_timeout(500)
        reading_at = page.evaluate("window.scrollY")
        claim.append([LINES[1]])
        expect(lines).to_have_count(2)
        page.wait_for_timeout(800)
        assert page.evaluate("window.scrollY") == reading_at  # not pulled away from where they read
        expect(lines.nth(1)).not_to_be_in_viewport()

        page.mouse.wheel(0, 5000)  # back at the newest words: the page follows them again
        page.wait_for_timeout(500)
        claim.append([LINES[2]] * 3)
        reveal_all(page, 5)
        expect(lines.last).to_be_in_viewport()
        page.wait_for_timeout(800)
        assert above_the_controls(lines.last)
        claim.complete()
