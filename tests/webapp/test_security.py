"""What a public URL must withstand: injected markup, guessing, forged posts, floods, strangers."""

import logging
import re

import pytest

from drivequeue import LocalStore, StoreUnavailable
from webapp import create_app

from .conftest import csrf_token, submit

EVIL_SEED = '<script>alert("seed")</script> <a href="javascript:alert(1)">click</a>'
EVIL_LINE = '</span><script>alert("line")</script><img src=x onerror=alert(2)> javascript:alert(3)'


def test_story_text_with_markup_is_shown_as_text(client, worker):
    story_id = submit(client, seed=EVIL_SEED, lines=1)["id"]
    claim = worker.claim_next()
    claim.append([EVIL_LINE])
    claim.complete()
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;seed&#34;)&lt;/script&gt;" in html
    assert "&lt;/span&gt;&lt;script&gt;alert(&#34;line&#34;)" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert not re.search(r'href="javascript:', html)
    # the only scripts are the app's own files
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/counter.js" defer>',
        '<script src="/static/js/story-text.js" defer>',
        '<script src="/static/js/my-stories.js" defer>',
        '<script src="/static/js/story.js" defer>',
    ]


def test_the_json_api_escapes_nothing_and_says_it_is_json(client, worker):
    story_id = submit(client, seed=EVIL_SEED)["id"]
    response = client.get(f"/api/stories/{story_id}")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["payload"]["seed"] == EVIL_SEED


@pytest.mark.parametrize("path", ["/", "/api/workers", "/healthz", "/nowhere"])
def test_every_response_has_a_csp_without_inline_script(client, path):
    csp = client.get(path).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp


def test_templates_hold_no_inline_script_or_handlers(app):
    for name in app.jinja_env.list_templates():
        source = app.jinja_env.loader.get_source(app.jinja_env, name)[0]
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), name
        assert not re.search(r"\son[a-z]+=", source), name
        assert "style=" not in source, name


def test_a_second_visitor_cannot_list_or_find_stories(app, client):
    story_id = submit(client, seed="private")["id"]
    stranger = app.test_client()
    assert stranger.get("/api/stories").status_code == 405
    assert story_id not in stranger.get("/").get_data(as_text=True)
    assert "private" not in stranger.get("/api/workers").get_data(as_text=True)
    key, secret = story_id.split(".")
    wrong = f"{key}.{secret[::-1]}"
    for path in (f"/api/stories/{wrong}", f"/stories/{wrong}", f"/stories/{wrong}/story.txt"):
        assert stranger.get(path).status_code == 404
    assert stranger.post(f"/api/stories/{wrong}/cancel", json={}).status_code == 404
    assert stranger.post(f"/api/stories/{wrong}/continue", json={}).status_code == 404
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "queued"


MALFORMED = [
    "..%2fjob",
    "%2e%2e",
    "..",
    "job",
    "job.short",
    "job.AAAAAAAAAAAAAAAAAAAAAA%2f..",
    "a" * 101 + ".AAAAAAAAAAAAAAAAAAAAAA",
    "job.AAAAAAAAAAAAAAAAAAAAAA.txt",
    "job%00.AAAAAAAAAAAAAAAAAAAAAA",
]


@pytest.mark.parametrize("bad_id", MALFORMED)
def test_malformed_ids_are_404_without_touching_the_store(client, store, bad_id):
    before = store.operations.copy()
    for method, path in [
        ("get", f"/api/stories/{bad_id}"),
        ("get", f"/stories/{bad_id}"),
        ("get", f"/stories/{bad_id}/story.txt"),
        ("post", f"/api/stories/{bad_id}/cancel"),
        ("post", f"/api/stories/{bad_id}/continue"),
        ("post", f"/stories/{bad_id}/cancel"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
    assert store.operations == before


def test_a_form_post_without_the_csrf_token_fails(client, queue):
    response = client.post("/stories", data={"seed": "forged", "lines": "3"})
    assert response.status_code == 400
    assert "expired or was sent from another site" in response.get_data(as_text=True)
    assert queue.jobs() == []


def test_a_csrf_token_from_another_session_fails(app, client, queue):
    attacker = app.test_client()
    token = csrf_token(attacker)
    response = client.post("/stories", data={"csrf_token": token, "seed": "forged"})
    assert response.status_code == 400
    story_id = submit(client)["id"]
    response = client.post(f"/stories/{story_id}/cancel", data={"csrf_token": token})
    assert response.status_code == 400
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "queued"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
def test_api_posts_must_be_json(client, queue, content_type):
    story_id = submit(client)["id"]
    for path in ("/api/stories", f"/api/stories/{story_id}/cancel", f"/api/stories/{story_id}/continue"):
        response = client.post(path, data='{"seed": "x"}', content_type=content_type)
        assert response.status_code == 415, path
        assert response.get_json()["error"] == "unsupported_media_type"
    assert len(queue.jobs()) == 1
    assert client.get(f"/api/stories/{story_id}").get_json()["status"] == "queued"


def test_oversized_bodies_are_413(app, client, queue):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/stories", json={"seed": big})
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    response = client.post("/stories", data={"csrf_token": csrf_token(client), "seed": big})
    assert response.status_code == 413
    assert queue.jobs() == []


def make_app(config, queue, **changes):
    return create_app(config.replace(**changes), queue=queue)


def test_creating_work_is_rate_limited_per_client(config, queue):
    app = make_app(config, queue, create_limit="2 per minute")
    client = app.test_client()
    submit(client)
    story_id = submit(client)["id"]
    response = client.post("/api/stories", json={"seed": "third"})
    assert response.status_code == 429
    assert response.get_json()["message"].startswith("Too many requests (the limit is 2 per 1 minute)")
    assert int(response.headers["Retry-After"]) > 0
    # the pages draw on the same budget
    page = client.post("/stories", data={"csrf_token": csrf_token(client), "seed": "fourth"})
    assert page.status_code == 429
    client.post(f"/api/stories/{story_id}/cancel", json={})
    assert client.post(f"/api/stories/{story_id}/continue", json={}).status_code == 429
    assert client.get(f"/api/stories/{story_id}").status_code == 200  # reading is not creating
    assert len(queue.jobs()) == 2


def test_behind_herokus_router_clients_are_told_apart_by_the_forwarded_address(config, queue):
    app = make_app(config, queue, create_limit="1 per minute", trusted_proxies=1)
    client = app.test_client()

    def create(forwarded_for):
        return client.post("/api/stories", json={"seed": "x"},
                           headers={"X-Forwarded-For": forwarded_for}).status_code

    assert create("203.0.113.5") == 202
    assert create("203.0.113.5") == 429
    assert create("198.51.100.7") == 202
    # a client cannot pick a fresh address: the router appends the real one last
    assert create("192.0.2.99, 203.0.113.5") == 429


def test_reads_are_rate_limited_too(config, queue):
    client = make_app(config, queue, read_limit="3 per minute").test_client()
    statuses = [client.get("/api/workers").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/healthz").status_code == 200  # the platform's checks are never refused


def test_no_new_stories_while_too_many_wait(config, queue):
    client = make_app(config, queue, max_queued=2).test_client()
    submit(client)
    submit(client)
    response = client.post("/api/stories", json={"seed": "one too many"})
    assert response.status_code == 503
    assert "Too many stories are waiting" in response.get_json()["message"]
    assert int(response.headers["Retry-After"]) >= 100
    assert len(queue.jobs()) == 2


class TestAccessKey:
    KEY = "open sesame"

    @pytest.fixture
    def client(self, config, queue):
        return make_app(config, queue, access_key=self.KEY).test_client()

    def test_the_api_needs_the_key_to_create(self, client, queue):
        response = client.post("/api/stories", json={"seed": "x"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
        response = client.post("/api/stories", json={"seed": "x"}, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 403
        assert queue.jobs() == []
        auth = {"Authorization": f"Bearer {self.KEY}"}
        response = client.post("/api/stories", json={"seed": "x"}, headers=auth)
        assert response.status_code == 202

    def test_the_api_needs_the_key_to_continue_but_not_to_read(self, client):
        auth = {"Authorization": f"Bearer {self.KEY}"}
        story_id = client.post("/api/stories", json={"seed": "x"}, headers=auth).get_json()["id"]
        client.post(f"/api/stories/{story_id}/cancel", json={})
        assert client.post(f"/api/stories/{story_id}/continue", json={}).status_code == 401
        assert client.get(f"/api/stories/{story_id}").status_code == 200
        assert client.post(f"/api/stories/{story_id}/continue", json={}, headers=auth).status_code == 202

    def test_the_form_asks_once_and_remembers(self, client, queue):
        html = client.get("/").get_data(as_text=True)
        assert 'name="access_key"' in html
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        assert client.post("/stories", data={"csrf_token": token, "seed": "x"}).status_code == 401
        wrong = client.post("/stories", data={"csrf_token": token, "seed": "x", "access_key": "guess"})
        assert wrong.status_code == 403
        assert queue.jobs() == []
        right = client.post("/stories", data={"csrf_token": token, "seed": "x", "access_key": self.KEY})
        assert right.status_code == 303
        assert 'name="access_key"' not in client.get("/").get_data(as_text=True)
        assert client.post("/stories", data={"csrf_token": token, "seed": "y"}).status_code == 303


def test_production_cookies_are_secure_httponly_and_samesite(config, queue):
    client = make_app(config, queue, environment="production").test_client()
    response = client.get("/", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


class UnreachableStore(LocalStore):
    """A store whose backend is down (as Drive is during an outage)."""

    def read(self, key, *limit):
        raise StoreUnavailable("drive answered 503 five times for key " + key)

    def list(self, name=None):
        raise StoreUnavailable("drive answered 503 five times")


def test_an_unreachable_store_is_a_503_with_no_internals(config, tmp_path, client):
    from drivequeue import Queue

    from .conftest import FAST

    story_id = submit(client)["id"]
    app = create_app(config, queue=Queue(UnreachableStore(tmp_path / "queue"), FAST))
    response = app.test_client().get(f"/api/stories/{story_id}")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 25
    assert response.get_json()["message"] == (
        "The story queue cannot be reached right now. Try again in a minute."
    )
    page = app.test_client().get(f"/stories/{story_id}").get_data(as_text=True)
    assert "Traceback" not in page and "drive answered" not in page and story_id.split(".")[0] not in page


def test_secrets_never_reach_the_logs(config, queue, caplog):
    app = make_app(config, queue, access_key="the-access-key")
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        auth = {"Authorization": "Bearer the-access-key"}
        story_id = client.post("/api/stories", json={"seed": "x"}, headers=auth).get_json()["id"]
        client.get(f"/stories/{story_id}")
        client.post("/api/stories", json={"seed": "x"}, headers={"Authorization": "Bearer wrong"})
    logged = caplog.text
    for secret in ("the-access-key", config.secret_key, story_id.split(".")[1]):
        assert secret not in logged


def test_production_form_posts_work_over_https_from_the_same_site_only(config, queue):
    client = make_app(config, queue, environment="production").test_client()
    https = "https://stories.example"
    html = client.get("/", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "seed": "Over HTTPS"}
    foreign = client.post("/stories", data=form, base_url=https,
                          headers={"Referer": "https://evil.example/page"})
    assert foreign.status_code == 400
    same = client.post("/stories", data=form, base_url=https, headers={"Referer": https + "/"})
    assert same.status_code == 303
    assert same.headers["Location"].startswith("/stories/")
