"""A story through its states, with a real worker session writing lines on the same folder."""

import re

from .conftest import csrf_token, submit


def test_lines_arrive_after_n_and_the_state_says_where_they_are_written(client, worker):
    story_id = submit(client, seed="The lighthouse", lines=3)["id"]
    claim = worker.claim_next()
    claim.append(["first line"])
    claim.set_progress({"line": 2, "of": 3})
    view = client.get(f"/api/stories/{story_id}?after=0").get_json()
    assert view["status"] == "running"
    assert view["lines"] == ["first line"]
    assert view["message"] == "Writing line 2 of 3 on worker gpu-box's GPU."
    claim.append(["second line", "third line"])
    view = client.get(f"/api/stories/{story_id}?after=1").get_json()
    assert view["lines"] == ["second line", "third line"]
    assert view["after"] == 1 and view["line_count"] == 3
    assert client.get(f"/api/stories/{story_id}?after=3").get_json()["lines"] == []
    claim.complete()
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "done"
    assert view["message"] == "Done: 3 lines written."
    assert view["lines"] == ["first line", "second line", "third line"]


def test_the_story_page_renders_the_lines_so_far(client, worker):
    story_id = submit(client, seed="Seed text", lines=2)["id"]
    claim = worker.claim_next()
    claim.append(["one", "two"])
    claim.complete()
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    # the worker writes one paragraph per line (it reports no paragraph ends)
    assert ('<p><span class="seed">Seed text</span></p>\n      <p><span class="line" data-index="0">one</span></p>'
            '\n      <p><span class="line" data-index="1">two</span></p>') in html
    assert 'data-line-count="2"' in html
    text = client.get(f"/stories/{story_id}/story.txt").get_data(as_text=True)
    assert text == "Seed text\none\ntwo\n"


def test_continue_after_done_queues_more_lines(client, worker):
    story_id = submit(client, lines=1)["id"]
    claim = worker.claim_next()
    claim.append(["only line"])
    claim.complete()
    response = client.post(f"/api/stories/{story_id}/continue", json={"lines": 2, "temperature": 1.2})
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    claim = worker.claim_next()
    assert claim.settings["temperature"] == 1.2 and claim.remaining == 2


def test_a_failure_is_shown_with_its_reason(client, worker):
    story_id = submit(client)["id"]
    worker.claim_next().fail("model 'default' could not be loaded")
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "failed"
    assert view["message"] == "Failed: model 'default' could not be loaded."


def test_cancel_while_running_through_the_page(client, worker):
    story_id = submit(client, lines=5)["id"]
    claim = worker.claim_next()
    claim.append(["a line"])
    path = f"/stories/{story_id}"
    response = client.post(path + "/cancel", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    # the worker has not noticed yet: the page says so and offers no continue
    html = client.get(path).get_data(as_text=True)
    assert "Stopping: the worker ends the story after the line it is writing." in html
    assert '<section class="more" data-when="finished" hidden' in html and "data-stopping" in html
    response = client.post(f"/api/stories/{story_id}/continue", json={"lines": 2})
    assert response.status_code == 409 and "still stopping" in response.get_json()["message"]
    assert claim.cancelled
    claim.append(["the line it was writing"])
    claim.complete()
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "cancelled" and view["stopping"] is False
    assert view["message"] == "Cancelled: 2 lines written."
    html = client.get(path).get_data(as_text=True)
    assert re.search(r'<section class="more" data-when="finished"\s+aria-labelledby', html)
    assert "data-stopping" not in html


def test_workers_and_their_models_are_offered(client, worker):
    body = client.get("/api/workers").get_json()
    assert body["online"] == 1
    (entry,) = body["workers"]
    assert entry["host"] == "gpu-box" and entry["device"] == "cuda:0"
    assert entry["models"] == ["default"] and entry["online"] is True
    assert set(entry) == {"id", "host", "device", "models", "online", "last_seen"}
    assert '<option value="default">default (the shipped model)</option>' in client.get("/").get_data(as_text=True)


def test_stopping_a_story_that_just_finished_says_so(client, worker):
    story_id = submit(client, lines=1)["id"]
    path = f"/stories/{story_id}"
    token = csrf_token(client, path)
    claim = worker.claim_next()
    claim.append(["the end"])
    claim.complete()
    response = client.post(path + "/cancel", data={"csrf_token": token})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "the job has already finished" in html and "Done: 1 line written." in html


def test_a_story_given_back_by_its_worker_waits_to_be_resumed(client, worker):
    story_id = submit(client, lines=4)["id"]
    claim = worker.claim_next()
    claim.append(["one", "two"])
    claim.release()
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "queued"
    assert "A worker stopped while writing it; the next one resumes after line 2." in view["message"]


def test_an_unreadable_job_file_shows_as_failed(client, store):
    key = store.new_keys("job")[0]
    store.create(key, "job", b"{not json")
    story_id = f"{key}.{'A' * 22}"
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "failed"
    page = client.get(f"/stories/{story_id}")
    assert page.status_code == 200
    assert view["message"] in page.get_data(as_text=True)
    assert client.get(f"/stories/{story_id}/story.txt").get_data(as_text=True) == "\n"


def test_sentences_flow_into_paragraphs_on_the_page_and_in_the_download(client, worker):
    story_id = submit(client, seed="The fox was hungry", lines=4)["id"]
    claim = worker.claim_next()
    claim.append([" and went out.", "He met a goose.", "It was late.", "Night fell."],
                 marks={"paragraph_ends": [1]}, meta={"seed_end": "mid-sentence"})
    claim.complete()
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    assert ('<p><span class="seed">The fox was hungry</span><span class="line" data-index="0"> and went out.'
            '</span> <span class="line" data-index="1">He met a goose.</span></p>') in html
    assert ('<p><span class="line" data-index="2">It was late.</span> '
            '<span class="line" data-index="3">Night fell.</span></p>') in html
    text = client.get(f"/stories/{story_id}/story.txt").get_data(as_text=True)
    assert text == "The fox was hungry and went out. He met a goose.\n\nIt was late. Night fell.\n"
