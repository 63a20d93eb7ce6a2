"""The story page in a real browser: lines streamed, revealed one by one, and stopped where seen.

A worker session in the test process writes exactly the lines each test needs,
on the same local folder the app reads.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .browser_support import (  # noqa: F401 (fixtures)
    browser_settings, line_count, page, queue_dir, site, site_settings, start_story, worker_session,
)

LINES = [
    "The fox came to a meadow where the grass stood high.",
    "There sat a flock of fine fat geese.",
    "He smiled and said, 'I come just at the right time.'",
    "The geese cried out and begged for their lives.",
    "But the fox would hear of nothing and said, 'You must die.'",
    "At last one of them took heart and said, 'Let us pray first.'",
]

RECORD_LINES = """() => {
    window.shownAt = [];
    window.announced = [];
    new MutationObserver(records => {
        for (const r of records) for (const n of r.addedNodes)
            if (n.nodeType === 1 && n.classList.contains('line')) window.shownAt.push(performance.now());
    }).observe(document.getElementById('story-text'), {childList: true, subtree: true});
    new MutationObserver(() => window.announced.push(document.getElementById('announcer').textContent))
        .observe(document.getElementById('announcer'), {childList: true, characterData: true, subtree: true});
}"""


def requests_to(page, fragment):
    seen = []
    page.on("request", lambda request: fragment in request.url and seen.append(request))
    return seen


def test_lines_stream_into_the_page_without_polling(page, site, queue_dir):
    polls = requests_to(page, "?after=")
    start_story(page, site, "The fox and the geese.", 6)
    expect(page.locator("#story")).to_have_attribute("data-transport", "stream")
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:2], progress={"line": 3, "of": 6})
        expect(page.locator("#story-text .line")).to_have_count(2)
        expect(page.locator("#status")).to_have_text("Writing line 3 of 6 on worker gpu-box's Tesla T4 GPU.")
        claim.append(LINES[2:])
        claim.complete()
    expect(page.locator("#status")).to_have_text("Done: 6 lines written.")
    expect(page.locator("#story-text .line")).to_have_count(6)
    assert page.locator("#story-text .line").all_text_contents() == LINES
    expect(page.get_by_role("button", name="Continue the story")).to_be_visible()
    assert [r.url for r in polls if "/stream" not in r.url] == []  # everything came over the stream


def test_the_page_polls_by_itself_when_the_stream_is_blocked(page, site, queue_dir):
    page.route("**/stream*", lambda route: route.abort())
    start_story(page, site, "The fox and the geese.", 3)
    expect(page.locator("#story")).to_have_attribute("data-transport", "polling")
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:3])
        claim.complete()
    expect(page.locator("#status")).to_have_text("Done: 3 lines written.")
    assert page.locator("#story-text .line").all_text_contents() == LINES[:3]


@pytest.mark.parametrize("site_settings", [{"stream_seconds": 1.0}])  # streams dropped after 1 s
def test_a_dropped_stream_resumes_after_the_last_line_it_had(page, site, queue_dir):
    streams = requests_to(page, "/stream")
    start_story(page, site, "The fox and the geese.", 6)
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        for i, line in enumerate(LINES):
            claim.append([line])
            expect(page.locator("#story-text .line")).to_have_count(i + 1)
            page.wait_for_timeout(700)  # lines come across several connections
        claim.complete()
    expect(page.locator("#status")).to_have_text("Done: 6 lines written.")
    assert page.locator("#story-text .line").all_text_contents() == LINES  # none twice, none missing
    headers = [r.all_headers() for r in streams]
    resumed = [int(h["last-event-id"]) for h in headers if "last-event-id" in h]
    assert len(streams) >= 3 and resumed and resumed == sorted(resumed) and max(resumed) >= 3
    assert page.locator("#story").get_attribute("data-transport") == "stream"


#: the page's one reading pace (static/js/story.js, README "The story page")
CHARS_PER_SECOND = 45


def test_lines_that_arrive_together_are_revealed_at_one_pace_and_announced_whole(page, site, queue_dir):
    page.clock.install()  # the page's timers run on a clock this test moves
    start_story(page, site, "The fox and the geese.", 6)
    page.evaluate(RECORD_LINES)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    lines = page.locator("#story-text .line")
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES)  # all six in one write
        claim.complete()
    expect(page.locator("#story")).to_have_attribute("data-received", "6")
    page.clock.run_for(1)
    expect(lines).to_have_count(1)
    now = due = 0.0  # ms since the first line appeared
    for shown, line in enumerate(LINES[:4], start=1):
        # each line waits as long as the one before it takes to read, however many wait behind it
        due += (len(line) + 1) * 1000 / CHARS_PER_SECOND
        page.clock.run_for(int(due - 5 - now))
        now = int(due - 5)
        expect(lines).to_have_count(shown)
        page.clock.run_for(10)
        now += 10
        expect(lines).to_have_count(shown + 1)
    assert page.evaluate("window.announced") == LINES[:5]  # whole lines, one at a time
    newest = page.locator("#story-text .line.fresh")
    expect(newest).to_have_count(1)
    expect(newest).to_have_text(LINES[4])  # the newest line is marked for a moment
    page.clock.run_for(10_000)
    expect(lines).to_have_count(6)
    expect(newest).to_have_count(0)


def test_lines_waiting_to_be_read_can_be_shown_at_once(page, site, queue_dir):
    page.clock.install()
    start_story(page, site, "The fox and the geese.", 12)
    page.evaluate(RECORD_LINES)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    show_all = page.get_by_role("button", name="Show all now")
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:1])
        expect(page.locator("#story")).to_have_attribute("data-received", "1")
        page.clock.run_for(1)
        expect(page.locator("#story-text .line")).to_have_count(1)
        expect(show_all).to_be_hidden()  # nothing waits
        claim.append(LINES * 2)  # more than a few seconds of reading at once
        expect(page.locator("#story")).to_have_attribute("data-received", "13")
        page.clock.run_for(2000)
        expect(show_all).to_be_visible()
        show_all.click()
        expect(page.locator("#story-text .line")).to_have_count(13)
        expect(show_all).to_be_hidden()
        assert page.evaluate("window.announced")[-1].endswith(LINES[-1])
        claim.complete()


@pytest.mark.parametrize("browser_settings", [{"reduced_motion": "reduce"}])
def test_with_reduced_motion_lines_appear_at_once(page, site, queue_dir):
    start_story(page, site, "The fox and the geese.", 6)
    page.evaluate(RECORD_LINES)
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES)
        claim.complete()
    expect(page.locator("#story-text .line")).to_have_count(6)
    times = page.evaluate("window.shownAt")
    assert max(times) - min(times) < 50  # in one go
    assert page.evaluate("window.announced")[-1] == " ".join(LINES)


def test_stop_sends_the_lines_the_visitor_has_seen(page, site, queue_dir):
    start_story(page, site, "The fox and the geese.", 6)
    cancels = []
    page.on("request", lambda r: r.url.endswith("/cancel") and cancels.append(r))
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES)  # the worker is ahead of the reader
        expect(page.locator("#story-text .line")).to_have_count(2)
        before = line_count(page)
        page.get_by_role("button", name="Stop writing").click()
        expect(page.locator("#status")).to_have_text(
            "Stopping: the worker ends the story after the line it is writing.")
        assert len(cancels) == 1 and cancels[0].method == "POST"
        seen = json.loads(cancels[0].post_data)["seen"]
        assert before <= seen <= before + 1 < 6  # what was on screen when the button was pressed
        page.wait_for_timeout(1500)
        assert line_count(page) <= seen + 1  # nothing beyond what the story can keep is revealed
        assert claim.cancelled
        claim.complete()
    expect(page.get_by_role("button", name="Continue the story")).to_be_visible()
    # the story ends where the visitor stopped it: the lines seen, and at most the one after
    expect(page.locator("#status")).to_have_text(re.compile(r"Cancelled: \d+ lines? written\."))
    kept = line_count(page)
    assert page.locator("#status").text_content() == f"Cancelled: {kept} line{'s' if kept != 1 else ''} written."
    assert seen <= kept <= seen + 1
    assert page.locator("#story-text .line").all_text_contents() == LINES[:kept]


def test_streamed_sentences_flow_into_the_paragraphs_the_worker_marks(page, site, queue_dir):
    start_story(page, site, "The fox was hungry", 4)
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append([" and went out."], meta={"seed_end": "mid-sentence"})
        expect(page.locator("#story-text .line")).to_have_count(1)
        claim.append(["He met a goose.", "It was late.", "Night fell."], marks={"paragraph_ends": [0]})
        claim.complete()
    expect(page.locator("#status")).to_have_text("Done: 4 lines written.")
    assert page.locator("#story-text p").all_text_contents() == [
        "The fox was hungry and went out. He met a goose.", "It was late. Night fell."]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .txt").click()
    text = open(download.value.path()).read()
    assert text == "\n\n".join(page.locator("#story-text p").all_text_contents()) + "\n"


def test_the_form_becomes_the_story_page_in_place_with_its_address_and_a_working_back_button(page, site, queue_dir):
    page.goto(site + "/")
    page.evaluate("window.sameDocument = true")
    page.get_by_label("Beginning of the story").fill("")
    page.get_by_role("button", name="Write my story").click()  # a mistake first: the form comes back in place
    expect(page.locator("#seed-error")).to_have_text(
        "Beginning of the story is blank: it needs at least one character that is not a space.")
    assert page.url == site + "/" and page.evaluate("window.sameDocument") is True
    page.get_by_label("Beginning of the story").fill("The fox and the geese.")
    page.get_by_role("button", name="Write my story").click()
    page.wait_for_url(re.compile(r".*/stories/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))
    story_url = page.url
    expect(page).to_have_title("The fox and the geese. · Story machine")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your story")
    expect(page.locator("#story")).to_have_attribute("data-transport", "stream")
    assert page.evaluate("window.sameDocument") is True  # no new document was loaded
    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(LINES[:1])
        expect(page.locator("#story-text .line")).to_have_count(1)
        claim.complete()

    page.go_back()
    expect(page).to_have_url(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a story")
    expect(page.locator("#my-stories li")).to_have_count(1)  # the story was recorded as this visitor's
    page.go_forward()
    expect(page).to_have_url(story_url)
    expect(page.locator("#story-text .line")).to_have_count(1)


@pytest.mark.parametrize("browser_settings", [{"java_script_enabled": False}])
def test_without_javascript_the_form_posts_and_redirects_to_the_story_page(page, site):
    page.goto(site + "/")
    page.get_by_label("Beginning of the story").fill("The fox and the geese.")
    page.get_by_role("button", name="Write my story").click()
    page.wait_for_url(re.compile(r".*/stories/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your story")
    expect(page.locator("#story-text .seed")).to_have_text("The fox and the geese.")
