"""No request answers 500: arbitrary JSON values, form fields and query strings thrown at
every route of the real app on a real local queue.

A 503 stays right (a full queue); everything else that is malformed is a 4xx
that says what is wrong.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivequeue import LocalStore, Queue
from stories.kinds import STORY
from webapp import create_app
from webapp.config import Config

from .conftest import FAST

FIELD_NAMES = sorted({*STORY.fields, *STORY.continue_fields, *STORY.cancel_fields, "v", "after"})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
bodies = json_values | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), json_values, max_size=6)
texts = st.text(max_size=12) | st.sampled_from(["²", "٣", "-1", "1e3", " 1", "0x1", "9" * 30, "", "1.5"])
queries = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), texts, max_size=3)
#: bodies no strategy above makes: deep nesting, broken JSON, numbers too long to convert
RAW_BODIES = [b"[" * 1000 + b"]" * 1000, b'{"seed": ' + b"[" * 5000, b'{"lines": 1' + b"0" * 5000 + b"}",
              b"\xff\xfe", b'{"seed": "a"', b'{"seed": "\\ud800"}', b"NaN", b'{"a": 1, "a": [[[]]]}']


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One app for every example: stories pile up as they would on a public site."""
    folder = tmp_path_factory.mktemp("queue")
    store = LocalStore(folder)
    config = Config(secret_key="test-secret-" + "x" * 30, queue_url=str(folder), environment="development",
                    create_limit="100000 per minute", read_limit="100000 per minute", poll_interval=0.0,
                    max_queued=20, operator_key="fuzzed-operator-key-" + "x" * 10)
    app = create_app(config, queue=Queue(store, FAST))
    app.config["WTF_CSRF_ENABLED"] = False  # let the form routes' own checks meet the input too
    test_client = app.test_client()
    story_id = test_client.post("/api/stories", json={"seed": "Once", "lines": 2}).get_json()["id"]
    yield test_client, story_id
    store.close()


def _routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return routes


def _path(rule: str, story_id: str, variant: int) -> str:
    key, secret = story_id.split(".")
    ids = [story_id, f"{key}.{'A' * len(secret)}", f"{'x' * 10}.{secret}"]
    return rule.replace("<story_id:story_id>", ids[variant])


def test_every_route_is_covered(client):
    test_client, _ = client
    routes = _routes(test_client.application)
    assert ("POST", "/api/stories/<story_id:story_id>/cancel") in routes and len(routes) >= 10


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_input_makes_a_500(client, data):
    test_client, story_id = client
    method, rule = data.draw(st.sampled_from(_routes(test_client.application)), label="route")
    path = _path(rule, story_id, data.draw(st.integers(0, 2), label="id"))
    query = urlencode(data.draw(queries, label="query"))
    url = f"{path}?{query}" if query else path
    if method == "GET":
        response = test_client.get(url)
    else:
        how = data.draw(st.sampled_from(["json", "raw", "form"]), label="body")
        if how == "json":
            body = json.dumps(data.draw(bodies, label="json"))
            response = test_client.post(url, data=body, content_type="application/json")
        elif how == "raw":
            body = data.draw(st.sampled_from(RAW_BODIES), label="raw")
            response = test_client.post(url, data=body, content_type="application/json")
        else:
            form = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES + ["story_id", "access_key"]), texts,
                                             max_size=6), label="form")
            response = test_client.post(url, data=form)
    assert response.status_code != 500, response.get_data(as_text=True)[:500]
    assert response.status_code < 500 or response.status_code == 503
    if response.status_code >= 400 and path.startswith("/api/"):
        assert response.get_json()["message"]


@pytest.mark.parametrize("query", ["after=%C2%B2", "after=%D9%A3", "after=" + "9" * 5000, "after=-1", "after=1.0"])
def test_after_takes_ascii_digits_only(client, query):
    test_client, story_id = client
    response = test_client.get(f"/api/stories/{story_id}?{query}")
    assert response.status_code == 400
    assert "after must be a whole number" in response.get_json()["message"]


@pytest.mark.parametrize("parent", [[], {}, 7, True, "not an id"])
def test_a_parent_of_the_wrong_type_is_400(client, parent):
    test_client, _ = client
    response = test_client.post("/api/stories", json={"seed": "Once", "parent": parent})
    assert response.status_code == 400
    assert "parent" in response.get_json()["message"]


@pytest.mark.parametrize("route", ["/api/stories", "/api/stories/{id}/continue", "/api/stories/{id}/cancel"])
def test_deeply_nested_bodies_are_400_on_every_post_route(client, route):
    test_client, story_id = client
    response = test_client.post(route.format(id=story_id), data=b"[" * 1000 + b"]" * 1000,
                                content_type="application/json")
    assert response.status_code == 400
    assert "nests more than" in response.get_json()["message"]


#: bodies just under the size limit made to make a scanner rescan or backtrack (one took a web
#: process out for minutes): each is answered at once, as any malformed body
RESCANNED_BODIES = {
    "escaped quotes, no closing quote": b'"' + b'\\"' * 32_000,
    "quote and backslash pairs": b'"\\' * 32_000,
    "brackets in an unclosed string": b'{"seed": "' + b"[{" * 32_000,
    "opening brackets": b"[" * 64_000,
}


@pytest.mark.parametrize("shape", sorted(RESCANNED_BODIES))
@pytest.mark.parametrize("route", ["/api/stories", "/api/stories/{id}/continue", "/api/stories/{id}/cancel"])
def test_bodies_made_to_be_rescanned_are_400_on_every_post_route(client, route, shape):
    test_client, story_id = client
    response = test_client.post(route.format(id=story_id), data=RESCANNED_BODIES[shape],
                                content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The request body")
