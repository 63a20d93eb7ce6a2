"""The operator's page and /metrics: only for the operator's key, what they show, and how they fail."""

from __future__ import annotations

import re
from html import unescape

import pytest

from drivequeue import LocalStore, Queue
from drivequeue.errors import StoreUnavailable
from webapp import ConfigError, create_app
from webapp.config import Config

from .conftest import FAST

KEY = "operator-key-" + "k" * 20
BEARER = {"Authorization": f"Bearer {KEY}"}
OPERATOR_ROUTES = ["/operator", "/operator/live", "/operator/overview.json", "/metrics"]


@pytest.fixture
def config(config):
    return config.replace(operator_key=KEY, operator_period=0.0)


def gpu():
    return {"name": "Tesla T4", "memory_used": 3 * 2**30, "memory_free": 12 * 2**30}


def csrf_token(client, path) -> str:
    """The CSRF token of the form on the page at ``path``."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', html).group(1)


def sign_in(client, key=KEY):
    return client.post("/operator/sign-in", data={"key": key, "csrf_token": csrf_token(client, "/operator")})


def test_without_an_operator_key_set_nothing_of_it_exists(config, queue):
    app = create_app(config.replace(operator_key=None), queue=queue)
    assert not [rule.rule for rule in app.url_map.iter_rules() if "operator" in rule.rule or "metrics" in rule.rule]
    client = app.test_client()
    for path in OPERATOR_ROUTES:
        assert client.get(path, headers=BEARER).status_code == 404


@pytest.mark.parametrize("path", OPERATOR_ROUTES)
def test_scripts_need_the_right_bearer_key(client, path):
    refused = client.get(path)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert client.get(path, headers={"Authorization": "Bearer not-the-key"}).status_code == 403
    assert client.get(path, headers=BEARER).status_code == 200


def test_a_browser_types_the_key_once_and_can_sign_out(client):
    form = client.get("/operator")
    assert form.status_code == 401 and 'type="password"' in form.get_data(as_text=True)
    wrong = sign_in(client, "operator-key-but-wrong")
    assert wrong.status_code == 403 and "That operator key is not right." in wrong.get_data(as_text=True)
    assert client.get("/metrics").status_code == 401
    right = sign_in(client)
    assert right.status_code == 303 and right.headers["Location"].endswith("/operator")
    assert "Workers" in client.get("/operator").get_data(as_text=True)
    assert client.get("/metrics").status_code == 200
    token = csrf_token(client, "/operator")
    assert client.post("/operator/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/operator").status_code == 401 and client.get("/metrics").status_code == 401


def test_a_wrong_bearer_key_is_refused_even_with_a_signed_in_cookie(client):
    sign_in(client)
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 403


def test_changing_the_key_signs_every_browser_out(config, queue):
    client = create_app(config, queue=queue).test_client()
    sign_in(client)
    assert client.get("/operator").status_code == 200
    cookie = client.get_cookie("session")
    other = create_app(config.replace(operator_key=KEY + "-new"), queue=queue).test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/operator").status_code == 401


def test_signing_in_needs_the_forms_csrf_token_and_a_key(client):
    assert client.post("/operator/sign-in", data={"key": KEY}).status_code == 400
    blank = client.post("/operator/sign-in", data={"key": "", "csrf_token": csrf_token(client, "/operator")})
    assert blank.status_code == 400 and "Type the operator key." in blank.get_data(as_text=True)


def test_guessing_the_key_is_slowed_down(config, queue):
    client = create_app(config.replace(read_limit="10000 per minute"), queue=queue).test_client()
    token = csrf_token(client, "/operator")
    codes = [client.post("/operator/sign-in", data={"key": f"guess-number-{n:04d}", "csrf_token": token}).status_code
             for n in range(11)]
    assert codes == [403] * 10 + [429]


def test_the_key_is_never_shown_and_visitor_pages_do_not_mention_the_operator(client):
    sign_in(client)
    for path in ["/operator", "/operator/live", "/operator/overview.json"]:
        assert KEY not in client.get(path).get_data(as_text=True)
    assert "operator" not in client.get("/").get_data(as_text=True).lower()


def test_a_short_operator_key_is_refused_with_what_to_do():
    with pytest.raises(ConfigError, match="WEBAPP_OPERATOR_KEY must be at least 16 characters"):
        Config.from_env({"WEBAPP_ENV": "development", "DRIVEQUEUE_URL": "var/queue", "WEBAPP_OPERATOR_KEY": "secret"})
    assert Config.from_env({"WEBAPP_ENV": "development", "DRIVEQUEUE_URL": "var/queue", "WEBAPP_OPERATOR_KEY": KEY}).operator_key == KEY
    assert KEY not in repr(Config.from_env({"WEBAPP_ENV": "development", "DRIVEQUEUE_URL": "var/queue", "WEBAPP_OPERATOR_KEY": KEY}))


# -- what the page shows --------------------------------------------------------------------------


def fill_queue(queue):
    """A worker that finished one story, failed one, holds one; a story that waits for a model."""
    queue.submit("story", {"seed": "done", "lines": 2})
    queue.submit("story", {"seed": "failed", "lines": 2})
    queue.submit("story", {"seed": "running", "lines": 2})
    queue.submit("story", {"seed": "waits", "lines": 2, "model": "big"})
    session = queue.worker(host="gpu-box", device="cuda: Tesla T4", offers=["default"], version="0.1.0", probe=gpu)
    session.open()
    claim = session.claim_next()
    claim.append(["one", "two"])
    claim.complete()
    session.claim_next().fail("<script>alert(1)</script> the model file is damaged")
    session.claim_next().append(["a line"])
    session.heartbeat()
    return session


def test_the_page_shows_workers_jobs_waiting_failures_and_throughput(client, queue):
    session = fill_queue(queue)
    try:
        html = client.get("/operator", headers=BEARER).get_data(as_text=True)
    finally:
        session.close()
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    assert f"{session.id} online busy gpu-box cuda: Tesla T4" in text
    assert "3.0 GiB used, 12.0 GiB free" in text and "story v1, story v2" in text and "offers default" in text
    assert "0.1.0" in text and "story: 3 lines (" in text and "1 done, 1 failed" in text
    assert re.search(r"Last heartbeat .* \d+ s ago", text)
    assert "story 1 1 1 1 0" in text  # queued running done failed cancelled
    assert "story v2 with model 'big'" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the model file is damaged" in html and "<script>alert" not in html
    assert "1 done, 1 failed, 0 cancelled; at most 2 in one minute." in text
    assert html.count('class="bar-done"') == 1 and html.count('class="bar-other"') == 1


def test_the_live_sections_and_the_json_are_what_the_page_shows(client, queue):
    session = fill_queue(queue)
    try:
        live = client.get("/operator/live", headers=BEARER).get_data(as_text=True)
        look = client.get("/operator/overview.json", headers=BEARER).get_json()
    finally:
        session.close()
    assert "<html" not in live and 'id="workers-title"' in live and "story v2 with model &#39;big&#39;" in live
    assert look["counts"]["story"] == {"queued": 1, "running": 1, "done": 1, "failed": 1, "cancelled": 0}
    assert look["workers"][0]["report"]["device"] == gpu() and look["waiting"][0]["kind"] == "story"


def test_an_empty_queue_says_so(client):
    text = client.get("/operator", headers=BEARER).get_data(as_text=True)
    assert "No worker has registered with this queue." in text and "The queue holds no jobs." in text


class DownStore(LocalStore):
    """A folder whose reads and listings fail, as an unreachable Drive does."""

    down = False

    def list(self, name=None):
        if self.down:
            raise StoreUnavailable("the store is down")
        return super().list(name)


def test_while_the_store_is_down_the_page_says_so_and_metrics_still_answer(config, tmp_path):
    from drivequeue.metered_store import MeteredStore

    store = DownStore(tmp_path / "down")
    client = create_app(config, queue=Queue(MeteredStore(store), FAST)).test_client()
    assert "drivequeue_store_up 1.0" in client.get("/metrics", headers=BEARER).get_data(as_text=True)
    store.down = True
    page = client.get("/operator", headers=BEARER)
    assert page.status_code == 503 and "cannot be reached" in page.get_data(as_text=True)
    scraped = client.get("/metrics", headers=BEARER)
    text = scraped.get_data(as_text=True)
    assert scraped.status_code == 200 and "drivequeue_store_up 0.0" in text
    assert re.search(r'drivequeue_store_errors_total\{operation="list"\} [1-9]', text)
    assert "drivequeue_jobs{" not in text  # no stale queue figures
