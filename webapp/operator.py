"""The operator's page (``/operator``): workers, jobs by kind and state, what waits for a worker,
recent failures and the throughput of the last hour, behind ``WEBAPP_OPERATOR_KEY``.

The page is plain HTML tables and an SVG chart drawn here, so it works without
JavaScript (it then reloads itself); ``static/js/operator.js`` swaps in
``/operator/live`` every period instead. Scripts may send the key as a bearer
token to the page, ``/operator/overview.json`` or ``/metrics``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, url_for
from wtforms import PasswordField
from wtforms.validators import InputRequired

from drivequeue import human
from drivequeue.overview import HOUR_MINUTES, Overview
from drivequeue.state import JobState
from drivequeue.urls import redact

from . import metrics
from .forms import PageForm
from .operator_access import require_operator, sign_in, sign_out, signed_in
from .queue_watch import QueueWatch
from .stories import Stories

bp = Blueprint("operator", __name__, url_prefix="/operator")

#: tries of the key one client may make (the key is long; this keeps guessing slow)
SIGN_IN_LIMIT = "10 per minute"
#: the chart: one bar a minute, this wide and at most this tall (SVG user units)
BAR_WIDTH, CHART_HEIGHT = 10, 80
STATES = [state.value for state in JobState]


class SignInForm(PageForm):
    key = PasswordField("Operator key", validators=[InputRequired("Type the operator key.")])


def install_operator(app: Flask, stories: Stories) -> None:
    """The operator's page and ``/metrics`` on ``stories``'s queue (after the rate limits), when
    an operator key is set: without one, these routes do not exist."""
    if app.extensions["webapp_config"].operator_key is None:
        return
    queue_metrics = metrics.QueueMetrics(stories.queue, app.extensions["stream_slots"])
    app.extensions["queue_metrics"] = queue_metrics
    period = max(stories.read_period, app.extensions["webapp_config"].operator_period)
    app.extensions["queue_watch"] = QueueWatch(stories.queue, period, queue_metrics.counted)
    app.register_blueprint(bp)
    app.register_blueprint(metrics.bp)
    limiter = app.extensions["rate_limiter"]
    app.view_functions["operator.sign_in_form"] = limiter.limit(SIGN_IN_LIMIT)(app.view_functions["operator.sign_in_form"])


def _config():
    return current_app.extensions["webapp_config"]


def _watch() -> QueueWatch:
    return current_app.extensions["queue_watch"]


@bp.get("")
def page():
    """The operator's page, or the form that asks for the key."""
    if not signed_in(_config()):
        return _sign_in_page(SignInForm(formdata=None)), 401, {"WWW-Authenticate": "Bearer"}
    watch = _watch()
    return render_template("operator.html", where=redact(watch.queue.store.url), refresh_s=watch.period,
                           **_live(watch.look()))


@bp.post("/sign-in")
def sign_in_form():
    """Remember this browser as the operator's when the key is right."""
    form = SignInForm()
    if not form.validate():
        return _sign_in_page(form), 400
    if not sign_in(_config(), form.key.data):
        return _sign_in_page(form, problem="That operator key is not right."), 403
    return redirect(url_for("operator.page"), code=303)


@bp.post("/sign-out")
def sign_out_form():
    """Forget this browser's key (the form's CSRF token is checked for every post)."""
    sign_out()
    return redirect(url_for("operator.page"), code=303)


@bp.get("/live")
def live():
    """The page's sections, for its script to swap in."""
    require_operator(_config())
    return render_template("operator_live.html", **_live(_watch().look()))


@bp.get("/overview.json")
def overview_json():
    """What the page shows, as ``drivequeue top --json`` prints it."""
    require_operator(_config())
    return jsonify(_watch().look().as_json())


def _sign_in_page(form: SignInForm, problem: str | None = None) -> str:
    return render_template("operator_sign_in.html", form=form, problem=problem)


def _live(overview: Overview) -> dict:
    totals = {state: sum(counts[state] for counts in overview.counts.values()) for state in STATES}
    return {"overview": overview, "states": STATES, "totals": totals, "chart": chart(overview.throughput),
            "human": human, "iso": _iso, "clock": _clock}


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")


def _clock(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%H:%M:%S UTC")


def chart(throughput: dict[str, list[int]]) -> dict:
    """The bars of the throughput chart: per minute, jobs done below and the others stacked on top."""
    ended = [sum(minute) for minute in zip(throughput["done"], throughput["failed"], throughput["cancelled"])]
    most = max(ended)
    scale = CHART_HEIGHT / most if most else 0
    bars = []
    for minute, (done, total) in enumerate(zip(throughput["done"], ended)):
        if total:
            done_height, total_height = done * scale, total * scale
            bars.append({"x": minute * BAR_WIDTH, "done_y": CHART_HEIGHT - done_height, "done_height": done_height,
                         "other_y": CHART_HEIGHT - total_height, "other_height": total_height - done_height,
                         "ago": HOUR_MINUTES - minute, "done": done, "other": total - done})
    totals = {name: sum(counts) for name, counts in throughput.items()}
    return {"bars": bars, "most": most, "width": HOUR_MINUTES * BAR_WIDTH, "height": CHART_HEIGHT,
            "totals": totals}
