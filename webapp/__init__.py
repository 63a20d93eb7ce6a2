"""The story web app: a page where a story grows line by line, and the JSON API behind it.

``create_app()`` reads its settings from the environment (``webapp/config.py``);
gunicorn runs it as ``webapp:create_app()`` (see ``Procfile``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from drivequeue import Queue, open_store
from drivequeue.metered_store import MeteredStore
from drivequeue.urls import redact
from stories import kinds as story_kinds

from . import api, job_pages, pages
from .config import Config, ConfigError
from .errors import install_error_handlers
from .limits import install_rate_limits
from .operator import install_operator
from .security import install_security
from .slow_clients import install_body_limits
from .stories import Stories
from .story_stream import StreamSlots
from .story_ids import StoryIdConverter

__all__ = ["create_app", "Config", "ConfigError"]

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, *, queue: Queue | None = None) -> Flask:
    """Build the app from ``config`` (default: the environment) on ``queue`` (default: its URL)."""
    config = config if config is not None else Config.from_env()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config.flask_settings())
    app.url_map.converters["story_id"] = StoryIdConverter
    if queue is None:  # its calls are counted for /metrics
        queue = Queue(MeteredStore(open_store(config.queue_url, patience=config.store_patience)))
    app.extensions["webapp_config"] = config
    app.extensions["stories"] = Stories(queue, config)
    app.extensions["stream_slots"] = StreamSlots(config.max_streams)

    app.jinja_env.globals["limits"] = story_kinds  # the story kind's limits, shown by the forms
    app.register_blueprint(pages.bp)
    app.register_blueprint(job_pages.bp)
    app.register_blueprint(api.bp)
    install_body_limits(app, config)  # first: every later check (CSRF, limits) reads a body that has arrived
    install_security(app, config, json_only=api.bp)
    install_error_handlers(app)
    install_rate_limits(app, config)
    install_operator(app, app.extensions["stories"])
    log.info("web app ready (%s) on the queue at %s", config.environment, redact(queue.store.url))
    return app
