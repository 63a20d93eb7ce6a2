"""Settings from the environment: safe in production, clear when they are not."""

import pytest

from webapp.config import Config, ConfigError

QUEUE = {"DRIVEQUEUE_URL": "var/queue"}


def test_production_without_secret_key_refuses_with_a_clear_message():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Config.from_env({})


def test_development_makes_up_a_secret_key_and_allows_plain_http():
    config = Config.from_env({"WEBAPP_ENV": "development", **QUEUE})
    assert len(config.secret_key) >= 32
    assert config.flask_settings()["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure_httponly_and_samesite():
    settings = Config.from_env({"SECRET_KEY": "s" * 40, **QUEUE}).flask_settings()
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("url", ["var/queue", "file:///tmp/queue", "/app/var/queue"])
def test_heroku_refuses_a_queue_on_the_dynos_temporary_disk(url):
    environ = {"DYNO": "web.1", "SECRET_KEY": "s" * 40, "DRIVEQUEUE_URL": url}
    with pytest.raises(ConfigError, match="Heroku wipes"):
        Config.from_env(environ)


def test_heroku_with_a_drive_queue_trusts_exactly_one_proxy():
    config = Config.from_env(
        {"DYNO": "web.1", "SECRET_KEY": "s" * 40, "DRIVEQUEUE_URL": "drive://id:abc123"}
    )
    assert config.queue_url == "drive://id:abc123"
    assert config.trusted_proxies == 1
    assert Config.from_env({"SECRET_KEY": "s" * 40, **QUEUE}).trusted_proxies == 0


def test_secrets_stay_out_of_the_repr():
    config = Config.from_env({"SECRET_KEY": "top-secret-key", "WEBAPP_ACCESS_KEY": "letmein", **QUEUE})
    assert "top-secret-key" not in repr(config)
    assert "letmein" not in repr(config)


def test_numbers_are_checked():
    with pytest.raises(ConfigError, match="WEBAPP_MAX_QUEUED must be a number"):
        Config.from_env({"SECRET_KEY": "k", "WEBAPP_MAX_QUEUED": "many", **QUEUE})
    with pytest.raises(ConfigError, match="WEBAPP_ENV"):
        Config.from_env({"SECRET_KEY": "k", "WEBAPP_ENV": "staging"})


def test_limits_come_from_the_environment():
    config = Config.from_env(
        {"SECRET_KEY": "k", "WEBAPP_CREATE_LIMIT": "2 per hour", "WEBAPP_MAX_QUEUED": "3", **QUEUE}
    )
    assert config.create_limit == "2 per hour"
    assert config.max_queued == 3


@pytest.mark.parametrize("environ, url", [
    ({"REDIS_URL": "rediss://:pw@ec2.example:6380"}, "rediss://:pw@ec2.example:6380"),
    ({"DRIVEQUEUE_URL": "redis://cache.example:6379/0"}, "redis://cache.example:6379/0"),
    ({"REDIS_URL": "rediss://:pw@ec2.example:6380", "DRIVEQUEUE_URL": "drive://id:abc123"}, "drive://id:abc123"),
])
def test_heroku_accepts_a_redis_queue_and_drivequeue_url_wins(environ, url):
    config = Config.from_env({"DYNO": "web.1", "SECRET_KEY": "s" * 40, **environ})
    assert config.queue_url == url


def test_an_unknown_queue_scheme_is_named():
    with pytest.raises(ConfigError, match="DRIVEQUEUE_URL: unknown queue URL scheme"):
        Config.from_env({"SECRET_KEY": "s" * 40, "DRIVEQUEUE_URL": "s3://bucket"})


@pytest.mark.parametrize("environ", [{}, {"DRIVEQUEUE_URL": "  "}])
def test_without_a_queue_the_web_app_says_which_variable_to_set(environ):
    with pytest.raises(ConfigError, match=r"^DRIVEQUEUE_URL is not set: set it to the queue"):
        Config.from_env({"SECRET_KEY": "s" * 40, **environ})
