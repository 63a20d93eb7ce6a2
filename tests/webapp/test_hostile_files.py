"""Hostile files in the queue folder never reach a visitor: every page and API answer stays
right (the real app on a real folder holding them)."""

from __future__ import annotations

import pytest

from tests.drivequeue.hostile_files import plant_hostile_records, plant_non_regular_files

from .conftest import submit


@pytest.fixture
def planted(store, tmp_path):
    return {**plant_hostile_records(store), **plant_non_regular_files(store, tmp_path / "outside.json")}


def test_pages_and_api_answer_past_hostile_files(client, planted):
    for path in ("/", "/healthz", "/api/workers"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    assert client.get("/api/workers").get_json() == {"workers": [], "online": 0}  # the bad heartbeat is ignored
    story = submit(client)
    assert story["status"] == "queued"
    view = client.get(f"/api/stories/{story['id']}").get_json()
    assert view["status"] == "queued" and view["queue_position"] == 1  # no planted file is queued before it
    assert client.get(f"/stories/{story['id']}").status_code == 200


def test_a_hostile_worker_progress_report_is_left_out(client, worker, store):
    story_id = submit(client, lines=5)["id"]
    claim = worker.claim_next()
    claim.append(["one"], progress={"line": 10**400, "of": 5, "nested": {"a": [1]}, "eta": float("nan")})
    view = client.get(f"/api/stories/{story_id}").get_json()
    assert view["status"] == "running" and view["progress"] == {"of": 5}
    assert client.get(f"/stories/{story_id}").status_code == 200
