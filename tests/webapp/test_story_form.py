"""The start form as a visitor meets it: field errors, limits that keep the text, honest labels."""

import html as html_module
import re

from webapp import create_app

from .conftest import csrf_token, submit


def form(client, **fields):
    return {"csrf_token": csrf_token(client), "seed": "A quiet harbour", "lines": "3", **fields}


def test_an_error_in_the_sampling_settings_opens_that_panel_and_marks_the_field(client):
    response = client.post("/stories", data=form(client, temperature="7"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<details id="sampling" open>' in html
    assert re.search(r'aria-describedby="temperature-hint temperature-error" aria-invalid="true"', html)
    assert "Temperature must be a number from 0.1 to 2." in html
    assert 'href="#temperature"' in html  # the summary links to the field
    assert "A quiet harbour</textarea>" in html


def test_an_empty_or_too_long_beginning_is_marked_with_its_label(client):
    html = client.post("/stories", data=form(client, seed="   ")).get_data(as_text=True)
    assert "Beginning of the story is blank: it needs at least one character that is not a space." in html
    long = "x" * 4001
    response = client.post("/stories", data=form(client, seed=long))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Beginning of the story is longer than 4000 characters." in html
    assert long + "</textarea>" in html  # kept whole, not cut to the limit


def test_the_start_page_says_whether_a_worker_is_online(client, worker):
    html = client.get("/").get_data(as_text=True)
    assert ('data-online="true">A worker is online: stories are written on worker gpu-box\'s GPU, '
            "with the shipped model.</p>") in html.replace("&#39;", "'")


def test_with_no_worker_the_start_page_says_the_story_will_wait(client):
    html = client.get("/").get_data(as_text=True)
    assert ('data-online="false">No worker is online: your story will wait in the queue '
            "until the owner starts one.</p>") in html


def test_the_start_page_offers_three_example_beginnings_and_a_counter(client):
    html = client.get("/").get_data(as_text=True)
    assert len(re.findall(r'<button type="button" class="example" data-example="[^"]{40,}">', html)) == 3
    assert re.search(r'id="seed-counter"[^>]*>\s*0 of 4,000 characters</p>', html)
    assert "<button type=\"submit\">Write my story</button>" in html


def test_only_accepted_stories_count_against_the_creation_limit(config, queue):
    client = create_app(config.replace(create_limit="2 per minute"), queue=queue).test_client()
    for _ in range(5):  # typos do not use up the visitor's stories
        assert client.post("/stories", data=form(client, lines="500")).status_code == 400
    assert client.post("/stories", data=form(client)).status_code == 303
    assert client.post("/api/stories", json={"seed": "x", "lines": 0}).status_code == 400
    submit(client)
    response = client.post("/stories", data=form(client, seed="My third story, typed with care"))
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60
    html = response.get_data(as_text=True)
    assert "My third story, typed with care</textarea>" in html  # the form again, with the text
    assert re.search(r"You can send it again in (\d+ seconds?|a minute); what you typed is kept\.", html)
    assert len(queue.jobs()) == 2


def test_refused_requests_still_count_against_the_general_limit(config, queue):
    client = create_app(config.replace(create_limit="100 per minute", read_limit="3 per minute"),
                        queue=queue).test_client()
    token = csrf_token(client)
    answers = [client.post("/stories", data={"csrf_token": token, "seed": ""}).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]


def test_a_cut_or_slashed_story_link_gets_the_friendly_not_found(client):
    story_id = submit(client)["id"]
    for path in (f"/stories/{story_id[:-5]}", f"/stories/{story_id}/", f"/stories/{story_id.split('.')[0]}",
                 f"/stories/{story_id}/story.txt/", "/stories/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Check that the link was copied whole." in response.get_data(as_text=True), path
    for path in (f"/api/stories/{story_id[:-5]}", f"/api/stories/{story_id}/", f"/api/stories/{story_id}/stream/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json() == {"error": "not_found", "message": (
            "There is no story at this address. Check that the link was copied whole.")}
    assert "copied whole" not in client.get("/nowhere").get_data(as_text=True)


def test_a_queued_story_offers_cancel_and_a_running_one_stop(client, worker):
    story_id = submit(client)["id"]
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    assert '<button type="submit" class="danger" id="stop">Cancel</button>' in html
    worker.claim_next().append(["a line"])
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    assert '<button type="submit" class="danger" id="stop">Stop writing</button>' in html


def test_the_pages_say_what_the_serving_worker_runs_on_and_claim_no_gpu_it_lacks(client, queue):
    with queue.worker(host="vm", device="cpu", offers=["default", "grimm"]):
        html = html_module.unescape(client.get("/").get_data(as_text=True))
    words = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert ("A worker is online: stories are written on worker vm's processor (no GPU), "
            "with the shipped model or the model grimm.") in words
    assert words.count("GPU") == 1  # neither the introduction nor the footer says a GPU writes it
    assert "notebook" not in words
