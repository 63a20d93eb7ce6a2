"""Protections every response gets: proxy handling, CSRF, and security headers."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config

# No inline script or style anywhere: generated text can never run, even if
# something forgot to escape it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def install_security(app: Flask, config: Config, json_only: Blueprint) -> None:
    """Wire the proxy fix, CSRF protection and the headers into ``app``.

    Form posts need a CSRF token. The ``json_only`` blueprint accepts nothing
    but ``application/json`` bodies, which a cross-site form cannot send
    (browsers preflight them, and no CORS header is ever granted), so it
    needs none.
    """
    if config.trusted_proxies:
        # Heroku's router is one proxy: trust exactly one X-Forwarded-For hop,
        # so a client cannot choose its own address for the rate limits.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )
    CSRFProtect(app).exempt(json_only)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Story URLs are capabilities: never send them to another site.
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if config.production:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response
