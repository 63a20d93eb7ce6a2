"""A job that is not a story (a train job) opened by its id in a real browser: a plain page of its
own (kind, state, progress, result, output) with "stop and keep the model so far" beside cancel."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from drivequeue import Queue, open_store

from .browser_support import (  # noqa: F401 (fixtures)
    browser_settings, page, queue_dir, serious_accessibility_problems, site, site_settings, worker_session,
)

TRAIN = {"corpus": "goats.txt", "model": "goats", "steps": 2000}


def submit_train(queue_dir) -> str:
    queue_dir.mkdir(parents=True, exist_ok=True)
    return Queue(open_store(str(queue_dir))).submit("train", TRAIN)


def test_a_train_job_opens_as_a_plain_job_page_and_can_stop_keeping_its_model(page, site, queue_dir):
    job_id = submit_train(queue_dir)
    page.goto(f"{site}/stories/{job_id}")  # a story's address, as a shared link might be
    expect(page).to_have_url(f"{site}/jobs/{job_id}")
    expect(page).to_have_title("Training job · Story machine")
    expect(page.get_by_role("heading", level=1)).to_have_text("Training job")
    status = page.locator("#status")
    expect(status).to_have_text("Queued: it is next. No worker is online right now.")
    for story_word in ("Your story", "Stop writing", "Writing more lines", "Continue the story"):
        expect(page.get_by_text(story_word)).to_have_count(0)
    expect(page.locator(".job-settings")).to_contain_text("corpusgoats.txt")

    with worker_session(queue_dir) as worker:
        claim = worker.claim_next()
        claim.append(["training goats on goats.txt for 2000 steps on cuda",
                      "step 200/2000  loss 1.912  val 1.804  eta 12m00s"],
                     progress={"step": 200, "of": 2000, "train_loss": 1.912, "best_val_loss": 1.804, "eta_s": 720})
        expect(status).to_have_text("Training: step 200 of 2,000, best validation loss so far 1.804 nats/char, "
                                    "about 12 minutes left on worker gpu-box's Tesla T4 GPU.")
        expect(page.locator("#progress")).to_have_attribute("value", "200")
        expect(page.locator(".job-log li")).to_have_text(["training goats on goats.txt for 2000 steps on cuda",
                                                          "step 200/2000  loss 1.912  val 1.804  eta 12m00s"])
        expect(page.get_by_role("button", name="Cancel and keep nothing")).to_be_visible()
        assert serious_accessibility_problems(page) == []

        page.get_by_role("button", name="Stop and keep the model so far").click()
        expect(page).to_have_url(f"{site}/jobs/{job_id}")
        expect(status).to_have_text("Stopping: the worker ends the job.")
        assert claim.cancelled and claim.cancel_options["keep"] is True  # what the worker is told
        claim.complete({"model": "goats", "steps": 200, "best_val_loss": 1.804, "stopped_by": "stopped by request"})
    page.evaluate("window.sameDocument = true")
    expect(status).to_have_text(
        "Stopped at step 200 as asked: model 'goats' published (best validation loss 1.804 nats/char).")
    expect(page.locator(".job-result")).to_contain_text('"model": "goats"')
    expect(page.get_by_role("button")).to_have_count(0)  # nothing left to stop
    assert page.evaluate("window.sameDocument") is True  # brought up to date in place, not reloaded
    assert serious_accessibility_problems(page) == []
    assert page.csp_violations == []

    answer = page.request.get(f"{site}/api/stories/{job_id}")
    assert answer.status == 404
    assert answer.json()["message"] == f"This is a train job, not a story. Its page is /jobs/{job_id}."


def test_a_queued_train_job_cancelled_from_its_page_keeps_nothing(page, site, queue_dir):
    job_id = submit_train(queue_dir)
    page.goto(f"{site}/jobs/{job_id}")
    expect(page.get_by_role("button", name="Stop and keep the model so far")).to_have_count(0)  # nothing yet
    page.get_by_role("button", name="Cancel and keep nothing").click()
    expect(page.locator("#status")).to_have_text("Cancelled: nothing was kept.")
    story = page.request.get(f"{site}/stories/{job_id}/story.txt")
    assert story.status == 404 and re.search("This is a train job, not a story", story.text())
