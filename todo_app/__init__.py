"""The Todo API: a Flask application factory in the shape of the Flask tutorial."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from todo_app import cors, db, errors, headers, health, listing, openapi, todos
from todo_app.config import (
    database_from_env,
    environment_from_env,
    pool_size_from_env,
    secret_arn_from_env,
)
from todo_app.credentials import REREAD_SECONDS

MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; test_config overrides any setting."""
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(
        ENVIRONMENT=environment_from_env(),
        DATABASE=database_from_env(),
        DATABASE_SECRET_ARN=secret_arn_from_env(),
        # Reads of the secret after a refused login: at least this far apart (seconds).
        DB_SECRET_REREAD_SECONDS=REREAD_SECONDS,
        DB_POOL_MAX=pool_size_from_env(),
        DB_POOL_WAIT_SECONDS=5.0,
        DB_STATEMENT_TIMEOUT_MS=5_000,
        HEALTH_TIMEOUT_SECONDS=1.0,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.logger.level == logging.NOTSET:
        # The app's own notices (its password read again after a rotation) reach the
        # task's log too, not only its warnings.
        app.logger.setLevel(logging.INFO)

    # Behind the ALB: the client's address is the last of X-Forwarded-For (the ALB appends
    # it) and its scheme is X-Forwarded-Proto (the ALB sets it, whatever the client sent),
    # one hop each. The host and port come from Host, which the ALB passes on as the
    # client sent it, port included when not the scheme's default; X-Forwarded-Port would
    # only repeat it. Never X-Forwarded-Host: an ALB does not set it, so whoever sends it
    # is the client, and it would point the todos' URLs (Location) at any site.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0, x_port=0)  # type: ignore[method-assign]

    db.init_app(app)
    listing.init_app(app)
    errors.init_app(app)
    cors.init_app(app)
    headers.init_app(app)
    app.register_blueprint(todos.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    return app
