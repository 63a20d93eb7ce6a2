"""The story's event stream (Server-Sent Events), through the real app on a real local queue."""

from __future__ import annotations

import json
import threading

from webapp import create_app
from webapp.story_stream import story_events

from .conftest import submit
from .test_polling_cost import CountingQueue, FAST


class EventReader:
    """Reads SSE events from a streamed test-client response, as EventSource would."""

    def __init__(self, response):
        self.response = response
        self.chunks = iter(response.response)
        self.buffer = ""
        self.comments: list[str] = []

    def next_event(self) -> tuple[str, str | None, dict]:
        while "\n\n" not in self.buffer:
            self.buffer += next(self.chunks).decode()
        block, self.buffer = self.buffer.split("\n\n", 1)
        name, event_id, data = "message", None, None
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif field == "event":
                name = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data = json.loads(value)
        if data is None:  # a comment or a retry field: not an event
            return self.next_event()
        return name, event_id, data

    def until(self, name: str) -> tuple[str | None, dict]:
        while True:
            got, event_id, data = self.next_event()
            if got == name:
                return event_id, data

    def close(self):
        self.response.close()


def open_stream(client, story_id, **headers) -> EventReader:
    response = client.get(f"/api/stories/{story_id}/stream", headers=headers, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return EventReader(response)


def test_lines_come_as_they_are_written_and_the_stream_ends_with_the_story(client, worker):
    story_id = submit(client, lines=3)["id"]
    stream = open_stream(client, story_id)
    event_id, state = stream.until("state")
    assert state["status"] == "queued" and state["message"].startswith("Queued")
    assert "stream of a story" in stream.comments  # a first byte at once

    claim = worker.claim_next()
    claim.append(["The first line."], progress={"line": 2, "of": 3})
    event_id, body = stream.until("lines")
    assert event_id == "1" and body == {"after": 0, "lines": ["The first line."], "paragraph_ends": [],
                                        "seed_end": "newline"}
    _, state = stream.until("state")
    assert state["status"] == "running" and state["progress"] == {"line": 2, "of": 3}

    claim.append(["The second.", "The third."])
    event_id, body = stream.until("lines")
    assert event_id == "3" and body["after"] == 1 and body["lines"] == ["The second.", "The third."]
    claim.complete()
    _, end = stream.until("end")
    assert end == {"status": "done"}
    try:
        stream.next_event()
    except StopIteration:
        pass
    else:
        raise AssertionError("the stream went on after the story ended")


def test_a_reconnecting_browser_gets_only_the_lines_it_lacks(client, worker):
    story_id = submit(client, lines=4)["id"]
    claim = worker.claim_next()
    claim.append(["one", "two", "three"])
    stream = open_stream(client, story_id, **{"Last-Event-ID": "2"})
    event_id, body = stream.until("lines")
    assert event_id == "3" and body == {"after": 2, "lines": ["three"], "paragraph_ends": [],
                                        "seed_end": "newline"}
    stream.close()
    # the first connection of a page says how many lines it already shows with ?after=N
    response = client.get(f"/api/stories/{story_id}/stream?after=1", buffered=False)
    assert EventReader(response).until("lines")[1]["lines"] == ["two", "three"]
    response.close()


def test_sentences_come_with_where_their_paragraphs_end(client, worker):
    story_id = submit(client, seed="The fox was hungry", lines=4)["id"]
    stream = open_stream(client, story_id)
    claim = worker.claim_next()
    claim.append([" and went out.", "He met a goose."], marks={"paragraph_ends": [1]},
                 meta={"seed_end": "mid-sentence"})
    _, body = stream.until("lines")
    assert body == {"after": 0, "lines": [" and went out.", "He met a goose."], "paragraph_ends": [1],
                    "seed_end": "mid-sentence"}
    stream.close()


def test_a_stop_where_seen_tells_the_stream_to_drop_the_later_lines(client, worker):
    story_id = submit(client, lines=6)["id"]
    stream = open_stream(client, story_id)
    claim = worker.claim_next()
    claim.append(["one", "two", "three", "four", "five"])
    assert stream.until("lines")[0] == "5"
    assert client.post(f"/api/stories/{story_id}/cancel", json={"seen": 2}).status_code == 202
    assert claim.cancelled
    claim.complete()
    event_id, body = stream.until("cut")
    assert event_id == "3" and body == {"line_count": 3}  # the two seen and the one after
    _, state = stream.until("state")
    assert state["status"] == "cancelled" and state["line_count"] == 3
    assert stream.until("end")[1] == {"status": "cancelled"}


def test_a_browser_that_has_more_lines_than_the_story_is_told_to_drop_them(client, worker):
    story_id = submit(client, lines=4)["id"]
    worker.claim_next().append(["one", "two"])
    stream = open_stream(client, story_id, **{"Last-Event-ID": "5"})
    event_id, body = stream.until("cut")
    assert event_id == "2" and body == {"line_count": 2}
    stream.close()


def test_silence_is_broken_by_heartbeat_comments(app, client):
    story_id = submit(client)["id"]
    stories = app.extensions["stories"]
    events = story_events(stories, story_id, 0, heartbeat=0.05, lifetime=0.5)
    chunks = list(events)
    assert chunks[0].startswith("retry: ")
    assert sum(1 for chunk in chunks if chunk == ": keep-alive\n\n") >= 2
    # a stream ends after its lifetime, and the browser reconnects where it was
    assert "event: end" not in "".join(chunks)


def test_bad_resume_points_and_unknown_stories_are_refused(client):
    story_id = submit(client)["id"]
    for headers, query in (({"Last-Event-ID": "²"}, ""), ({}, "?after=-1"), ({}, "?after=x")):
        response = client.get(f"/api/stories/{story_id}/stream{query}", headers=headers)
        assert response.status_code == 400
        assert "whole number" in response.get_json()["message"]
    response = client.get("/api/stories/abcdefgh.AAAAAAAAAAAAAAAAAAAAAAAA/stream")
    assert response.status_code == 404 and response.mimetype == "application/json"


def test_streams_beyond_the_limit_are_refused_so_pages_poll_instead(config, queue):
    client = create_app(config.replace(max_streams=1), queue=queue).test_client()
    story_id = submit(client)["id"]
    first = open_stream(client, story_id)
    refused = client.get(f"/api/stories/{story_id}/stream")
    assert refused.status_code == 503
    assert client.get(f"/api/stories/{story_id}").status_code == 200  # other requests still served
    first.close()  # the browser left: its slot is free again
    open_stream(client, story_id).close()
    # a stream closed before its first byte frees its slot too
    client.get(f"/api/stories/{story_id}/stream", buffered=False).close()
    open_stream(client, story_id).close()


def test_many_streams_of_one_story_share_one_read(config, store):
    queue = CountingQueue(store, FAST)
    app = create_app(config.replace(poll_interval=60.0), queue=queue)
    story_id = submit(app.test_client())["id"]
    barrier = threading.Barrier(20)
    states = []

    def viewer():
        barrier.wait()
        stream = open_stream(app.test_client(), story_id)
        states.append(stream.until("state")[1]["status"])
        stream.close()

    threads = [threading.Thread(target=viewer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert states == ["queued"] * 20
    assert queue.status_calls == 1
