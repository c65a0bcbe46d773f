"""The ALL information line: a Flask app answering Twilio's voice and SMS webhooks."""
from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask

from . import config as line_config
from .content import ContentError, load_catalogue
from .storage import analytics, returning
from .storage.db import db
from .web import extensions
from .web.clips import load_clips

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory. ``LINE_DEV_MODE=1`` (set by `make run`) makes a local token.

    A broken prompt file or unusable configuration raises ContentError or ConfigError (gunicorn
    prints it and exits non-zero). Under a ``flask`` command the operator sees just the
    message, naming each file and line or variable, and the command exits 1: no traceback."""
    try:
        return _create_app(test_config)
    except (line_config.ConfigError, ContentError) as error:
        if click.get_current_context(silent=True) is None:
            raise
        click.echo(str(error), err=True)
        raise SystemExit(1) from None


def _create_app(test_config: dict | None) -> Flask:
    start = line_config.startup()
    app = Flask(__name__, instance_path=str(start.instance_path))
    app.config.from_object(line_config.Config)
    app.config.update(line_config.from_environment(start))
    if test_config:
        app.config.update(test_config)
    line_config.finish(app)
    _configure_logging(app)

    catalogue = load_catalogue(app.config["PROMPTS_DIR"])
    from .content import signoff
    app.extensions["approvals"] = signoff.gate(app, catalogue)
    db.init_app(app)
    from .storage import stop_spool
    stop_spool.replay(app)
    analytics.init_app(app)
    returning.init_app(app)
    extensions.init_app(app, catalogue, load_clips(Path(app.config["AUDIO_DIR"]), catalogue))

    from .web import health, sms, voice
    from .web import security as web_security
    web_security.init_app(app)
    from .web.clip_files import bp as audio_bp
    app.register_blueprint(voice.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(audio_bp)

    from . import admin
    admin.init_app(app)

    from .cli.commands import register_commands
    register_commands(app)

    from .simulator.cli import line_cli
    app.cli.add_command(line_cli)

    from .simulator import init_simulator
    init_simulator(app)

    return app


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
