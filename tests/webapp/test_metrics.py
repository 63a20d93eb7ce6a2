"""/metrics scraped through the real app over HTTP, with a real worker process: the counts move."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from drivequeue import Queue, open_store
from webapp import create_app

from .browser_support import queue_dir, site, site_config, site_settings, worker  # noqa: F401 (fixtures)
from .conftest import FAST

KEY = "metrics-key-" + "m" * 20


@pytest.fixture
def site_settings():
    return {"operator_key": KEY, "operator_period": 0.2}


def call(url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {})})
    return urllib.request.urlopen(request, timeout=30)


def parse(text: str) -> dict[tuple, float]:
    """Every sample by (name, sorted labels), read with prometheus-client's own parser."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(site) -> dict[tuple, float]:
    with call(f"{site}/metrics", headers={"Authorization": f"Bearer {KEY}"}) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(response.read().decode())


def story(name, **labels):
    return (name, tuple(sorted({"kind": "story", **labels}.items())))


def scrape_until(site, check, within=90.0) -> dict:
    deadline = time.monotonic() + within
    while True:
        samples = scrape(site)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, f"never true: {samples}"
        time.sleep(0.3)


def test_a_scrape_follows_a_real_worker_writing_stories(site, worker):
    first = scrape_until(site, lambda s: s[("drivequeue_workers_online", ())] == 1)
    assert first[story("drivequeue_jobs_finished_total")] == 0
    assert first[("drivequeue_store_up", ())] == 1
    ids = [json.load(call(f"{site}/api/stories", {"seed": f"Story {n}.", "lines": 2}))["id"] for n in range(2)]
    with call(f"{site}/api/stories/{ids[0]}/stream"):
        streaming = scrape(site)
        assert streaming[("webapp_event_streams_open", ())] == 1
    done = scrape_until(site, lambda s: s[story("drivequeue_jobs_finished_total")] == 2)
    assert done[story("drivequeue_jobs", state="done")] == 2
    assert done[story("drivequeue_job_duration_seconds_count")] == 2
    assert done[story("drivequeue_job_duration_seconds_sum")] > 0
    assert done[story("drivequeue_job_queue_wait_seconds_count")] == 2
    assert done[story("drivequeue_job_duration_seconds_bucket", le="+Inf")] == 2
    assert done[story("drivequeue_jobs_failed_total")] == 0
    reads = ("drivequeue_store_calls_total", (("operation", "read"),))
    assert done[reads] > first[reads]
    assert done[("webapp_event_streams_open", ())] == 0
    reported = scrape_until(site, lambda s: s.get(story("drivequeue_workers_lines_per_minute"), 0) > 0)
    assert reported[("drivequeue_workers_online", ())] == 1


def test_jobs_that_ended_before_the_first_look_are_not_counted_and_a_continue_counts_again(config, queue):
    app = create_app(config.replace(operator_key=KEY, operator_period=0.0), queue=queue)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {KEY}"}

    def samples():
        return parse(client.get("/metrics", headers=headers).get_data(as_text=True))

    before = queue.submit("story", {"seed": "old", "lines": 1})
    with queue.worker(host="w", device="cpu", offers=["default"]) as session:
        session.claim_next().complete()
        assert samples()[story("drivequeue_jobs_finished_total")] == 0  # the baseline
        queue.submit("story", {"seed": "bad", "lines": 1})
        session.claim_next().fail("no such model")
        queue.continue_job(before, {"lines": 1})
        session.claim_next().complete()
        after = samples()
    assert after[story("drivequeue_jobs_failed_total")] == 1
    assert after[story("drivequeue_jobs_finished_total")] == 1  # the continued job's new segment
    assert after[story("drivequeue_jobs", state="done")] == 1 and after[story("drivequeue_jobs", state="failed")] == 1


def test_on_drive_the_scrape_shows_the_api_calls_by_method(drive_env, tmp_path):
    url = f"drive://id:{drive_env.create_folder('queue')}"
    config = site_config(tmp_path, queue_url=url, operator_key=KEY, operator_period=0.0)
    client = create_app(config).test_client()
    Queue(open_store(url), FAST).submit("story", {"seed": "x", "lines": 1})
    samples = parse(client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).get_data(as_text=True))
    assert samples[("drivequeue_drive_api_calls_total", (("method", "changes.list"),))] >= 1
    assert samples[("drivequeue_store_calls_total", (("operation", "list"),))] >= 1
    assert samples[story("drivequeue_jobs", state="queued")] == 1
