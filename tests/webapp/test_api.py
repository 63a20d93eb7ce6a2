"""The JSON API with Flask's test client on a real local queue."""

import pytest

from .conftest import submit


def test_create_answers_202_with_the_id_and_urls(client):
    body = submit(client, seed="A fox walked", lines=4, temperature=0.5, top_k=20, top_p=0.9,
                  model="default", random_seed=7)
    assert body["status"] == "queued"
    assert body["urls"]["page"].endswith("/stories/" + body["id"])
    assert body["urls"]["api"].endswith("/api/stories/" + body["id"])


def test_create_sets_location_to_the_status_url(client):
    response = client.post("/api/stories", json={"seed": "Hello"})
    assert response.headers["Location"].endswith("/api/stories/" + response.get_json()["id"])


def test_read_shows_state_payload_and_an_honest_message(client):
    story_id = submit(client, seed="The old mill", lines=5)["id"]
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "queued"
    assert view["lines"] == [] and view["line_count"] == 0
    assert view["payload"]["seed"] == "The old mill"
    assert view["lines_requested"] == 5
    assert view["queue_position"] == 1
    assert view["message"] == (
        "Queued: yours is next. No worker is online: it is written when one starts."
    )


def test_queue_position_counts_the_stories_ahead(client):
    submit(client)
    second = submit(client)["id"]
    view = client.get(f"/api/stories/{second}").get_json()
    assert view["queue_position"] == 2
    assert view["message"].startswith("Queued: 1 story is ahead of yours.")


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "seed is required"),
        ({"seed": "   "}, "seed is blank: it needs at least one character that is not a space"),
        ({"seed": "x" * 4001}, "longer than 4000"),
        ({"seed": "Hi", "lines": 0}, "lines must be a whole number from 1"),
        ({"seed": "Hi", "temperature": 9}, "temperature must be a number"),
        ({"seed": "Hi", "top_p": 0}, "top_p must be a number above 0 and at most 1"),
        ({"seed": "Hi", "model": "../etc"}, "model must be a model name"),
        ({"seed": "Hi", "colour": "red"}, "unknown field 'colour'"),
        ({"seed": "Hi", "parent": "nope"}, "parent is not a valid story id"),
    ],
)
def test_bad_input_gets_400_with_a_message_and_queues_nothing(client, queue, payload, message):
    response = client.post("/api/stories", json=payload)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert queue.jobs() == []


def test_a_parent_must_be_a_story_the_caller_can_read(client, queue):
    story_id = submit(client)["id"]
    key, secret = story_id.split(".")
    forged = f"{key}.{'A' * len(secret)}"
    response = client.post("/api/stories", json={"seed": "edited", "parent": forged})
    assert response.status_code == 400
    assert "parent" in response.get_json()["message"]
    child = submit(client, seed="edited", parent=story_id)["id"]
    assert client.get(f"/api/stories/{child}").get_json()["parent"] == story_id


def test_a_body_that_is_not_a_json_object_is_400(client):
    for body in (b"[1, 2]", b"{not json"):
        response = client.post("/api/stories", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.is_json


def test_after_must_be_a_whole_number(client):
    story_id = submit(client)["id"]
    for after in ("-1", "x", "1.5"):
        response = client.get(f"/api/stories/{story_id}?after={after}")
        assert response.status_code == 400
        assert "after" in response.get_json()["message"]


def test_unknown_story_is_404_json(client):
    response = client.get("/api/stories/abcdefgh.AAAAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "There is no story at this address. Check that the link was copied whole.",
    }


def test_unknown_api_path_and_wrong_method_are_json(client):
    assert client.get("/api/nothing").get_json()["error"] == "not_found"
    response = client.get("/api/stories")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_continue_while_queued_is_409(client):
    story_id = submit(client)["id"]
    response = client.post(f"/api/stories/{story_id}/continue", json={"lines": 2})
    assert response.status_code == 409
    assert "wait until it has finished" in response.get_json()["message"]


def test_cancel_a_queued_story(client):
    story_id = submit(client)["id"]
    response = client.post(f"/api/stories/{story_id}/cancel", json={})
    assert response.status_code == 202
    assert response.get_json()["status"] == "cancelled"
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "cancelled"
    assert view["message"] == "Cancelled: 0 lines written."


def test_cancel_accepts_an_empty_json_post(client):
    story_id = submit(client)["id"]
    response = client.post(f"/api/stories/{story_id}/cancel", headers={"Content-Type": "application/json"})
    assert response.status_code == 202


def test_cancel_with_seen_ends_the_story_at_what_the_visitor_saw(client, worker):
    story_id = submit(client, lines=50)["id"]
    claim = worker.claim_next()
    claim.append([f"line {n}" for n in range(1, 11)])  # the page is behind: it has shown 4
    response = client.post(f"/api/stories/{story_id}/cancel", json={"seen": 4})
    assert response.status_code == 202
    claim.append(["line 11"])  # the worker has not noticed yet
    view = client.get(f"/api/stories/{story_id}?after=4").get_json()
    assert view["status"] == "cancelled" and view["line_count"] == 5
    assert view["lines"] == ["line 5"]


@pytest.mark.parametrize("body", [{"seen": -1}, {"seen": "4"}, {"seen": 2.5}, {"seen": True}, {"seen": [4]},
                                  {"lines_seen": 4}])
def test_cancel_with_a_bad_seen_is_400_and_changes_nothing(client, body):
    story_id = submit(client)["id"]
    response = client.post(f"/api/stories/{story_id}/cancel", json=body)
    assert response.status_code == 400
    assert "seen" in response.get_json()["message"]
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "queued"


def test_continue_a_cancelled_story_queues_it_again(client):
    story_id = submit(client, lines=2)["id"]
    client.post(f"/api/stories/{story_id}/cancel", json={})
    response = client.post(f"/api/stories/{story_id}/continue", json={"lines": 3, "temperature": 0.5})
    assert response.status_code == 202
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "queued"
    assert view["lines_requested"] == 5
    assert view["segments"] == 2


def test_workers_lists_no_one_before_a_worker_starts(client):
    assert client.get("/api/workers").get_json() == {"workers": [], "online": 0}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}


def test_an_edited_story_may_be_longer_than_the_limit_which_counts_only_its_new_text(client, worker):
    parent = submit(client, seed="Once upon a time.", lines=100)["id"]
    claim = worker.claim_next()
    claim.append([f"Sentence {i} of a story that goes on for a good while longer than a page." for i in range(100)],
                 meta={"seed_end": "sentence"})
    claim.complete()
    text = client.get(f"/stories/{parent}/story.txt").get_data(as_text=True).rstrip()
    assert len(text) > 7000

    child = submit(client, seed=text + " And so it ended.", parent=parent)["id"]
    assert client.get(f"/api/stories/{child}").get_json()["payload"]["seed"] == text + " And so it ended."
    edited = text[:1000] + "The middle, rewritten." + text[1100:]  # everything after a change is new
    response = client.post("/api/stories", json={"seed": edited, "parent": parent})
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        f"seed changes or adds {len(edited) - 1000:,} characters to the story it was edited from; "
        "at most 4,000 may be new")

    response = client.post("/api/stories", json={"seed": "x" * 4001})  # a story of its own
    assert response.status_code == 400
    assert response.get_json()["message"] == "seed is longer than 4000 characters"
