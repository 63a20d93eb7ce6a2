"""The HTML pages and their form posts, through Flask's test client."""

import re

from .conftest import csrf_token, submit


def story_path(response) -> str:
    assert response.status_code == 303
    path = response.headers["Location"]
    assert re.fullmatch(r"/stories/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22,}", path)
    return path


def test_the_start_page_has_a_labelled_form_with_defaults(client):
    html = client.get("/").get_data(as_text=True)
    for field in ("seed", "lines", "temperature", "top_k", "top_p", "random_seed", "model"):
        assert f'<label for="{field}">' in html
    assert re.search(r'name="lines"[^>]*value="10"', html)
    assert re.search(r'name="temperature"[^>]*value="0.8"', html)
    assert '<option value="default">default (the shipped model)</option>' in html
    assert 'name="access_key"' not in html  # no key is set


def test_submitting_the_form_opens_the_story_page(client):
    token = csrf_token(client)
    response = client.post("/stories", data={"csrf_token": token, "seed": "A small boat", "lines": "4",
                                             "temperature": "0.7", "top_k": "", "top_p": "",
                                             "random_seed": "", "model": ""})
    page = client.get(story_path(response)).get_data(as_text=True)
    assert '<span class="seed">A small boat</span>' in page
    assert "Queued: yours is next." in page
    assert 'data-status="queued"' in page


def test_the_same_form_sent_twice_starts_one_story(client, queue):
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    story_id = re.search(r'name="story_id" type="hidden" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "story_id": story_id, "seed": "Twice", "lines": "3"}
    first = story_path(client.post("/stories", data=form))
    second = story_path(client.post("/stories", data=form))
    assert first == second == f"/stories/{story_id}"
    assert len(queue.jobs()) == 1


def test_a_bad_form_is_shown_again_with_the_queues_message(client, queue):
    token = csrf_token(client)
    response = client.post("/stories", data={"csrf_token": token, "seed": "Hi", "lines": "500"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    # the error sits on the field, under the label the visitor sees
    assert re.search(r'<input aria-describedby="lines-error" aria-invalid="true"[^>]*id="lines"', html)
    assert ('<span class="field-error" id="lines-error">'
            'Lines to write must be a whole number from 1 to 100.</span>') in html
    assert "Hi</textarea>" in html  # nothing the visitor typed is lost
    assert '<details id="sampling" >' in html  # the error is not in the sampling settings
    response = client.post("/stories", data={"csrf_token": token, "seed": "Hi", "lines": "many"})
    assert response.status_code == 400
    assert "Lines to write must be a whole number." in response.get_data(as_text=True)
    assert queue.jobs() == []


def test_cancel_and_continue_through_the_page_forms(client):
    form = {"csrf_token": csrf_token(client), "seed": "Go", "lines": "2"}
    path = story_path(client.post("/stories", data=form))
    token = csrf_token(client, path)
    assert story_path(client.post(path + "/cancel", data={"csrf_token": token})) == path
    page = client.get(path).get_data(as_text=True)
    assert "Cancelled: 0 lines written." in page
    assert story_path(client.post(path + "/continue", data={"csrf_token": token, "lines": "3"})) == path
    story_id = path.rsplit("/", 1)[1]
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "queued" and view["lines_requested"] == 5


def test_continuing_a_story_that_is_still_queued_explains_why_not(client):
    path = story_path(client.post("/stories", data={"csrf_token": csrf_token(client), "seed": "Go"}))
    response = client.post(path + "/continue", data={"csrf_token": csrf_token(client, path), "lines": "3"})
    assert response.status_code == 400
    assert "the job is queued; wait until it has finished" in response.get_data(as_text=True)


def test_edit_then_continue_starts_a_linked_story(client):
    parent = story_path(client.post("/stories", data={"csrf_token": csrf_token(client), "seed": "First"}))
    parent_id = parent.rsplit("/", 1)[1]
    token = csrf_token(client, parent)
    child = story_path(client.post(parent + "/edit", data={"edit-csrf_token": token, "edit-seed": "First, edited",
                                                           "edit-lines": "2"}))
    page = client.get(child).get_data(as_text=True)
    assert f'Edited from <a href="{parent}">an earlier story</a>' in page
    assert "First, edited" in page


def test_download_gives_the_story_as_a_text_file(client):
    story_id = submit(client, seed="Line one\nline two")["id"]
    response = client.get(f"/stories/{story_id}/story.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="story.txt"'
    assert response.get_data(as_text=True) == "Line one\nline two\n"


def test_the_story_page_offers_every_action(client):
    story_id = submit(client)["id"]
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    assert f'action="/stories/{story_id}/cancel"' in html
    assert f'action="/stories/{story_id}/continue"' in html
    assert f'href="/stories/{story_id}/story.txt"' in html
    assert 'id="copy-link"' in html and f'value="http://localhost/stories/{story_id}"' in html
    assert 'id="edit-seed"' in html
    assert 'role="status"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html


def test_unknown_story_page_is_a_404_page(client):
    response = client.get("/stories/abcdefgh.AAAAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert "There is no story at this address" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_assets_are_served(client):
    for path in ("/static/js/story.js", "/static/js/story-text.js", "/static/js/start.js",
                 "/static/js/my-stories.js", "/static/css/site.css"):
        assert client.get(path).status_code == 200


def test_an_edit_of_a_story_that_has_since_grown_shorter_says_to_reload(client):
    parent = story_path(client.post("/stories", data={"csrf_token": csrf_token(client), "seed": "First"}))
    html = client.get(parent).get_data(as_text=True)
    assert 'name="edit-keep" type="hidden" value="0"' in html  # a short story is edited whole
    assert '<textarea aria-describedby="edit-seed-hint edit-seed-counter"' in html
    response = client.post(parent + "/edit", data={"edit-csrf_token": csrf_token(client, parent), "edit-keep": "999",
                                                  "edit-seed": "more"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "the story is shorter than when this page was loaded: reload the page and edit again" in page
    assert '<details id="edit" open>' in page


def test_a_train_job_page_with_a_result_of_another_shape_still_opens(client, queue, worker):
    job_id = queue.submit("train", {"corpus": "goats.txt", "model": "goats", "steps": 2000})
    claim = worker.claim_next(kinds={"train"})
    claim.append(["step 1"], progress={"step": "one", "of": 2000})
    running = client.get(f"/jobs/{job_id}")
    assert running.status_code == 200 and "Training (no step reported yet)" in running.get_data(as_text=True)
    claim.complete({"steps": "many"})  # what an older or a damaged output may hold
    done = client.get(f"/jobs/{job_id}")
    assert done.status_code == 200 and '<p id="status" class="status" role="status" data-status="done">Done.</p>' \
        in done.get_data(as_text=True)
